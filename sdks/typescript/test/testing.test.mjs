// `pennon/testing` under node:test: a ready test client with flags, `withFlags` restoring
// what was there (sync, async, throwing, nested), over a real snapshot too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestClient, withFlags } from 'pennon/testing'

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'tests', 'sdk', 'fixtures', 'basic-r1.json')

test('createTestClient: ready at once, flags overridden, others answer their default', async () => {
  const client = createTestClient({ flags: { 'new-checkout': true, banner: 'hi', 'max-retries': 5 } })
  assert.equal(client.revision, 1)
  await client.ready()
  assert.equal(client.isEnabled('new-checkout', { targetingKey: 'u' }), true)
  assert.equal(client.getString('banner', {}, 'x'), 'hi')
  assert.equal(client.getNumber('max-retries', {}, 1), 5)
  assert.equal(client.getNumber('banner', {}, 1), 1, 'an override of another type does not answer')
  assert.equal(client.isEnabled('unknown', {}), false)
  assert.equal(client.evaluate('unknown', {}).errorCode, 'FLAG_NOT_FOUND')
  assert.deepEqual([client.evaluate('banner', {}).variant, client.evaluate('banner', {}).reason], ['override', 'STATIC'])
  assert.throws(() => createTestClient({ url: 'http://127.0.0.1:9', sdkKey: 'k' }), (e) => e.code === 'invalid_config')
  assert.throws(() => createTestClient({ flags: { a: undefined } }), (e) => e.code === 'invalid_argument')
})

test('createTestClient over a real snapshot: core answers what is not overridden', () => {
  const client = createTestClient({ snapshot: readFileSync(fixture, 'utf8'), flags: { 'max-retries': 9 } })
  assert.equal(client.getString('banner', { email: 'ada@pennon.dev' }, 'x'), 'hello staff')
  assert.equal(client.getNumber('max-retries', {}, 1), 9)
})

test('withFlags restores earlier overrides after sync, async and throwing bodies', async () => {
  const client = createTestClient({ snapshot: readFileSync(fixture, 'utf8'), flags: { banner: 'outer' } })
  const value = withFlags(client, { banner: 'inner', 'new-checkout': false }, () => {
    assert.equal(client.getString('banner', {}, 'x'), 'inner')
    assert.equal(client.isEnabled('new-checkout', {}), false)
    // Nested: restores the outer call's values.
    withFlags(client, { banner: 'nested' }, () => assert.equal(client.getString('banner', {}, 'x'), 'nested'))
    assert.equal(client.getString('banner', {}, 'x'), 'inner')
    return 42
  })
  assert.equal(value, 42)
  assert.deepEqual(client.overrides(), { banner: 'outer' })
  assert.equal(client.isEnabled('new-checkout', {}), true, 'core answers again')

  const result = withFlags(client, { 'new-checkout': false }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return client.isEnabled('new-checkout', {})
  })
  assert.equal(client.isEnabled('new-checkout', {}), false, 'still set while the promise is pending')
  assert.equal(await result, false)
  assert.equal(client.isEnabled('new-checkout', {}), true)

  assert.throws(() => withFlags(client, { banner: 'boom' }, () => { throw new Error('body failed') }), /body failed/)
  await assert.rejects(withFlags(client, { banner: 'boom' }, async () => { throw new Error('async failed') }), /async failed/)
  assert.deepEqual(client.overrides(), { banner: 'outer' })
})
