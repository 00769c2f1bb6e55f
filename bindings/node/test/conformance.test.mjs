// The Node addon's runner of the conformance suite (tests/conformance/README.md): every
// case file, its load expectations (error or warnings) and every case, plus the bucketing
// vectors. Each case file is one node:test test, so a failure names the file and lists
// every failing case in it.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const pennon = require('../index.js')
const { Engine, SnapshotError, bucket, bucketHash } = pennon
const { apply } = Reflect
/** With the fast paths on: the addon's own (napi-rs) methods, converting whole contexts. */
const Native =
  pennon.__fastPathStats && Object.getPrototypeOf(Engine) !== Function.prototype ? Object.getPrototypeOf(Engine).prototype : null
const GETTERS = { boolean: 'getBoolean', string: 'getString', number: 'getNumber', object: 'getObject' }

const suite = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'tests', 'conformance')
const COMPARED = ['value', 'variant', 'reason', 'ruleId', 'stage', 'shadowVariant', 'errorCode']
const RESULT_FIELDS = [
  'value',
  'variant',
  'reason',
  'ruleId',
  'stage',
  'shadowVariant',
  'errorCode',
  'errorMessage',
  'revision',
  'flagMetadata',
]

/** JSON equality where numbers compare numerically (`1` equals `1.0` trivially in JS). */
function same(expected, actual) {
  if (expected === null || typeof expected !== 'object') return Object.is(expected, actual) || expected === actual
  if (actual === null || typeof actual !== 'object' || Array.isArray(expected) !== Array.isArray(actual)) return false
  const keys = Object.keys(expected)
  if (keys.length !== Object.keys(actual).length) return false
  return keys.every((key) => Object.hasOwn(actual, key) && same(expected[key], actual[key]))
}

const show = (value) => JSON.stringify(value)

/** The differences between a result and a case's `expect`. */
function compare(expect, actual, revision) {
  const problems = []
  const fields = Object.keys(actual)
  if (show(fields) !== show(RESULT_FIELDS)) problems.push(`fields ${show(fields)}`)
  for (const field of COMPARED) {
    const want = expect[field] ?? null
    const got = actual[field] ?? null
    if (!same(want, got)) problems.push(`${field}: expected ${show(want)}, got ${show(got)}`)
  }
  const hasError = actual.errorCode !== null
  const message = actual.errorMessage
  if (hasError ? !(typeof message === 'string' && message.length > 0) : message !== null) {
    problems.push(`errorMessage ${show(message)} does not fit errorCode ${show(actual.errorCode)}`)
  }
  if (actual.revision !== revision) problems.push(`revision: expected ${revision}, got ${show(actual.revision)}`)
  if ('flagMetadata' in expect && !same(expect.flagMetadata, actual.flagMetadata)) {
    problems.push(`flagMetadata: expected ${show(expect.flagMetadata)}, got ${show(actual.flagMetadata)}`)
  }
  return problems
}

/** Evaluates one case the way the contract says typed and untyped calls work. */
function evaluateCase(engine, testCase, now) {
  const options = { default: testCase.default ?? null, now }
  if (testCase.type !== 'any') options.type = testCase.type
  return engine.evaluate(testCase.flag, testCase.context ?? {}, options)
}

const caseFiles = readdirSync(join(suite, 'cases'))
  .filter((name) => name.endsWith('.json'))
  .sort()

let total = 0

for (const name of caseFiles) {
  test(`conformance: ${name}`, () => {
    const file = JSON.parse(readFileSync(join(suite, 'cases', name), 'utf8'))
    assert.ok(('snapshot' in file) !== ('snapshotFile' in file), 'exactly one of snapshot / snapshotFile')
    // Inline snapshots are passed as objects, shared files as text: both load paths run.
    const snapshot = file.snapshot ?? readFileSync(join(suite, file.snapshotFile), 'utf8')
    const engine = new Engine()
    const expectedError = file.load?.error
    if (expectedError) {
      assert.throws(
        () => engine.load(snapshot),
        (error) => error instanceof SnapshotError && error.code === expectedError,
        `${name}: expected load error ${expectedError}`,
      )
      assert.equal(engine.revision, null, 'a failed first load leaves the engine empty')
      total += 1
      return
    }
    const warnings = engine.load(snapshot)
    const codes = warnings.map((warning) => warning.code)
    assert.deepEqual(codes, file.load?.warnings ?? [], `${name}: load warnings ${show(warnings)}`)
    assert.deepEqual(engine.warnings, warnings, 'engine.warnings repeats the load warnings')
    const revision = engine.revision
    const failures = []
    for (const testCase of file.cases ?? []) {
      const now = testCase.now ?? file.now
      assert.equal(typeof now, 'number', `${name} › ${testCase.name}: no now`)
      const result = evaluateCase(engine, testCase, now)
      if (Native !== null) {
        // The fast paths (attribute lists, the constant table) answer as the addon does.
        const type = testCase.type === 'any' ? undefined : testCase.type
        const options = { default: testCase.default ?? null, now, type }
        const whole = apply(Native.evaluate, engine, [testCase.flag, testCase.context ?? {}, options])
        if (show(whole) !== show(result)) failures.push(`${testCase.name}: fast ${show(result)}, addon ${show(whole)}`)
        const getter = GETTERS[testCase.type]
        const fallback = testCase.default ?? (type === 'object' ? null : undefined)
        if (getter && (type === 'object' ? typeof fallback === 'object' : typeof fallback === type)) {
          const args = [testCase.flag, testCase.context ?? {}, fallback, now]
          const [fast, slow] = [engine[getter](...args), apply(Native[getter], engine, args)]
          if (show(fast) !== show(slow)) failures.push(`${testCase.name}: ${getter} fast ${show(fast)}, addon ${show(slow)}`)
        }
      }
      const problems = compare(testCase.expect, result, revision)
      if (problems.length > 0) failures.push(`${testCase.name}: ${problems.join('; ')} (result ${show(result)})`)
    }
    total += (file.cases ?? []).length
    assert.deepEqual(failures, [], `${name}: ${failures.length} failing cases`)
  })
}

test('conformance: the suite has at least 400 cases', () => {
  // Runs after the file tests (node:test runs tests of a file in order).
  assert.ok(total >= 400, `only ${total} cases ran`)
  console.log(`conformance: ${total} cases`)
})

test('conformance: constant flags were answered from the table', { skip: Native === null }, () => {
  const answered = pennon.__fastPathStats.tableAnswers
  console.log(`conformance: ${answered} calls answered from the constant table`)
  assert.ok(answered >= 200, `only ${answered} calls answered from the constant table`)
})

test('conformance: bucketing vectors', () => {
  const { vectors } = JSON.parse(readFileSync(join(suite, 'bucketing.json'), 'utf8'))
  assert.ok(vectors.length >= 20, 'too few bucketing vectors')
  for (const { salt, unit, hash, bucket: expected } of vectors) {
    assert.equal(bucketHash(salt, unit), hash, `hash of ${show(salt)}:${show(unit)}`)
    assert.equal(bucket(salt, unit), expected, `bucket of ${show(salt)}:${show(unit)}`)
  }
})
