// The web platform of the client (lib/client.js) for browsers, workers (workerd) and Deno:
// pennon-wasm's web build (instantiated by `init()` / `initSync()` before createClient),
// a small event emitter, `fetch` with a ReadableStream SSE reader (lib/fetch.js), WebCrypto
// Ed25519 (lib/webcrypto.js). No file source. The Node platform (node.js) has the same shape.
import { Engine } from 'pennon-wasm/web'
import emitter from '../emitter.js'
import errors from '../errors.js'
import fetchHttp from '../fetch.js'
import webcrypto from '../webcrypto.js'

export const name = 'web'
export const Emitter = emitter.Emitter
export const Http = fetchHttp.FetchHttp
export const { parsePublicKey, verifySignature } = webcrypto
/** No file system: `file` and `bootstrapFile` are configuration errors. */
export const files = null
/** `process.env` where there is one (Deno, workers with Node compatibility), else none. */
export const environment = () => globalThis.process?.env ?? null

/** An engine of the wasm module; a ClientError `not_initialized` before `init()`. */
export function newEngine() {
  try {
    return new Engine()
  } catch (error) {
    throw new errors.ClientError(
      'not_initialized',
      "pennon's wasm engine is not instantiated: call `await init()` (or `initSync({ module })`) before createClient",
      { cause: error },
    )
  }
}
