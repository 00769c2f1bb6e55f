// The OpenFeature server provider (`pennon/openfeature`) through the real
// `@openfeature/server-sdk`: values, variants, reasons, error codes, flag metadata and
// provider events, over a client with `snapshot:` and over a real `pennon serve`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk'
import { createClient } from 'pennon'
import { PennonProvider } from 'pennon/openfeature'
import { booleanFlag, startServer } from './pennon-server.mjs'

const snapshot = {
  schemaVersion: 1,
  revision: 4,
  flags: {
    'new-checkout': {
      ...booleanFlag('on'),
      metadata: { owner: 'checkout-team', tags: ['web', 'beta'], ticket: 42 },
      rules: [{ id: 'staff', when: { attribute: 'email', op: 'endsWith', value: '@pennon.dev' }, serve: { variant: 'off' } }],
    },
    'killed-one': booleanFlag('kill'),
    banner: { type: 'string', state: 'on', variants: { a: 'hello' }, offVariant: 'a', fallthrough: { variant: 'a' } },
    'max-retries': { type: 'number', state: 'on', variants: { n: 3 }, offVariant: 'n', fallthrough: { variant: 'n' } },
    limits: {
      type: 'object',
      state: 'on',
      variants: { small: { rps: 10 } },
      offVariant: 'small',
      fallthrough: { variant: 'small' },
    },
  },
}

/** A fresh OpenFeature domain per test, so providers do not leak between tests. */
let domains = 0
async function openFeatureClient(provider) {
  const domain = `pennon-test-${++domains}`
  await OpenFeature.setProviderAndWait(domain, provider)
  return { of: OpenFeature.getClient(domain) }
}

test('values, variants, reasons, error codes and flag metadata from core', async () => {
  const provider = new PennonProvider({ snapshot })
  const { of } = await openFeatureClient(provider)
  assert.equal(of.providerStatus, ProviderStatus.READY)

  const on = await of.getBooleanDetails('new-checkout', false, { targetingKey: 'u1', email: 'a@example.com' })
  assert.equal(on.value, true)
  assert.equal(on.variant, 'on')
  assert.equal(on.reason, 'DEFAULT')
  assert.equal(on.errorCode, undefined)
  // Scalar metadata and the revision, as the server's OFREP endpoint answers; `tags` (an
  // array) has no OpenFeature form.
  assert.deepEqual(on.flagMetadata, { owner: 'checkout-team', ticket: 42, revision: 4 })

  const staff = await of.getBooleanDetails('new-checkout', true, { targetingKey: 'u2', email: 'ada@pennon.dev' })
  assert.deepEqual([staff.value, staff.variant, staff.reason], [false, 'off', 'TARGETING_MATCH'])

  const killed = await of.getBooleanDetails('killed-one', true, { targetingKey: 'u1' })
  assert.deepEqual([killed.value, killed.variant, killed.reason], [false, 'off', 'KILLED'], 'Pennon reasons pass through')

  assert.equal(await of.getStringValue('banner', 'x', {}), 'hello')
  const retries = await of.getNumberDetails('max-retries', 1, {})
  assert.deepEqual([retries.value, retries.reason], [3, 'STATIC'])
  assert.deepEqual(await of.getObjectValue('limits', {}, {}), { rps: 10 })

  const missing = await of.getBooleanDetails('no-such-flag', true, {})
  assert.deepEqual([missing.value, missing.reason, missing.errorCode], [true, 'ERROR', ErrorCode.FLAG_NOT_FOUND])
  assert.match(missing.errorMessage, /no-such-flag/)

  const mismatch = await of.getNumberDetails('banner', 7, {})
  assert.deepEqual([mismatch.value, mismatch.errorCode], [7, ErrorCode.TYPE_MISMATCH], "core's TYPE_MISMATCH")
  assert.match(provider.client.metrics(), /pennon_evaluations_total\{flag="banner",variant="",reason="ERROR"\} 1/)

  const invalid = await of.getBooleanDetails('new-checkout', false, { targetingKey: 'u', bad: Number.NaN })
  assert.deepEqual([invalid.value, invalid.errorCode], [false, ErrorCode.INVALID_CONTEXT])

  // Client overrides answer through the provider too.
  provider.client.override('banner', 'overridden')
  const overridden = await of.getStringDetails('banner', 'x', {})
  assert.deepEqual([overridden.value, overridden.variant, overridden.reason], ['overridden', 'override', 'STATIC'])
  await OpenFeature.clearProviders()
})

