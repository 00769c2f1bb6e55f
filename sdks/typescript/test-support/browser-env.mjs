// A browser-like `fetch` for running the README's browser example in Node
// (`node --conditions=browser --import …/browser-env.mjs app.mjs`): file: URLs are served
// from disk (the .wasm with its MIME type, so init() can stream-compile it).
import { readFile } from 'node:fs/promises'

const networkFetch = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input))
  if (url.protocol !== 'file:') return networkFetch(input, init)
  const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/json'
  return new Response(await readFile(url), { headers: { 'content-type': type } })
}
