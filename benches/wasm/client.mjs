// Per-call cost of the `pennon` web client (sdks/typescript/dist/web.mjs) against the bare
// pennon-wasm web build it wraps, for the peers workloads W1–W3 (benches/peers/README.md:
// workloads/pennon.json, the contexts of workloads/cases.json), in Node. Both sides call
// `getBoolean(flag, context, false)`; the client adds overrides, metrics, hooks and the
// details' age, and asks the engine for the full details (the third column: that call
// alone). Needs wasm/build.sh and `node sdks/typescript/scripts/build.mjs`.
//
//   node benches/wasm/client.mjs [--quick]
import { readFileSync } from 'node:fs'

const root = new URL('../../', import.meta.url)
const quick = process.argv.includes('--quick')
const read = (path) => readFileSync(new URL(path, root))
const snapshot = read('benches/peers/workloads/pennon.json').toString('utf8')
const cases = JSON.parse(read('benches/peers/workloads/cases.json').toString('utf8'))
const context = ({ userId, ...attributes }) => ({ targetingKey: userId, ...attributes })

const wasm = await import(new URL('wasm/dist/web/index.js', root).href)
const pennon = await import(new URL('sdks/typescript/dist/web.mjs', root).href)
wasm.initSync({ module: read('wasm/dist/web/pennon_wasm_bg.wasm') })
pennon.initSync({ module: read('wasm/dist/web/pennon_wasm_bg.wasm') })

const engine = new wasm.Engine(snapshot)
const client = pennon.createClient({ snapshot })
await client.ready()

const user = context(cases.user)
const { prefix, count } = cases.w3Users
const users = Array.from({ length: count }, (_, i) => context({ ...cases.user, userId: `${prefix}${i}` }))

/** Fastest round's ns per call (other processes on a shared machine only add time). */
function time(fn, n = quick ? 20_000 : 200_000, rounds = quick ? 3 : 7) {
  let sink = 0
  for (let i = 0; i < n; i++) sink ^= fn(i) ? 1 : 0
  const samples = []
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink ^= fn(i) ? 1 : 0
    samples.push(Number(process.hrtime.bigint() - start) / n)
  }
  if (sink === 42) console.log('')
  return Math.min(...samples)
}

const workloads = {
  W1: [(g) => (i) => g('w1', user), true],
  W2: [(g) => (i) => g('w2', user), true],
  W3: [(g) => (i) => g('w3', users[i % count]), null],
}
const options = { type: 'boolean', default: false }
const sides = {
  'pennon-wasm': (flag, c) => engine.getBoolean(flag, c, false),
  'pennon web client': (flag, c) => client.getBoolean(flag, c, false),
  // What the client calls today (it counts variant and reason): the full details.
  'wasm evaluate()': (flag, c) => engine.evaluate(flag, c, { ...options, now: Date.now() }).value,
}

console.log(`Node ${process.version}, ${quick ? 'quick' : 'full'} run; ns per getBoolean call (fastest round)\n`)
console.log(`${'workload'.padEnd(10)}${Object.keys(sides).map((s) => s.padStart(20)).join('')}${'client / bare'.padStart(16)}`)
console.log('')
for (const [name, [make, expected]] of Object.entries(workloads)) {
  const figures = []
  for (const get of Object.values(sides)) {
    const call = make(get)
    if (expected !== null && call(0) !== expected) throw new Error(`${name}: not ${expected}`)
    figures.push(time(call))
  }
  const ratio = figures[1] / figures[0]
  console.log(`${name.padEnd(10)}${figures.map((f) => f.toFixed(0).padStart(20)).join('')}${ratio.toFixed(2).padStart(16)}`)
}
client.close()