test('events: ready, configuration changed with core’s keys, error, stale', async () => {
  const client = createClient({ snapshot })
  const provider = new PennonProvider(client)
  const { of } = await openFeatureClient(provider)
  const seen = []
  for (const event of [ProviderEvents.Ready, ProviderEvents.ConfigurationChanged, ProviderEvents.Error, ProviderEvents.Stale]) {
    of.addHandler(event, (details) => seen.push([event, details]))
  }
  seen.length = 0 // an already-ready provider runs a new READY handler at once
  client.emit('change', { revision: 5, previousRevision: 4, flags: ['banner'] })
  // A failed check while a snapshot is held is not OpenFeature's ERROR ("cannot
  // evaluate"): the provider keeps answering, and `stale` reports the age.
  client.emit('error', { code: 'server_error', message: 'HTTP 500' })
  assert.equal(of.providerStatus, ProviderStatus.READY)
  client.emit('stale', { since: 0, revision: 5 })
  assert.equal(of.providerStatus, ProviderStatus.STALE)
  client.emit('ready', { revision: 5, recovered: true })
  assert.equal(of.providerStatus, ProviderStatus.READY)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(
    seen.map(([event, d]) => [event, d.flagsChanged ?? d.message ?? null]),
    [
      [ProviderEvents.ConfigurationChanged, ['banner']],
      [ProviderEvents.Stale, 'no fresh snapshot since 1970-01-01T00:00:00.000Z'],
      [ProviderEvents.Ready, null],
    ],
  )

  // The provider does not own a client it was given: closing it only detaches.
  await OpenFeature.clearProviders()
  seen.length = 0
  client.emit('change', { revision: 6, previousRevision: 5, flags: ['x'] })
  assert.deepEqual(seen, [])
  assert.equal(client.isEnabled('new-checkout', {}), true)
  client.close()
})

test('initialize waits for the client and fails with its init_timeout', async () => {
  // Nothing listens on port 9: the client never becomes ready.
  const provider = new PennonProvider({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 200 })
  const domain = `pennon-test-${++domains}`
  await assert.rejects(OpenFeature.setProviderAndWait(domain, provider), (e) => /init_timeout|no snapshot/.test(String(e?.message ?? e)))
  const of = OpenFeature.getClient(domain)
  assert.equal(of.providerStatus, ProviderStatus.ERROR)
  const details = await of.getBooleanDetails('anything', true, {})
  assert.equal(details.value, true)
  // Without a snapshot, a client error after initialize is a provider error.
  const errors = []
  of.addHandler(ProviderEvents.Error, (d) => errors.push([d.message, d.metadata]))
  provider.client.emit('error', { code: 'server_error', message: 'HTTP 500' })
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(errors.at(-1), ['HTTP 500', { code: 'server_error' }])
  await OpenFeature.clearProviders()
})

test('a provider whose initialize failed becomes ready when its client does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-of-'))
  const file = join(dir, 'flags.json')
  const provider = new PennonProvider({ file, pollInterval: 20, initTimeout: 100 })
  const domain = `pennon-test-${++domains}`
  const errors = []
  OpenFeature.getClient(domain).addHandler(ProviderEvents.Error, (details) => errors.push(details.message))
  await assert.rejects(OpenFeature.setProviderAndWait(domain, provider))
  const of = OpenFeature.getClient(domain)
  assert.equal(of.providerStatus, ProviderStatus.ERROR)
  assert.equal(errors.length, 1, 'one error: the failed initialize, not each failed read before it')
  const ready = new Promise((resolve) => of.addHandler(ProviderEvents.Ready, resolve))
  writeFileSync(file, JSON.stringify(snapshot))
  // The client's timers do not keep the process alive: this one does, and bounds the wait.
  let timer
  const late = new Promise((resolve) => (timer = setTimeout(resolve, 3000, 'late')))
  assert.notEqual(await Promise.race([ready, late]), 'late', 'PROVIDER_READY within 3 s of the file appearing')
  clearTimeout(timer)
  assert.equal(of.providerStatus, ProviderStatus.READY)
  assert.equal(await of.getStringValue('banner', 'x', {}), 'hello')
  await OpenFeature.clearProviders()
  rmSync(dir, { recursive: true, force: true })
})

test('against pennon serve: an API change is a configuration change naming the flag', { timeout: 60_000 }, async () => {
  const server = await startServer()
  let provider
  try {
    const { token: sdkKey } = await server.admin('POST', '/api/v1/tokens', {
      name: 'ts-openfeature-test',
      role: 'sdk',
      environment: 'development',
    })
    await server.admin('PUT', '/api/v1/environments/development/flags/checkout', { definition: booleanFlag('on') })
    provider = new PennonProvider({ url: server.url, sdkKey })
    const { of } = await openFeatureClient(provider)
    assert.equal(await of.getBooleanValue('checkout', false, { targetingKey: 'u1' }), true)

    const changed = new Promise((resolve) => of.addHandler(ProviderEvents.ConfigurationChanged, resolve))
    await server.admin('POST', '/api/v1/environments/development/flags/checkout/kill', { reason: 'openfeature test' })
    const event = await Promise.race([changed, new Promise((resolve) => setTimeout(resolve, 2000, null))])
    assert.ok(event, 'a configuration change within 2 s of the kill')
    assert.deepEqual(event.flagsChanged, ['checkout'])
    const killed = await of.getBooleanDetails('checkout', true, { targetingKey: 'u1' })
    assert.deepEqual([killed.value, killed.reason], [false, 'KILLED'])
    await OpenFeature.clearProviders()
  } finally {
    provider?.client.close()
    server.child.kill()
  }
})
