// pennon/browser in Node (fetch and ReadableStream are the browser's APIs): the SSE reader,
// bootstraps, getters, and against a real `pennon serve` (PENNON_BIN): a change within 1 s,
// setContext, a refused key. tests/browser/ runs it in Chromium.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { createClient, sseReader } from 'pennon/browser'
import { booleanFlag, refusedKey, startServer } from './pennon-server.mjs'

const DEV = '/api/v1/environments/development'

test('what a page imports stays small: pennon/browser ≤ 15 KB gzip, with the OpenFeature provider too', () => {
  const gzip = (...files) => gzipSync(Buffer.concat(files.map((f) => readFileSync(new URL(`../browser/${f}`, import.meta.url)))), { level: 9 }).length
  const client = gzip('index.js')
  const withProvider = gzip('index.js', 'openfeature.js')
  console.log(`# pennon/browser ${client} B gzip; with pennon/openfeature-web ${withProvider} B`)
  assert.ok(client <= 15 * 1024, `pennon/browser is ${client} B gzip`)
  assert.ok(withProvider <= 15 * 1024, `pennon/browser + openfeature-web is ${withProvider} B gzip`)
})

test('sseReader: split chunks, CR/LF/CRLF, comments, multi-line data, ids, a cut event', () => {
  const items = []
  const feed = sseReader((item) => items.push(item))
  const bytes = new TextEncoder().encode('id: 7\r\nevent: message\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: heartbeat\n\ndata: é\r')
  for (const byte of bytes) feed(new Uint8Array([byte]))
  feed('\n\ndata: cut')
  assert.deepEqual(items, [
    { event: 'message', id: '7', data: '{"a":\n1}' },
    { comment: 'heartbeat' },
    { event: 'message', id: '7', data: 'é' },
  ])
})

const bootstrap = {
  revision: 4,
  generatedAt: new Date(Date.now() - 1000).toISOString(),
  flags: {
    checkout: { value: true, variant: 'on', reason: 'STATIC', errorCode: null, revision: 4 },
    banner: { value: 'hello', variant: 'a', reason: 'TARGETING_MATCH', errorCode: null, revision: 4 },
    limit: { value: 3, variant: 'three', reason: 'STATIC', errorCode: null, revision: 4 },
  },
}

test('a bootstrap: ready at once, typed getters with defaults, details with revision and age', async () => {
  const client = createClient({ bootstrap: JSON.stringify(bootstrap), initTimeout: 100 })
  const ready = new Promise((resolve) => client.once('ready', resolve))
  await client.ready()
  assert.deepEqual(await ready, { revision: 4, recovered: false })
  assert.equal(client.isEnabled('checkout'), true)
  assert.equal(client.getString('banner', 'x'), 'hello')
  assert.equal(client.getNumber('banner', 9), 9, 'wrong type: the default')
  assert.equal(client.getNumber('limit', 9), 3)
  assert.deepEqual(client.getObject('limit', { d: 1 }), { d: 1 })
  assert.equal(client.isEnabled('nope'), false)
  const details = client.evaluate('banner')
  assert.equal(details.reason, 'TARGETING_MATCH')
  assert.equal(details.revision, 4)
  assert.ok(details.age >= 1000 && details.age < 60_000, `age ${details.age}`)
  assert.equal(client.evaluate('nope').errorCode, 'FLAG_NOT_FOUND')
  assert.deepEqual(Object.keys(client.allFlags()), ['banner', 'checkout', 'limit'])
  // The Node client's allFlags(context) map works too; its revision is the newest detail's.
  const map = createClient({ bootstrap: bootstrap.flags })
  assert.equal(map.revision, 4)
  assert.throws(() => createClient({ bootstrap: { flags: { x: 1 } } }), (e) => e.code === 'invalid_body')
  assert.throws(() => createClient({ url: 'http://x' }), (e) => e.code === 'invalid_config')
})

