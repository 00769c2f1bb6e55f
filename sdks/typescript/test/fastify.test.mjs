// `requireFlag` of `pennon/fastify` in a real Fastify app (fastify.inject): the same
// decisions as the Express middleware, as a preHandler hook.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { requireFlag } from 'pennon/fastify'
import { createTestClient } from 'pennon/testing'

const flag = (state) => ({ type: 'boolean', state, variants: { on: true, off: false }, offVariant: 'off', fallthrough: { variant: 'on' } })
const snapshot = {
  schemaVersion: 1,
  revision: 3,
  flags: {
    'new-checkout': {
      ...flag('on'),
      rules: [{ id: 'blocked', when: { attribute: 'country', op: 'in', values: ['XX'] }, serve: { variant: 'off' } }],
    },
    'dark-launch': flag('shadow'),
    'killed-one': flag('kill'),
    'switched-off': flag('off'),
  },
}

async function app(client) {
  const fastify = Fastify()
  fastify.addHook('onRequest', async (request) => {
    request.pennonContext = { targetingKey: request.headers['x-user'] ?? 'anonymous', country: request.headers['x-country'] ?? 'DE' }
  })
  for (const name of Object.keys(snapshot.flags)) {
    for (const shadowOk of [false, true]) {
      const path = `/${name}${shadowOk ? '/shadow' : ''}`
      fastify.get(path, { preHandler: requireFlag(client, name, { shadowOk }) }, async (request) => ({ mode: request.flagMode }))
    }
  }
  fastify.get(
    '/custom',
    {
      preHandler: requireFlag(client, 'new-checkout', {
        context: (request) => {
          if (request.headers['x-user'] === undefined) throw new Error('no user header')
          return { targetingKey: request.headers['x-user'], country: 'XX' }
        },
      }),
    },
    async () => 'reached',
  )
  await fastify.ready()
  return fastify
}

test('fastify: flagMode enabled / shadow, 403 FEATURE_DISABLED with the state', async () => {
  const client = createTestClient({ snapshot })
  const fastify = await app(client)
  const get = async (url, headers = {}) => {
    const answer = await fastify.inject({ method: 'GET', url, headers })
    return [answer.statusCode, answer.json()]
  }
  try {
    assert.deepEqual(await get('/new-checkout'), [200, { mode: 'enabled' }])
    assert.deepEqual(await get('/new-checkout', { 'x-country': 'XX' }), [
      403,
      { error: 'FEATURE_DISABLED', flag: 'new-checkout', state: 'on', reason: 'TARGETING_MATCH' },
    ])
    assert.deepEqual(await get('/dark-launch/shadow'), [200, { mode: 'shadow' }])
    assert.deepEqual(await get('/dark-launch'), [
      403,
      { error: 'FEATURE_DISABLED', flag: 'dark-launch', state: 'shadow', reason: 'SHADOW' },
    ])
    assert.deepEqual((await get('/killed-one/shadow'))[1].state, 'kill')
    assert.deepEqual((await get('/switched-off'))[1].state, 'off')
    // An override is a decision like any other.
    client.override('switched-off', true)
    assert.deepEqual(await get('/switched-off'), [200, { mode: 'enabled' }])
    // A context function that throws becomes Fastify's error answer.
    const [status, body] = await get('/custom')
    assert.equal(status, 500)
    assert.match(body.message, /no user header/)
    assert.equal((await get('/custom', { 'x-user': 'u1' }))[0], 403)
    assert.match(client.metrics(), /flag="new-checkout",variant="off",reason="TARGETING_MATCH"\} 2/)
  } finally {
    await fastify.close()
  }
})
