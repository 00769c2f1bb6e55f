// The Engine API beyond the conformance cases: errors and their classes, keeping the last
// good snapshot, object and text snapshots, PROVIDER_NOT_READY, INVALID_CONTEXT for every
// kind of value a JS context can hold that JSON cannot, argument checks, panics.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const pennon = require('../index.js')
const {
  Engine,
  PennonError,
  SnapshotError,
  ContextError,
  ArgumentError,
  InternalError,
  ERROR_CLASSES,
  errorCodes,
  coreErrorCodes,
  errorClassName,
} = pennon

const { apply } = Reflect
const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0)

/** A small snapshot: one flag of each type, a rule on `country`, a window, metadata. */
function snapshot(revision = 1) {
  return {
    schemaVersion: 1,
    revision,
    flags: {
      'dark-mode': {
        type: 'boolean',
        state: 'on',
        variants: { on: true, off: false },
        offVariant: 'off',
        fallthrough: { variant: 'on' },
        metadata: { owner: 'web-team', tags: ['ui'] },
      },
      'checkout-copy': {
        type: 'string',
        state: 'on',
        variants: { old: 'Buy now', new: 'Complete purchase' },
        offVariant: 'old',
        rules: [
          { id: 'dach', when: { attribute: 'country', op: 'in', values: ['DE', 'AT', 'CH'] }, serve: { variant: 'new' } },
        ],
        fallthrough: { variant: 'old' },
      },
      retries: {
        type: 'number',
        state: 'on',
        variants: { low: 2, high: 5.5 },
        offVariant: 'low',
        fallthrough: { variant: 'high' },
      },
      limits: {
        type: 'object',
        state: 'on',
        variants: { standard: { rps: 10, burst: [1, 2] }, none: {} },
        offVariant: 'none',
        fallthrough: { variant: 'standard' },
      },
      'signup-promo': {
        type: 'boolean',
        state: 'on',
        variants: { on: true, off: false },
        offVariant: 'off',
        rules: [
          { id: 'early', when: { attribute: 'signedUpAt', op: 'before', value: '2026-01-01T00:00:00Z' }, serve: { variant: 'on' } },
          { id: 'no-plan', when: { attribute: 'plan', op: 'missing' }, serve: { variant: 'on' } },
        ],
        fallthrough: { variant: 'off' },
      },
      'this-week': {
        type: 'boolean',
        state: 'on',
        variants: { on: true, off: false },
        offVariant: 'off',
        window: {
          from: new Date(Date.now() - 86_400_000).toISOString(),
          until: new Date(Date.now() + 86_400_000).toISOString(),
        },
        fallthrough: { variant: 'on' },
      },
    },
  }
}

function loaded(revision = 1) {
  const engine = new Engine()
  engine.load(snapshot(revision))
  return engine
}

/** The error `call` throws, checked to be an instance of `Class`. */
function caught(call, Class, label = call.toString()) {
  try {
    call()
  } catch (error) {
    assert.ok(error instanceof Class, `${label}: threw ${error?.name}: ${error?.message}`)
    return error
  }
  assert.fail(`${label}: did not throw`)
}

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

