// One case of the peers benchmark in its own Node process (run.mjs starts one per engine
// and workload): load the engine, check its answers, then time it.
//
//   node case.mjs ENGINE WORKLOAD [--quick]   → one JSON line: the medians and the checks
//   node case.mjs ENGINE all --check          → the checks of every workload, no timing
//
// WORKLOAD is W1, W2, W3, W4 (ten typed getters per request, Pennon only) or W4all
// (evaluateAll over the same ten flags, Pennon only). Timing: warm up for a fixed time,
// calibrate a round length, then ROUNDS rounds; each round's CPU time (process.cpuUsage,
// user + system) and wall clock are divided by the evaluations in it and the median
// round is reported. The contexts are prepared before timing and taken in turn.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ENGINES } from './engines.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const cases = JSON.parse(readFileSync(join(here, '..', 'workloads', 'cases.json'), 'utf8'))
const [engineName, workloadName] = process.argv.slice(2)
const quick = process.argv.includes('--quick')
const checkOnly = process.argv.includes('--check')
const TIMING = quick ? { warmupMs: 300, rounds: 7, roundMs: 40 } : { warmupMs: 700, rounds: 11, roundMs: 120 }

const w3Users = () =>
  Array.from({ length: cases.w3Users.count }, (_, i) => ({ ...cases.user, userId: `${cases.w3Users.prefix}${i}` }))

/** Runs the correctness checks of one workload; returns { passed, failed: [messages], notes }. */
function check(engine, workload) {
  const failed = []
  const notes = []
  let passed = 0
  const expect = (ok, message) => (ok ? passed++ : failed.push(message))
  const user = engine.context(cases.user)
  if (workload === 'W1') {
    expect(engine.w1(user) === true, `W1: expected true, got ${engine.w1(user)}`)
  } else if (workload === 'W2') {
    expect(engine.w2(user) === true, `W2: the matching context gave ${engine.w2(user)}`)
    for (const [attribute, value] of Object.entries(cases.w2Breaks)) {
      if (engine.cannotExpress?.includes(attribute)) {
        notes.push(`W2: ${attribute} = ${JSON.stringify(value)} not asserted (not expressible natively)`)
        continue
      }
      const got = engine.w2(engine.context({ ...cases.user, [attribute]: value }))
      expect(got === false, `W2: ${attribute} = ${JSON.stringify(value)} should flip the answer, got ${got}`)
    }
  } else if (workload === 'W3') {
    const users = w3Users().map(engine.context)
    const answers = users.map((c) => engine.w3(c))
    expect(answers.every((a) => typeof a === 'boolean'), 'W3: every answer is a boolean')
    expect(
      users.every((c, i) => engine.w3(c) === answers[i]),
      'W3: the same user gets the same answer twice',
    )
    const share = answers.filter(Boolean).length / answers.length
    expect(
      share >= cases.w3Users.minShare && share <= cases.w3Users.maxShare,
      `W3: on-share ${share} outside [${cases.w3Users.minShare}, ${cases.w3Users.maxShare}]`,
    )
    notes.push(`W3: on-share ${share.toFixed(3)}`)
  } else if (workload === 'W4' || workload === 'W4all') {
    const values = workload === 'W4' ? engine.w4Values(user) : engine.w4AllValues(user)
    for (const [flag, want] of Object.entries(cases.w4Expected)) {
      const got = values[flag]
      const ok = Array.isArray(want) ? want.includes(got) : got === want
      expect(ok, `${workload}: ${flag} gave ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
    }
    if (workload === 'W4all') {
      const getters = engine.w4Values(user)
      expect(
        Object.entries(getters).every(([flag, value]) => values[flag] === value),
        'W4all: evaluateAll agrees with the typed getters',
      )
    }
  } else {
    throw new Error(`unknown workload ${workload}`)
  }
  return { passed, failed, notes }
}

/** Median CPU and wall-clock ns per evaluation of `fn` over `contexts` (taken in turn). */
function measure(fn, contexts, { warmupMs, rounds, roundMs }) {
  const len = contexts.length
  let j = 0
  let sink = 0
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      if (fn(contexts[j])) sink++
      if (++j === len) j = 0
    }
  }
  // Warm up for warmupMs, growing the batch until one batch takes a tenth of a round.
  let n = 100
  const warmEnd = process.hrtime.bigint() + BigInt(warmupMs * 1e6)
  let batchNs = 0
  while (process.hrtime.bigint() < warmEnd || batchNs === 0) {
    const start = process.hrtime.bigint()
    run(n)
    batchNs = Number(process.hrtime.bigint() - start)
    if (batchNs < (roundMs * 1e6) / 10) n *= 2
  }
  const calls = Math.max(100, Math.round((n * roundMs * 1e6) / Math.max(batchNs, 1)))
  const cpu = []
  const wall = []
  for (let r = 0; r < rounds; r++) {
    const cpuStart = process.cpuUsage()
    const start = process.hrtime.bigint()
    run(calls)
    wall.push(Number(process.hrtime.bigint() - start) / calls)
    const used = process.cpuUsage(cpuStart)
    cpu.push(((used.user + used.system) * 1000) / calls)
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  return { cpuNs: median(cpu), wallNs: median(wall), cpuNsMin: Math.min(...cpu), calls, rounds, sink }
}

const engine = await ENGINES[engineName]()
const available = { W1: engine.w1, W2: engine.w2, W3: engine.w3, W4: engine.w4, W4all: engine.w4All }
const workloads = workloadName === 'all' ? Object.keys(available).filter((w) => available[w]) : [workloadName]
const result = { engine: engineName, runtime: 'node', version: engine.version, workload: workloadName, checks: {} }
let failures = 0
for (const workload of workloads) {
  result.checks[workload] = check(engine, workload)
  failures += result.checks[workload].failed.length
}
if (!checkOnly && failures === 0) {
  const fn = available[workloadName]
  const contexts = workloadName === 'W3' ? w3Users().map(engine.context) : [engine.context(cases.user)]
  Object.assign(result, measure(fn, contexts, TIMING))
}
engine.close?.()
console.log(JSON.stringify(result))
process.exit(failures === 0 ? 0 : 1)
