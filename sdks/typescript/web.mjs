// pennon for browsers, Cloudflare Workers (workerd), Deno and bundlers: the client over
// pennon-wasm. This is the source of dist/web.mjs, which `scripts/build.mjs` bundles with
// lib/ (whose `#platform` is then lib/platform/web.mjs), leaving `pennon-wasm/web` an
// import so that its .wasm stays a file of its own, fetched or imported as a module.
import client from './lib/client.js'
import errors from './lib/errors.js'
import init, { initRegex, initRegexSync, initSync } from 'pennon-wasm/web'

export const { Client, createClient } = client
export const { ClientError } = errors
export { init, initSync, initRegex, initRegexSync }
export default { createClient, Client, ClientError, init, initSync, initRegex, initRegexSync }
