// Engines on worker threads: every worker loads the addon into its own Node-API
// environment and evaluates concurrently with the others and with the main thread. A
// compiled snapshot is shared with `shareSnapshot()` / `loadShared()` (no re-parse), or
// loaded from text; either way every thread must give the main thread's answers.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine } = require('../index.js')

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const indexPath = join(here, '..', 'index.js')
const snapshotText = readFileSync(join(root, 'tests', 'conformance', 'snapshots', 'shop.json'), 'utf8')
const NOW = 1795000000000

/** Contexts of the shop cases, and of the example contexts. */
function contexts() {
  const found = []
  for (const name of readdirSync(join(root, 'tests', 'conformance', 'cases'))) {
    const file = JSON.parse(readFileSync(join(root, 'tests', 'conformance', 'cases', name), 'utf8'))
    if (file.snapshotFile === 'snapshots/shop.json') for (const c of file.cases) found.push(c.context ?? {})
  }
  for (const example of JSON.parse(readFileSync(join(root, 'examples', 'contexts.json'), 'utf8'))) found.push(example.context)
  return found
}

// The worker: evaluates every flag for every context `rounds` times and reports the
// results of the first round, how many evaluations it made, and whether all rounds agreed.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Engine } = require(workerData.indexPath)
const engine = new Engine()
if (workerData.handle !== null) engine.loadShared(workerData.handle)
else engine.load(workerData.snapshotText)
const flags = Object.keys(engine.evaluateAll({}, workerData.now))
let first = null
let count = 0
let consistent = true
for (let round = 0; round < workerData.rounds; round++) {
  const results = []
  for (const context of workerData.contexts) {
    for (const flag of flags) {
      results.push(engine.evaluate(flag, context, { now: workerData.now }))
      count++
    }
  }
  if (first === null) first = results
  else if (JSON.stringify(results) !== JSON.stringify(first)) consistent = false
}
parentPort.postMessage({ revision: engine.revision, results: first, count, consistent })
`

function runWorker(workerData) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData })
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`))
    })
  })
}

test('workers evaluate concurrently, from a shared or their own snapshot, with the main thread answers', async () => {
  const engine = new Engine()
  engine.load(snapshotText)
  const handle = engine.shareSnapshot()
  const all = contexts()
  assert.ok(all.length >= 20)
  const flags = Object.keys(engine.evaluateAll({}, NOW))
  const reference = []
  for (const context of all) for (const flag of flags) reference.push(engine.evaluate(flag, context, { now: NOW }))

  const base = { indexPath, snapshotText, contexts: all, now: NOW, rounds: 20 }
  const workers = [0, 1, 2, 3].map((i) => runWorker({ ...base, handle: i % 2 === 0 ? handle : null }))
  // Keep the main thread evaluating while the workers run.
  let mainCount = 0
  for (let round = 0; round < 20; round++) {
    for (const context of all) for (const flag of flags) {
      engine.evaluate(flag, context, { now: NOW })
      mainCount++
    }
  }
  const reports = await Promise.all(workers)
  for (const report of reports) {
    assert.equal(report.revision, engine.revision)
    assert.ok(report.consistent, 'every round of a worker gave the same results')
    assert.equal(report.count, reference.length * 20)
    assert.deepEqual(report.results, reference)
  }
  assert.equal(mainCount, reference.length * 20)
})

test('terminating a worker mid-evaluation leaves the process and new workers working', async () => {
  const busy = new Worker(
    `const { Engine } = require(${JSON.stringify(indexPath)})
     const engine = new Engine()
     engine.load(${JSON.stringify(snapshotText)})
     require('node:worker_threads').parentPort.postMessage('ready')
     for (;;) engine.evaluateAll({ targetingKey: 'u-1', country: 'DE' }, ${NOW})`,
    { eval: true },
  )
  await new Promise((resolve) => busy.once('message', resolve))
  await new Promise((resolve) => setTimeout(resolve, 50))
  await busy.terminate()
  const engine = new Engine()
  engine.load(snapshotText)
  const report = await runWorker({ indexPath, snapshotText, contexts: contexts().slice(0, 3), now: NOW, rounds: 2, handle: engine.shareSnapshot() })
  assert.ok(report.consistent)
  assert.equal(report.revision, engine.revision)
})
