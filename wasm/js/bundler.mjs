// Entry of the `bundler` build (webpack 5 `asyncWebAssembly`, Vite with a wasm plugin…):
// the glue imports the .wasm as an ES module, so the engine is ready once this module is.
// `init()` / `initSync()` exist so that code written for the web entry runs unchanged.
import { Engine as WasmEngine, setRegexHost } from './pennon_wasm.js';
import { wrapEngine, createRegex } from './common.js';

export { coreErrorCodes, coreErrorClass, bucket, bucketHash } from './pennon_wasm.js';
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

/** Nothing to do: the bundler instantiated the module. */
export default async function init() {}

/** Nothing to do: the bundler instantiated the module. */
export function initSync() {}
