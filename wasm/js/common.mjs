// Pennon's JS error classes and the Engine wrapper shared by every entry of the package
// (web, bundler, nodejs). Hand-written; `build.sh` copies it next to each wasm-bindgen
// output and derives a CommonJS copy for the nodejs target.
//
// This module only maps errors: every Engine method calls the wasm engine and, if that
// throws, turns the thrown value into a PennonError subclass. No flag semantics live here.

/** Base class of every error Pennon throws: `code` is a stable snake_case code. */
export class PennonError extends Error {
  constructor(code, message, path = '', options = undefined) {
    super(message, options);
    /** Stable snake_case code, one of `errorCodes()`. */
    this.code = code;
    /** JSON path of the offending value (`flags.checkout.rules[2]`), or ''. */
    this.path = path;
  }
}

/** A snapshot could not be loaded (the engine keeps its previous snapshot). */
export class SnapshotError extends PennonError {}

/** A context could not be used. */
export class ContextError extends PennonError {}

/** A programmer error: a flag key that is not a string, an unknown type name… */
export class ArgumentError extends PennonError {}

/** A bug inside Pennon (or a trap of the wasm module); discard the engine. */
export class InternalError extends PennonError {}

// Explicit names survive minifiers that rename classes.
Object.defineProperty(PennonError.prototype, 'name', { value: 'PennonError', writable: true, configurable: true });
Object.defineProperty(SnapshotError.prototype, 'name', { value: 'SnapshotError', writable: true, configurable: true });
Object.defineProperty(ContextError.prototype, 'name', { value: 'ContextError', writable: true, configurable: true });
Object.defineProperty(ArgumentError.prototype, 'name', { value: 'ArgumentError', writable: true, configurable: true });
Object.defineProperty(InternalError.prototype, 'name', { value: 'InternalError', writable: true, configurable: true });

// Every code of core's ErrorCode, in core's order, with the class of its category.
const CLASS_BY_CODE = {
  invalid_json: SnapshotError,
  invalid_snapshot: SnapshotError,
  unsupported_schema_version: SnapshotError,
  missing_field: SnapshotError,
  invalid_type: SnapshotError,
  invalid_value: SnapshotError,
  unknown_field: SnapshotError,
  unknown_operator: SnapshotError,
  unknown_variant: SnapshotError,
  variant_type_mismatch: SnapshotError,
  invalid_regex: SnapshotError,
  invalid_semver: SnapshotError,
  invalid_cidr: SnapshotError,
  invalid_date: SnapshotError,
  invalid_duration: SnapshotError,
  invalid_percentage: SnapshotError,
  invalid_weights: SnapshotError,
  unknown_segment: SnapshotError,
  invalid_segment: SnapshotError,
  segment_cycle: SnapshotError,
  prerequisite_cycle: SnapshotError,
  depth_exceeded: SnapshotError,
  unknown_prerequisite: SnapshotError,
  duplicate_id: SnapshotError,
  invalid_context: ContextError,
  invalid_argument: ArgumentError,
  internal: InternalError,
};

/** Every error code this package maps to a class, in core's order. */
export function errorCodes() {
  return Object.keys(CLASS_BY_CODE);
}

/** The class an error code maps to (`SnapshotError`…), or undefined for an unknown code. */
export function errorClass(code) {
  return Object.hasOwn(CLASS_BY_CODE, code) ? CLASS_BY_CODE[code] : undefined;
}

/**
 * Turns what the wasm engine threw into a PennonError: the engine throws Errors carrying
 * `code` and `path`; a trap (a panic in wasm aborts) is a WebAssembly.RuntimeError and
 * becomes an InternalError with code `internal`. Anything else is returned unchanged.
 */
export function toPennonError(thrown) {
  if (thrown instanceof PennonError) {
    return thrown;
  }
  if (thrown !== null && typeof thrown === 'object' && typeof thrown.code === 'string') {
    const cls = errorClass(thrown.code);
    if (cls !== undefined) {
      return new cls(thrown.code, thrown.message, typeof thrown.path === 'string' ? thrown.path : '', {
        cause: thrown,
      });
    }
  }
  if (thrown instanceof WebAssembly.RuntimeError) {
    return new InternalError(
      'internal',
      `the Pennon wasm module trapped (a bug; discard this engine): ${thrown.message}`,
      '',
      { cause: thrown },
    );
  }
  return thrown;
}

/** The public Engine: the wasm-bindgen class with its errors mapped to PennonErrors. */
export function wrapEngine(WasmEngine) {
  return class Engine extends WasmEngine {
    constructor(snapshot) {
      try {
        super(snapshot);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    load(snapshot) {
      try {
        return super.load(snapshot);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    evaluate(flag, context, options) {
      try {
        return super.evaluate(flag, context, options);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    getBoolean(flag, context, defaultValue, now) {
      try {
        return super.getBoolean(flag, context, defaultValue, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    getString(flag, context, defaultValue, now) {
      try {
        return super.getString(flag, context, defaultValue, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    getNumber(flag, context, defaultValue, now) {
      try {
        return super.getNumber(flag, context, defaultValue, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    getObject(flag, context, defaultValue, now) {
      try {
        return super.getObject(flag, context, defaultValue, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    evaluateAll(context, now) {
      try {
        return super.evaluateAll(context, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }
  };
}