describe('errors', () => {
  test('the error classes form one hierarchy with code and path', () => {
    for (const Class of [SnapshotError, ContextError, ArgumentError, InternalError]) {
      const error = new Class('boom', 'invalid_json', '/flags/x')
      assert.ok(error instanceof Class)
      assert.ok(error instanceof PennonError)
      assert.ok(error instanceof Error)
      assert.equal(error.name, Class.name)
      assert.equal(error.code, 'invalid_json')
      assert.equal(error.path, '/flags/x')
    }
    assert.equal(new PennonError('m', 'internal').path, null)
  })

  test('errorCodes() maps exactly the codes of core, in core order, to the category class', () => {
    assert.deepEqual(errorCodes(), coreErrorCodes())
    for (const code of coreErrorCodes()) {
      assert.equal(ERROR_CLASSES[code], errorClassName(code), `class of ${code}`)
    }
    assert.equal(errorClassName('no_such_code'), null)
  })

  test('the ErrorCode type of contract.d.ts lists exactly the codes of core', () => {
    const dts = readFileSync(join(here, '..', 'contract.d.ts'), 'utf8')
    const union = dts.match(/export type ErrorCode =([^]*?)\n\n/)
    assert.ok(union, 'contract.d.ts declares ErrorCode')
    const codes = [...union[1].matchAll(/'([a-z_]+)'/g)].map((match) => match[1])
    assert.deepEqual(codes, coreErrorCodes())
  })

  test('a snapshot that is not JSON throws SnapshotError invalid_json', () => {
    const error = caught(() => new Engine().load('{"schemaVersion": 1,'), SnapshotError)
    assert.equal(error.code, 'invalid_json')
    assert.match(error.message, /^invalid_json: /)
    assert.equal(error.path, null)
  })

  test('load errors carry the JSON path', () => {
    const engine = new Engine()
    let error = caught(() => engine.load({ schemaVersion: 2, revision: 1, flags: {} }), SnapshotError)
    assert.equal(error.code, 'unsupported_schema_version')
    assert.equal(error.path, '/schemaVersion')
    error = caught(() => engine.load('[1, 2]'), SnapshotError)
    assert.equal(error.code, 'invalid_snapshot')
    error = caught(() => engine.load({ schemaVersion: 1, revision: -1, flags: {} }), SnapshotError)
    assert.equal(error.code, 'invalid_snapshot')
    assert.equal(error.path, '/revision')
  })

  test('a snapshot object with a value JSON cannot hold throws SnapshotError with its path', () => {
    const bad = snapshot()
    bad.flags['dark-mode'].metadata.render = () => {}
    const error = caught(() => new Engine().load(bad), SnapshotError)
    assert.equal(error.code, 'invalid_json')
    assert.equal(error.path, '/flags/dark-mode/metadata/render')
    const nan = snapshot()
    nan.flags.retries.variants.low = Number.NaN
    assert.equal(caught(() => new Engine().load(nan), SnapshotError).path, '/flags/retries/variants/low')
  })

  test('programmer errors throw ArgumentError invalid_argument', () => {
    const engine = loaded()
    const cases = [
      () => engine.evaluate(42, {}),
      () => engine.evaluate(undefined, {}),
      () => engine.evaluate('dark-mode', {}, { type: 'bool' }),
      () => engine.evaluate('dark-mode', {}, { type: 7 }),
      () => engine.evaluate('dark-mode', {}, 'boolean'),
      () => engine.evaluate('dark-mode', {}, { now: 'today' }),
      () => engine.evaluate('dark-mode', {}, { now: Number.NaN }),
      () => engine.getBoolean('dark-mode', {}, 'false'),
      () => engine.getString('checkout-copy', {}, null),
      () => engine.getNumber('retries', {}, '3'),
      () => engine.getObject('limits', {}, 'x'),
      () => engine.getBoolean(Symbol('flag'), {}, false),
      () => engine.getBoolean('dark-mode', {}, false, Infinity),
      () => engine.evaluateAll({}, '2026'),
      () => engine.load(42),
      () => engine.load(undefined),
      () => engine.loadShared(-1),
      () => engine.loadShared('1'),
    ]
    for (const call of cases) {
      const error = caught(call, ArgumentError)
      assert.equal(error.code, 'invalid_argument')
      assert.ok(error instanceof PennonError)
    }
    assert.equal(engine.revision, 1, 'argument errors leave the snapshot alone')
  })

  test('a method called on something that is not an Engine throws, it does not crash', () => {
    for (const method of ['evaluate', 'getBoolean', 'evaluateAll', 'load']) {
      assert.throws(() => Engine.prototype[method].call({}, 'dark-mode', {}, false), Error, method)
    }
    const spoof = Object.create(Engine.prototype)
    assert.throws(() => spoof.evaluate('dark-mode', {}), Error)
  })

  test('a panic reaches JS as InternalError and the process carries on', () => {
    const error = caught(() => pennon.__panicForTests(), InternalError)
    assert.equal(error.code, 'internal')
    assert.equal(error.message, 'internal: a bug in Pennon: deliberate panic for the test suite')
    assert.equal(loaded().getBoolean('dark-mode', {}, false), true)
  })

  test('a caught panic prints nothing to stderr', () => {
    const script = `const p = require(${JSON.stringify(join(here, '..', 'index.js'))}); try { p.__panicForTests() } catch (e) { if (e.code !== 'internal') process.exit(2) }`
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, RUST_BACKTRACE: '1' } })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stderr, '')
  })
})

