// Entry of the `nodejs` build for `import 'pennon-wasm'` in Node: the same objects as
// `require('pennon-wasm')` (one set of classes, whichever way the package is loaded).
import pennon from './index.cjs';

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
  toPennonError,
  coreErrorCodes,
  coreErrorClass,
  bucket,
  bucketHash,
  initSync,
  initRegex,
  initRegexSync,
} = pennon;
export default pennon.init;
