// Outcomes (docs/sdk.md, Outcomes): `client.record`, `client.outcomeMetrics()`, batches sent
// to `POST /sdk/v1/metrics` by a local server that captures them (and refuses some, to
// prove a refused batch is sent again verbatim; stores some and then fails, to prove nothing
// is counted twice), bounded memory while the server is down, batch ids,
// `close()`'s final flush, the OpenFeature provider's `track`, the web build, and a real
// `pennon serve` whose experiment results count what the client sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { OpenFeature } from '@openfeature/server-sdk'
import { ClientError, createClient } from 'pennon'
import { PennonProvider } from 'pennon/openfeature'
import { startMetricsServer, total } from '../test-support/metrics-server.mjs'
import { loadWebClient } from '../test-support/web-client.mjs'
import { booleanFlag, startServer } from './pennon-server.mjs'

const boolean = (fallthrough) => ({
  type: 'boolean',
  state: 'on',
  variants: { on: true, off: false },
  offVariant: 'off',
  fallthrough,
})

const snapshot = (extra = {}) => ({
  schemaVersion: 1,
  revision: 3,
  flags: {
    'new-checkout': boolean({ variant: 'on' }),
    // Half the users get `on` (the canary), the others `off` (its control).
    'checkout.canary': boolean({ rollout: { variant: 'on', otherwise: 'off', percentage: 50 } }),
    ...extra,
  },
})

/** Users whose `checkout.canary` variant is `variant`, found by asking the client. */
function usersOf(client, variant, count) {
  const out = []
  for (let i = 0; out.length < count; i++) {
    const user = { targetingKey: `user-${i}` }
    if (client.evaluate('checkout.canary', user).variant === variant) out.push(user)
  }
  return out
}