describe('loading', () => {
  test('a failed load keeps the last good snapshot', () => {
    const engine = loaded(7)
    const before = engine.evaluate('checkout-copy', { country: 'DE' }, { now: NOW })
    for (const bad of ['not json', '{"schemaVersion": 1, "revision": 8}', { schemaVersion: 1, revision: 'eight', flags: {} }]) {
      caught(() => engine.load(bad), SnapshotError)
      assert.equal(engine.revision, 7)
      assert.deepEqual(engine.evaluate('checkout-copy', { country: 'DE' }, { now: NOW }), before)
    }
    engine.load(snapshot(9))
    assert.equal(engine.revision, 9)
  })

  test('a snapshot loads the same as text and as an object', () => {
    for (const file of ['benches/fixtures/bindings.json', 'tests/conformance/snapshots/shop.json', 'examples/flags.json']) {
      const text = readFileSync(join(root, file), 'utf8')
      const fromText = new Engine()
      const fromObject = new Engine()
      assert.deepEqual(fromObject.load(JSON.parse(text)), fromText.load(text), file)
      assert.equal(fromObject.revision, fromText.revision)
      for (const context of [{}, { targetingKey: 'u-1', country: 'DE', plan: 'enterprise' }, { targetingKey: 'u-2', tenant: 'acme' }]) {
        assert.deepEqual(fromObject.evaluateAll(context, NOW), fromText.evaluateAll(context, NOW), file)
      }
    }
  })

  test('warnings are reported by load and by the warnings property', () => {
    const withWarning = snapshot()
    withWarning.flags.broken = { type: 'boolean', state: 'sideways', variants: { on: true }, offVariant: 'on', fallthrough: { variant: 'on' } }
    withWarning.extra = true
    const engine = new Engine()
    assert.deepEqual(engine.warnings, [])
    const warnings = engine.load(withWarning)
    assert.deepEqual(
      warnings.map((warning) => warning.code),
      ['unknown_field', 'invalid_value'],
    )
    for (const warning of warnings) assert.deepEqual(Object.keys(warning), ['code', 'path', 'message'])
    assert.equal(warnings[1].path, '/flags/broken/state')
    assert.deepEqual(engine.warnings, warnings)
    const broken = engine.evaluate('broken', {}, { default: false, now: NOW })
    assert.equal(broken.errorCode, 'PARSE_ERROR')
    assert.equal(engine.getBoolean('dark-mode', {}, false, NOW), true, 'one bad flag does not take the others down')
  })
})

