// The argument contract (tests/conformance/arguments.json) through every entry of
// pennon-wasm: the nodejs build (CommonJS and ESM) and the web build (initialised from
// the .wasm bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { runArgumentCases } from '../../tests/conformance/js/arguments.mjs';

const require = createRequire(import.meta.url);

async function web() {
  const pennon = await import('../dist/web/index.js');
  pennon.initSync({ module: readFileSync(new URL('../dist/web/pennon_wasm_bg.wasm', import.meta.url)) });
  return pennon;
}

const entries = {
  'nodejs (require)': async () => require('../dist/nodejs/index.cjs'),
  'nodejs (import)': () => import('../dist/nodejs/index.mjs'),
  web,
};

for (const [name, load] of Object.entries(entries)) {
  test(`argument contract: ${name}`, async () => {
    const { count, failures } = runArgumentCases(await load());
    assert.ok(count > 40);
    assert.deepEqual(failures, []);
  });
}
