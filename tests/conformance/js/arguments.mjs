// The JS runner of the argument contract (tests/conformance/arguments.json), shared by
// both JS packages (pennon-node and pennon-wasm): how calls take flag keys, type names,
// `now`, defaults, contexts and snapshots, what an omitted argument means, and the exact
// error objects (class, code, path, message) a bad argument throws.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'arguments.json')
const GETTERS = new Set(['getBoolean', 'getString', 'getNumber', 'getObject'])

/** The cases of `arguments.json`. */
export function argumentCases() {
  return JSON.parse(readFileSync(FILE, 'utf8'))
}

/** Deep equality of JSON data. */
function same(expected, actual) {
  if (expected === null || typeof expected !== 'object') return Object.is(expected, actual)
  if (actual === null || typeof actual !== 'object' || Array.isArray(expected) !== Array.isArray(actual)) return false
  const keys = Object.keys(expected)
  return keys.length === Object.keys(actual).length && keys.every((k) => Object.hasOwn(actual, k) && same(expected[k], actual[k]))
}

function subset(actual, expected, where) {
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(same(value, actual[key]), `${where}.${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual[key])}`)
  }
}

/** The call a case makes, as a thunk, on `engine` (or a new engine for `new`). */
function call(pennon, engine, { call, args }) {
  const has = (name) => Object.hasOwn(args, name)
  if (GETTERS.has(call)) {
    const rest = has('now') ? [args.now] : []
    return () => engine[call](args.flag, args.context, args.default, ...rest)
  }
  if (call === 'evaluate') {
    const options = Object.fromEntries(['type', 'default', 'now'].filter(has).map((name) => [name, args[name]]))
    return has('context') ? () => engine.evaluate(args.flag, args.context, options) : () => engine.evaluate(args.flag)
  }
  if (call === 'evaluateAll') return () => engine.evaluateAll(args.context, ...(has('now') ? [args.now] : []))
  if (call === 'load') return () => engine.load(args.snapshot)
  if (call === 'new') return () => (has('snapshot') ? new pennon.Engine(args.snapshot) : new pennon.Engine())
  throw new Error(`unknown call ${call}`)
}

/**
 * Runs every case against `pennon` (the package's exports). Returns the names of the
 * failed cases with their reasons (an empty list when all pass).
 */
export function runArgumentCases(pennon) {
  const data = argumentCases()
  const failures = []
  for (const item of data.cases) {
    try {
      const engine = new pennon.Engine()
      if (item.engine !== 'empty') engine.load(data.snapshot)
      const run = call(pennon, engine, item)
      const { expect } = item
      let got
      if (expect.error) {
        let thrown
        try {
          run()
        } catch (error) {
          thrown = error
        }
        assert.ok(thrown !== undefined, 'expected an error, none was thrown')
        const want = expect.error
        assert.ok(thrown instanceof pennon.PennonError, `not a PennonError: ${thrown}`)
        assert.ok(thrown instanceof pennon[want.class], `not a ${want.class}: ${thrown.name}`)
        assert.equal(thrown.name, want.class)
        assert.equal(thrown.code, want.code)
        assert.equal(thrown.path, want.path)
        assert.equal(thrown.message, want.message)
      } else {
        got = run()
      }
      if (Object.hasOwn(expect, 'value')) {
        assert.ok(same(expect.value, got), `value: expected ${JSON.stringify(expect.value)}, got ${JSON.stringify(got)}`)
      }
      if (expect.result) subset(got, expect.result, 'result')
      if (expect.results) {
        assert.deepEqual(Object.keys(got).sort(), Object.keys(expect.results).sort())
        for (const [key, result] of Object.entries(expect.results)) subset(got[key], result, key)
      }
      if (expect.warnings) {
        assert.deepEqual(got.map(({ code, path }) => ({ code, path })), expect.warnings)
        assert.ok(got.every((w) => typeof w.message === 'string' && w.message.length > 0))
      }
      if (Object.hasOwn(expect, 'revision')) {
        const subject = item.call === 'new' ? got : engine
        assert.equal(subject.revision, expect.revision)
      }
    } catch (error) {
      failures.push(`${item.name}: ${error.message}`)
    }
  }
  return { count: data.cases.length, failures }
}
