// The JS API of the `nodejs` build: errors and their classes, loading, keep-last-good,
// PROVIDER_NOT_READY, INVALID_CONTEXT, getters, options, evaluateAll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './suite.mjs';

const require = createRequire(import.meta.url);
const pennon = require('../dist/nodejs/index.cjs');
const { Engine, PennonError, SnapshotError, ContextError, ArgumentError, InternalError } = pennon;

const BENCH = readFileSync(join(ROOT, 'benches/fixtures/bindings.json'), 'utf8');
const CONTEXT = {
  targetingKey: 'u-4711',
  country: 'DE',
  plan: 'enterprise',
  appVersion: '5.4.1',
  email: 'Mara@Kestrel.example',
  age: 34,
  betaOptIn: true,
};
const NOW = 1795338000000;

const snapshot = (revision, flags) => ({ schemaVersion: 1, revision, flags });
const boolFlag = (state = 'on') => ({
  type: 'boolean',
  state,
  variants: { on: true, off: false },
  offVariant: 'off',
  fallthrough: { variant: 'on' },
});

test('errorCodes() maps exactly the codes core knows, each to the class of its category', () => {
  assert.deepEqual(pennon.errorCodes(), pennon.coreErrorCodes());
  assert.ok(pennon.errorCodes().length >= 27);
  for (const code of pennon.coreErrorCodes()) {
    const cls = pennon.errorClass(code);
    assert.ok(cls, `no class for ${code}`);
    assert.equal(cls.name, pennon.coreErrorClass(code), code);
    assert.equal(cls.prototype.name, pennon.coreErrorClass(code), code);
  }
  assert.equal(pennon.errorClass('nope'), undefined);
  assert.equal(pennon.coreErrorClass('nope'), undefined);
});

test('error classes form a hierarchy under Error with code and path', () => {
  for (const cls of [SnapshotError, ContextError, ArgumentError, InternalError]) {
    const e = new cls('boom', 'internal', '/a/b');
    assert.ok(e instanceof PennonError && e instanceof Error && e instanceof cls);
    assert.equal(e.name, cls.name);
    assert.equal(e.code, 'internal');
    assert.equal(e.path, '/a/b');
    assert.equal(e.message, 'boom');
  }
});

test('a failed load throws a SnapshotError with code and path', () => {
  const engine = new Engine();
  assert.throws(() => engine.load('{ not json'), (e) => e instanceof SnapshotError && e.code === 'invalid_json');
  assert.throws(
    () => engine.load({ schemaVersion: 2, revision: 1, flags: {} }),
    (e) => e instanceof SnapshotError && e.code === 'unsupported_schema_version' && e.path === '/schemaVersion',
  );
  assert.throws(
    () => engine.load({ schemaVersion: 1, revision: -1, flags: {} }),
    (e) => e instanceof SnapshotError && e.code === 'invalid_snapshot' && e.path === '/revision',
  );
  assert.throws(() => engine.load([]), (e) => e instanceof SnapshotError && e.code === 'invalid_snapshot');
  assert.throws(() => new Engine('[1'), (e) => e instanceof SnapshotError && e.code === 'invalid_json');
  const cyclic = snapshot(1, {});
  cyclic.self = cyclic;
  assert.throws(() => engine.load(cyclic), (e) => e instanceof SnapshotError && e.code === 'invalid_json');
  for (const bad of [undefined, 42, true, null]) {
    assert.throws(() => engine.load(bad), (e) => e instanceof ArgumentError && e.code === 'invalid_argument');
  }
});

test('string and object snapshots load the same', () => {
  const fromText = new Engine(BENCH);
  const fromObject = new Engine(JSON.parse(BENCH));
  assert.equal(fromText.revision, 1);
  assert.equal(fromObject.revision, 1);
  for (const flag of ['static-flag', 'targeting-flag', 'split-flag']) {
    assert.deepEqual(fromObject.evaluate(flag, CONTEXT, { now: NOW }), fromText.evaluate(flag, CONTEXT, { now: NOW }));
  }
  assert.equal(fromText.evaluate('targeting-flag', CONTEXT).reason, 'TARGETING_MATCH');
  assert.equal(fromText.evaluate('split-flag', CONTEXT).reason, 'SPLIT');
});