describe('evaluation', () => {
  test('before any load: PROVIDER_NOT_READY, defaults, no revision', () => {
    const engine = new Engine()
    assert.equal(engine.revision, null)
    const result = engine.evaluate('dark-mode', { targetingKey: 'u-1' }, { default: 'fallback' })
    assert.deepEqual(result, {
      value: 'fallback',
      variant: null,
      reason: 'ERROR',
      ruleId: null,
      stage: null,
      shadowVariant: null,
      errorCode: 'PROVIDER_NOT_READY',
      errorMessage: result.errorMessage,
      revision: null,
      flagMetadata: null,
    })
    assert.ok(result.errorMessage.length > 0)
    assert.equal(engine.getBoolean('dark-mode', {}, true), true)
    assert.equal(engine.getString('checkout-copy', {}, 'x'), 'x')
    assert.equal(engine.getNumber('retries', {}, 1), 1)
    const fallback = { a: 1 }
    assert.equal(engine.getObject('limits', {}, fallback), fallback)
    assert.deepEqual(engine.evaluateAll({}), {})
  })

  test('results have the ten canonical fields in order', () => {
    const engine = loaded()
    const result = engine.evaluate('dark-mode', {}, { type: 'boolean', now: NOW })
    assert.deepEqual(Object.keys(result), RESULT_FIELDS)
    assert.deepEqual(result, {
      value: true,
      variant: 'on',
      reason: 'STATIC',
      ruleId: null,
      stage: null,
      shadowVariant: null,
      errorCode: null,
      errorMessage: null,
      revision: 1,
      flagMetadata: { owner: 'web-team', tags: ['ui'] },
    })
    const rule = engine.evaluate('checkout-copy', { country: 'AT' }, { now: NOW })
    assert.equal(rule.value, 'Complete purchase')
    assert.equal(rule.ruleId, 'dach')
    assert.equal(rule.reason, 'TARGETING_MATCH')
  })

  test('on error the value is the caller default itself', () => {
    const engine = loaded()
    const fallback = { mode: 'safe' }
    const result = engine.evaluate('missing-flag', {}, { default: fallback, now: NOW })
    assert.equal(result.value, fallback)
    assert.equal(result.errorCode, 'FLAG_NOT_FOUND')
    assert.equal(engine.evaluate('missing-flag', {}).value, null, 'no default: null')
    const mismatch = engine.evaluate('dark-mode', {}, { type: 'string', default: 'x', now: NOW })
    assert.equal(mismatch.errorCode, 'TYPE_MISMATCH')
    assert.equal(mismatch.value, 'x')
    assert.equal(engine.getString('dark-mode', {}, 'x', NOW), 'x')
  })

  test('typed getters return the values of each type; objects are fresh copies', () => {
    const engine = loaded()
    assert.equal(engine.getBoolean('dark-mode', {}, false, NOW), true)
    assert.equal(engine.getString('checkout-copy', { country: 'CH' }, 'x', NOW), 'Complete purchase')
    assert.equal(engine.getNumber('retries', {}, 0, NOW), 5.5)
    const first = engine.getObject('limits', {}, {}, NOW)
    assert.deepEqual(first, { rps: 10, burst: [1, 2] })
    first.rps = 0
    first.burst.push(3)
    assert.deepEqual(engine.getObject('limits', {}, null, NOW), { rps: 10, burst: [1, 2] })
    assert.equal(engine.getObject('retries', {}, null, NOW), null, 'type mismatch gives the default')
  })

  test('evaluateAll returns every flag, sorted, with values null on error', () => {
    const engine = loaded()
    const all = engine.evaluateAll({ country: 'DE' }, NOW)
    assert.deepEqual(Object.keys(all), ['checkout-copy', 'dark-mode', 'limits', 'retries', 'signup-promo', 'this-week'])
    assert.equal(all['checkout-copy'].value, 'Complete purchase')
    for (const [key, result] of Object.entries(all)) {
      assert.deepEqual(result, engine.evaluate(key, { country: 'DE' }, { now: NOW }), key)
    }
  })

  test('now defaults to the host clock', () => {
    const engine = loaded()
    assert.equal(engine.evaluate('this-week', {}).reason, 'DEFAULT')
    assert.equal(engine.getBoolean('this-week', {}, false), true)
    assert.equal(engine.evaluate('this-week', {}, { now: Date.now() + 3 * 86_400_000 }).reason, 'OUT_OF_WINDOW')
    assert.equal(engine.evaluate('this-week', {}, { now: null }).reason, 'DEFAULT')
  })

  test('a fractional now is floored to whole milliseconds', () => {
    const engine = new Engine()
    engine.load({
      schemaVersion: 1,
      revision: 1,
      flags: {
        edge: {
          type: 'boolean',
          state: 'on',
          variants: { on: true, off: false },
          offVariant: 'off',
          window: { from: '2026-11-22T12:00:00.000Z' },
          fallthrough: { variant: 'on' },
        },
      },
    })
    assert.equal(engine.getBoolean('edge', {}, false, NOW - 0.5), false)
    assert.equal(engine.getBoolean('edge', {}, false, NOW + 0.5), true)
  })

  test('long and non-ASCII strings convert exactly (the heap path past 256 bytes)', () => {
    const engine = loaded()
    const longKey = 'k'.repeat(5000)
    const result = engine.evaluate(longKey, {}, { now: NOW })
    assert.equal(result.errorCode, 'FLAG_NOT_FOUND')
    assert.ok(result.errorMessage.includes(longKey))
    const country = 'ü'.repeat(300) + '🚀'
    const converted = engine.evaluate('checkout-copy', { country, [country]: country }, { now: NOW })
    assert.equal(converted.reason, 'DEFAULT')
    for (const length of [250, 251, 252, 253, 254, 255, 256, 257]) {
      for (const filler of ['a', 'é', '€', '🚀']) {
        const value = filler.repeat(Math.ceil(length / Buffer.byteLength(filler))) + 'DE'
        engine.load({
          schemaVersion: 1,
          revision: 2,
          flags: {
            exact: {
              type: 'boolean',
              state: 'on',
              variants: { on: true, off: false },
              offVariant: 'off',
              rules: [{ id: 'eq', when: { attribute: value, op: 'equals', value }, serve: { variant: 'on' } }],
              fallthrough: { variant: 'off' },
            },
          },
        })
        assert.equal(engine.getBoolean('exact', { [value]: value }, false, NOW), true, `${filler} × ${length}`)
        assert.equal(engine.getBoolean('exact', { [value]: value.slice(0, -1) }, false, NOW), false)
      }
    }
  })

  test('lone surrogates are INVALID_CONTEXT, never silently replaced by U+FFFD', () => {
    const engine = new Engine()
    engine.load({
      schemaVersion: 1,
      revision: 1,
      flags: {
        s: {
          type: 'boolean',
          state: 'on',
          variants: { on: true, off: false },
          offVariant: 'off',
          rules: [{ id: 'r', when: { attribute: 'name', op: 'equals', value: 'a\uFFFDb' }, serve: { variant: 'on' } }],
          fallthrough: { variant: 'off' },
        },
      },
    })
    assert.equal(engine.getBoolean('s', { name: 'a\uD800b' }, true, NOW), true, 'the default')
    assert.equal(engine.evaluate('s', { name: 'a\uD800b' }, { now: NOW }).errorCode, 'INVALID_CONTEXT')
    assert.equal(engine.getBoolean('s', { name: 'a\uFFFDb' }, false, NOW), true, 'a real U+FFFD matches')
  })
})

