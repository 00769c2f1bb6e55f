import { readFile } from 'node:fs/promises';
import { Engine } from 'pennon-wasm';

const snapshot = JSON.parse(await readFile(new URL('./snapshot.json', import.meta.url), 'utf8'));
const engine = new Engine(snapshot);
const flags = engine.evaluateAll({ targetingKey: 'user-1', country: 'FR' });
for (const [key, { value, reason }] of Object.entries(flags)) {
  console.log(`${key}: ${JSON.stringify(value)} (${reason})`);
}