test('load returns the warnings, also readable as engine.warnings', () => {
  const engine = new Engine();
  assert.deepEqual(engine.warnings, []);
  const warnings = engine.load(
    snapshot(3, { good: boolFlag(), bad: { ...boolFlag(), state: 'sideways' }, dep: { ...boolFlag(), prerequisites: [{ flag: 'ghost', variants: ['on'] }] } }),
  );
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['invalid_value', 'unknown_prerequisite'],
  );
  assert.ok(warnings.every((w) => typeof w.path === 'string' && w.path.startsWith('/flags/') && w.message.length > 0));
  assert.deepEqual(engine.warnings, warnings);
  const bad = engine.evaluate('bad', {}, { default: 'd' });
  assert.equal(bad.errorCode, 'PARSE_ERROR');
  assert.equal(bad.value, 'd');
  assert.equal(engine.getBoolean('good', {}, false), true);
});

test('a failed load keeps the last good snapshot', () => {
  const engine = new Engine(snapshot(5, { f: boolFlag() }));
  assert.throws(() => engine.load('{"schemaVersion": 1, "revision": 6'), SnapshotError);
  assert.throws(() => engine.load({ schemaVersion: 1, revision: 6 }), SnapshotError);
  assert.equal(engine.revision, 5);
  const result = engine.evaluate('f', {}, { type: 'boolean' });
  assert.equal(result.value, true);
  assert.equal(result.revision, 5);
  engine.load(snapshot(6, { f: boolFlag('off') }));
  assert.equal(engine.revision, 6);
  assert.equal(engine.getBoolean('f', {}, true), false);
});

test('before any load: PROVIDER_NOT_READY with the default, revision null', () => {
  const engine = new Engine();
  assert.equal(engine.revision, null);
  const result = engine.evaluate('f', CONTEXT, { default: 'fallback', type: 'string' });
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
  });
  assert.ok(result.errorMessage.length > 0);
  assert.equal(engine.getString('f', CONTEXT, 'dflt'), 'dflt');
  assert.deepEqual(engine.evaluateAll(CONTEXT), {});
});

test('contexts the binding cannot convert give INVALID_CONTEXT results, never exceptions', () => {
  const engine = new Engine(BENCH);
  let deep = { leaf: 1 };
  for (let i = 0; i < 64; i++) deep = { deep };
  const cyclic = { targetingKey: 'u' };
  cyclic.self = cyclic;
  const bad = {
    string: 'u-1',
    number: 7,
    array: [CONTEXT],
    function: () => 1,
    'function attribute': { targetingKey: 'u', f() {} },
    'NaN attribute': { targetingKey: 'u', age: NaN },
    'Infinity attribute': { targetingKey: 'u', age: Infinity },
    'BigInt attribute': { targetingKey: 'u', id: 10n },
    'symbol attribute': { targetingKey: 'u', s: Symbol('x') },
    'Map attribute': { targetingKey: 'u', m: new Map([['a', 1]]) },
    'invalid Date': { targetingKey: 'u', at: new Date(NaN) },
    'nested deeper than 64': deep,
    cyclic,
    'throwing getter': { targetingKey: 'u', get boom() { throw new Error('no'); } },
  };
  for (const [label, context] of Object.entries(bad)) {
    const result = engine.evaluate('static-flag', context, { default: 'd' });
    assert.equal(result.errorCode, 'INVALID_CONTEXT', label);
    assert.equal(result.reason, 'ERROR', label);
    assert.equal(result.value, 'd', label);
    assert.equal(result.revision, 1, label);
    assert.ok(result.errorMessage.length > 0, label);
    assert.equal(engine.getBoolean('static-flag', context, false), false, label);
    assert.equal(engine.evaluateAll(context)['split-flag'].errorCode, 'INVALID_CONTEXT', label);
  }
  // 64 levels exactly is fine.
  let ok = { leaf: 1 };
  for (let i = 0; i < 62; i++) ok = { ok };
  assert.equal(engine.evaluate('static-flag', ok).errorCode, null);
});