describe('contexts', () => {
  const invalid = {
    'a function': { render() {} },
    'a nested function': { user: { address: { format: () => '' } } },
    NaN: { age: Number.NaN },
    Infinity: { age: Infinity },
    '-Infinity in an array': { scores: [1, -Infinity] },
    'a BigInt': { id: 10n },
    'a symbol value': { tag: Symbol('t') },
    'an invalid Date': { signedUpAt: new Date('nope') },
    'a throwing getter': {
      get country() {
        throw new Error('no country today')
      },
    },
    'a cycle': (() => {
      const node = { name: 'loop' }
      node.self = node
      return node
    })(),
    'an array instead of an object': ['DE'],
    'a string instead of an object': 'u-1',
    'a number instead of an object': 42,
  }

  for (const [what, context] of Object.entries(invalid)) {
    test(`${what} gives INVALID_CONTEXT, not an exception`, () => {
      const engine = loaded(3)
      const result = engine.evaluate('dark-mode', context, { default: false, now: NOW })
      assert.equal(result.reason, 'ERROR')
      assert.equal(result.errorCode, 'INVALID_CONTEXT')
      // Problems JSON data can also have (too deep, not an object) are worded by core.
      assert.match(result.errorMessage, /^(the context cannot be converted: |the context must be an object$|the context nests deeper than 64 levels$)/)
      assert.equal(result.value, false)
      assert.equal(result.revision, 3)
      assert.equal(result.flagMetadata, null)
      assert.equal(engine.getBoolean('dark-mode', context, false, NOW), false, 'getters give the default')
      const all = engine.evaluateAll(context, NOW)
      assert.equal(Object.keys(all).length, 6)
      for (const entry of Object.values(all)) assert.equal(entry.errorCode, 'INVALID_CONTEXT')
    })
  }

  test('the message names the offending attribute', () => {
    const engine = loaded()
    const message = (context) => engine.evaluate('dark-mode', context, { now: NOW }).errorMessage
    assert.equal(message({ user: { address: { format() {} } } }), 'the context cannot be converted: /user/address/format is a function')
    assert.equal(message({ scores: [1, Number.NaN] }), 'the context cannot be converted: /scores/1 is NaN, which has no JSON form')
    assert.equal(message(['DE']), 'the context must be an object')
    assert.match(message({ get country() { throw new Error('no country today') } }), /country is unreadable: reading it threw no country today/)
  })

  test('nesting: 64 levels convert, 65 do not', () => {
    const engine = loaded()
    const nest = (levels) => {
      let context = {}
      for (let i = 1; i < levels; i++) context = { inner: context }
      return context
    }
    assert.equal(engine.evaluate('dark-mode', nest(64), { now: NOW }).reason, 'STATIC')
    const deep = engine.evaluate('dark-mode', nest(65), { now: NOW })
    assert.equal(deep.errorCode, 'INVALID_CONTEXT')
    assert.equal(deep.errorMessage, 'the context nests deeper than 64 levels')
    const arrays = { list: JSON.parse('['.repeat(70) + ']'.repeat(70)) }
    assert.equal(engine.evaluate('dark-mode', arrays, { now: NOW }).errorCode, 'INVALID_CONTEXT')
  })

  test('undefined attributes are absent, null ones are null, symbol keys are ignored', () => {
    const engine = loaded()
    assert.equal(engine.evaluate('signup-promo', { plan: undefined }, { now: NOW }).ruleId, 'no-plan')
    assert.equal(engine.evaluate('signup-promo', { plan: null }, { now: NOW }).ruleId, 'no-plan')
    assert.equal(engine.evaluate('signup-promo', { plan: 'free' }, { now: NOW }).ruleId, null)
    assert.equal(engine.evaluate('checkout-copy', { country: 'DE', [Symbol('secret')]: () => {} }, { now: NOW }).ruleId, 'dach')
    const withHidden = { country: 'DE' }
    Object.defineProperty(withHidden, 'hidden', { value: () => {}, enumerable: false })
    assert.equal(engine.evaluate('checkout-copy', withHidden, { now: NOW }).ruleId, 'dach', 'non-enumerable properties are not attributes')
  })

  test('a Date attribute is its toISOString() text, as JSON.stringify and the wasm build make it', () => {
    const engine = loaded()
    assert.equal(engine.evaluate('signup-promo', { plan: 'free', signedUpAt: new Date('2025-06-01T00:00:00Z') }, { now: NOW }).ruleId, 'early')
    assert.equal(engine.evaluate('signup-promo', { plan: 'free', signedUpAt: new Date('2026-06-01T00:00:00Z') }, { now: NOW }).ruleId, null)
  })

  test('an omitted (undefined) context is the empty context, as in the wasm build', () => {
    const engine = loaded()
    const result = engine.evaluate('dark-mode', undefined, { default: 'd', now: NOW })
    assert.equal(result.errorCode, null)
    assert.deepEqual(result, engine.evaluate('dark-mode', {}, { default: 'd', now: NOW }))
  })

  test('class instances, prototypes and getters: own enumerable properties only', () => {
    const engine = loaded()
    class User {
      constructor() {
        this.country = 'DE'
      }
      get plan() {
        return 'enterprise'
      }
    }
    assert.equal(engine.evaluate('checkout-copy', new User(), { now: NOW }).ruleId, 'dach')
    const inherited = Object.create({ country: 'DE' })
    assert.equal(engine.evaluate('checkout-copy', inherited, { now: NOW }).ruleId, null)
    const viaGetter = { get country() { return 'AT' } }
    assert.equal(engine.evaluate('checkout-copy', viaGetter, { now: NOW }).ruleId, 'dach')
  })

  test('a sparse array of huge length in an unread attribute is INVALID_CONTEXT at once, never expanded', () => {
    const engine = loaded(1)
    const huge = []
    huge.length = 2 ** 32 - 1
    const result = engine.evaluate('dark-mode', { targetingKey: 'u', ids: huge }, { default: false, now: NOW })
    assert.equal(result.errorCode, 'INVALID_CONTEXT')
    assert.equal(result.errorMessage, 'context arrays may have at most 1048576 elements')
    assert.equal(engine.getBoolean('dark-mode', { ids: huge }, false, NOW), false)
    const fine = new Array(1 << 20).fill(0)
    assert.equal(engine.evaluate('dark-mode', { ids: fine }, { now: NOW }).errorCode, null)
  })

  test('a revoked Proxy context is INVALID_CONTEXT, never an exception', () => {
    const engine = loaded(1)
    const { proxy, revoke } = Proxy.revocable({ country: 'DE' }, {})
    revoke()
    for (const flag of ['dark-mode', 'checkout-copy']) {
      const result = engine.evaluate(flag, proxy, { default: 'd', now: NOW })
      assert.equal(result.errorCode, 'INVALID_CONTEXT', flag)
      assert.equal(result.value, 'd')
      assert.equal(engine.getString(flag, proxy, 'd', NOW), 'd')
    }
    assert.equal(engine.evaluateAll(proxy, NOW)['dark-mode'].errorCode, 'INVALID_CONTEXT')
  })

  test('lone surrogates in context keys or strings are INVALID_CONTEXT, in evaluate and evaluateAll alike', () => {
    const engine = loaded(1)
    for (const context of [{ country: 'D\uD800E' }, { 'unread\uDC00': 1 }, { unread: ['x', { y: '\uD800' }] }]) {
      for (const flag of ['dark-mode', 'checkout-copy']) {
        const one = engine.evaluate(flag, context, { now: NOW })
        assert.equal(one.errorCode, 'INVALID_CONTEXT', `${flag} ${JSON.stringify(context)}`)
        assert.deepEqual(engine.evaluateAll(context, NOW)[flag], one)
      }
    }
    assert.equal(engine.evaluate('checkout-copy', { country: 'DE', emoji: '\uD83D\uDE00' }, { now: NOW }).ruleId, 'dach')
  })

  test('an object snapshot loads exactly as its JSON text (one document, one answer)', () => {
    let deep = 1
    for (let i = 0; i < 200; i++) deep = { a: deep }
    const document = snapshot(4)
    document.flags.deep = { ...document.flags['dark-mode'], metadata: deep }
    const outcomes = [document, JSON.stringify(document)].map((source) => {
      const engine = new Engine()
      const warnings = engine.load(source).map(({ code, path }) => `${code} ${path}`)
      assert.equal(engine.getBoolean('dark-mode', {}, false, NOW), true)
      return warnings
    })
    assert.deepEqual(outcomes[0], outcomes[1])
    assert.deepEqual(outcomes[0], ['invalid_json /flags/deep'])
  })

  test('the asynchronous loading API of the JS contract (loadAsync, Engine.create, initRegex)', async () => {
    const pennon = require('../index.js')
    const engine = await Engine.create(snapshot(2))
    assert.equal(engine.revision, 2)
    assert.ok(engine instanceof Engine)
    assert.deepEqual(await engine.loadAsync(snapshot(3)), [])
    await assert.rejects(engine.loadAsync('{'), SnapshotError)
    assert.equal(engine.revision, 3, 'a failed loadAsync keeps the last good snapshot')
    await assert.rejects(Engine.create('[]'), SnapshotError)
    assert.equal(await pennon.initRegex(), undefined)
    assert.equal(pennon.initRegexSync(), undefined)
  })

  test('a getter that reloads the engine mid-evaluation is safe', () => {
    const engine = loaded(1)
    const context = {
      get country() {
        engine.load(snapshot(2))
        assert.equal(engine.evaluate('dark-mode', {}, { now: NOW }).revision, 2)
        return 'DE'
      },
    }
    const result = engine.evaluate('checkout-copy', context, { now: NOW })
    assert.equal(result.ruleId, 'dach')
    // One whole snapshot answers: the one taken before the context was read (the addon
    // converting) or after (index.js reading the context first). The next call sees 2.
    assert.ok([1, 2].includes(result.revision), `revision ${result.revision}`)
    assert.equal(engine.revision, 2)
  })
})

