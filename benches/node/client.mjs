#!/usr/bin/env node
// Per-call cost of the TypeScript client (`pennon`: getters, `isEnabled`, `evaluate`)
// against the bare pennon-node call it makes, on the peers benchmark's W1–W3
// (benches/peers/workloads/pennon.json and cases.json; benches/peers/README.md).
//
//   node benches/node/client.mjs [--quick] [--json]
//
// Both sides use the host clock (the client passes `Date.now()`; the addon reads it when
// no `now` is given). The client has no hook and no override, as in production. Rounds
// of the addon call and of the client call alternate (same N calls each); the report gives
// each side's median and fastest round (CPU ns/call) and the median of the per-round
// ratios as the client's overhead.

import { createRequire } from 'node:module'
import { join } from 'node:path'
import { compare } from './measure.mjs'
import { ROUNDS, TARGET_ROUND_NS, asJson, cases, pairs, root, text, user, w3Users } from './workloads.mjs'

const require = createRequire(import.meta.url)
const { Engine } = require(join(root, 'bindings', 'node'))
const { createClient } = require(join(root, 'sdks', 'typescript'))

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

const typed = { type: 'boolean', default: false }
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
  const r = compare(binding, through, ROUNDS, TARGET_ROUND_NS)
  results[`${name} / ${against}`] = {
    binding: r.first,
    client: r.second,
    bindingMin: r.firstMin,
    clientMin: r.secondMin,
    overhead: r.overhead,
    n: r.n,
  }
}

if (asJson) {
  console.log(JSON.stringify(results))
} else {
  console.log(`pennon client vs pennon-node, node ${process.version}, ${ROUNDS} alternated rounds: CPU ns/call, median (fastest)`)
  console.log(`${'client / addon call'.padEnd(26)} ${'binding'.padStart(16)} ${'client'.padStart(16)} ${'overhead'.padStart(9)}`)
  const ns = (median, min) => `${median.toFixed(0).padStart(6)} (${min.toFixed(0).padStart(6)})`
  for (const [name, r] of Object.entries(results)) {
    const pct = `${r.overhead >= 0 ? '+' : ''}${(r.overhead * 100).toFixed(1)} %`
    console.log(`${name.padEnd(26)} ${ns(r.binding, r.bindingMin)} ${ns(r.client, r.clientMin)} ${pct.padStart(9)}`)
  }
  console.log('overhead: the median over rounds of client / binding − 1')
}
