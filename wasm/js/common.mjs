// Pennon's Engine wrapper shared by every entry of the package (web, bundler, nodejs).
// `build.sh` puts the generated error module (errors.mjs, the same classes and codes as
// every Pennon JS package) in front of it and derives a CommonJS copy for the nodejs target.
//
// This module only maps errors: every Engine method calls the wasm engine and, if that
// throws, turns the thrown value into a PennonError subclass. No flag semantics live here.

import { ArgumentError, InternalError, PennonError, errorClass } from './errors.mjs';
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

/**
 * The regex module (`pennon_regex.wasm`) of one main-module instance: `host` is the object
 * the main module calls to compile and match `matches` patterns (`setRegexHost`), and
 * `initRegex` / `initRegexSync` load the module. It is instantiated at most once, either
 * explicitly or, where `loadSync` can give its bytes synchronously (Node reads them from
 * disk), on the first pattern. `defaultUrl()` is where `initRegex()` fetches it from.
 */
export function createRegex({ loadSync, defaultUrl }) {
  let regex = null;
  const utf8 = new TextDecoder();

  function instantiated(exports) {
    if (exports.pennon_regex_abi_version() !== 1) {
      throw new Error('pennon_regex.wasm has an unknown ABI version: use the one of this package');
    }
    regex = exports;
  }

  function toModule(source) {
    return source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  }

  /** Writes `bytes` into the regex module's input buffer; false when it has no memory. */
  function put(bytes) {
    const ptr = regex.pennon_regex_input(bytes.length);
    if (ptr === 0 && bytes.length > 0) return false;
    new Uint8Array(regex.memory.buffer, ptr, bytes.length).set(bytes);
    return true;
  }

  // A trap of the regex module discards its instance and surfaces as the main module's
  // trap (an InternalError from the Engine method).
  function guarded(f) {
    try {
      return f();
    } catch (thrown) {
      regex = null;
      throw thrown instanceof WebAssembly.RuntimeError ? thrown : new WebAssembly.RuntimeError(String(thrown));
    }
  }

  const host = {
    /** A handle ≥ 1, the reason the pattern is invalid, or null: no regex module. */
    compile(bytes) {
      if (regex === null && loadSync !== undefined) instantiated(new WebAssembly.Instance(toModule(loadSync()), {}).exports);
      if (regex === null) return null;
      return guarded(() => {
        if (!put(bytes)) return 'the regex module is out of memory';
        const handle = regex.pennon_regex_compile(bytes.length) >>> 0;
        if (handle !== 0) return handle;
        const ptr = regex.pennon_regex_output_ptr();
        return utf8.decode(new Uint8Array(regex.memory.buffer, ptr, regex.pennon_regex_output_len()));
      });
    },
    isMatch(handle, bytes) {
      return regex !== null && guarded(() => put(bytes) && regex.pennon_regex_is_match(handle, bytes.length) === 1);
    },
    free(handle) {
      if (regex !== null) guarded(() => regex.pennon_regex_drop(handle));
    },
  };

  /**
   * Loads the regex module: `{ module_or_path }` is a URL, a Response (or a promise of
   * one), the bytes or a WebAssembly.Module; by default the file next to the package's JS.
   */
  async function initRegex(options = {}) {
    if (regex !== null) return;
    let source = options.module_or_path;
    if (source === undefined && loadSync !== undefined) {
      source = loadSync();
    } else if (source === undefined) {
      source = defaultUrl();
    }
    if (typeof source === 'string' || source instanceof URL) source = fetch(source);
    source = await source;
    if (typeof Response === 'function' && source instanceof Response) {
      if (!source.ok) throw new Error(`cannot load pennon_regex.wasm: HTTP ${source.status}`);
      source = await source.arrayBuffer();
    }
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    const instance = await WebAssembly.instantiate(module, {});
    if (regex === null) instantiated(instance.exports);
  }

  /** Loads the regex module synchronously from `{ module }`: the bytes or a WebAssembly.Module. */
  function initRegexSync(options = {}) {
    if (regex !== null) return;
    const source = options.module ?? (loadSync === undefined ? undefined : loadSync());
    if (source === undefined) throw new TypeError('initRegexSync({ module }) needs the bytes or a WebAssembly.Module');
    instantiated(new WebAssembly.Instance(toModule(source), {}).exports);
  }

  return { host, initRegex, initRegexSync };
}

/** toPennonError for a failed load, keeping the `regexNeeded` mark of the wasm error. */
function loadError(thrown) {
  const error = toPennonError(thrown);
  if (thrown !== null && typeof thrown === 'object' && thrown.regexNeeded === true && error !== thrown) {
    error.regexNeeded = true;
  }
  return error;
}

/**
 * The public Engine: the wasm-bindgen class with its errors mapped to PennonErrors, and
 * the regex module loaded for snapshots with `matches` conditions (`regex` is what
 * createRegex returned, `setRegexHost` the main module's export).
 */
export function wrapEngine(WasmEngine, regex, setRegexHost) {
  let hostSet = false;
  return class Engine extends WasmEngine {
    constructor(snapshot) {
      try {
        if (!hostSet) {
          setRegexHost(regex.host);
          hostSet = true;
        }
        super();
      } catch (thrown) {
        throw toPennonError(thrown);
      }
      if (snapshot !== undefined) this.load(snapshot);
    }

    /** A new engine with `snapshot` loaded by loadAsync (the regex module if it needs it). */
    static async create(snapshot) {
      const engine = new this();
      await engine.loadAsync(snapshot);
      return engine;
    }

    load(snapshot) {
      try {
        return super.load(snapshot);
      } catch (thrown) {
        throw loadError(thrown);
      }
    }

    /** load(), but first loads the regex module (initRegex()) if the snapshot needs it. */
    async loadAsync(snapshot) {
      try {
        return super.load(snapshot);
      } catch (thrown) {
        if (thrown === null || typeof thrown !== 'object' || thrown.regexNeeded !== true) throw loadError(thrown);
      }
      await regex.initRegex();
      return this.load(snapshot);
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

    /** Core's keys of the flags that may differ between `previous`'s snapshot and this one's. */
    changedFlags(previous) {
      if (!(previous instanceof WasmEngine)) {
        throw new ArgumentError('the previous engine must be an Engine of pennon-wasm', 'invalid_argument', null);
      }
      try {
        return super.changedFlags(previous);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    shareCounters(previous) {
      if (!(previous instanceof WasmEngine)) {
        throw new ArgumentError('the previous engine must be an Engine of pennon-wasm', 'invalid_argument', null);
      }
      return super.shareCounters(previous);
    }

    countOverride(flag) {
      try {
        return super.countOverride(flag);
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

    record(flag, context, outcome, now) {
      try {
        return super.record(flag, context, outcome, now);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }

    restoreOutcomes(batch) {
      try {
        return super.restoreOutcomes(batch);
      } catch (thrown) {
        throw toPennonError(thrown);
      }
    }
  };
}
