// pennon-node quickstart: load a snapshot, evaluate flags for a user.
//   node bindings/node/examples/quickstart.mjs
import { Engine, SnapshotError } from 'pennon-node'

const engine = new Engine()
const warnings = engine.load({
  schemaVersion: 1,
  revision: 42,
  flags: {
    'new-checkout': {
      type: 'boolean',
      state: 'on',
      variants: { on: true, off: false },
      offVariant: 'off',
      rules: [
        {
          id: 'beta-de',
          when: {
            all: [
              { attribute: 'country', op: 'equals', value: 'DE' },
              { attribute: 'plan', op: 'in', values: ['pro', 'enterprise'] },
            ],
          },
          serve: { variant: 'on' },
        },
      ],
      fallthrough: { variant: 'off' },
    },
    'button-color': {
      type: 'string',
      state: 'on',
      variants: { blue: 'blue', green: 'green' },
      offVariant: 'blue',
      fallthrough: { split: { variants: [{ variant: 'blue', weight: 50 }, { variant: 'green', weight: 50 }] } },
    },
  },
})
console.log(`loaded revision ${engine.revision} with ${warnings.length} warnings`)

const user = { targetingKey: 'user-42', country: 'DE', plan: 'pro' }
console.log('new-checkout:', engine.getBoolean('new-checkout', user, false))
console.log('button-color:', engine.getString('button-color', user, 'blue'))

const result = engine.evaluate('new-checkout', user, { type: 'boolean', default: false })
console.log(`reason ${result.reason}, rule ${result.ruleId}, revision ${result.revision}`)

const missing = engine.evaluate('no-such-flag', user, { default: false })
console.log(`unknown flag: ${missing.value} (${missing.errorCode})`)

const invalid = engine.evaluate('new-checkout', { targetingKey: 'u-1', onClick() {} }, { default: false })
console.log(`context with a function: ${invalid.errorCode}`)

try {
  engine.load('{"schemaVersion": 1, "revision": 43')
} catch (error) {
  if (!(error instanceof SnapshotError)) throw error
  console.log(`bad update rejected (${error.code}), still serving revision ${engine.revision}`)
}
