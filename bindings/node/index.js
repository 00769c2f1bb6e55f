'use strict'
// pennon-node: loads the native addon for this platform and defines the error classes.
// Mapping only: every answer comes from the Rust core (docs/bindings.md).

const { existsSync } = require('node:fs')
const { join } = require('node:path')

/** Addon file names this process can load, best first (`pennon.<platform>-<arch>[-<abi>].node`). */
function candidates() {
  const { platform, arch } = process
  if (platform === 'linux') return [`linux-${arch}-gnu`, `linux-${arch}-musl`]
  return [`${platform}-${arch}`]
}

function loadNative() {
  const tags = candidates()
  for (const tag of tags) {
    const file = join(__dirname, `pennon.${tag}.node`)
    if (existsSync(file)) return require(file)
  }
  throw new Error(
    `pennon-node has no native addon for ${tags.join(' or ')} in ${__dirname}. ` +
      'Build it with `node bindings/node/scripts/build.mjs` in a Pennon checkout.',
  )
}

const native = loadNative()

/** Base class of every error pennon-node throws. */
class PennonError extends Error {
  /**
   * @param {string} message
   * @param {string} code stable snake_case code (`PennonErrorCode`)
   * @param {string | null} [path] JSON path of the offending value, when there is one
   */
  constructor(message, code, path = null) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.path = path
  }
}
/** Loading a snapshot failed; the engine kept the snapshot it had. */
class SnapshotError extends PennonError {}
/** A context could not be used. */
class ContextError extends PennonError {}
/** An argument was invalid (a programmer error): code `invalid_argument`. */
class ArgumentError extends PennonError {}
/** A bug inside Pennon (a caught panic): code `internal`. */
class InternalError extends PennonError {}

native.registerErrorClasses({ SnapshotError, ContextError, ArgumentError, InternalError })

/**
 * Every error code this package knows, with the class its errors are thrown as. The test
 * suite checks it against the Rust core's `ErrorCode::ALL` and `ErrorCode::category()`.
 */
const ERROR_CLASSES = Object.freeze({
  invalid_json: 'SnapshotError',
  invalid_snapshot: 'SnapshotError',
  unsupported_schema_version: 'SnapshotError',
  missing_field: 'SnapshotError',
  invalid_type: 'SnapshotError',
  invalid_value: 'SnapshotError',
  unknown_field: 'SnapshotError',
  unknown_operator: 'SnapshotError',
  unknown_variant: 'SnapshotError',
  variant_type_mismatch: 'SnapshotError',
  invalid_regex: 'SnapshotError',
  invalid_semver: 'SnapshotError',
  invalid_cidr: 'SnapshotError',
  invalid_date: 'SnapshotError',
  invalid_duration: 'SnapshotError',
  invalid_percentage: 'SnapshotError',
  invalid_weights: 'SnapshotError',
  unknown_segment: 'SnapshotError',
  invalid_segment: 'SnapshotError',
  segment_cycle: 'SnapshotError',
  prerequisite_cycle: 'SnapshotError',
  depth_exceeded: 'SnapshotError',
  unknown_prerequisite: 'SnapshotError',
  duplicate_id: 'SnapshotError',
  invalid_context: 'ContextError',
  invalid_argument: 'ArgumentError',
  internal: 'InternalError',
})

/** The error codes this package maps, in the core's order. */
function errorCodes() {
  return Object.keys(ERROR_CLASSES)
}

module.exports = {
  ...native,
  PennonError,
  SnapshotError,
  ContextError,
  ArgumentError,
  InternalError,
  ERROR_CLASSES,
  errorCodes,
}
