// The JS runner of the outcomes' case file (tests/conformance/outcomes.json), shared by
// both JS packages (pennon-node and pennon-wasm): a sequence of calls on one engine, the
// batches `takeOutcomes` gives and the exact text of `outcomeMetrics()`.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The case file. */
export const outcomes = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'outcomes.json'), 'utf8'))

/** Asserts that `call` throws the error object `expected` ({class, code, path, message}). */
function assertThrows(call, expected, step) {
  assert.throws(call, (error) => {
    assert.equal(error.constructor.name, expected.class, step)
    assert.equal(error.code, expected.code, step)
    assert.equal(error.path, expected.path, step)
    assert.equal(error.message, expected.message, step)
    return true
  })
}

/** Runs the file's steps on `engine` (a new `Engine()`), asserting each expectation. */
export function runOutcomeSteps(engine) {
  const now = outcomes.now
  const taken = new Map()
  outcomes.steps.forEach((step, index) => {
    const where = `step ${index} (${step.do})`
    switch (step.do) {
      case 'load':
        engine.load(outcomes.snapshots[step.snapshot])
        break
      case 'count':
        engine.countEvaluations(step.enabled)
        break
      case 'evaluate':
        for (let i = 0; i < (step.times ?? 1); i++) engine.evaluate(step.flag, step.context, { now })
        break
      case 'record':
        for (let i = 0; i < (step.times ?? 1); i++) {
          const call = () => engine.record(step.flag, step.context, step.outcome, now)
          if (step.error) assertThrows(call, step.error, where)
          else assert.equal(call(), undefined, where)
        }
        break
      case 'take': {
        const text = engine.takeOutcomes(step.batch, step.sdk)
        assert.deepEqual(text === null ? null : JSON.parse(text), step.expect, where)
        if (text !== null) taken.set(step.batch, text)
        break
      }
      case 'restore':
        engine.restoreOutcomes(taken.get(step.batch))
        break
      case 'metrics':
        assert.equal(engine.outcomeMetrics(), step.expect.join('\n') + '\n', where)
        break
      default:
        throw new Error(`unknown step ${step.do}`)
    }
  })
}