test('context conversion follows JSON: undefined dropped, Dates as ISO strings, -0 as 0', () => {
  const engine = new Engine(
    snapshot(1, {
      f: {
        ...boolFlag(),
        fallthrough: { variant: 'off' },
        rules: [
          { id: 'absent', when: { attribute: 'gone', op: 'missing' }, serve: { variant: 'on' } },
        ],
      },
      d: {
        ...boolFlag(),
        fallthrough: { variant: 'off' },
        rules: [{ id: 'late', when: { attribute: 'at', op: 'after', value: '2026-01-01T00:00:00Z' }, serve: { variant: 'on' } }],
      },
      n: {
        ...boolFlag(),
        fallthrough: { variant: 'off' },
        rules: [{ id: 'zero', when: { attribute: '/nested/list', op: 'equals', value: 0 }, serve: { variant: 'on' } }],
      },
    }),
  );
  assert.equal(engine.evaluate('f', { gone: undefined }).ruleId, 'absent');
  assert.equal(engine.evaluate('d', { at: new Date('2026-06-01T00:00:00Z') }).ruleId, 'late');
  assert.equal(engine.evaluate('d', { at: new Date('2025-06-01T00:00:00Z') }).ruleId, null);
  assert.equal(engine.evaluate('n', { nested: { list: [undefined, -0] } }).ruleId, 'zero');
  // An omitted context is the empty one.
  assert.equal(engine.evaluate('f').ruleId, 'absent');
});

test('typed getters return the value, or the default on any error', () => {
  const engine = new Engine(BENCH);
  assert.equal(engine.getBoolean('static-flag', CONTEXT, false), true);
  assert.equal(engine.getBoolean('targeting-flag', CONTEXT, false, NOW), true);
  assert.equal(engine.getBoolean('targeting-flag', { ...CONTEXT, country: 'US' }, true), false);
  assert.ok(['control', 'treatment-a', 'treatment-b'].includes(engine.getString('split-flag', CONTEXT, 'x')));
  assert.equal(engine.getString('static-flag', CONTEXT, 'type mismatch'), 'type mismatch');
  assert.equal(engine.getNumber('missing', CONTEXT, 42), 42);
  const fallback = { fresh: true };
  assert.equal(engine.getObject('static-flag', CONTEXT, fallback), fallback);
  const objects = new Engine(
    snapshot(2, { o: { type: 'object', state: 'on', variants: { a: { n: 1, list: ['x'] } }, offVariant: 'a', fallthrough: { variant: 'a' } } }),
  );
  const first = objects.getObject('o', {}, {});
  assert.deepEqual(first, { n: 1, list: ['x'] });
  first.n = 2;
  assert.deepEqual(objects.getObject('o', {}, {}), { n: 1, list: ['x'] }, 'every result gets a fresh object');
});

