// Follows one environment of a Pennon server and prints what the client sees, one JSON
// line per event: `ready`, then `change` (with core's changed keys and the watched flag's
// new value), `error` and `stale`. The end-to-end test (tests/e2e) runs it next to the
// Rust and Python versions and checks that all three see a change within 1 s.
//
//   PENNON_URL=http://127.0.0.1:7070 PENNON_SDK_KEY=… node sdks/typescript/examples/watch.mjs checkout.new-flow
import { createClient } from 'pennon'

const flag = process.argv[2]
if (!flag) throw new Error('usage: watch.mjs FLAG')
const client = createClient({ url: process.env.PENNON_URL, sdkKey: process.env.PENNON_SDK_KEY })
const anyone = { targetingKey: 'e2e' }
const print = (line) => process.stdout.write(`${JSON.stringify({ sdk: 'node', ...line })}\n`)

client.on('change', ({ revision, flags }) =>
  print({ event: 'change', revision, flags, value: client.evaluate(flag, anyone).value }),
)
client.on('error', ({ code, message }) => print({ event: 'error', code, message }))
client.on('stale', ({ revision }) => print({ event: 'stale', revision }))
await client.ready()
print({ event: 'ready', revision: client.revision, value: client.evaluate(flag, anyone).value })
// The client never keeps a process alive by itself (its sockets are unref'd): this
// program wants to run until it is stopped.
setInterval(() => {}, 1 << 30)
