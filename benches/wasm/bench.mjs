// Per-call cost of pennon-wasm's JS API in Node (the `nodejs` build in wasm/dist), with the
// three flags of benches/fixtures/bindings.json and the context of benches/fixtures/context.json.
// With a `bench-conversions` build (run.sh makes one), it also times the alternatives to
// the API's conversions: context in via js-sys walk / serde-wasm-bindgen / JSON, result out
// via one object-literal call / ten Reflect.set / JSON.parse.
//
//   node benches/wasm/bench.mjs [--quick]
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url);
const quick = process.argv.includes('--quick');
const snapshot = readFileSync(new URL('benches/fixtures/bindings.json', root), 'utf8');
const context = JSON.parse(readFileSync(new URL('benches/fixtures/context.json', root), 'utf8'));
const NOW = 1795338000000;

/** Fastest round's ns per call over `rounds` rounds of `n` calls, after a warm-up (the
 * minimum, because other processes on a shared machine only ever add time). */
function time(fn, n = quick ? 20_000 : 200_000, rounds = quick ? 3 : 7) {
  let sink = 0;
  for (let i = 0; i < n; i++) sink ^= fn() === undefined ? 1 : 0;
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn() === undefined ? 1 : 0;
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  samples.sort((a, b) => a - b);
  if (sink === 42) console.log('');
  return samples[0];
}

const rows = [];
const row = (name, ns, note = '') => {
  rows.push([name, ns, note]);
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(7)} ns/call  ${note}`);
};

const pennon = require('../../wasm/dist/nodejs/index.cjs');
const engine = new pennon.Engine(snapshot);
const check = (flag, reason) => {
  const got = engine.evaluate(flag, context, { now: NOW }).reason;
  if (got !== reason) throw new Error(`${flag}: expected ${reason}, got ${got}`);
};
check('static-flag', 'STATIC');
check('targeting-flag', 'TARGETING_MATCH');
check('split-flag', 'SPLIT');

console.log(`pennon-wasm nodejs build, Node ${process.version}, ${quick ? 'quick' : 'full'} run\n`);
const options = { now: NOW };
row('evaluate static-flag (details)', time(() => engine.evaluate('static-flag', context, options)));
row('evaluate targeting-flag (details, 6 conditions)', time(() => engine.evaluate('targeting-flag', context, options)));
row('evaluate split-flag (details)', time(() => engine.evaluate('split-flag', context, options)));
row('getBoolean static-flag', time(() => engine.getBoolean('static-flag', context, false, NOW)));
row('getBoolean targeting-flag', time(() => engine.getBoolean('targeting-flag', context, false, NOW)));
row('getString split-flag', time(() => engine.getString('split-flag', context, 'x', NOW)));
row('evaluateAll (3 flags)', time(() => engine.evaluateAll(context, NOW)));
row('getBoolean static-flag, empty context {}', time(() => engine.getBoolean('static-flag', {}, false, NOW)));
const glue = require('../../wasm/dist/nodejs/pennon_wasm.js');
const bare = new glue.Engine(snapshot);
row('evaluate static-flag, bare wasm-bindgen class (no error-mapping wrapper)', time(() => bare.evaluate('static-flag', context, options)));

const variant = new URL('.build/nodejs/pennon_wasm.js', import.meta.url);
if (existsSync(variant)) {
  const b = require(variant.pathname);
  console.log('\nconversion alternatives (bench-conversions build):');
  if (b.__benchContextWalk(context) !== 7 || b.__benchContextSerde(context) !== 7 || b.__benchContextJson(context) !== 7) {
    throw new Error('a conversion variant lost attributes');
  }
  if (b.__benchContextEncoded(context) !== 7) throw new Error('the encoder lost attributes');
  row('context in: JS encoder into wasm memory + Rust decode (used)', time(() => b.__benchContextEncoded(context)));
  row('context in: JS encoder only (no decode)', time(() => b.__benchContextEncodeOnly(context)));
  row('context in: js-sys walk', time(() => b.__benchContextWalk(context)));
  row('context in: serde-wasm-bindgen', time(() => b.__benchContextSerde(context)));
  row('context in: JSON.stringify + serde_json', time(() => b.__benchContextJson(context)));
  row('result out: one object-literal call (used; uncached strings)', time(() => b.__benchResultLiteral()));
  row('result out: ten Reflect.set', time(() => b.__benchResultReflect()));
  row('result out: canonical JSON + JSON.parse', time(() => b.__benchResultJson()));
} else {
  console.log('\n(no bench-conversions build: run benches/wasm/run.sh for the conversion alternatives)');
}
