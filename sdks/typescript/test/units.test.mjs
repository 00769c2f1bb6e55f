// Unit tests of the pieces under the refresh loop: SSE parser, backoff, breaker,
// signatures, environment-variable names. (The metrics text is the engine's: each
// binding runs tests/conformance/counters.json.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { SseParser } = require('../lib/sse.js')
const { Backoff, backoffDelay } = require('../lib/backoff.js')
const { Breaker } = require('../lib/breaker.js')
const verifiers = { 'node:crypto': require('../lib/platform/node.js'), WebCrypto: require('../lib/webcrypto.js') }
const env = require('../lib/env.js')

const EVENT = 'event: snapshot\nid: 42\ndata: {"revision":42}\ndata: {"schemaVersion":1,"s":"é"}\n\n'
const DATA = '{"revision":42}\n{"schemaVersion":1,"s":"é"}'
const events = (items) => items.filter((i) => i.type === 'event')

test('sse: a snapshot event with two data lines', () => {
  const parser = new SseParser()
  assert.deepEqual(events(parser.feed(Buffer.from(EVENT))), [{ type: 'event', event: 'snapshot', id: '42', data: DATA }])
  assert.equal(parser.lastId, '42')
})

test('sse: split at every byte boundary, and one byte at a time (UTF-8 sequences split too)', () => {
  const bytes = Buffer.from(EVENT)
  for (let cut = 0; cut <= bytes.length; cut++) {
    const parser = new SseParser()
    const got = [...events(parser.feed(bytes.subarray(0, cut))), ...events(parser.feed(bytes.subarray(cut)))]
    assert.equal(got.length, 1, `cut at ${cut}`)
    assert.equal(got[0].data, DATA, `cut at ${cut}`)
  }
  const parser = new SseParser()
  const got = []
  for (const b of bytes) got.push(...events(parser.feed(Uint8Array.of(b))))
  assert.equal(got.length, 1)
  assert.equal(got[0].data, DATA)
})

test('sse: CRLF and CR line endings, also when a CRLF is split', () => {
  const bytes = Buffer.from(EVENT.replaceAll('\n', '\r\n'))
  for (let cut = 0; cut <= bytes.length; cut++) {
    const parser = new SseParser()
    const got = [...events(parser.feed(bytes.subarray(0, cut))), ...events(parser.feed(bytes.subarray(cut)))]
    assert.equal(got.length, 1, `CRLF cut at ${cut}: ${JSON.stringify(got)}`)
    assert.equal(got[0].data, DATA)
  }
  const got = events(new SseParser().feed(Buffer.from(EVENT.replaceAll('\n', '\r'))))
  assert.equal(got.length, 1)
  assert.equal(got[0].id, '42')
})

test('sse: comments are reported and do not break events', () => {
  const items = new SseParser().feed(': heartbeat\n\ndata: a\n:mid\ndata: b\n\n')
  assert.deepEqual(items, [
    { type: 'comment', text: 'heartbeat' },
    { type: 'comment', text: 'mid' },
    { type: 'event', event: 'message', id: null, data: 'a\nb' },
  ])
})

test('sse: an event cut mid-way is never delivered', () => {
  const bytes = Buffer.from(EVENT)
  assert.deepEqual(events(new SseParser().feed(bytes.subarray(0, bytes.length - 1))), [])
  assert.deepEqual(events(new SseParser().feed(bytes.subarray(0, 20))), [])
})

test('sse: fields without a space, unknown fields, blank lines without data', () => {
  const got = events(new SseParser().feed('retry: 10\nid:7\n\nevent:x\ndata:v\nfoo: bar\ndata\n\n'))
  assert.deepEqual(got, [{ type: 'event', event: 'x', id: '7', data: 'v\n' }])
})

test('backoff: the ceiling doubles up to the cap; huge attempts do not overflow', () => {
  assert.equal(backoffDelay(1000, 30_000, 0, 0.5), 500)
  assert.equal(backoffDelay(1000, 30_000, 3, 0.5), 4000)
  assert.equal(backoffDelay(1000, 30_000, 4, 1), 16_000)
  assert.equal(backoffDelay(1000, 30_000, 5, 1), 30_000)
  assert.equal(backoffDelay(1000, 30_000, 500, 1), 30_000)
  assert.equal(backoffDelay(1000, 30_000, 7, 0), 0)
})

