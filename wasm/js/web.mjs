// Entry of the `web` build (browsers, Deno, Cloudflare Workers and other edge runtimes):
// ESM glue with the .wasm as a separate file. Call `init()` (async; fetches the .wasm next
// to this file, or takes `{ module_or_path }`: a URL, a Response, bytes or a
// WebAssembly.Module) or `initSync({ module })` once before creating an Engine.
import { Engine as WasmEngine, setRegexHost } from './pennon_wasm.js';
import { wrapEngine, createRegex } from './common.js';

export { default, initSync, coreErrorCodes, coreErrorClass, bucket, bucketHash } from './pennon_wasm.js';
export {
  PennonError,
  SnapshotError,
  ContextError,
  ArgumentError,
  InternalError,
  ERROR_CLASSES,
  errorCodes,
  errorClass,
  toPennonError,
} from './common.js';

// The regex module, fetched from next to this file by initRegex() (or loadAsync /
// Engine.create when a snapshot needs it), or given to initRegexSync({ module }).
const regex = createRegex({ defaultUrl: () => new URL('pennon_regex.wasm', import.meta.url) });

/** Loads the regex module (async): needed before a snapshot with `matches` is loaded. */
export const initRegex = regex.initRegex;

/** Loads the regex module from `{ module }` (bytes or a WebAssembly.Module). */
export const initRegexSync = regex.initRegexSync;

/** A Pennon engine: see index.d.ts. */
export const Engine = wrapEngine(WasmEngine, regex, setRegexHost);
