// The argument contract (tests/conformance/arguments.json) through pennon-node.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { runArgumentCases } from '../../../tests/conformance/js/arguments.mjs'

const pennon = createRequire(import.meta.url)('../index.js')

test('every argument-contract case', () => {
  const { count, failures } = runArgumentCases(pennon)
  assert.ok(count > 40)
  assert.deepEqual(failures, [])
})
