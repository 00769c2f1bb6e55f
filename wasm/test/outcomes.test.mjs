// pennon-wasm's run of tests/conformance/outcomes.json (record / takeOutcomes /
// restoreOutcomes / outcomeMetrics), on the `nodejs` build, and what JS alone can pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { outcomes, runOutcomeSteps } from '../../tests/conformance/js/outcomes.mjs';

const require = createRequire(import.meta.url);
const { Engine, ArgumentError } = require('../dist/nodejs/index.cjs');
const now = outcomes.now;

test('outcomes.json: the steps, batches and metrics text', () => {
  runOutcomeSteps(new Engine());
});

test('NaN latencies, undefined properties, shared engines', () => {
  const first = new Engine(outcomes.snapshots.first);
  assert.throws(() => first.record('checkout', {}, { ok: true, latencyMs: Number.NaN }, now), {
    name: 'ArgumentError',
    message: "invalid_argument: the outcome's latencyMs must be a finite number of milliseconds ≥ 0, not NaN",
  });
  assert.throws(() => first.restoreOutcomes('nope'), ArgumentError);
  const next = new Engine(outcomes.snapshots.first);
  next.shareCounters(first);
  first.record('checkout', { country: 'DE' }, { ok: true, latencyMs: undefined }, now);
  next.record('checkout', { country: 'DE' }, { error: true }, now);
  assert.deepEqual(JSON.parse(next.takeOutcomes('b', 'test/1')).flags, { checkout: { on: { requests: 2, errors: 1 } } });
  assert.equal(first.takeOutcomes('c'), null);
});