describe('converting only what a flag reads (index.js fast paths)', () => {
  test('a reload that changes what a flag reads is seen by the next call', () => {
    const engine = loaded(1)
    const staticCopy = snapshot(2)
    staticCopy.flags['checkout-copy'] = { ...staticCopy.flags['checkout-copy'], rules: [] }
    engine.load(staticCopy)
    assert.equal(engine.getString('checkout-copy', { country: 'DE' }, '?', NOW), 'Buy now')
    engine.load(snapshot(3))
    assert.equal(engine.getString('checkout-copy', { country: 'DE' }, '?', NOW), 'Complete purchase')
    const shared = new Engine()
    shared.load(staticCopy)
    engine.loadShared(shared.shareSnapshot())
    assert.equal(engine.evaluate('checkout-copy', { country: 'DE' }, { now: NOW }).ruleId, null)
  })

  test('contexts with many attributes convert exactly (more arguments than the stack holds)', () => {
    const engine = loaded()
    const context = {}
    for (let i = 0; i < 40; i++) context[`attribute${i}`] = { nested: [i, `v${i}`] }
    context.country = 'CH'
    assert.equal(engine.evaluate('checkout-copy', context, { now: NOW }).ruleId, 'dach')
    context.attribute39 = { nested: [Number.NaN] }
    assert.equal(
      engine.evaluate('checkout-copy', context, { now: NOW }).errorMessage,
      'the context cannot be converted: /attribute39/nested/0 is NaN, which has no JSON form',
    )
  })

  test('unread attributes are still checked, and reported as when the whole context converts', () => {
    const engine = loaded()
    const context = { country: 'DE', render() {} }
    for (const flag of ['dark-mode', 'checkout-copy']) {
      const result = engine.evaluate(flag, context, { now: NOW })
      assert.equal(result.errorCode, 'INVALID_CONTEXT', flag)
      assert.equal(result.errorMessage, 'the context cannot be converted: /render is a function')
    }
  })

  test('each getter of the context runs once per call', () => {
    const engine = loaded()
    let reads = 0
    const context = {
      get country() {
        reads += 1
        return 'DE'
      },
    }
    assert.equal(engine.getString('checkout-copy', context, '?', NOW), 'Complete purchase')
    assert.equal(engine.getBoolean('dark-mode', context, false, NOW), true)
    assert.equal(reads, 2)
  })
})

