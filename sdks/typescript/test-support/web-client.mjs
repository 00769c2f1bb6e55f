// Loads the web build (dist/web.mjs) in Node for tests, the way a worker does: pennon-wasm's
// web .wasm (and its regex module) instantiated from their bytes with initSync. Fails loudly when dist/web.mjs is
// missing or older than the sources (run `node sdks/typescript/scripts/build.mjs`).
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WEB_BUNDLE, webBundle } from '../scripts/build.mjs'

/** The web build's module, its wasm instantiated. */
export async function loadWebClient() {
  const build = 'run `node sdks/typescript/scripts/build.mjs`'
  assert.ok(existsSync(WEB_BUNDLE), `${WEB_BUNDLE} is missing: ${build}`)
  assert.ok(readFileSync(WEB_BUNDLE, 'utf8') === (await webBundle()), `${WEB_BUNDLE} is stale: ${build}`)
  const web = await import(pathToFileURL(WEB_BUNDLE).href)
  const file = (name) => readFileSync(fileURLToPath(import.meta.resolve(`pennon-wasm/web/${name}`)))
  web.initSync({ module: file('pennon_wasm_bg.wasm') })
  web.initRegexSync({ module: file('pennon_regex.wasm') })
  return web
}
