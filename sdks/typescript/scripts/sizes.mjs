// Sizes of what a browser or a worker downloads for `import { createClient } from 'pennon'`
// (the web build): dist/web.mjs (as shipped, and minified as a bundler would), the
// pennon-wasm web JS it imports, the .wasm, and the regex module that only snapshots with
// `matches` load. `gzip -9` of each file, as wasm/scripts/sizes.sh measures; 1 KB = 1000 B.
//
//   node sdks/typescript/scripts/sizes.mjs   (after wasm/build.sh and scripts/build.mjs)
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE, WEB_BUNDLE, webBundle } from './build.mjs'

const wasmWeb = join(PACKAGE, '..', '..', 'wasm', 'dist', 'web')
const gz = (bytes) => execFileSync('gzip', ['-9c'], { input: bytes, maxBuffer: 1 << 26 }).length
const files = (dir) =>
  readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, f)))

const rows = [
  ['pennon dist/web.mjs (shipped)', [readFileSync(WEB_BUNDLE)]],
  ['pennon dist/web.mjs (minified)', [Buffer.from(await webBundle({ minify: true }))]],
  ['pennon-wasm web JS (glue + entry)', files(wasmWeb)],
  ['pennon_wasm_bg.wasm', [readFileSync(join(wasmWeb, 'pennon_wasm_bg.wasm'))]],
  ['pennon_regex.wasm (only for `matches`)', [readFileSync(join(wasmWeb, 'pennon_regex.wasm'))]],
]
const sizes = rows.map(([name, contents]) => [
  name,
  contents.reduce((n, c) => n + c.length, 0),
  contents.reduce((n, c) => n + gz(c), 0),
])
const [shipped, , glue, wasm] = sizes
sizes.push(['total without regex (shipped JS)', shipped[1] + glue[1] + wasm[1], shipped[2] + glue[2] + wasm[2]])
for (const [name, raw, gzip] of sizes) {
  console.log(`${name.padEnd(42)} ${String(raw).padStart(8)} B raw ${String(gzip).padStart(8)} B gzip`)
}
