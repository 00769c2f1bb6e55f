#!/usr/bin/env node
// Per-call cost of the pennon-node addon from JS, on the shared binding fixtures
// (benches/fixtures/bindings.json and context.json).
//
//   node benches/node/bench.mjs [--quick] [--json]
//
// A plain loop: warm-up, then ROUNDS timed rounds of N calls each. Each round is timed
// twice: wall clock (process.hrtime) and CPU time of this process (process.cpuUsage, user
// + system), which stays meaningful when other jobs share the machine's two cores. The
// report gives the median round's ns per call of each, with the fastest round beside it.
// The result of every call feeds a sink so that no call can be optimised away.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure as measureWith } from './measure.mjs'

const require = createRequire(import.meta.url)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { Engine } = require(join(root, 'bindings', 'node'))

const quick = process.argv.includes('--quick')
const asJson = process.argv.includes('--json')
const ROUNDS = quick ? 5 : 15
const TARGET_ROUND_NS = quick ? 20e6 : 60e6

const engine = new Engine()
engine.load(readFileSync(join(root, 'benches', 'fixtures', 'bindings.json'), 'utf8'))
const context = JSON.parse(readFileSync(join(root, 'benches', 'fixtures', 'context.json'), 'utf8'))
const NOW = 1795000000000
const empty = {}

// Sanity: the fixture answers as documented, so the benchmark measures the intended paths.
const expect = (flag, reason) => {
  const result = engine.evaluate(flag, context, { now: NOW })
  if (result.reason !== reason) throw new Error(`${flag}: expected ${reason}, got ${JSON.stringify(result)}`)
}
expect('static-flag', 'STATIC')
expect('targeting-flag', 'TARGETING_MATCH')
expect('split-flag', 'SPLIT')

const cases = {
  'static getBoolean': () => (engine.getBoolean('static-flag', context, false, NOW) ? 1 : 0),
  'targeting getBoolean': () => (engine.getBoolean('targeting-flag', context, false, NOW) ? 1 : 0),
  'split getString': () => engine.getString('split-flag', context, 'control', NOW).length,
  'static evaluate': () => engine.evaluate('static-flag', context, { type: 'boolean', default: false, now: NOW }).reason.length,
  'targeting evaluate': () =>
    engine.evaluate('targeting-flag', context, { type: 'boolean', default: false, now: NOW }).reason.length,
  'split evaluate': () => engine.evaluate('split-flag', context, { type: 'string', default: 'control', now: NOW }).reason.length,
  'evaluateAll (3 flags)': () => Object.keys(engine.evaluateAll(context, NOW)).length,
  'static getBoolean, host clock': () => (engine.getBoolean('static-flag', context, false) ? 1 : 0),
  // Breakdown: the same call with nothing to convert, and the conversion alone is the rest.
  'static getBoolean, context {}': () => (engine.getBoolean('static-flag', empty, false, NOW) ? 1 : 0),
}

const results = {}
for (const [name, fn] of Object.entries(cases)) results[name] = measureWith(fn, ROUNDS, TARGET_ROUND_NS)

if (asJson) {
  console.log(JSON.stringify(results))
} else {
  const ns = (value) => value.toFixed(0).padStart(6)
  console.log(`pennon-node per-call cost, node ${process.version}, ${ROUNDS} rounds: median ns/call (fastest round)`)
  console.log(`${'case'.padEnd(32)} ${'CPU time'.padStart(16)} ${'wall clock'.padStart(16)}`)
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(32)} ${ns(r.cpu)} (${ns(r.cpuMin)}) ${ns(r.wall)} (${ns(r.wallMin)})`)
  }
}