test('ready() rejects by initTimeout when the server is unreachable, naming the last error', async () => {
  const client = createClient({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 300, backoff: { base: 50, cap: 100 } })
  const errors = []
  client.on('error', (e) => errors.push(e.code))
  assert.equal(client.evaluate('x').errorCode, 'PROVIDER_NOT_READY')
  await assert.rejects(client.ready(), (e) => e.code === 'init_timeout' && /network_error/.test(e.message))
  assert.ok(errors.includes('network_error'), JSON.stringify(errors))
  client.close()
})

/**
 * A scripted server as a `fetch`: `evaluate()` answers POST /sdk/v1/evaluate (a status or
 * a results object); `events()` answers GET /ofrep/v1/events (a status, or a stream the
 * test writes to). Records every request.
 */
function scripted({ evaluate, events }) {
  const requests = []
  const fetch = async (url, init) => {
    const path = new URL(url).pathname
    requests.push(`${init.method ?? 'GET'} ${path} ${init.headers['last-event-id'] ?? ''}`.trim())
    const answer = path === '/sdk/v1/evaluate' ? evaluate() : events(init.signal)
    if (typeof answer === 'number') return new Response('', { status: answer })
    if (answer instanceof ReadableStream) return new Response(answer, { headers: { 'content-type': 'text/event-stream' } })
    return Response.json(answer)
  }
  return { fetch, requests }
}

const results = (revision, checkout) => ({
  revision,
  flags: { checkout: { value: checkout, variant: String(checkout), reason: 'STATIC', errorCode: null, revision } },
})

test('stream down: the client polls, reconnects with backoff, goes stale, and recovers', { timeout: 10_000 }, async () => {
  let revision = 1
  let evaluateStatus = 200
  const server = scripted({
    evaluate: () => (evaluateStatus === 200 ? results(revision, revision > 1) : evaluateStatus),
    events: () => 503,
  })
  const client = createClient({
    url: 'http://pennon.test',
    sdkKey: 'k',
    fetch: server.fetch,
    pollInterval: 100,
    staleAfter: 250,
    backoff: { base: 20, cap: 40 },
  })
  const events = []
  for (const name of ['ready', 'change', 'error', 'stale']) client.on(name, (e) => events.push([name, e]))
  try {
    await client.ready()
    revision = 2
    await sleep(350) // reconnects every ≤ 40 ms must not starve the 100 ms poll
    assert.equal(client.isEnabled('checkout'), true, 'a poll installed revision 2')
    assert.ok(server.requests.filter((r) => r.startsWith('GET /ofrep/v1/events')).length >= 4, server.requests.join('\n'))
    assert.ok(events.some(([name, e]) => name === 'change' && e.revision === 2 && e.flags.join() === 'checkout'))
    assert.ok(events.some(([name, e]) => name === 'error' && e.code === 'server_error'))
    evaluateStatus = 500
    await sleep(400)
    assert.equal(client.isStale, true)
    assert.ok(events.some(([name, e]) => name === 'stale' && e.revision === 2))
    assert.equal(client.isEnabled('checkout'), true, 'stale results keep answering')
    evaluateStatus = 200
    await sleep(250)
    assert.equal(client.isStale, false)
    assert.ok(events.some(([name, e]) => name === 'ready' && e.recovered === true))
  } finally {
    client.close()
  }
})

