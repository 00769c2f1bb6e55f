// Packaging test (run by wasm/test.sh as `node test/package.mjs`): `npm pack` the package,
// install the tarball into a scratch project in a temp dir (offline: it has no
// dependencies), and run the README's examples from there — CommonJS and ESM in Node, the
// web build in a browser-like environment, and the Cloudflare Worker example with .wasm
// imports resolved the way workerd resolves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASM_DIR } from './suite.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'pennon-wasm-pack-'));
const app = join(scratch, 'app');
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
const node = (args) => run(process.execPath, args, { cwd: app });

test.after(() => rmSync(scratch, { recursive: true, force: true }));

let tarball;

test('npm pack holds the three builds and nothing else', () => {
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: WASM_DIR }));
  tarball = join(scratch, packed.filename);
  const files = packed.files.map((f) => f.path).sort();
  for (const target of ['web', 'bundler', 'nodejs']) {
    assert.ok(files.includes(`dist/${target}/pennon_wasm_bg.wasm`), `${target} .wasm packed`);
    assert.ok(files.includes(`dist/${target}/pennon_regex.wasm`), `${target} regex module packed`);
    assert.ok(files.includes(`dist/${target}/index.d.ts`), `${target} types packed`);
    assert.ok(files.some((f) => f.startsWith(`dist/${target}/snippets/`)), `${target} snippets packed`);
  }
  for (const file of ['README.md', 'package.json', 'dist/nodejs/index.cjs', 'dist/nodejs/index.mjs', 'dist/web/index.js']) {
    assert.ok(files.includes(file), `${file} packed`);
  }
  const unexpected = files.filter((f) => !/^(dist\/(web|bundler|nodejs)\/|README\.md$|package\.json$)/.test(f));
  assert.deepEqual(unexpected, []);
  console.log(`packed ${packed.filename}: ${files.length} files, ${packed.size} B (unpacked ${packed.unpackedSize} B)`);
});

test('the tarball installs offline into a scratch project', () => {
  writeFileSync(join(scratch, 'package.json'), '{}'); // keeps npm from walking up the tree
  cpSync(join(WASM_DIR, 'examples'), app, { recursive: true });
  cpSync(join(WASM_DIR, 'test/env'), join(app, 'env'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, version: '1.0.0' }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], { cwd: app });
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/pennon-wasm/package.json'), 'utf8'));
  assert.equal(installed.name, 'pennon-wasm');
});

test('require (nodejs build): examples/node.cjs', () => {
  assert.equal(
    node(['node.cjs']),
    'new-checkout: true (TARGETING_MATCH, rule beta-de, revision 42)\nbanner: Hello!\nkept revision 42 after invalid_json\n',
  );
  const resolved = node(['-p', 'require.resolve("pennon-wasm")']);
  assert.match(resolved, /dist\/nodejs\/index\.cjs\n$/);
});

test('import in Node (nodejs build): examples/node.mjs', () => {
  assert.equal(node(['node.mjs']), 'banner: "Hello!" (SPLIT)\nnew-checkout: false (DEFAULT)\nstaff-tools: false (DEFAULT)\n');
  const resolved = node(['--input-type=module', '-e', 'console.log(import.meta.resolve("pennon-wasm"))']);
  assert.match(resolved, /dist\/nodejs\/index\.mjs\n$/);
});

test('web build in a browser-like environment: examples/browser.mjs', () => {
  const out = JSON.parse(node(['--conditions=browser', '--import', './env/browser.mjs', 'browser.mjs']));
  assert.deepEqual(out.dataset, { newCheckout: 'true', banner: 'Hello!', staffTools: 'true' });
  // init() fetched the .wasm from next to the web build's JS, as a file of its own, and
  // Engine.create the regex module, because the snapshot has a `matches` condition.
  assert.deepEqual(out.fetched, ['web/pennon_wasm_bg.wasm', 'app/snapshot.json', 'web/pennon_regex.wasm']);
});

test('Cloudflare Workers style (web build, .wasm imported as a module): examples/worker.mjs', () => {
  const out = node(['--conditions=workerd', '--import', './env/workerd.mjs', 'env/run-worker.mjs']);
  const [type, body] = [out.slice(0, out.indexOf(' ')), JSON.parse(out.slice(out.indexOf(' ') + 1))];
  assert.match(type, /^application\/json/);
  assert.equal(body['new-checkout'].value, true);
  assert.equal(body['new-checkout'].ruleId, 'beta-de');
  assert.equal(body.banner.value, 'Hello!');
  assert.equal(body['staff-tools'].value, false);
  assert.equal(body['staff-tools'].errorCode, null, 'the regex module was given to initRegexSync');
  const resolved = run(process.execPath, ['--conditions=workerd', '--input-type=module', '-e', 'console.log(import.meta.resolve("pennon-wasm"))'], { cwd: app });
  assert.match(resolved, /dist\/web\/index\.js\n$/);
});

test('the README shows every example verbatim', () => {
  const readme = readFileSync(join(WASM_DIR, 'README.md'), 'utf8');
  for (const example of ['node.cjs', 'node.mjs', 'browser.mjs', 'worker.mjs']) {
    const text = readFileSync(join(WASM_DIR, 'examples', example), 'utf8');
    assert.ok(readme.includes(text), `README.md must include examples/${example} verbatim`);
  }
});
