#!/usr/bin/env node
// Differential runner of the wasm-bindgen build (docs/bindings.md, "Differential mode"):
//
//   node wasm/test/differential.mjs IN.jsonl OUT.jsonl
//
// Each input line is {"snapshot": "<path relative to the repo root>", "flag", "context",
// "type", "default", "now"}; each output line is the canonical JSON of the result object
// the JS API returned (so the JS conversion code is what gets compared). Snapshots are
// loaded once per path, as text; one that fails to load leaves its engine empty
// (PROVIDER_NOT_READY). Paths resolve against $PENNON_ROOT (default: this repository).
// PENNON_WASM_ENTRY may name another entry of the package to test (default: the nodejs build).
import { outcome } from '../../tests/differential/outcome.mjs';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonical } from './canonical.mjs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node wasm/test/differential.mjs IN.jsonl OUT.jsonl');
  process.exit(2);
}
const root = process.env.PENNON_ROOT ?? fileURLToPath(new URL('../../', import.meta.url));
const entry = process.env.PENNON_WASM_ENTRY
  ? pathToFileURL(resolve(process.env.PENNON_WASM_ENTRY)).href
  : new URL('../dist/nodejs/index.mjs', import.meta.url).href;
const pennon = await import(entry);
const { Engine } = pennon;

const engines = new Map();
function engineFor(path) {
  let engine = engines.get(path);
  if (engine === undefined) {
    engine = new Engine();
    try {
      engine.load(readFileSync(resolve(root, path), 'utf8'));
    } catch (error) {
      if (error?.name !== 'SnapshotError') throw error;
    }
    engines.set(path, engine);
  }
  return engine;
}

const lines = [];
let number = 0;
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  number += 1;
  if (line.trim() === '') continue;
  const request = JSON.parse(line);
  if (typeof request.snapshot !== 'string') throw new Error(`${input}:${number}: \`snapshot\` (a path) is required`);
  const engine = engineFor(request.snapshot);
  const options = { type: request.type, default: request.default ?? null, now: request.now };
  lines.push(canonical(outcome(pennon, () => engine.evaluate(request.flag, request.context, options))));
}
writeFileSync(output, lines.length > 0 ? `${lines.join('\n')}\n` : '');
console.error(`differential (wasm, JS API): ${lines.length} results written to ${output}`);
