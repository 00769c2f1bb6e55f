#!/usr/bin/env node
// What recording an outcome costs the addon (issue 10: `engine.record(flag, context,
// outcome)`, docs/bindings.md "Recording outcomes"): on the peers benchmark's W1–W3, the
// addon's `getBoolean` (what the application calls to be served) against `record` with a
// request and its latency (an uncounted evaluation to find the variant, then relaxed
// atomic adds). Rounds alternate (same N calls); the ratio is the median per round.
//
//   node benches/node/outcomes.mjs           40 alternated rounds of ~20 ms per side and case
//   node benches/node/outcomes.mjs --quick   10 rounds
//   node benches/node/outcomes.mjs --json

import { createRequire } from 'node:module'
import { join } from 'node:path'
import { compare } from './measure.mjs'
import { ROUNDS, TARGET_ROUND_NS, asJson, pairs, root, text } from './workloads.mjs'

const require = createRequire(import.meta.url)
const { Engine } = require(join(root, 'bindings', 'node'))

const engine = new Engine(text)
const outcome = { ok: true, latencyMs: 12.5 }
let recorded = 0

const results = {}
for (const [workload, [flag, ctx]] of Object.entries(pairs)) {
  const get = () => (engine.getBoolean(flag, ctx(), false) ? 1 : 0)
  const record = () => {
    engine.record(flag, ctx(), outcome)
    recorded++
    return 1
  }
  const r = compare(get, record, ROUNDS, TARGET_ROUND_NS)
  results[workload] = { getBoolean: r.first, record: r.second, getMin: r.firstMin, recordMin: r.secondMin, ratio: r.overhead + 1, n: r.n }
}

// Every call was recorded (a sanity check: the requests in the text add up).
const metrics = engine.outcomeMetrics()
const counted = metrics
  .split('\n')
  .filter((line) => line.startsWith('pennon_canary_requests_total'))
  .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
if (counted !== recorded) throw new Error(`recorded ${recorded} calls, the text has ${counted}:\n${metrics}`)

if (asJson) {
  console.log(JSON.stringify(results))
} else {
  console.log(`pennon-node, getBoolean vs record, node ${process.version}, ${ROUNDS} alternated rounds: CPU ns/call, median (fastest)`)
  console.log(`${'workload'.padEnd(9)} ${'getBoolean'.padStart(16)} ${'record'.padStart(16)} ${'ratio'.padStart(7)}`)
  const ns = (median, min) => `${median.toFixed(0).padStart(6)} (${min.toFixed(0).padStart(6)})`
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(9)} ${ns(r.getBoolean, r.getMin)} ${ns(r.record, r.recordMin)} ${r.ratio.toFixed(2).padStart(7)}`)
  }
}
