// The Node addon's runner of tests/conformance/counters.json (evaluation counters,
// `countEvaluations` / `countOverride` / `metrics`), and what only this package has: answers
// `index.js` gives from its table of constant flags count too, and `shareCounters` carries
// them over to the next engine.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { counters as file, emptyMetrics, expectedMetrics, runCounterSteps } from '../../../tests/conformance/js/counters.mjs'

const require = createRequire(import.meta.url)
const pennon = require('../index.js')
const { Engine } = pennon
const fast = process.env.PENNON_NODE_NO_FAST_PATHS !== '1'

test('counters.json: the metrics text after the sequence of calls', () => {
  const before = pennon.__fastPathStats?.tableAnswers ?? 0
  assert.equal(runCounterSteps(new Engine()), expectedMetrics)
  if (fast) assert.ok(pennon.__fastPathStats.tableAnswers > before, 'the constant table answered some calls')
})

test('table answers and addon answers add up, also across shareCounters', () => {
  const snapshot = file.snapshots.first
  const first = new Engine(snapshot)
  first.countEvaluations(true)
  for (let i = 0; i < 5; i++) first.getBoolean('a', { country: 'DE' }, false, file.now)
  first.getNumber('a', {}, 1, file.now)
  const next = new Engine(snapshot)
  next.getBoolean('a', {}, false, file.now) // not counted: next's own counters are off
  next.shareCounters(first)
  next.getBoolean('a', {}, false, file.now)
  next.countOverride('a')
  const expected = [
    'pennon_evaluations_total{flag="a",variant="",reason="ERROR"} 1',
    'pennon_evaluations_total{flag="a",variant="on",reason="STATIC"} 6',
    'pennon_evaluations_total{flag="a",variant="override",reason="STATIC"} 1',
  ]
  assert.deepEqual(next.metrics().split('\n').slice(2, -1), expected)
  assert.equal(first.metrics(), next.metrics())
})

test('counting off: nothing is counted and the text has only its header', () => {
  const engine = new Engine(file.snapshots.first)
  engine.getBoolean('a', {}, false)
  engine.evaluate('missing')
  engine.countOverride('a')
  assert.equal(engine.metrics(), emptyMetrics)
})
