// Compiled (not run) by `tsc -p sdks/typescript`: the subpath declarations against the real
// OpenFeature server SDK's and Fastify's types.
import { OpenFeature, type Provider } from '@openfeature/server-sdk'
import Fastify, { type FastifyRequest } from 'fastify'
import { createClient, type Details } from 'pennon'
import { requireFlag } from 'pennon/fastify'
import { PennonProvider } from 'pennon/openfeature'
import { createTestClient, withFlags } from 'pennon/testing'

const client = createClient({ snapshot: '{}' })
const provider: Provider = new PennonProvider(client)
const owned = new PennonProvider({ url: 'http://127.0.0.1:7070', sdkKey: 'k' })
const setting: Promise<void> = OpenFeature.setProviderAndWait(owned)
const tracking = new PennonProvider(client, { conversions: { purchase: 'a', signup: ['a', 'b'] } })
tracking.track('purchase', { targetingKey: 'u' }, { value: 9.5, flag: 'b' })
OpenFeature.getClient().track('purchase', { targetingKey: 'u' })
const typed: Details = provider === owned ? client.evaluate('a', {}, { type: 'boolean' }) : client.evaluate('a')

const app = Fastify()
app.addHook('onRequest', async (request) => {
  request.pennonContext = { targetingKey: request.ip }
})
app.get('/a', { preHandler: requireFlag(client, 'a', { shadowOk: true }) }, async (request) => {
  const mode: 'enabled' | 'shadow' | undefined = request.flagMode
  return mode
})
app.get(
  '/b',
  { preHandler: requireFlag<FastifyRequest>(client, 'b', { context: (request) => ({ targetingKey: request.ip }) }) },
  async () => 'ok',
)

const test = createTestClient({ flags: { a: true, b: 'x' }, envOverrides: { PENNON_FLAG_C: '1' } })
const n: number = withFlags(test, { a: false }, () => 1)
const p: Promise<string> = withFlags(test, { a: false }, async () => 'done')
const overrides: Record<string, unknown> = test.overrides()
void [setting, typed, n, p, overrides, owned.client]
