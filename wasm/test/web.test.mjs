// The `web` build in Node, without a bundler: instantiated from the .wasm bytes or a
// compiled WebAssembly.Module (what Cloudflare Workers hand you), and checked to load its
// wasm from a separate file (no base64-inlined module in the JS glue).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { caseFiles, runCaseFile } from './suite.mjs';

const WEB = new URL('../dist/web/', import.meta.url);
const wasmBytes = readFileSync(new URL('pennon_wasm_bg.wasm', WEB));
const regexBytes = readFileSync(new URL('pennon_regex.wasm', WEB));

const withRegex = JSON.stringify({
  schemaVersion: 1,
  revision: 2,
  flags: {
    digits: {
      type: 'boolean',
      state: 'on',
      variants: { on: true, off: false },
      offVariant: 'off',
      rules: [{ id: 'r', when: { attribute: 's', op: 'matches', value: '^\\d+$' }, serve: { variant: 'on' } }],
      fallthrough: { variant: 'off' },
    },
  },
});
const withoutRegex = JSON.stringify({
  schemaVersion: 1,
  revision: 1,
  flags: { on: { type: 'boolean', state: 'on', variants: { on: true }, offVariant: 'on', fallthrough: { variant: 'on' } } },
});

// Runs first (node:test runs a file's tests in order), while the regex module is not loaded.
test('web: the regex module is loaded only for a snapshot with matches, by loadAsync or initRegex', async () => {
  const web = await import(new URL('index.js', WEB));
  web.initSync({ module: wasmBytes });
  const engine = new web.Engine(withoutRegex);
  assert.equal(engine.revision, 1, 'a snapshot without matches needs no regex module');
  assert.throws(
    () => engine.load(withRegex),
    (e) => e instanceof web.SnapshotError && e.code === 'invalid_regex' && e.regexNeeded === true && /initRegex/.test(e.message),
  );
  assert.equal(engine.revision, 1, 'the failed load kept the last good snapshot');
  assert.throws(() => new web.Engine(withRegex), (e) => e.regexNeeded === true);
  const fetched = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    fetched.push(String(url));
    return new Response(readFileSync(new URL(url)));
  };
  try {
    assert.deepEqual(await engine.loadAsync(withRegex), []);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(fetched, [new URL('pennon_regex.wasm', WEB).href], 'fetched once, next to the glue');
  assert.equal(engine.revision, 2);
  assert.equal(engine.getBoolean('digits', { s: '0123' }, false), true);
  assert.equal(engine.getBoolean('digits', { s: '١٢٣' }, false), false, '\\d is ASCII');
  const created = await web.Engine.create(withRegex);
  assert.equal(created.getBoolean('digits', { s: '7' }, false), true);
  engine.load(withRegex); // now synchronous: the module is loaded
  web.initRegexSync({ module: regexBytes }); // a no-op once loaded
});

test('web: initSync with the .wasm bytes, then the whole conformance suite', async () => {
  const web = await import(new URL('index.js', WEB));
  web.initSync({ module: wasmBytes });
  web.initRegexSync({ module: regexBytes });
  let total = 0;
  const failures = [];
  for (const caseFile of caseFiles()) {
    const outcome = runCaseFile(caseFile, web);
    total += outcome.count;
    failures.push(...outcome.failures);
  }
  assert.deepEqual(failures, []);
  assert.ok(total >= 400, `ran only ${total} cases`);
  console.log(`conformance (wasm, web build): ${total - failures.length} passed, ${failures.length} failed`);
  assert.throws(() => new web.Engine('{'), (e) => e instanceof web.SnapshotError && e.code === 'invalid_json');
  assert.deepEqual(web.errorCodes(), web.coreErrorCodes());
});

test('web: the glue imports the .wasm as a separate file, never inlined as base64', () => {
  const dir = fileURLToPath(WEB);
  const files = readdirSync(dir, { recursive: true }).map(String);
  assert.ok(files.includes('pennon_wasm_bg.wasm'), 'the .wasm is a file of its own');
  assert.ok(files.includes('pennon_regex.wasm'), 'the regex module is a file of its own');
  const glue = readFileSync(new URL('pennon_wasm.js', WEB), 'utf8');
  assert.match(glue, /new URL\('pennon_wasm_bg\.wasm', import\.meta\.url\)/, 'init() loads the .wasm next to the glue');
  for (const name of files.filter((f) => /\.(m?js|cjs)$/.test(f))) {
    const text = readFileSync(new URL(name, WEB), 'utf8');
    assert.doesNotMatch(text, /data:application\/wasm/, name);
    assert.doesNotMatch(text, /AGFzbQ/, `${name} holds base64 of "\\0asm"`);
    assert.doesNotMatch(text, /[A-Za-z0-9+/]{2000,}/, `${name} holds a long base64 run`);
    assert.ok(text.length < 64 * 1024, `${name} is ${text.length} bytes: too big for glue`);
  }
});
