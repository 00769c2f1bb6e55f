// Compiled (not run) by `tsc -p sdks/typescript`: the declarations describe the API as
// the tests and README use it.
import { createClient, requireFlag, ClientError, type ChangeEvent, type Details } from 'pennon'
import http from 'node:http'

const client = createClient({ url: 'http://127.0.0.1:7070', sdkKey: 'k', backoff: { base: 10 }, envOverrides: true })
const ready: Promise<void> = client.ready()
const on: boolean = client.isEnabled('a', { targetingKey: 'u' })
const s: string = client.getString('b', {}, 'x')
const n: number = client.getNumber('c', null, 1)
const o: { a: number } = client.getObject('d', {}, { a: 1 })
const d: Details = client.evaluate('a', {})
const age: number | null = d.age
const revision: number | null = d.revision
client.on('change', (e: ChangeEvent) => e.flags?.includes('a'))
client.on('error', (e) => e.code.toUpperCase())
client.on('stale', (e) => e.since + 1)
client.override('a', true).clearOverride('a')
const off: () => void = client.onEvaluation((flag, details) => void [flag, details.reason])
const text: string = client.metrics()
const all: Record<string, Details> = client.allFlags({})
const err: ClientError = new ClientError('x', 'y')
http.createServer((req, res) => {
  requireFlag<http.IncomingMessage>(client, 'a', { shadowOk: true, context: (r) => ({ targetingKey: r.url ?? '' }) })(
    req,
    res,
    () => res.end('ok'),
  )
})
// Outcomes: a request (ok or error, with a latency) and/or a conversion.
const counted = createClient({ url: 'http://127.0.0.1:7070', sdkKey: 'k', metrics: true, metricsInterval: 5000 })
counted.record('a', { targetingKey: 'u' }, { ok: true, latencyMs: 12.5 })
counted.record('a', null, { error: true })
counted.record('a', {}, { converted: true })
counted.record('a', {}, { ok: true, converted: true })
// @ts-expect-error ok and error together
counted.record('a', {}, { ok: true, error: true })
// @ts-expect-error a latency goes with a request
counted.record('a', {}, { converted: true, latencyMs: 3 })
// @ts-expect-error no outcome
counted.record('a', {}, {})
const prometheus: string = counted.outcomeMetrics()
const flushed: Promise<boolean> = counted.flushOutcomes()
const closed: Promise<void> = counted.close()
void [ready, on, s, n, o, age, revision, off, text, all, err, prometheus, flushed, closed]
