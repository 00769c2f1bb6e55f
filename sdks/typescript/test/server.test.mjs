// End-to-end against a real `pennon serve` (pennon-server.mjs starts it), with an SDK key
// from POST /api/v1/tokens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'pennon'
import { booleanFlag, refusedKey, startServer } from './pennon-server.mjs'

test('against pennon serve: values, a kill seen within 1 s, signatures, polling', { timeout: 60_000 }, async () => {
  const server = await startServer()
  const clients = []
  try {
    const { token: sdkKey } = await server.admin('POST', '/api/v1/tokens', {
      name: 'ts-sdk-test',
      role: 'sdk',
      environment: 'development',
    })
    await server.admin('PUT', '/api/v1/environments/development/flags/checkout', { definition: booleanFlag('on') })
    const user = { targetingKey: 'user-1' }

    // Streaming: ready, the value, then a kill arrives as a change within a second.
    const client = createClient({ url: server.url, sdkKey })
    clients.push(client)
    await client.ready()
    assert.equal(client.isEnabled('checkout', user), true)
    const revision = client.revision
    const change = new Promise((resolve) => client.once('change', resolve))
    const killedAt = Date.now()
    await server.admin('POST', '/api/v1/environments/development/flags/checkout/kill', { reason: 'test' })
    const event = await Promise.race([change, sleep(1000).then(() => null)])
    assert.ok(event, 'a change event within 1 s of the kill')
    assert.ok(Date.now() - killedAt < 1000)
    assert.equal(event.previousRevision, revision)
    assert.ok(event.revision > revision)
    assert.deepEqual(event.flags, ['checkout'], 'core names exactly the killed flag')
    assert.equal(client.isEnabled('checkout', user), false)
    assert.equal(client.evaluate('checkout', user).reason, 'KILLED')

    // The server's public key verifies its snapshots; another key never does.
    const { publicKey } = await (await fetch(`${server.url}/sdk/v1/public-key`)).json()
    const signed = createClient({ url: server.url, sdkKey, publicKey })
    clients.push(signed)
    await signed.ready()
    assert.equal(signed.evaluate('checkout', user).reason, 'KILLED')
    const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x
    const refused = createClient({
      url: server.url,
      sdkKey,
      publicKey: Buffer.from(other, 'base64url').toString('base64'),
      initTimeout: 500,
    })
    clients.push(refused)
    await assert.rejects(refused.ready(), (e) => e.code === 'init_timeout' && /signature_invalid/.test(e.message))

    // Polling only: a change is picked up at the next poll.
    const polling = createClient({ url: server.url, sdkKey, stream: false, pollInterval: 100 })
    clients.push(polling)
    await polling.ready()
    await server.admin('PUT', '/api/v1/environments/development/flags/fresh', { definition: booleanFlag('on') })
    const deadline = Date.now() + 3000
    while (!polling.isEnabled('fresh', user) && Date.now() < deadline) await sleep(20)
    assert.equal(polling.isEnabled('fresh', user), true)

    // A bad SDK key: `unauthorized` names the key problem.
    clients.push(await refusedKey(createClient, server.url))
  } finally {
    for (const c of clients) c.close()
    server.child.kill()
  }
})
