// The web build (dist/web.mjs): which build each export condition resolves `pennon` to,
// that the web build holds nothing of Node, that it answers like the Node client, its
// event surface without node:events, and its configuration errors (no file source,
// createClient before init).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as node from 'pennon'
import { WEB_BUNDLE } from '../scripts/build.mjs'
import { loadWebClient } from '../test-support/web-client.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const fixtures = join(here, '..', '..', '..', 'tests', 'sdk', 'fixtures')
const web = await loadWebClient()

/** Runs an ES module in a fresh Node with `--conditions`; its stdout, trimmed. */
function runModule(conditions, code) {
  const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', code]
  const run = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.status, 0, `node ${args.join(' ')} failed:\n${run.stderr}`)
  return run.stdout.trim()
}

test('browser, workerd, worker and deno resolve pennon to the web build; Node to the addon', () => {
  const webUrl = `file://${WEB_BUNDLE}`
  for (const condition of ['browser', 'workerd', 'worker', 'deno']) {
    assert.equal(runModule([condition], "console.log(import.meta.resolve('pennon'))"), webUrl, condition)
  }
  assert.match(runModule([], "console.log(import.meta.resolve('pennon'))"), /\/sdks\/typescript\/index\.mjs$/)
  const required = runModule([], "import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url).resolve('pennon'))")
  assert.match(required, /\/sdks\/typescript\/index\.js$/)
  // What the web build imports under the browser condition: pennon-wasm's web build.
  const loaded = runModule(
    ['browser'],
    "const m = await import('pennon'); console.log(typeof m.initRegex, import.meta.resolve('pennon-wasm/web'))",
  )
  assert.match(loaded, /^function file:\/\/.*\/wasm\/dist\/web\/index\.js$/)
})

test('the web build is one ES module that imports only pennon-wasm/web', () => {
  const text = readFileSync(WEB_BUNDLE, 'utf8')
  const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1])
  assert.deepEqual([...new Set(imports)], ['pennon-wasm/web'])
  assert.doesNotMatch(text, /\brequire\(|["'`]node:/, 'nothing of Node in the web build')
})

test('the web client answers like the Node client (pennon-wasm vs pennon-node: one core)', async () => {
  for (const name of ['basic-r1.json', 'basic-r3.json', 'staged-r1.json']) {
    const snapshot = readFileSync(join(fixtures, name), 'utf8')
    const [a, b] = [node.createClient({ snapshot }), web.createClient({ snapshot })]
    await Promise.all([a.ready(), b.ready()])
    for (const context of [{}, { targetingKey: 'user-1', country: 'DE', plan: 'pro' }, { targetingKey: 'u-7' }]) {
      const now = Date.now()
      const strip = (all) => Object.fromEntries(Object.entries(all).map(([k, d]) => [k, { ...d, age: null }]))
      assert.deepEqual(strip(b.allFlags(context)), strip(a.allFlags(context)), `${name} ${JSON.stringify(context)} at ${now}`)
    }
    a.close()
    b.close()
  }
})

test('the web client has on / once / off and emits ready and change', async () => {
  const r1 = readFileSync(join(fixtures, 'basic-r1.json'), 'utf8')
  const client = web.createClient({ snapshot: r1 })
  assert.ok(!(client instanceof node.Client))
  const seen = []
  const always = (e) => seen.push(['always', e.revision])
  client.on('ready', always).once('ready', (e) => seen.push(['once', e.revision]))
  client.emit('ready', { revision: 1 })
  client.emit('ready', { revision: 2 })
  client.off('ready', always)
  client.emit('ready', { revision: 3 })
  assert.deepEqual(seen, [
    ['always', 1],
    ['once', 1],
    ['always', 2],
  ])
  assert.equal(client.listenerCount('ready'), 0)
  assert.equal(client.listenerCount('error'), 0)
  client.close()
})

test('the web client refuses the file source and bootstrap files with invalid_config', () => {
  for (const options of [{ file: 'flags.json' }, { url: 'http://127.0.0.1:9', sdkKey: 'k', bootstrapFile: 'flags.json' }]) {
    assert.throws(
      () => web.createClient(options),
      (error) => error instanceof web.ClientError && error.code === 'invalid_config' && /file system/.test(error.message),
    )
  }
})

test('createClient before init() is a ClientError not_initialized', () => {
  const out = runModule(
    ['browser'],
    "const { createClient } = await import('pennon'); try { createClient({ snapshot: '{}' }) } catch (e) { console.log(e.code, e.name) }",
  )
  assert.equal(out, 'not_initialized ClientError')
})
