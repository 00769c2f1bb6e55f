// pennon-wasm's run of tests/conformance/counters.json (evaluation counters:
// countEvaluations / countOverride / shareCounters / metrics), on the `nodejs` build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { counters, emptyMetrics, expectedMetrics, runCounterSteps } from '../../tests/conformance/js/counters.mjs';

const require = createRequire(import.meta.url);
const { Engine } = require('../dist/nodejs/index.cjs');

test('counters.json: the metrics text after the sequence of calls', () => {
  assert.equal(runCounterSteps(new Engine()), expectedMetrics);
});

test('shareCounters: a fresh engine counts on into the previous one', () => {
  const first = new Engine(counters.snapshots.first);
  first.countEvaluations(true);
  first.getBoolean('a', {}, false);
  const next = new Engine(counters.snapshots.second);
  next.shareCounters(first);
  next.getBoolean('a', {}, false);
  assert.equal(
    next.metrics(),
    emptyMetrics +
      'pennon_evaluations_total{flag="a",variant="off",reason="KILLED"} 1\n' +
      'pennon_evaluations_total{flag="a",variant="on",reason="STATIC"} 1\n',
  );
  assert.equal(first.metrics(), next.metrics());
});
