// Entry of the `bundler` build (webpack 5 `asyncWebAssembly`, Vite with a wasm plugin…):
// the glue imports the .wasm as an ES module, so the engine is ready once this module is.
// `init()` / `initSync()` exist so that code written for the web entry runs unchanged.
import { Engine as WasmEngine } from './pennon_wasm.js';
import { wrapEngine } from './common.js';

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

/** A Pennon engine: see index.d.ts. */
export const Engine = wrapEngine(WasmEngine);

/** Nothing to do: the bundler instantiated the module. */
export default async function init() {}

/** Nothing to do: the bundler instantiated the module. */
export function initSync() {}