async function waitFor(check, what, ms = 5000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

test('record + outcomeMetrics: Prometheus text per flag and cohort (the variant)', () => {
  const client = createClient({ snapshot: snapshot() })
  const [on] = usersOf(client, 'on', 1)
  const [off] = usersOf(client, 'off', 1)
  client.record('checkout.canary', on, { ok: true, latencyMs: 12 })
  client.record('checkout.canary', on, { error: true, latencyMs: 700 })
  client.record('checkout.canary', off, { ok: true, latencyMs: 3 })
  client.record('checkout.canary', off, { converted: true })
  const text = client.outcomeMetrics()
  const has = (line) => assert.ok(text.includes(`${line}\n`), `missing ${line} in:\n${text}`)
  has('pennon_canary_requests_total{flag="checkout.canary",cohort="on"} 2')
  has('pennon_canary_errors_total{flag="checkout.canary",cohort="on"} 1')
  has('pennon_canary_requests_total{flag="checkout.canary",cohort="off"} 1')
  has('pennon_conversions_total{flag="checkout.canary",cohort="off"} 1')
  has('pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="25"} 1')
  has('pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="1000"} 2')
  has('pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="+Inf"} 2')
  has('pennon_canary_latency_ms_count{flag="checkout.canary",cohort="on"} 2')
  has('pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="off",le="5"} 1')
  assert.match(text, /^# TYPE pennon_canary_latency_ms histogram$/m)
  client.close()
})

test('record: an invalid outcome throws invalid_argument; an unknown flag or bad context records nothing', () => {
  const client = createClient({ snapshot: snapshot() })
  const invalid = [{}, { ok: true, error: true }, { ok: true, latencyMs: -1 }, { ok: true, latencyMs: 'fast' }, { ok: true, extra: 1 }]
  for (const outcome of invalid) {
    assert.throws(
      () => client.record('new-checkout', {}, outcome),
      (error) => error instanceof ClientError && error.code === 'invalid_argument',
      JSON.stringify(outcome),
    )
  }
  client.record('no-such-flag', {}, { ok: true })
  client.record('checkout.canary', {}, { ok: true }) // TARGETING_KEY_MISSING
  assert.doesNotMatch(client.outcomeMetrics(), /pennon_canary_requests_total\{/)
  client.close()
})

test('record: a flag a local override answers records nothing (no cohort), but the outcome is checked', () => {
  const client = createClient({ snapshot: snapshot(), envOverrides: { PENNON_FLAG_CHECKOUT_CANARY: 'true' } })
  client.override('new-checkout', false)
  client.record('new-checkout', {}, { ok: true })
  client.record('checkout.canary', { targetingKey: 'u1' }, { converted: true })
  assert.throws(() => client.record('new-checkout', {}, { ok: true, error: true }), (e) => e.code === 'invalid_argument')
  assert.doesNotMatch(client.outcomeMetrics(), /_total\{/)
  client.clearOverride()
  client.record('new-checkout', {}, { ok: true })
  assert.match(client.outcomeMetrics(), /pennon_canary_requests_total\{flag="new-checkout",cohort="on"\} 1\n/)
})

test('metrics options: only with url, an interval > 0', () => {
  const refused = [
    { snapshot: snapshot(), metrics: true },
    { url: 'http://127.0.0.1:9', sdkKey: 'k', metrics: 'yes' },
    { url: 'http://127.0.0.1:9', sdkKey: 'k', metricsInterval: 0 },
    { url: 'http://127.0.0.1:9', sdkKey: 'k', metricsInterval: -5 },
  ]
  for (const options of refused) {
    assert.throws(() => createClient(options), (e) => e.code === 'invalid_config', JSON.stringify(options))
  }
})

test('batches reach POST /sdk/v1/metrics with the SDK key: outcomes and exposures per variant', async (t) => {
  const server = await startMetricsServer(snapshot())
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'sdk-key-1', stream: false, metricsInterval: 50 })
  await client.ready()
  const ons = usersOf(client, 'on', 3)
  const offs = usersOf(client, 'off', 2)
  for (const user of ons) {
    client.isEnabled('checkout.canary', user)
    client.record('checkout.canary', user, { ok: true, latencyMs: 20 })
  }
  for (const user of offs) {
    client.isEnabled('checkout.canary', user)
    client.record('checkout.canary', user, { error: true, latencyMs: 40 })
    client.record('checkout.canary', user, { converted: true })
  }
  await waitFor(() => total(server.posts.map((p) => p.body), 'checkout.canary', 'off', 'conversions') === 2, 'a batch')
  const bodies = server.posts.map((p) => p.body)
  for (const post of server.posts) {
    assert.equal(post.authorization, 'Bearer sdk-key-1')
    assert.equal(post.contentType, 'application/json')
    assert.match(post.body.batch, /^[0-9a-f]{32}$/)
    assert.match(post.body.sdk, /^pennon-node\/\d+\.\d+\.\d+/)
  }
  assert.equal(total(bodies, 'checkout.canary', 'on', 'requests'), 3)
  assert.equal(total(bodies, 'checkout.canary', 'on', 'errors'), 0)
  assert.equal(total(bodies, 'checkout.canary', 'on', 'latency'), 3)
  assert.equal(total(bodies, 'checkout.canary', 'off', 'requests'), 2)
  assert.equal(total(bodies, 'checkout.canary', 'off', 'errors'), 2)
  // Exposures are the evaluations counted per variant: at least the isEnabled calls
  // (usersOf's `evaluate` calls count too), and never a record's own evaluation.
  assert.ok(total(bodies, 'checkout.canary', 'on', 'exposures') >= 3)
  const counted = client.metrics()
  const evaluations = (variant) =>
    [...counted.matchAll(new RegExp(`pennon_evaluations_total\\{flag="checkout.canary",variant="${variant}",reason="[A-Z_]+"\\} (\\d+)`, 'g'))]
      .reduce((n, m) => n + Number(m[1]), 0)
  await client.close()
  const all = [...server.stored.values()]
  assert.equal(total(all, 'checkout.canary', 'on', 'exposures'), evaluations('on'), 'every counted evaluation is one exposure')
  assert.equal(total(all, 'checkout.canary', 'off', 'exposures'), evaluations('off'))
  server.close()
})

test('a refused batch is sent again verbatim before a new one; what was recorded meanwhile follows', async (t) => {
  const server = await startMetricsServer(snapshot(), { refuse: 3 })
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'k', stream: false, metricsInterval: 30 })
  const errors = []
  client.on('error', (e) => errors.push(e))
  await client.ready()
  const [user] = usersOf(client, 'on', 1)
  let recorded = 0
  // Record while the first three sends are refused, and after.
  while (server.posts.length < 2) {
    client.record('checkout.canary', user, { ok: true, latencyMs: 5 })
    recorded += 1
    await sleep(7)
  }
  await client.close()
  assert.equal(server.refused.length, 3)
  const [first] = server.refused
  assert.ok(total([first.body], 'checkout.canary', 'on', 'requests') > 0)
  for (const again of [...server.refused, server.posts[0]]) assert.equal(again.text, first.text, 'the same batch id, the same bytes')
  // Each batch id once, as the server keeps them (close() may repeat a batch a tick is sending).
  const accepted = [...server.stored.values()]
  assert.ok(accepted.length >= 2, 'the refused batch, then a new one')
  assert.equal(accepted[0].batch, first.body.batch)
  assert.equal(total(accepted, 'checkout.canary', 'on', 'requests'), recorded, 'nothing lost, nothing counted twice')
  assert.equal(total(accepted, 'checkout.canary', 'on', 'latency'), recorded)
  assert.ok(total(accepted.slice(1, 2), 'checkout.canary', 'on', 'requests') > 0, 'what was recorded meanwhile comes next')
  // As in the Rust SDK: a periodic failure is retried on the next tick, no event.
  assert.deepEqual(errors, [])
})

