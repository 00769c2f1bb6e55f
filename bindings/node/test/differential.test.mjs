// The differential runner (test/differential.mjs): its canonical JSON matches
// `pennon_core::json::canonical` (number forms checked against serde_json's output for the
// same f64 values), and the command line evaluates a request file as the contract says.
// test.sh also compares its output with the Rust reference runner byte for byte.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { canonical, canonicalNumber, compareCodePoints } from './differential.mjs'

const require = createRequire(import.meta.url)
const { Engine } = require('../index.js')
const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')

test('numbers are written as pennon_core::json::canonical writes them', () => {
  // Right-hand sides: serde_json 1.0.154's Display of the same f64, except integral values
  // within ±2^53, which canonical writes as integers.
  const expected = [
    [0, '0'],
    [-0, '0'],
    [3, '3'],
    [-12, '-12'],
    [2 ** 53, '9007199254740992'],
    [-(2 ** 53), '-9007199254740992'],
    [9007199254740994, '9007199254740994.0'],
    [-9007199254740994, '-9007199254740994.0'],
    [1e15 + 0.5, '1000000000000000.5'],
    [1e16, '1e+16'],
    [99999999999999990, '9.999999999999998e+16'],
    [1e20, '1e+20'],
    [1.23e19, '1.23e+19'],
    [1.5e21, '1.5e+21'],
    [1e300, '1e+300'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.1, '0.1'],
    [-0.1, '-0.1'],
    [4.35, '4.35'],
    [123456789.125, '123456789.125'],
    [0.00005, '0.00005'],
    [0.000015, '0.000015'],
    [0.00001, '0.00001'],
    [1e-6, '1e-6'],
    [1e-7, '1e-7'],
    [-2.5e-7, '-2.5e-7'],
    [5e-324, '5e-324'],
  ]
  for (const [value, text] of expected) assert.equal(canonicalNumber(value), text, String(value))
  assert.throws(() => canonicalNumber(Number.NaN))
})

test('objects sort keys by UTF-8 bytes and strings escape as JSON.stringify does', () => {
  assert.ok(compareCodePoints('\uFFFD', '🚀') < 0, 'U+FFFD sorts before U+1F680 in UTF-8')
  assert.ok(compareCodePoints('🚀', 'z') > 0)
  assert.ok(compareCodePoints('a', 'ab') < 0)
  assert.equal(canonical({ z: 1, a: { y: [1.5, -0, 1e300], b: '\u0001\n"é' }, '🚀': true, '\uFFFD': null }),
    '{"a":{"b":"\\u0001\\n\\"é","y":[1.5,0,1e+300]},"z":1,"\uFFFD":null,"🚀":true}')
})

test('the command line evaluates every request and writes one canonical result per line', () => {
  const snapshotFile = 'tests/conformance/snapshots/shop.json'
  const requests = []
  for (const name of ['shop-launch-day.json', 'shop-black-friday.json']) {
    const file = JSON.parse(readFileSync(join(root, 'tests', 'conformance', 'cases', name), 'utf8'))
    for (const c of file.cases) {
      requests.push({ snapshot: snapshotFile, flag: c.flag, context: c.context ?? {}, type: c.type, default: c.default ?? null, now: c.now ?? file.now, expect: c.expect })
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'pennon-node-differential-'))
  try {
    const input = join(dir, 'requests.jsonl')
    const output = join(dir, 'node.jsonl')
    writeFileSync(input, requests.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const printed = execFileSync(process.execPath, [join(here, 'differential.mjs'), input, output], { cwd: dir, encoding: 'utf8' })
    assert.match(printed, new RegExp(`node: ${requests.length} results written`))
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n')
    assert.equal(lines.length, requests.length)
    const engine = new Engine()
    engine.load(readFileSync(join(root, snapshotFile), 'utf8'))
    requests.forEach((request, i) => {
      const options = { default: request.default, now: request.now }
      if (request.type !== 'any') options.type = request.type
      assert.equal(lines[i], canonical(engine.evaluate(request.flag, request.context, options)))
      const written = JSON.parse(lines[i])
      assert.deepEqual(Object.keys(written), ['errorCode', 'errorMessage', 'flagMetadata', 'reason', 'revision', 'ruleId', 'shadowVariant', 'stage', 'value', 'variant'])
      for (const field of ['value', 'variant', 'reason', 'ruleId', 'stage', 'errorCode']) {
        assert.deepEqual(written[field], request.expect[field] ?? null, `${request.flag}: ${field}`)
      }
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
