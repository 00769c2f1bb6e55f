// Runs every ```js block of the README (each an ES module, in a scratch directory inside
// this package so that `pennon` resolves, with flags.json = tests/sdk/fixtures/basic-r1)
// and compares its output with the ```text block after "Output:", when there is one. A
// block starting `// app.mjs` runs as in a browser (`--conditions=browser`, a fetch that
// serves files), one starting `// worker.mjs` as a Cloudflare Worker (`--conditions=workerd`,
// .wasm imports as compiled modules, its fetch handler called once).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const support = join(here, '..', 'test-support')
const root = join(here, '..', '..', '..')
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```(?:\n\nOutput[^\n]*:\n\n```text\n([\s\S]*?)```)?/g)]

/** The file a block is written to and the node arguments that run it. */
function runner(code) {
  if (code.startsWith('// app.mjs')) {
    return ['app.mjs', ['--conditions=browser', '--import', join(support, 'browser-env.mjs'), 'app.mjs']]
  }
  if (code.startsWith('// worker.mjs')) {
    const workerd = join(root, 'wasm', 'test', 'env', 'workerd.mjs')
    return ['worker.mjs', ['--conditions=workerd', '--import', workerd, join(support, 'run-worker.mjs')]]
  }
  return ['example.mjs', ['example.mjs']]
}

test('the README has js examples', () => assert.ok(blocks.length >= 4, `${blocks.length} blocks`))

for (const [index, [, code, output]] of blocks.entries()) {
  test(`README example ${index + 1}`, () => {
    const dir = mkdtempSync(join(here, '..', '.readme-'))
    try {
      copyFileSync(join(here, '..', '..', '..', 'tests', 'sdk', 'fixtures', 'basic-r1.json'), join(dir, 'flags.json'))
      const [file, args] = runner(code)
      writeFileSync(join(dir, file), code)
      const env = { ...process.env, PENNON_URL: 'http://127.0.0.1:9', PENNON_SDK_KEY: 'k' }
      delete env.PENNON_PUBLIC_KEY
      const run = spawnSync(process.execPath, ['--unhandled-rejections=strict', ...args], {
        cwd: dir,
        encoding: 'utf8',
        env,
        timeout: 20_000,
      })
      assert.equal(run.status, 0, `example ${index + 1} failed:\n${run.stderr}`)
      if (output !== undefined) assert.equal(run.stdout, output)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
