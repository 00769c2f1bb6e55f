// The `bundler` build, whose glue imports the .wasm as an ES module (what webpack 5 and
// Vite's wasm plugins implement). Node implements the same ESM integration behind
// --experimental-wasm-modules, so a child process can run the build unbundled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('bundler: the build runs with the .wasm imported as an ES module', () => {
  const entry = new URL('../dist/bundler/index.js', import.meta.url).href;
  const suite = new URL('./suite.mjs', import.meta.url).href;
  const script = `
    import * as pennon from ${JSON.stringify(entry)};
    import { caseFiles, runCaseFile } from ${JSON.stringify(suite)};
    await pennon.default();
    // The regex module is fetched next to the glue (new URL(…, import.meta.url)); Node's
    // fetch has no file: URLs, so serve them from disk here.
    const { readFile } = await import('node:fs/promises');
    globalThis.fetch = async (url) => new Response(await readFile(new URL(url)));
    await pennon.initRegex();
    let total = 0, failures = [];
    for (const file of caseFiles()) {
      const outcome = runCaseFile(file, pennon);
      total += outcome.count;
      failures.push(...outcome.failures);
    }
    let classes;
    try { new pennon.Engine('{'); } catch (e) { classes = e instanceof pennon.SnapshotError && e.code === 'invalid_json'; }
    console.log(JSON.stringify({ total, failures, classes, codes: pennon.errorCodes().join() === pennon.coreErrorCodes().join() }));`;
  const out = execFileSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
  });
  const { total, failures, classes, codes } = JSON.parse(out);
  assert.deepEqual(failures, []);
  assert.ok(total >= 400, `ran only ${total} cases`);
  assert.equal(classes, true);
  assert.equal(codes, true);
  console.log(`conformance (wasm, bundler build): ${total - failures.length} passed, ${failures.length} failed`);
});
