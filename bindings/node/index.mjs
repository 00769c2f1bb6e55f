// ESM entry of pennon-node: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const pennon = require('./index.js')

export const {
  Engine,
  PennonError,
  SnapshotError,
  ContextError,
  ArgumentError,
  InternalError,
  ERROR_CLASSES,
  errorCodes,
  errorClass,
  initRegex,
  initRegexSync,
  coreErrorCodes,
  errorClassName,
  bucket,
  bucketHash,
  registerErrorClasses,
  __panicForTests,
} = pennon
