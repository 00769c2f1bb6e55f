// pennon/openfeature-web with the real @openfeature/web-sdk against a real `pennon serve`
// (PENNON_BIN): values, variant, reason, error codes, flag metadata, ConfigurationChanged
// with flagsChanged, a context change re-fetching, a failed initialisation, and a shared
// client.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/web-sdk'
import { createClient } from 'pennon/browser'
import { PennonWebProvider } from 'pennon/openfeature-web'
import { booleanFlag, startServer } from './pennon-server.mjs'

const DEV = '/api/v1/environments/development'

test('OpenFeature web SDK with the Pennon provider', { timeout: 60_000 }, async () => {
  const server = await startServer()
  try {
    const sdkKey = await server.sdkKey()
    const beta = { ...booleanFlag('on'), fallthrough: { variant: 'off' }, metadata: { owner: 'growth', tags: ['x'] } }
    beta.rules = [{ id: 'beta', when: { attribute: 'beta', op: 'equals', value: true }, serve: { variant: 'on' } }]
    await server.admin('PUT', `${DEV}/flags/beta-banner`, { definition: beta })
    await server.admin('PUT', `${DEV}/flags/checkout`, { definition: booleanFlag('on') })

    await OpenFeature.setContext({ targetingKey: 'u1' })
    await OpenFeature.setProviderAndWait(new PennonWebProvider({ url: server.url, sdkKey }))
    const client = OpenFeature.getClient()
    assert.equal(client.providerStatus, ProviderStatus.READY)
    const details = client.getBooleanDetails('beta-banner', true)
    assert.equal(details.value, false)
    assert.equal(details.variant, 'off')
    assert.equal(details.reason, 'DEFAULT')
    assert.equal(details.errorCode, undefined)
    // Scalar metadata plus the revision (as the OFREP endpoint answers); `tags` has no
    // OpenFeature form.
    const { revision, ...metadata } = details.flagMetadata
    assert.deepEqual(metadata, { owner: 'growth' })
    assert.ok(Number.isInteger(revision) && revision > 0, `revision ${revision}`)
    const missing = client.getBooleanDetails('nope', true)
    assert.equal(missing.value, true)
    assert.equal(missing.errorCode, ErrorCode.FLAG_NOT_FOUND)
    const mismatch = client.getStringDetails('checkout', 'dflt')
    assert.equal(mismatch.value, 'dflt')
    assert.equal(mismatch.errorCode, ErrorCode.TYPE_MISMATCH)

    // A CLI change: ConfigurationChanged naming the flag, within 1 s.
    const changed = new Promise((resolve) => client.addHandler(ProviderEvents.ConfigurationChanged, resolve))
    await server.cli('kill', 'checkout', '--reason', 'openfeature web test')
    const event = await Promise.race([changed, sleep(1000).then(() => null)])
    assert.ok(event, 'ConfigurationChanged within 1 s')
    assert.deepEqual(event.flagsChanged, ['checkout'])
    const killed = client.getBooleanDetails('checkout', true)
    assert.equal(killed.value, false)
    assert.equal(killed.reason, 'KILLED')

    // Static context: a new context re-fetches before the SDK reports it changed.
    await OpenFeature.setContext({ targetingKey: 'u2', beta: true })
    const matched = client.getBooleanDetails('beta-banner', false)
    assert.equal(matched.value, true)
    assert.equal(matched.reason, 'TARGETING_MATCH')
    await OpenFeature.close()

    // A shared client: it gets the SDK's context, and closing OpenFeature leaves it running.
    const shared = createClient({ url: server.url, sdkKey, context: { targetingKey: 'u3' } })
    await OpenFeature.setProviderAndWait(new PennonWebProvider(shared))
    assert.deepEqual(shared.context, { targetingKey: 'u2', beta: true })
    assert.equal(OpenFeature.getClient().getBooleanValue('beta-banner', false), true)
    await OpenFeature.close()
    const still = new Promise((resolve) => shared.once('change', resolve))
    await server.cli('set', 'checkout', 'on')
    assert.ok(await Promise.race([still, sleep(1000).then(() => null)]), 'the shared client still follows changes')
    shared.close()

    // A refused key: initialization fails and the provider reports an error.
    const errors = []
    OpenFeature.addHandler(ProviderEvents.Error, (e) => errors.push(e.message))
    await assert.rejects(OpenFeature.setProviderAndWait(new PennonWebProvider({ url: server.url, sdkKey: 'nope', initTimeout: 300 })))
    assert.equal(OpenFeature.getClient().providerStatus, ProviderStatus.ERROR)
    assert.ok(errors.some((m) => /unauthorized/.test(m)), JSON.stringify(errors))
    await OpenFeature.close()
  } finally {
    server.child.kill()
  }
})