test('a batch the server stored but failed to answer (503, lost response) is counted once', async (t) => {
  const server = await startMetricsServer(snapshot(), { lose: (attempt) => ({ 1: '503', 2: 'drop' })[attempt] })
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'k', stream: false, metrics: false })
  await client.ready()
  client.record('new-checkout', {}, { ok: true })
  await assert.rejects(client.flushOutcomes(), (e) => e.code === 'server_error')
  client.record('new-checkout', {}, { error: true })
  await assert.rejects(client.flushOutcomes(), (e) => e.code === 'network_error')
  assert.equal(await client.flushOutcomes(), true, 'answered `accepted: false`: a duplicate')
  assert.equal(await client.flushOutcomes(), true, 'then a new batch: what was recorded meanwhile')
  assert.equal(await client.flushOutcomes(), false)
  await client.close()
  assert.equal(server.posts.length, 2)
  assert.equal(server.posts[0].text, JSON.stringify(server.stored.values().next().value), 'the first batch, verbatim')
  const stored = [...server.stored.values()]
  assert.equal(stored.length, 2)
  assert.equal(total(stored, 'new-checkout', 'on', 'requests'), 2, 'each outcome counted once')
  assert.equal(total(stored, 'new-checkout', 'on', 'errors'), 1)
})

test('flushOutcomes() sends now and reports what the periodic sends keep quiet', async (t) => {
  const server = await startMetricsServer(snapshot(), { refuse: (attempt) => attempt === 1 })
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'k', stream: false, metricsInterval: 60_000 })
  await client.ready()
  assert.equal(await client.flushOutcomes(), false, 'nothing new')
  client.record('new-checkout', {}, { ok: true })
  await assert.rejects(client.flushOutcomes(), (e) => e instanceof ClientError && e.code === 'server_error' && /503/.test(e.message))
  assert.equal(await client.flushOutcomes(), true)
  assert.equal(server.posts[0].text, server.refused[0].text, 'the refused batch, sent again')
  await client.close()
  const local = createClient({ snapshot: snapshot() })
  await assert.rejects(local.flushOutcomes(), (e) => e.code === 'invalid_config')
  // With metrics off, a url client still sends when asked.
  const quiet = createClient({ url: server.url, sdkKey: 'k', stream: false, metrics: false })
  await quiet.ready()
  quiet.record('new-checkout', {}, { error: true })
  assert.equal(await quiet.flushOutcomes(), true)
  await quiet.close()
  assert.equal(total(server.posts.map((p) => p.body), 'new-checkout', 'on', 'errors'), 1)
})