test('the stream: Last-Event-ID, a notification re-fetches, a silent stream is reconnected', { timeout: 10_000 }, async () => {
  let revision = 3
  const streams = []
  const server = scripted({
    evaluate: () => results(revision, revision > 3),
    events: (signal) =>
      new ReadableStream({
        start(controller) {
          streams.push(controller)
          signal.addEventListener('abort', () => controller.error(new Error('aborted')))
        },
      }),
  })
  const client = createClient({ url: 'http://pennon.test', sdkKey: 'k', fetch: server.fetch, heartbeat: 100, backoff: { base: 1, cap: 1 } })
  const errors = []
  client.on('error', (e) => errors.push(e.code))
  try {
    await client.ready()
    await sleep(20)
    assert.equal(streams.length, 1)
    const change = new Promise((resolve) => client.once('change', resolve))
    revision = 4
    streams[0].enqueue(new TextEncoder().encode('id: 4\nevent: message\ndata: {"type":"refetchEvaluation"}\n\n'))
    assert.deepEqual(await change, { revision: 4, previousRevision: 3, flags: ['checkout'], contextChanged: false })
    // A notification of a revision already held fetches nothing.
    const fetched = server.requests.length
    streams[0].enqueue(new TextEncoder().encode('id: 4\ndata: {"type":"refetchEvaluation"}\n\n: heartbeat\n\n'))
    await sleep(20)
    assert.equal(server.requests.length, fetched)
    // Silence past 3 × heartbeat: reconnect, resuming from the revision held.
    await sleep(400)
    assert.ok(errors.includes('stream_silent'), JSON.stringify(errors))
    assert.ok(streams.length >= 2)
    assert.ok(server.requests.includes('GET /ofrep/v1/events 4'), server.requests.join('\n'))
  } finally {
    client.close()
  }
})

test('against pennon serve: a CLI change within 1 s, setContext, a refused key', { timeout: 60_000 }, async () => {
  const server = await startServer()
  const clients = []
  try {
    const sdkKey = await server.sdkKey()
    await server.admin('PUT', `${DEV}/flags/checkout`, { definition: booleanFlag('on') })
    const beta = { ...booleanFlag('on'), fallthrough: { variant: 'off' } }
    beta.rules = [{ id: 'beta', when: { attribute: 'beta', op: 'equals', value: true }, serve: { variant: 'on' } }]
    await server.admin('PUT', `${DEV}/flags/beta-banner`, { definition: beta })

    const client = createClient({ url: server.url, sdkKey, context: { targetingKey: 'u1' } })
    clients.push(client)
    await client.ready()
    assert.equal(client.isEnabled('checkout'), true)
    assert.equal(client.isEnabled('beta-banner'), false)
    const revision = client.revision
    await sleep(200) // the stream is connected
    const change = new Promise((resolve) => client.once('change', resolve))
    await server.cli('kill', 'checkout', '--reason', 'browser client test')
    const killedAt = Date.now()
    const event = await Promise.race([change, sleep(1000).then(() => null)])
    assert.ok(event, 'a change event within 1 s of `pennon kill` returning')
    assert.ok(Date.now() - killedAt < 1000)
    assert.deepEqual(event, { revision: revision + 1, previousRevision: revision, flags: ['checkout'], contextChanged: false })
    assert.equal(client.evaluate('checkout').reason, 'KILLED')

    // Another user: re-fetched; change names the flags whose result differs for them.
    const switched = new Promise((resolve) => client.once('change', resolve))
    await client.setContext({ targetingKey: 'u2', beta: true })
    assert.deepEqual((await switched).flags, ['beta-banner'])
    assert.equal(client.isEnabled('beta-banner'), true)

    // A change that leaves this user's results alone still announces the revision, with no keys.
    const quiet = new Promise((resolve) => client.once('change', resolve))
    const { revision: baseRevision } = await server.admin('GET', `${DEV}/flags/beta-banner`)
    await server.admin('PUT', `${DEV}/flags/beta-banner`, { definition: { ...beta, fallthrough: { variant: 'on' } }, baseRevision })
    const unchanged = await Promise.race([quiet, sleep(1000).then(() => null)])
    assert.ok(unchanged, 'a change event for the new revision')
    assert.deepEqual(unchanged.flags, [], 'u2 matches the beta rule either way')

    // A refused key: `unauthorized`, and ready() rejects by initTimeout.
    clients.push(await refusedKey(createClient, server.url))
  } finally {
    for (const c of clients) c.close()
    server.child.kill()
  }
})
