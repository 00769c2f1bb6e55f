// The JS runner of the evaluation counters' case file (tests/conformance/counters.json),
// shared by both JS packages (pennon-node and pennon-wasm): a sequence of calls on one
// engine and the exact text `metrics()` gives afterwards.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The case file. */
export const counters = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'counters.json'), 'utf8'))
const GETTERS = { boolean: 'getBoolean', string: 'getString', number: 'getNumber', object: 'getObject' }

/** Runs the file's steps on `engine` (a new `Engine()`) and returns `engine.metrics()`. */
export function runCounterSteps(engine) {
  const now = counters.now
  for (const step of counters.steps) {
    switch (step.do) {
      case 'count':
        engine.countEvaluations(step.enabled)
        break
      case 'load':
        engine.load(counters.snapshots[step.snapshot])
        break
      case 'evaluate':
        for (let i = 0; i < (step.times ?? 1); i++) {
          if (step.getter) engine[GETTERS[step.type]](step.flag, step.context, step.default, now)
          else engine.evaluate(step.flag, step.context, { type: step.type, now })
        }
        break
      case 'override':
        engine.countOverride(step.flag)
        break
      case 'evaluateAll':
        if (Object.keys(engine.evaluateAll({}, now)).length === 0) throw new Error('evaluateAll gave nothing')
        break
      default:
        throw new Error(`unknown step ${step.do}`)
    }
  }
  return engine.metrics()
}

/** What `metrics()` must give after the steps. */
export const expectedMetrics = counters.metrics.join('\n') + '\n'
/** The text of counters that counted nothing. */
export const emptyMetrics = counters.metrics.slice(0, 2).join('\n') + '\n'
