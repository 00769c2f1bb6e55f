// The `web` build instantiated asynchronously from a compiled WebAssembly.Module, which is
// what Cloudflare Workers and other edge runtimes hand a module that imports a .wasm file.
// A file of its own: node --test runs every file in a fresh process, so this really is
// the first instantiation of the glue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, { Engine, initSync } from '../dist/web/index.js';

const wasmBytes = readFileSync(new URL('../dist/web/pennon_wasm_bg.wasm', import.meta.url));

test('web: Engine before init fails loudly', () => {
  assert.throws(() => new Engine());
});

test('web: async init with a compiled WebAssembly.Module (Workers style)', async () => {
  const module = await WebAssembly.compile(wasmBytes);
  const exports = await init({ module_or_path: module });
  assert.equal(typeof exports.memory, 'object', 'init resolves to the instance exports');
  const engine = new Engine({
    schemaVersion: 1,
    revision: 3,
    flags: { f: { type: 'string', state: 'on', variants: { a: 'A' }, offVariant: 'a', fallthrough: { variant: 'a' } } },
  });
  assert.equal(engine.getString('f', {}, 'x'), 'A');
  assert.equal(engine.evaluate('f', {}).revision, 3);
  // A second init is a no-op that keeps the instance.
  assert.equal(initSync({ module }), exports);
});
