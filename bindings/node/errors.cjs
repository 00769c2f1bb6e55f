// Generated from pennon-core by `cargo test -p pennon-host --test generated`
// (PENNON_BLESS=1 rewrites it): edit host/tests/generated.rs, not this file.
//
// Pennon's error classes and the error codes core defines, the same in every JS package.
'use strict'

/** Base class of every error Pennon throws: `code` is a stable snake_case code, `path` a JSON Pointer or null. */
class PennonError extends Error {
  /**
   * @param {string} message
   * @param {ErrorCode} code
   * @param {string | null} [path]
   * @param {ErrorOptions} [options]
   */
  constructor(message, code, path = null, options = undefined) {
    super(message, options)
    /** Stable snake_case code, one of `errorCodes()`. */
    this.code = code
    /** JSON Pointer (RFC 6901) of the offending value, or null. */
    this.path = path
  }
}

/** Loading a snapshot failed; the engine kept the snapshot it had. */
class SnapshotError extends PennonError {}

/** A context could not be used. */
class ContextError extends PennonError {}

/** An argument was invalid (a programmer error): code `invalid_argument`. */
class ArgumentError extends PennonError {}

/** A bug inside Pennon (a caught panic or a wasm trap): code `internal`. */
class InternalError extends PennonError {}

// Explicit names survive minifiers that rename classes.
Object.defineProperty(PennonError.prototype, 'name', { value: 'PennonError', writable: true, configurable: true })
Object.defineProperty(SnapshotError.prototype, 'name', { value: 'SnapshotError', writable: true, configurable: true })
Object.defineProperty(ContextError.prototype, 'name', { value: 'ContextError', writable: true, configurable: true })
Object.defineProperty(ArgumentError.prototype, 'name', { value: 'ArgumentError', writable: true, configurable: true })
Object.defineProperty(InternalError.prototype, 'name', { value: 'InternalError', writable: true, configurable: true })

/** Every error code core defines, in core's order, with the name of its class. */
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

const CLASSES = { SnapshotError, ContextError, ArgumentError, InternalError }

/** The error codes this package maps, in core's order. */
function errorCodes() {
  return Object.keys(ERROR_CLASSES)
}

/** The class errors with `code` are thrown as, or undefined for a code core does not know. */
function errorClass(code) {
  return Object.hasOwn(ERROR_CLASSES, code) ? CLASSES[ERROR_CLASSES[code]] : undefined
}

module.exports = { PennonError, SnapshotError, ContextError, ArgumentError, InternalError, ERROR_CLASSES, errorCodes, errorClass }
