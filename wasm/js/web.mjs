// Entry of the `web` build (browsers, Deno, Cloudflare Workers and other edge runtimes):
// ESM glue with the .wasm as a separate file. Call `init()` (async; fetches the .wasm next
// to this file, or takes `{ module_or_path }`: a URL, a Response, bytes or a
// WebAssembly.Module) or `initSync({ module })` once before creating an Engine.
import { Engine as WasmEngine } from './pennon_wasm.js';
import { wrapEngine } from './common.js';

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

/** A Pennon engine: see index.d.ts. */
export const Engine = wrapEngine(WasmEngine);
