// Pennon's Engine wrapper shared by every entry of the package (web, bundler, nodejs).
// `build.sh` puts the generated error module (errors.mjs, the same classes and codes as
// every Pennon JS package) in front of it and derives a CommonJS copy for the nodejs target.
//
// This module only maps errors: every Engine method calls the wasm engine and, if that
// throws, turns the thrown value into a PennonError subclass. No flag semantics live here.

import { InternalError, PennonError, errorClass } from './errors.mjs';
export { ArgumentError, ContextError, ERROR_CLASSES, InternalError, PennonError, SnapshotError, errorClass, errorCodes } from './errors.mjs';

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
      return new cls(thrown.message, thrown.code, typeof thrown.path === 'string' ? thrown.path : null, {
        cause: thrown,
      });
    }
  }
  if (thrown instanceof WebAssembly.RuntimeError) {
    return new InternalError(
      `internal: the Pennon wasm module trapped (a bug; discard this engine): ${thrown.message}`,
      'internal',
      null,
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