test('backoff: jittered delays stay within bounds, spread, and reset', () => {
  const backoff = new Backoff(1000, 30_000)
  const seen = []
  for (let attempt = 0; attempt < 40; attempt++) {
    const d = backoff.nextDelay()
    const ceiling = Math.min(30_000, 1000 * 2 ** attempt)
    assert.ok(d >= 0 && d <= ceiling, `attempt ${attempt}: ${d} > ${ceiling}`)
    seen.push(d)
  }
  const late = seen.slice(10)
  assert.ok(late.some((d) => d < 15_000) && late.some((d) => d > 15_000), `full jitter: ${late}`)
  backoff.reset()
  assert.ok(backoff.nextDelay() <= 1000)
})

test('breaker: opens after the threshold, half-opens, a failure reopens, a success closes', () => {
  const breaker = new Breaker(5, 30_000)
  for (let i = 0; i < 4; i++) {
    assert.equal(breaker.permit(0), 0)
    breaker.failure(0)
  }
  assert.equal(breaker.state, 'closed')
  breaker.failure(0)
  assert.equal(breaker.state, 'open')
  assert.equal(breaker.permit(10_000), 20_000)
  assert.equal(breaker.permit(30_000), 0)
  assert.equal(breaker.state, 'half-open')
  breaker.failure(30_000)
  assert.equal(breaker.permit(31_000), 29_000)
  assert.equal(breaker.permit(60_000), 0)
  breaker.success()
  assert.equal(breaker.state, 'closed')
  for (let i = 0; i < 4; i++) breaker.failure(60_000)
  assert.equal(breaker.state, 'closed', 'the count restarted after the success')
})

test('breaker: a success resets the consecutive count', () => {
  const breaker = new Breaker(3, 1000)
  breaker.failure(0)
  breaker.failure(0)
  breaker.success()
  breaker.failure(0)
  breaker.failure(0)
  assert.equal(breaker.state, 'closed')
  breaker.failure(0)
  assert.equal(breaker.state, 'open')
})

for (const [name, { parsePublicKey, verifySignature }] of Object.entries(verifiers)) {
  test(`signature (${name}): a good one verifies; anything else is signature_invalid`, async () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519')
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('base64')
    const key = parsePublicKey(raw)
    const bytes = Buffer.from('{"schemaVersion":1,"revision":3,"flags":{}}')
    const good = crypto.sign(null, bytes, privateKey).toString('base64')
    await verifySignature(key, bytes, good)
    const code = (fn) => assert.rejects(async () => fn(), (e) => e.code === 'signature_invalid')
    await code(() => verifySignature(key, Buffer.from('{"schemaVersion":1,"revision":4,"flags":{}}'), good))
    const other = crypto.sign(null, bytes, crypto.generateKeyPairSync('ed25519').privateKey).toString('base64')
    await code(() => verifySignature(key, bytes, other))
    for (const bad of [null, '', '***', 'AAAA']) await code(() => verifySignature(key, bytes, bad))
    // The harness's documented key parses.
    parsePublicKey('YXnYz8KvLuCvwWVFQqbsMLEbYRhRUcw5byFevITwTaw=')
    for (const bad of ['not base64!', Buffer.alloc(31).toString('base64'), 42]) {
      assert.throws(() => parsePublicKey(bad), (e) => e.code === 'invalid_public_key')
    }
  })
}

test('env: the variable name rule and value parsing', () => {
  assert.equal(env.variableName('checkout.new-flow'), 'PENNON_FLAG_CHECKOUT_NEW_FLOW')
  assert.equal(env.variableName('new_trust_algorithm'), 'PENNON_FLAG_NEW_TRUST_ALGORITHM')
  assert.equal(env.variableName('Max Retry/2'), 'PENNON_FLAG_MAX_RETRY_2')
  assert.equal(env.variableName('café'), 'PENNON_FLAG_CAF_')
  assert.deepEqual(env.parseValue('true'), true)
  assert.deepEqual(env.parseValue('3'), 3)
  assert.deepEqual(env.parseValue('{"a":1}'), { a: 1 })
  assert.deepEqual(env.parseValue('blue'), 'blue')
  assert.deepEqual(env.parseValue('{broken'), '{broken')
  assert.deepEqual([...env.collect({ PENNON_FLAG_A: '1', PATH: '/bin' })], [['PENNON_FLAG_A', 1]])
})
