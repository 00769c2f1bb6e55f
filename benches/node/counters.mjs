#!/usr/bin/env node
// What counting evaluations costs the addon (issue 9: counters in the engine, one relaxed
// atomic add per counted call): the peers benchmark's W1–W3 (as client.mjs) on two engines
// holding the same snapshot, one with `countEvaluations(true)`, one without. Rounds of the
// two alternate (same N calls); the overhead is the median of the per-round ratios.
//
//   node benches/node/counters.mjs           40 alternated rounds of ~20 ms per side and case
//   node benches/node/counters.mjs --quick   10 rounds
//   node benches/node/counters.mjs --json

import { createRequire } from 'node:module'
import { join } from 'node:path'
import { compare } from './measure.mjs'
import { ROUNDS, TARGET_ROUND_NS, asJson, pairs, root, text } from './workloads.mjs'

const require = createRequire(import.meta.url)
const { Engine } = require(join(root, 'bindings', 'node'))

const off = new Engine(text)
const on = new Engine(text)
on.countEvaluations(true)

const typed = { type: 'boolean', default: false }
const rows = []
for (const [workload, [flag, ctx]] of Object.entries(pairs)) {
  rows.push(
    [`${workload} getBoolean`, (e) => () => (e.getBoolean(flag, ctx(), false) ? 1 : 0)],
    [`${workload} evaluate`, (e) => () => e.evaluate(flag, ctx(), typed).reason.length],
  )
}

const results = {}
for (const [name, call] of rows) {
  const r = compare(call(off), call(on), ROUNDS, TARGET_ROUND_NS)
  results[name] = { off: r.first, on: r.second, offMin: r.firstMin, onMin: r.secondMin, overhead: r.overhead, n: r.n }
}

// The counting engine counted every call (a sanity check: its series carry the calls).
const metrics = on.metrics()
for (const flag of ['w1', 'w2', 'w3']) {
  if (!metrics.includes(`{flag="${flag}",`)) throw new Error(`no series for ${flag}:\n${metrics}`)
}
if (off.metrics().split('\n').length !== 3) throw new Error('the engine without counting counted')

if (asJson) {
  console.log(JSON.stringify(results))
} else {
  console.log(`pennon-node, counting off vs on, node ${process.version}, ${ROUNDS} alternated rounds: CPU ns/call, median (fastest)`)
  console.log(`${'addon call'.padEnd(16)} ${'off'.padStart(16)} ${'on'.padStart(16)} ${'overhead'.padStart(9)}`)
  const ns = (median, min) => `${median.toFixed(0).padStart(6)} (${min.toFixed(0).padStart(6)})`
  for (const [name, r] of Object.entries(results)) {
    const pct = `${r.overhead >= 0 ? '+' : ''}${(r.overhead * 100).toFixed(1)} %`
    console.log(`${name.padEnd(16)} ${ns(r.off, r.offMin)} ${ns(r.on, r.onMin)} ${pct.padStart(9)}`)
  }
  console.log('overhead: the median over rounds of on / off − 1')
  console.log(metrics.split('\n').filter((line) => line.startsWith('pennon_')).join('\n'))
}
