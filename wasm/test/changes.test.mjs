// tests/conformance/changes.json through pennon-wasm (the nodejs and web builds):
// `Engine#changedFlags` gives core's keys (Snapshot::changed_flags) for every case, both
// ways round, and an engine without a snapshot counts as an empty one — what pennon-node
// answers (bindings/node/test/changes.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SUITE } from './suite.mjs';

const require = createRequire(import.meta.url);
const cases = JSON.parse(readFileSync(join(SUITE, 'changes.json'), 'utf8'));

const web = await import('../dist/web/index.js');
web.initSync({ module: readFileSync(new URL('../dist/web/pennon_wasm_bg.wasm', import.meta.url)) });
web.initRegexSync({ module: readFileSync(new URL('../dist/web/pennon_regex.wasm', import.meta.url)) });
const builds = { nodejs: require('../dist/nodejs/index.cjs'), web };

for (const [build, { Engine, ArgumentError }] of Object.entries(builds)) {
  test(`changes.json (${build} build): core reports the same changed flags`, () => {
    assert.ok(cases.length >= 10, 'the case file went missing');
    const failures = [];
    for (const { name, before, after, changed } of cases) {
      const [old, next] = [new Engine(before), new Engine(after)];
      const forward = next.changedFlags(old);
      const backward = old.changedFlags(next);
      if (JSON.stringify(forward) !== JSON.stringify(changed)) failures.push(`${name}: got ${JSON.stringify(forward)}`);
      if (JSON.stringify(backward) !== JSON.stringify(changed)) {
        failures.push(`${name} (reversed): got ${JSON.stringify(backward)}`);
      }
      if (next.changedFlags(new Engine(after)).length !== 0) failures.push(`${name}: a snapshot differs from itself`);
    }
    assert.deepEqual(failures, []);
  });

  test(`changedFlags (${build} build): an engine without a snapshot counts as empty`, () => {
    const { after } = cases[0];
    const loaded = new Engine(after);
    const keys = Object.keys(after.flags).sort();
    assert.deepEqual(loaded.changedFlags(new Engine()), keys);
    assert.deepEqual(new Engine().changedFlags(loaded), keys);
    assert.deepEqual(new Engine().changedFlags(new Engine()), []);
    for (const notAnEngine of [{}, null, undefined, after]) {
      assert.throws(() => loaded.changedFlags(notAnEngine), (error) => {
        assert.ok(error instanceof ArgumentError, String(error));
        assert.equal(error.code, 'invalid_argument');
        return true;
      });
    }
  });
}
