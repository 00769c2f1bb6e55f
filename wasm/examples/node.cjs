const { readFileSync } = require('node:fs');
const { Engine, SnapshotError } = require('pennon-wasm');

const engine = new Engine(readFileSync(`${__dirname}/snapshot.json`, 'utf8'));
const user = { targetingKey: 'user-1', country: 'DE' };

const result = engine.evaluate('new-checkout', user, { type: 'boolean', default: false });
console.log(`new-checkout: ${result.value} (${result.reason}, rule ${result.ruleId}, revision ${result.revision})`);
console.log(`banner: ${engine.getString('banner', user, 'Hi')}`);

try {
  engine.load('{ "schemaVersion": 1'); // a truncated update
} catch (error) {
  if (!(error instanceof SnapshotError)) throw error;
  console.log(`kept revision ${engine.revision} after ${error.code}`);
}