describe('constant flags answered from a table (index.js fast paths)', { skip: !pennon.__fastPathStats || Object.getPrototypeOf(Engine) === Function.prototype }, () => {
  const stats = pennon.__fastPathStats
  /** The addon's own (napi-rs) methods: whole contexts, no table. */
  const Native = Object.getPrototypeOf(Engine).prototype
  const DAY = 86_400_000
  const T = Date.UTC(2026, 11, 1)
  /** How many calls the table answered while `run` ran. */
  const answered = (run) => {
    const before = stats.tableAnswers
    run()
    return stats.tableAnswers - before
  }
  const windowed = () => ({
    schemaVersion: 1,
    revision: 4,
    flags: {
      ...snapshot().flags,
      launch: {
        type: 'string',
        state: 'on',
        variants: { old: 'old', new: 'new' },
        offVariant: 'old',
        window: { from: new Date(T).toISOString(), until: new Date(T + DAY).toISOString() },
        targets: [{ variant: 'new', users: ['u-1'] }],
        fallthrough: { variant: 'new' },
        metadata: { owner: 'growth', nested: { list: [1, { deep: true }] } },
      },
      broken: { type: 'boolean', state: 'on', variants: { on: true }, offVariant: 'on', fallthrough: { variant: 'nope' } },
    },
  })

  test('constant flags do not call the addon; targeted ones do; the answers are the addon’s', () => {
    const engine = new Engine()
    engine.load(windowed())
    const context = { targetingKey: 'u-1', country: 'DE', age: 31, beta: true, missing: null, gone: undefined }
    for (const [flag, now, constant] of [
      ['dark-mode', NOW, true],
      ['retries', NOW, true],
      ['limits', NOW, true],
      ['broken', NOW, true],
      ['checkout-copy', NOW, false],
      ['launch', T - 1, true], // before the window: off for everyone
      ['launch', T, false], // inside: the target matters
      ['launch', T + DAY, true], // after
      ['launch', T - 1, false], // before the span of the table rebuilt at T + DAY: asks the addon
    ]) {
      const flagType = engine.evaluate(flag, {}, { now }).value === null ? null : typeof engine.evaluate(flag, {}, { now }).value
      for (const type of [undefined, 'boolean', 'string', 'number', 'object']) {
        const options = { type, default: 'fallback', now }
        // A TYPE_MISMATCH is the addon's to word.
        const fromTable = constant && (type === undefined || type === flagType || flagType === null)
        let fast
        assert.equal(answered(() => (fast = engine.evaluate(flag, context, options))), fromTable ? 1 : 0, `${flag} ${type} at ${now}`)
        assert.deepEqual(fast, apply(Native.evaluate, engine, [flag, context, options]), `${flag} ${type} at ${now}`)
      }
      for (const [getter, fallback] of [['getBoolean', false], ['getString', '?'], ['getNumber', -1], ['getObject', null]]) {
        let fast
        assert.equal(answered(() => (fast = engine[getter](flag, context, fallback, now))), constant ? 1 : 0, `${getter} ${flag}`)
        assert.deepEqual(fast, apply(Native[getter], engine, [flag, context, fallback, now]), `${getter} ${flag} at ${now}`)
      }
    }
  })

  test('objects and metadata are fresh on every call', () => {
    const engine = loaded()
    const first = engine.getObject('limits', {}, null, NOW)
    first.burst.push(3)
    assert.deepEqual(engine.getObject('limits', {}, null, NOW), { rps: 10, burst: [1, 2] })
    const result = engine.evaluate('dark-mode', {}, { now: NOW })
    result.flagMetadata.tags.push('mutated')
    assert.deepEqual(engine.evaluate('dark-mode', {}, { now: NOW }).flagMetadata, { owner: 'web-team', tags: ['ui'] })
  })

  test('a context that does not convert is INVALID_CONTEXT for a constant flag too', () => {
    const engine = loaded()
    engine.getBoolean('dark-mode', {}, false, NOW) // builds the table
    for (const context of [{ render() {} }, { n: Number.NaN }, { when: new Date('nope') }, 'text', [1], { s: '\uD800' }]) {
      const result = engine.evaluate('dark-mode', context, { now: NOW })
      assert.equal(result.errorCode, 'INVALID_CONTEXT', String(context))
      assert.deepEqual(result, apply(Native.evaluate, engine, ['dark-mode', context, { now: NOW }]))
      assert.equal(engine.getBoolean('dark-mode', context, false, NOW), false)
    }
    assert.equal(engine.evaluate('dark-mode', { nested: { ok: [1] } }, { now: NOW }).value, true)
  })

  test('argument errors are still thrown for constant flags', () => {
    const engine = loaded()
    engine.getBoolean('dark-mode', {}, false, NOW)
    caught(() => engine.getBoolean('dark-mode', {}, 'no', NOW), ArgumentError)
    caught(() => engine.getBoolean('dark-mode', {}, false, Number.NaN), ArgumentError)
    caught(() => engine.getBoolean('dark-mode', {}, false, '2026'), ArgumentError)
    caught(() => engine.evaluate('dark-mode', {}, { type: 'bool' }), ArgumentError)
    caught(() => engine.evaluate('dark-mode', {}, { now: Infinity }), ArgumentError)
    caught(() => engine.evaluate('dark-mode', {}, 42), ArgumentError)
  })

  test('each getter of the context and of the options runs once per call', () => {
    const engine = loaded()
    engine.getBoolean('dark-mode', {}, false, NOW)
    const reads = []
    const context = {
      get plan() {
        reads.push('plan')
        return 'pro'
      },
    }
    const options = {
      get type() {
        reads.push('type')
        return 'string' // a TYPE_MISMATCH: the addon answers, with the options read here
      },
      get now() {
        reads.push('now')
        return NOW
      },
    }
    assert.equal(engine.evaluate('dark-mode', context, options).errorCode, 'TYPE_MISMATCH')
    assert.deepEqual(reads, ['plan', 'type', 'now'])
  })

  test('every load drops the table, whichever way it is made', () => {
    const engine = loaded(1)
    const off = snapshot(2)
    off.flags['dark-mode'] = { ...off.flags['dark-mode'], state: 'off' }
    assert.equal(engine.getBoolean('dark-mode', {}, false, NOW), true)
    engine.load(off)
    assert.equal(engine.getBoolean('dark-mode', {}, true, NOW), false)
    apply(Native.load, engine, [snapshot(3)])
    assert.equal(engine.evaluate('dark-mode', {}, { now: NOW }).revision, 3)
    const other = new Engine()
    other.load(off)
    engine.loadShared(other.shareSnapshot())
    assert.equal(engine.evaluate('dark-mode', {}, { now: NOW }).reason, 'DISABLED')
  })

  test('a context getter that reloads the engine gets the new snapshot’s answer', () => {
    const engine = loaded(1)
    const off = snapshot(2)
    off.flags['dark-mode'] = { ...off.flags['dark-mode'], state: 'off' }
    assert.equal(engine.getBoolean('dark-mode', {}, false, NOW), true)
    let reloads = 0
    const context = {
      get country() {
        if (reloads++ === 0) engine.load(off)
        return 'DE'
      },
    }
    const result = engine.evaluate('dark-mode', context, { now: NOW })
    assert.equal(result.revision, 2)
    assert.equal(result.reason, 'DISABLED')
  })
})

describe('shared snapshots', () => {
  test('shareSnapshot and loadShared hand over the compiled snapshot', () => {
    const source = loaded(5)
    const handle = source.shareSnapshot()
    assert.equal(typeof handle, 'number')
    assert.equal(source.shareSnapshot(), handle, 'the same snapshot keeps its handle')
    const copy = new Engine()
    assert.deepEqual(copy.loadShared(handle), [])
    assert.equal(copy.revision, 5)
    assert.deepEqual(copy.evaluateAll({ country: 'DE' }, NOW), source.evaluateAll({ country: 'DE' }, NOW))
    assert.equal(new Engine().shareSnapshot(), null)
    caught(() => copy.loadShared(handle + 1000), ArgumentError)
    assert.equal(copy.revision, 5)
  })
})