test('bounded memory while the server is down: one batch is held, the engine sums the rest', async (t) => {
  // 1,100 flags: more flag × variant pairs than the engine keeps (1,000; beyond → `_other`,
  // which stays local: it stands for no flag).
  const many = {}
  for (let i = 0; i < 1100; i++) many[`f${String(i).padStart(4, '0')}`] = boolean({ variant: 'on' })
  const server = await startMetricsServer(snapshot(many), { refuse: 8 })
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'k', stream: false, metricsInterval: 40 })
  await client.ready()
  for (const flag of Object.keys(many)) client.record(flag, {}, { ok: true, latencyMs: 1 })
  await waitFor(() => server.refused.length >= 3, 'three refused sends')
  for (let i = 0; i < 5; i++) client.record('f0000', {}, { error: true })
  await waitFor(() => server.refused.length >= 8, 'eight refused sends')
  // The held batch never grew, whatever was recorded meanwhile: the same bytes every time.
  for (const again of server.refused) assert.equal(again.text, server.refused[0].text)
  await waitFor(() => server.posts.length >= 2, 'the held batch, then the next')
  await client.close()
  assert.equal(server.posts[0].text, server.refused[0].text)
  const bodies = [...server.stored.values()]
  for (const body of bodies) assert.ok(Object.keys(body.flags).length <= 1000, 'a batch keeps to the server limit')
  const sent = new Set(bodies.flatMap((body) => Object.keys(body.flags)))
  assert.equal(sent.size, 1000, 'the first 1,000 pairs are sent')
  assert.ok(!sent.has('_other'))
  const requests = bodies.reduce(
    (n, body) => n + Object.values(body.flags).reduce((m, variants) => m + (variants.on?.requests ?? 0), 0),
    0,
  )
  assert.equal(requests, 1005, 'each sent once, after eight refusals')
  assert.equal(total(bodies.slice(1), 'f0000', 'on', 'errors'), 5, 'recorded while down: in a later batch')
  assert.match(client.outcomeMetrics(), /pennon_canary_requests_total\{flag="_other",cohort=""\} 100\n/)
})

test('close() sends what is left once, within 1 s, and resolves also when the server hangs', async (t) => {
  const server = await startMetricsServer(snapshot())
  t.after(() => server.close())
  const client = createClient({ url: server.url, sdkKey: 'k', stream: false, metricsInterval: 60_000 })
  await client.ready()
  const [user] = usersOf(client, 'off', 1)
  client.record('checkout.canary', user, { converted: true })
  let started = Date.now()
  await client.close()
  assert.ok(Date.now() - started < 1000)
  assert.equal(server.posts.length, 1)
  assert.equal(total([server.posts[0].body], 'checkout.canary', 'off', 'conversions'), 1)
  assert.equal(client.close(), client.close(), 'close() is idempotent: one flush')
  server.close()

  const hanging = await startMetricsServer(snapshot(), { hang: true })
  t.after(() => hanging.close())
  const stuck = createClient({ url: hanging.url, sdkKey: 'k', stream: false, metricsInterval: 60_000 })
  await stuck.ready()
  stuck.record('new-checkout', {}, { ok: true })
  started = Date.now()
  await stuck.close()
  const took = Date.now() - started
  assert.ok(took >= 900 && took < 1500, `close() took ${took} ms`)
  hanging.close()
})

test('a script that records and calls close() without awaiting it still sends the batch, then exits', async (t) => {
  const server = await startMetricsServer(snapshot())
  t.after(() => server.close())
  const script = `
    const { createClient } = require('pennon')
    const c = createClient({ url: ${JSON.stringify(server.url)}, sdkKey: 'k', stream: false })
    c.ready().then(() => {
      c.record('new-checkout', {}, { ok: true, latencyMs: 3 })
      c.close()
    })
  `
  const child = spawn(process.execPath, ['--unhandled-rejections=strict', '-e', script], { stdio: 'inherit' })
  const started = Date.now()
  const code = await new Promise((resolve) => child.on('exit', resolve))
  assert.equal(code, 0)
  assert.ok(Date.now() - started < 5000)
  assert.equal(total(server.posts.map((p) => p.body), 'new-checkout', 'on', 'requests'), 1)
  server.close()
})

test('metrics: false sends nothing; an idle client sends nothing', async (t) => {
  const server = await startMetricsServer(snapshot())
  t.after(() => server.close())
  const off = createClient({ url: server.url, sdkKey: 'k', stream: false, metrics: false, metricsInterval: 20 })
  const idle = createClient({ url: server.url, sdkKey: 'k', stream: false, metricsInterval: 20 })
  await off.ready()
  await idle.ready()
  off.record('new-checkout', {}, { ok: true })
  off.isEnabled('new-checkout', {})
  await sleep(150)
  await off.close()
  await idle.close()
  assert.equal(server.posts.length + server.refused.length, 0)
  assert.match(off.outcomeMetrics(), /pennon_canary_requests_total\{flag="new-checkout",cohort="on"\} 1/, 'still exported locally')
  server.close()
})

