// The Node addon's runner of tests/conformance/outcomes.json (record / takeOutcomes /
// restoreOutcomes / outcomeMetrics), and what JS alone can pass: NaN latencies, undefined
// properties, getters that throw; exposures from the constant table's answers.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { outcomes as file, runOutcomeSteps } from '../../../tests/conformance/js/outcomes.mjs'

const require = createRequire(import.meta.url)
const { Engine, ArgumentError } = require('../index.js')
const now = file.now

test('outcomes.json: the steps, batches and metrics text', () => {
  runOutcomeSteps(new Engine())
})

test('values JSON cannot carry: NaN and Infinity latencies, undefined properties, accessors', () => {
  const engine = new Engine(file.snapshots.first)
  for (const latencyMs of [Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => engine.record('checkout', {}, { ok: true, latencyMs }, now), {
      name: 'ArgumentError',
      message: `invalid_argument: the outcome's latencyMs must be a finite number of milliseconds ≥ 0, not ${latencyMs}`,
    })
  }
  assert.throws(() => engine.record('checkout', {}, [true], now), ArgumentError)
  assert.throws(() => engine.record('checkout', {}, { ok: () => true }, now), /ok must be a boolean, not a function/)
  const throwing = { get ok() { throw new Error('boom') } }
  assert.throws(() => engine.record('checkout', {}, throwing, now), /reading the outcome threw/)
  engine.record('checkout', { country: 'DE' }, { ok: true, latencyMs: undefined, converted: undefined }, now)
  const body = JSON.parse(engine.takeOutcomes('x'))
  assert.deepEqual(body.flags, { checkout: { on: { requests: 1 } } })
  assert.match(body.sdk, /^pennon-host\/\d/)
})

test('exposures include the answers of the constant table; shared engines take once', () => {
  const constant = {
    schemaVersion: 1, revision: 1,
    flags: { c: { type: 'boolean', state: 'on', variants: { on: true, off: false }, offVariant: 'off', fallthrough: { variant: 'on' } } },
  }
  const first = new Engine(constant)
  first.countEvaluations(true)
  for (let i = 0; i < 4; i++) first.getBoolean('c', {}, false, now)
  first.record('c', {}, { ok: true, latencyMs: 3 }, now)
  const next = new Engine(constant)
  next.shareCounters(first)
  next.getBoolean('c', {}, false, now)
  next.record('c', {}, { error: true }, now)
  const body = JSON.parse(next.takeOutcomes('b', 'test/1'))
  assert.deepEqual(body.flags.c.on.exposures, 5)
  assert.deepEqual([body.flags.c.on.requests, body.flags.c.on.errors], [2, 1])
  assert.equal(first.takeOutcomes('c'), null)
  assert.equal(first.outcomeMetrics(), next.outcomeMetrics())
})

test('a failed send given back is in the next batch', () => {
  const engine = new Engine(file.snapshots.first)
  engine.record('checkout', { country: 'DE' }, { ok: true }, now)
  engine.restoreOutcomes(engine.takeOutcomes('a'))
  engine.record('checkout', { country: 'DE' }, { ok: true }, now)
  assert.equal(JSON.parse(engine.takeOutcomes('b')).flags.checkout.on.requests, 2)
  assert.throws(() => engine.restoreOutcomes('not json'), ArgumentError)
})
