#!/usr/bin/env node
// Per-call cost of the TypeScript client (`pennon`: getters, `isEnabled`, `evaluate`)
// against the bare pennon-node call it makes, on the peers benchmark's W1–W3
// (benches/peers/workloads/pennon.json and cases.json; benches/peers/README.md). With
// `--web`: the web build (sdks/typescript/dist/web.mjs) against the bare pennon-wasm web
// build it wraps (wasm/build.sh and `node sdks/typescript/scripts/build.mjs` first).
//
//   node benches/node/client.mjs [--quick] [--json] [--web]
//
// Both sides use the host clock (the client passes `Date.now()`; the addon reads it when
// no `now` is given). The client has no hook and no override, as in production. Rounds
// of the addon call and of the client call alternate (same N calls each); the report gives
// each side's median and fastest round (CPU ns/call) and the median of the per-round
// ratios as the client's overhead.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { calibrate, fastest, median, round } from './measure.mjs'

const require = createRequire(import.meta.url)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const quick = process.argv.includes('--quick')
const asJson = process.argv.includes('--json')
const web = process.argv.includes('--web')

/** `{Engine, createClient, binding}`: pennon-node and the Node client, or the web pair. */
async function sides() {
  if (!web) {
    const { Engine } = require(join(root, 'bindings', 'node'))
    return { Engine, createClient: require(join(root, 'sdks', 'typescript')).createClient, binding: 'pennon-node' }
  }
  const load = (path) => import(pathToFileURL(join(root, path)).href)
  const [wasm, pennon] = await Promise.all([load('wasm/dist/web/index.js'), load('sdks/typescript/dist/web.mjs')])
  const module = readFileSync(join(root, 'wasm', 'dist', 'web', 'pennon_wasm_bg.wasm'))
  wasm.initSync({ module })
  pennon.initSync({ module })
  return { Engine: wasm.Engine, createClient: pennon.createClient, binding: 'pennon-wasm (web build)' }
}
const { Engine, createClient, binding: bindingName } = await sides()
const ROUNDS = quick ? 10 : 40
const TARGET_ROUND_NS = quick ? 10e6 : 20e6

const workloads = join(root, 'benches', 'peers', 'workloads')
const text = readFileSync(join(workloads, 'pennon.json'), 'utf8')
const cases = JSON.parse(readFileSync(join(workloads, 'cases.json'), 'utf8'))
const { userId, ...attributes } = cases.user
const user = { targetingKey: userId, ...attributes }
const w3Users = Array.from({ length: cases.w3Users.count }, (_, i) => ({ targetingKey: `${cases.w3Users.prefix}${i}` }))

const engine = new Engine()
engine.load(text)
const client = createClient({ snapshot: text })

// Sanity: both answer the workloads as the peers benchmark requires.
const check = (ok, what) => {
  if (!ok) throw new Error(`sanity check failed: ${what}`)
}
for (const flag of ['w1', 'w2']) {
  check(engine.getBoolean(flag, user, false) === true && client.getBoolean(flag, user, false) === true, `${flag} is true`)
}
const onShare = w3Users.filter((u) => client.isEnabled('w3', u)).length / w3Users.length
check(onShare >= cases.w3Users.minShare && onShare <= cases.w3Users.maxShare, `w3 on-share ${onShare}`)
check(w3Users.every((u) => client.isEnabled('w3', u) === engine.getBoolean('w3', u, false)), 'w3 agrees')

let turn = 0
const next = () => w3Users[(turn = turn + 1 === w3Users.length ? 0 : turn + 1)]
const typed = { type: 'boolean', default: false }
/** Per workload: the flag and the context of each call. */
const pairs = {
  W1: ['w1', () => user],
  W2: ['w2', () => user],
  W3: ['w3', next],
}
/** `[client call, the addon call it is compared with, the two]`. */
const rows = []
for (const [workload, [flag, ctx]] of Object.entries(pairs)) {
  const getBoolean = () => (engine.getBoolean(flag, ctx(), false) ? 1 : 0)
  const evaluate = () => engine.evaluate(flag, ctx(), typed).reason.length
  const clientGet = () => (client.getBoolean(flag, ctx(), false) ? 1 : 0)
  rows.push(
    [`${workload} getBoolean`, 'getBoolean', getBoolean, clientGet],
    [`${workload} getBoolean`, 'evaluate', evaluate, clientGet],
    [`${workload} isEnabled`, 'evaluate', evaluate, () => (client.isEnabled(flag, ctx()) ? 1 : 0)],
    [`${workload} evaluate`, 'evaluate', evaluate, () => client.evaluate(flag, ctx()).reason.length],
  )
}

const results = {}
for (const [name, against, binding, through] of rows) {
  // Rounds of the two alternate, so that both see the same moments of a busy machine.
  const n = Math.min(calibrate(binding, TARGET_ROUND_NS), calibrate(through, TARGET_ROUND_NS))
  const b = []
  const c = []
  for (let i = 0; i < ROUNDS; i++) {
    b.push(round(binding, n).cpu)
    c.push(round(through, n).cpu)
  }
  const ratios = b.map((x, i) => c[i] / x)
  results[`${name} / ${against}`] = {
    binding: median(b),
    client: median(c),
    bindingMin: fastest(b),
    clientMin: fastest(c),
    overhead: median(ratios) - 1,
    n,
  }
}

if (asJson) {
  console.log(JSON.stringify(results))
} else {
  const what = web ? 'pennon web client' : 'pennon client'
  console.log(`${what} vs ${bindingName}, node ${process.version}, ${ROUNDS} alternated rounds: CPU ns/call, median (fastest)`)
  console.log(`${'client / addon call'.padEnd(26)} ${'binding'.padStart(16)} ${'client'.padStart(16)} ${'overhead'.padStart(9)}`)
  const ns = (median, min) => `${median.toFixed(0).padStart(6)} (${min.toFixed(0).padStart(6)})`
  for (const [name, r] of Object.entries(results)) {
    const pct = `${r.overhead >= 0 ? '+' : ''}${(r.overhead * 100).toFixed(1)} %`
    console.log(`${name.padEnd(26)} ${ns(r.binding, r.bindingMin)} ${ns(r.client, r.clientMin)} ${pct.padStart(9)}`)
  }
  console.log('overhead: the median over rounds of client / binding − 1')
}
