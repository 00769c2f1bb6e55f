// The Node addon's runner of tests/conformance/changes.json: `Engine#changedFlags` gives
// core's keys (Snapshot::changed_flags) for every case, both ways round, and an engine
// without a snapshot counts as an empty one.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { Engine } = require('../index.js')
const here = dirname(fileURLToPath(import.meta.url))
const cases = JSON.parse(readFileSync(join(here, '..', '..', '..', 'tests', 'conformance', 'changes.json'), 'utf8'))

test('changes.json: core reports the same changed flags through the addon', () => {
  assert.ok(cases.length >= 10, 'the case file went missing')
  const failures = []
  for (const { name, before, after, changed } of cases) {
    const [old, next] = [new Engine(before), new Engine(after)]
    const forward = next.changedFlags(old)
    const backward = old.changedFlags(next)
    if (JSON.stringify(forward) !== JSON.stringify(changed)) failures.push(`${name}: got ${JSON.stringify(forward)}`)
    if (JSON.stringify(backward) !== JSON.stringify(changed)) failures.push(`${name} (reversed): got ${JSON.stringify(backward)}`)
    if (next.changedFlags(new Engine(after)).length !== 0) failures.push(`${name}: a snapshot differs from itself`)
  }
  assert.deepEqual(failures, [])
})

test('an engine without a snapshot counts as empty', () => {
  const { after } = cases[0]
  const loaded = new Engine(after)
  const keys = Object.keys(after.flags).sort()
  assert.deepEqual(loaded.changedFlags(new Engine()), keys)
  assert.deepEqual(new Engine().changedFlags(loaded), keys)
  assert.deepEqual(new Engine().changedFlags(new Engine()), [])
  assert.throws(() => loaded.changedFlags({}), 'the previous engine must be an Engine')
})
