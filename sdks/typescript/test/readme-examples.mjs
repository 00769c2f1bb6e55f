// The README's examples: every ```js block (an ES module) and ```cjs block (CommonJS), with
// the ```text block after "Output…:" when there is one. Run by readme.test.mjs in this
// package and by pack.test.mjs in a scratch project that installed the packed tarballs. A
// block starting `// app.mjs` runs as in a browser (`--conditions=browser`, a fetch that
// serves files), one starting `// worker.mjs` as a Cloudflare Worker (`--conditions=workerd`,
// .wasm imports as compiled modules, its fetch handler called once).
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const support = join(here, '..', 'test-support')
const root = join(here, '..', '..', '..')
/** The snapshot every example reads as `flags.json`. */
export const FLAGS_FIXTURE = join(here, '..', '..', '..', 'tests', 'sdk', 'fixtures', 'basic-r1.json')

/** `[{lang: 'js' | 'cjs', code, output?}]` in README order. */
export function readmeExamples() {
  const readme = readFileSync(join(here, '..', 'README.md'), 'utf8')
  return [...readme.matchAll(/```(js|cjs)\n([\s\S]*?)```(?:\n\nOutput[^\n]*:\n\n```text\n([\s\S]*?)```)?/g)].map(
    ([, lang, code, output]) => ({ lang, code, output }),
  )
}

/** Runs one example in `dir` (with `flags.json` beside it); the spawnSync result. */
export function runExample(dir, { lang, code }) {
  copyFileSync(FLAGS_FIXTURE, join(dir, 'flags.json'))
  const [file, args] = runner(lang, code)
  writeFileSync(join(dir, file), code)
  const env = { ...process.env, PENNON_URL: 'http://127.0.0.1:9', PENNON_SDK_KEY: 'k' }
  delete env.PENNON_PUBLIC_KEY
  delete env.NODE_TEST_CONTEXT // an example using node:test reports as a script of its own
  return spawnSync(process.execPath, ['--unhandled-rejections=strict', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env,
    timeout: 20_000,
  })
}

/** The file an example is written to and the node arguments that run it. */
function runner(lang, code) {
  if (code.startsWith('// app.mjs')) {
    return ['app.mjs', ['--conditions=browser', '--import', join(support, 'browser-env.mjs'), 'app.mjs']]
  }
  if (code.startsWith('// worker.mjs')) {
    const workerd = join(root, 'wasm', 'test', 'env', 'workerd.mjs')
    return ['worker.mjs', ['--conditions=workerd', '--import', workerd, join(support, 'run-worker.mjs')]]
  }
  const file = lang === 'cjs' ? 'example.cjs' : 'example.mjs'
  return [file, [file]]
}
