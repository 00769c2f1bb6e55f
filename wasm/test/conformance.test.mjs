// The conformance suite through the `nodejs` build of pennon-wasm (node:test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { bucketingVectors, caseFiles, runCaseFile } from './suite.mjs';

const require = createRequire(import.meta.url);
const pennon = require('../dist/nodejs/index.cjs');

let total = 0;
let failed = 0;

for (const caseFile of caseFiles()) {
  test(`conformance: ${caseFile.name}`, () => {
    const { count, failures } = runCaseFile(caseFile, pennon);
    total += count;
    failed += failures.length;
    assert.deepEqual(failures, []);
  });
}

test('conformance: bucketing vectors', () => {
  const vectors = bucketingVectors();
  assert.ok(vectors.length >= 20, 'too few bucketing vectors');
  for (const { salt, unit, hash, bucket } of vectors) {
    assert.equal(String(pennon.bucketHash(salt, unit)), hash, `hash of ${salt}:${unit}`);
    assert.equal(pennon.bucket(salt, unit), bucket, `bucket of ${salt}:${unit}`);
  }
});

test('conformance: the suite is complete', () => {
  assert.ok(total >= 400, `the suite must have at least 400 cases, ran ${total}`);
  console.log(`conformance (wasm, nodejs build): ${total - failed} passed, ${failed} failed`);
});