test('evaluate options: type check, default, now', () => {
  const engine = new Engine(
    snapshot(9, {
      w: { ...boolFlag(), window: { from: '2026-01-01T00:00:00Z' } },
      m: { ...boolFlag(), metadata: { owner: 'team-a', tags: ['x'] } },
    }),
  );
  const mismatch = engine.evaluate('w', {}, { type: 'string', default: 'd', now: Date.parse('2026-06-01T00:00:00Z') });
  assert.equal(mismatch.errorCode, 'TYPE_MISMATCH');
  assert.equal(mismatch.value, 'd');
  assert.equal(engine.evaluate('w', {}, { type: 'any', now: Date.parse('2025-06-01T00:00:00Z') }).reason, 'OUT_OF_WINDOW');
  assert.equal(engine.evaluate('w', {}, { now: Date.parse('2026-06-01T00:00:00Z') }).reason, 'DEFAULT');
  assert.equal(engine.evaluate('nope', {}).value, null, 'the default default is null');
  assert.deepEqual(engine.evaluate('m', {}).flagMetadata, { owner: 'team-a', tags: ['x'] });
  assert.throws(() => engine.evaluate('w', {}, { type: 'bool' }), (e) => e instanceof ArgumentError && e.code === 'invalid_argument');
  assert.throws(() => engine.evaluate('w', {}, { type: 1 }), ArgumentError);
  assert.throws(() => engine.evaluate('w', {}, { now: 'soon' }), ArgumentError);
  assert.throws(() => engine.evaluate('w', {}, { now: NaN }), ArgumentError);
  assert.throws(() => engine.evaluate(42, {}), (e) => e instanceof ArgumentError && e.code === 'invalid_argument');
  assert.throws(() => engine.evaluate('w', {}, 'boolean'), ArgumentError);
  assert.throws(() => engine.getBoolean(undefined, {}, false), ArgumentError);
  assert.throws(() => engine.evaluateAll({}, 'now'), ArgumentError);
});

test('evaluateAll gives every flag its result object', () => {
  const engine = new Engine(BENCH);
  const all = engine.evaluateAll(CONTEXT, NOW);
  assert.deepEqual(Object.keys(all).sort(), ['split-flag', 'static-flag', 'targeting-flag']);
  for (const [flag, result] of Object.entries(all)) {
    assert.deepEqual(result, engine.evaluate(flag, CONTEXT, { now: NOW }), flag);
  }
});

test('toPennonError maps engine errors and traps, and leaves other values alone', () => {
  const trap = pennon.toPennonError(new WebAssembly.RuntimeError('unreachable'));
  assert.ok(trap instanceof InternalError);
  assert.equal(trap.code, 'internal');
  const mapped = pennon.toPennonError(Object.assign(new Error('x'), { code: 'invalid_regex', path: '/flags/f' }));
  assert.ok(mapped instanceof SnapshotError);
  assert.equal(mapped.path, '/flags/f');
  const other = new TypeError('not ours');
  assert.equal(pennon.toPennonError(other), other);
});

test('the ESM and CommonJS entries of the nodejs build share one set of classes', async () => {
  const esm = await import('../dist/nodejs/index.mjs');
  assert.equal(esm.Engine, Engine);
  assert.equal(esm.SnapshotError, SnapshotError);
  assert.equal(typeof esm.default, 'function');
  const generated = require('../dist/nodejs/common.cjs');
  const source = await import('../js/common.mjs');
  assert.deepEqual(Object.keys(generated).sort(), Object.keys(source).sort());
});

test('context arrays over core\'s limit and strings with lone surrogates are INVALID_CONTEXT, as in every binding', () => {
  const engine = new Engine(BENCH);
  const huge = [];
  huge.length = 2 ** 32 - 1;
  const result = engine.evaluate('static-flag', { targetingKey: 'u', ids: huge }, { default: 'd' });
  assert.equal(result.errorCode, 'INVALID_CONTEXT');
  assert.equal(result.errorMessage, 'context arrays may have at most 1048576 elements');
  assert.equal(engine.evaluate('static-flag', { ids: new Array(1048576).fill(0) }).errorCode, null);
  for (const context of [{ name: 'a\uD800b' }, { 'k\uDC00': 1 }, { nested: ['ok', { deep: '\uD800' }] }]) {
    assert.equal(engine.evaluate('static-flag', context).errorCode, 'INVALID_CONTEXT', JSON.stringify(context));
    assert.equal(engine.evaluateAll(context)['static-flag'].errorCode, 'INVALID_CONTEXT');
  }
  assert.equal(engine.evaluate('static-flag', { name: 'a\uD83D\uDE00b' }).errorCode, null, 'a surrogate pair is fine');
});