test('OpenFeature track(): a conversion of the flags the event names, nothing otherwise', async () => {
  const client = createClient({ snapshot: snapshot() })
  const provider = new PennonProvider(client, { conversions: { purchase: ['checkout.canary', 'new-checkout'] } })
  await OpenFeature.setProviderAndWait('outcomes-track', provider)
  const features = OpenFeature.getClient('outcomes-track')
  const [on] = usersOf(client, 'on', 1)
  features.track('purchase', on, { value: 99.5 })
  features.track('signup', on, { flag: 'checkout.canary' })
  features.track('page-view', on)
  const text = client.outcomeMetrics()
  assert.match(text, /pennon_conversions_total\{flag="checkout.canary",cohort="on"\} 2\n/)
  assert.match(text, /pennon_conversions_total\{flag="new-checkout",cohort="on"\} 1\n/)
  assert.doesNotMatch(text, /pennon_canary_requests_total\{/, 'conversions only')
  assert.throws(() => new PennonProvider(client, { conversions: { purchase: 7 } }), (e) => e.code === 'invalid_config')
  await OpenFeature.clearProviders()
  client.close()
})

test('the web build records and sends its batches over fetch, the same way', async (t) => {
  const web = await loadWebClient()
  const server = await startMetricsServer(snapshot(), { refuse: 1 })
  t.after(() => server.close())
  const client = web.createClient({ url: server.url, sdkKey: 'web-key', stream: false, metricsInterval: 30 })
  await client.ready()
  const [off] = usersOf(client, 'off', 1)
  client.record('checkout.canary', off, { error: true, latencyMs: 250 })
  assert.throws(() => client.record('checkout.canary', off, { ok: 1 }), (e) => e instanceof web.ClientError && e.code === 'invalid_argument')
  await waitFor(() => server.posts.length >= 1, 'an accepted batch after a refused one')
  // Settles the batch a tick may still be waiting for, so that close() sends a new one.
  await client.flushOutcomes()
  client.record('checkout.canary', off, { converted: true })
  await client.close()
  assert.equal(server.refused.length, 1)
  const bodies = [...server.stored.values()]
  assert.equal(server.posts[0].text, server.refused[0].text, 'the refused batch, sent again verbatim')
  assert.equal(total(bodies, 'checkout.canary', 'off', 'errors'), 1)
  assert.equal(total(bodies, 'checkout.canary', 'off', 'conversions'), 1, 'close() sent the last one')
  assert.equal(server.posts[0].authorization, 'Bearer web-key')
  assert.match(server.posts[0].body.sdk, /^pennon-web\//)
  assert.match(client.outcomeMetrics(), /pennon_canary_errors_total\{flag="checkout.canary",cohort="off"\} 1\n/)
  server.close()
})

test('against pennon serve: the batches land, the experiment results count them per variant', async (t) => {
  const server = await startServer()
  t.after(() => server.child.kill())
  const split = { ...booleanFlag('on'), fallthrough: { rollout: { variant: 'on', otherwise: 'off', percentage: 50 } } }
  await server.admin('PUT', '/api/v1/environments/development/flags/checkout.split', { definition: split, reason: 'test' })
  const client = createClient({ url: server.url, sdkKey: await server.sdkKey(), metricsInterval: 100 })
  await client.ready()
  const expected = { on: { exposures: 0, conversions: 0 }, off: { exposures: 0, conversions: 0 } }
  for (let i = 0; i < 60; i++) {
    const user = { targetingKey: `user-${i}` }
    const { variant } = client.allFlags(user)['checkout.split'] // not counted
    client.isEnabled('checkout.split', user)
    expected[variant].exposures += 1
    if (i % 3 === 0) {
      client.record('checkout.split', user, { converted: true })
      expected[variant].conversions += 1
    }
  }
  assert.ok(expected.on.exposures > 0 && expected.off.exposures > 0)
  await client.close()
  const window = `since=${new Date(Date.now() - 60_000).toISOString()}&until=${new Date(Date.now() + 60_000).toISOString()}`
  const results = await server.admin('GET', `/api/v1/environments/development/experiments/checkout.split?${window}`)
  const got = Object.fromEntries(results.variants.map((v) => [v.variant, { exposures: v.exposures, conversions: v.conversions }]))
  assert.deepEqual(got, expected)
})
