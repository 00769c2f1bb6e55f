// The client's local behaviour (source `snapshot`, `file`, and closed ports): getters,
// details, overrides, environment overrides, hooks, metrics, allFlags, readiness that
// never hangs, no unhandled rejections, a process that exits by itself, requireFlag.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient, requireFlag, ClientError } from 'pennon'

const snapshot = (revision, extra = {}) => ({
  schemaVersion: 1,
  revision,
  generatedAt: new Date(Date.now() - 1000).toISOString(),
  flags: {
    'new-checkout': {
      type: 'boolean',
      state: 'on',
      variants: { on: true, off: false },
      offVariant: 'off',
      fallthrough: { variant: 'on' },
    },
    'dark-launch': {
      type: 'boolean',
      state: 'shadow',
      variants: { on: true, off: false },
      offVariant: 'off',
      fallthrough: { variant: 'on' },
    },
    'killed-one': {
      type: 'boolean',
      state: 'kill',
      variants: { on: true, off: false },
      offVariant: 'off',
      fallthrough: { variant: 'on' },
    },
    color: { type: 'string', state: 'on', variants: { b: 'blue' }, offVariant: 'b', fallthrough: { variant: 'b' } },
    limit: { type: 'number', state: 'on', variants: { n: 3 }, offVariant: 'n', fallthrough: { variant: 'n' } },
    ...extra,
  },
})

test('getters, details with revision and age, allFlags', async () => {
  const client = createClient({ snapshot: snapshot(7) })
  await client.ready()
  assert.equal(client.isEnabled('new-checkout', { targetingKey: 'u' }), true)
  assert.equal(client.getString('color', {}, 'red'), 'blue')
  assert.equal(client.getNumber('limit', {}, 1), 3)
  assert.equal(client.getNumber('color', {}, 1), 1, 'a type mismatch answers the default')
  assert.deepEqual(client.getObject('nope', {}, { a: 1 }), { a: 1 })
  assert.throws(() => client.getBoolean('new-checkout', {}, 'yes'), ClientError)
  const details = client.evaluate('new-checkout', {})
  assert.equal(details.revision, 7)
  assert.ok(details.age >= 1000 && details.age < 60_000, `age ${details.age}`)
  assert.equal(client.evaluate('missing', {}).errorCode, 'FLAG_NOT_FOUND')
  assert.equal(client.evaluate('missing', {}).value, null)
  assert.deepEqual(Object.keys(client.allFlags({})), ['color', 'dark-launch', 'killed-one', 'limit', 'new-checkout'])
  client.close()
})

test('before the first snapshot: PROVIDER_NOT_READY with the default; ready() rejects at initTimeout', async () => {
  // A port nobody listens on: every check fails fast.
  const client = createClient({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 300, stream: false })
  const errors = []
  client.on('error', (e) => errors.push(e))
  assert.equal(client.getBoolean('x', {}, true), true)
  assert.equal(client.evaluate('x', {}).errorCode, 'PROVIDER_NOT_READY')
  const started = Date.now()
  await assert.rejects(client.ready(), (e) => e.code === 'init_timeout' && /network_error/.test(e.message))
  assert.ok(Date.now() - started < 1000)
  assert.equal(errors[0]?.code, 'network_error')
  client.close()
  await assert.rejects(client.ready(), (e) => e.code === 'closed')
})

test('close() rejects a pending ready() with `closed`', async () => {
  const client = createClient({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 10_000 })
  const pending = client.ready()
  client.close()
  await assert.rejects(pending, (e) => e.code === 'closed')
})

test('configuration errors are thrown with codes', () => {
  const code = (options, want) => assert.throws(() => createClient(options), (e) => e.code === want)
  code({}, 'invalid_config')
  code({ url: 'http://x', file: 'f' }, 'invalid_config')
  code({ url: 'ftp://x', sdkKey: 'k' }, 'invalid_config')
  code({ url: 'http://x' }, 'invalid_config')
  code({ snapshot: snapshot(1), bootstrap: snapshot(1) }, 'invalid_config')
  code({ snapshot: '{"schemaVersion": 1, "revis' }, 'invalid_json')
  code({ url: 'http://x', sdkKey: 'k', publicKey: 'AAAA' }, 'invalid_public_key')
  code({ snapshot: snapshot(1), pollInterval: -1 }, 'invalid_config')
})

test('overrides answer first with STATIC/override, only for calls of their type', async () => {
  const client = createClient({ snapshot: snapshot(1) })
  client.override('new-checkout', false).override('color', 'green').override('only-local', { a: 1 })
  assert.equal(client.isEnabled('new-checkout', {}), false)
  assert.equal(client.getString('color', {}, 'x'), 'green')
  assert.equal(client.getNumber('color', {}, 9), 9, 'a string override does not answer a number getter')
  const details = client.evaluate('new-checkout', {})
  assert.equal(details.reason, 'STATIC')
  assert.equal(details.variant, 'override')
  assert.equal(details.revision, 1)
  assert.deepEqual(client.allFlags({})['only-local'].value, { a: 1 })
  client.clearOverride('new-checkout')
  assert.equal(client.isEnabled('new-checkout', {}), true)
  client.clearOverride()
  assert.equal(client.getString('color', {}, 'x'), 'blue')
})

test('environment-variable overrides apply only when their type matches the flag', () => {
  const client = createClient({
    snapshot: snapshot(1),
    envOverrides: { PENNON_FLAG_NEW_CHECKOUT: 'false', PENNON_FLAG_LIMIT: 'lots', PENNON_FLAG_COLOR: 'red' },
  })
  assert.equal(client.isEnabled('new-checkout', {}), false)
  assert.equal(client.getNumber('limit', {}, 0), 3, 'a string does not override a number flag')
  assert.equal(client.getString('color', {}, 'x'), 'red')
  assert.equal(createClient({ snapshot: snapshot(1) }).isEnabled('new-checkout', {}), true, 'opt-in')
})

test('onEvaluation hooks see every single-flag evaluation; metrics count them', () => {
  const client = createClient({ snapshot: snapshot(1) })
  const seen = []
  const off = client.onEvaluation((flag, details) => seen.push([flag, details.variant, details.reason]))
  client.isEnabled('new-checkout', {})
  client.evaluate('missing', {})
  client.allFlags({})
  off()
  client.isEnabled('new-checkout', {})
  assert.deepEqual(seen, [
    ['new-checkout', 'on', 'STATIC'],
    ['missing', null, 'ERROR'],
  ])
  client.onEvaluation(() => {
    throw new Error('boom')
  })
  const errors = []
  client.on('error', (e) => errors.push(e.code))
  assert.equal(client.isEnabled('new-checkout', {}), true, 'a throwing hook does not break evaluation')
  assert.deepEqual(errors, ['hook_failed'])
  const text = client.metrics()
  assert.ok(text.includes('pennon_evaluations_total{flag="new-checkout",variant="on",reason="STATIC"} 3\n'), text)
  assert.ok(text.includes('pennon_evaluations_total{flag="missing",variant="",reason="ERROR"} 1\n'), text)
})

test('file source: re-read when it changes; a bad file keeps the last good snapshot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-ts-'))
  const path = join(dir, 'snapshot.json')
  writeFileSync(path, JSON.stringify(snapshot(1)))
  const client = createClient({ file: path, pollInterval: 20 })
  const events = []
  client.on('change', (e) => events.push(e))
  client.on('error', (e) => events.push(e))
  await client.ready()
  assert.equal(client.revision, 1)
  writeFileSync(path, '{"schemaVersion": 1, "revis')
  utimesSync(path, new Date(), new Date(Date.now() + 2000))
  await waitFor(() => events.some((e) => e.code === 'invalid_json'))
  assert.equal(client.revision, 1)
  writeFileSync(path, JSON.stringify(snapshot(2)))
  utimesSync(path, new Date(), new Date(Date.now() + 4000))
  await waitFor(() => client.revision === 2)
  assert.deepEqual(events.find((e) => e.revision === 2), { revision: 2, previousRevision: 1, flags: [] }, 'identical definitions: core reports no flag')
  client.close()
})

test('the counts of every snapshot add up: answers before a swap are not lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-ts-'))
  const path = join(dir, 'snapshot.json')
  writeFileSync(path, JSON.stringify(snapshot(1)))
  const client = createClient({ file: path, pollInterval: 20 })
  await client.ready()
  // new-checkout is the same for everyone: the addon answers it from its constant table,
  // whose counts live on the JS side until the engine hands them over.
  for (let i = 0; i < 3; i++) client.isEnabled('new-checkout', {})
  writeFileSync(path, JSON.stringify(snapshot(2)))
  utimesSync(path, new Date(), new Date(Date.now() + 2000))
  await waitFor(() => client.revision === 2)
  for (let i = 0; i < 2; i++) client.isEnabled('new-checkout', {})
  client.getString('new-checkout', {}, 'x')
  const text = client.metrics()
  assert.ok(text.includes('pennon_evaluations_total{flag="new-checkout",variant="on",reason="STATIC"} 5\n'), text)
  assert.ok(text.includes('pennon_evaluations_total{flag="new-checkout",variant="",reason="ERROR"} 1\n'), text)
  client.close()
  rmSync(dir, { recursive: true, force: true })
})

test('no unhandled rejection and no hang: a script with a client to nowhere exits by itself', () => {
  // Timers and sockets are unref'd; ready() rejects at initTimeout; the process must end
  // on its own well before the 30 s poll interval, under --unhandled-rejections=strict.
  const script = `
    const { createClient } = require('pennon')
    const c = createClient({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 200 })
    c.ready().catch((e) => console.log('ready:', e.code))
    createClient({ url: 'http://127.0.0.1:9', sdkKey: 'k', initTimeout: 200 }) // never awaited
  `
  const started = Date.now()
  const run = spawnSync(process.execPath, ['--unhandled-rejections=strict', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'ready: init_timeout')
  assert.ok(Date.now() - started < 5000, 'it exited without waiting for the refresh loop')
})

test('an open stream does not keep the process alive', async () => {
  // A server that answers the snapshot and keeps a stream open forever.
  const body = JSON.stringify(snapshot(1))
  const server = http.createServer((req, res) => {
    if (req.url === '/sdk/v1/snapshot') return res.end(body)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(': hello\n\n')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  const script = `
    const { createClient } = require('pennon')
    const c = createClient({ url: ${JSON.stringify(url)}, sdkKey: 'k' })
    c.ready().then(() => setTimeout(() => console.log('ready', c.revision, c.isEnabled('new-checkout', {})), 300))
  `
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['--unhandled-rejections=strict', '-e', script], { encoding: 'utf8' })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise((resolve) => child.on('exit', resolve))
  server.closeAllConnections()
  server.close()
  assert.equal(code, 0)
  assert.equal(out.trim(), 'ready 1 true')
})

test('requireFlag: 403 FEATURE_DISABLED when off, flagMode enabled / shadow', async () => {
  const client = createClient({ snapshot: snapshot(1) })
  const server = http.createServer((req, res) => {
    const [, flag, shadow] = req.url.split('/')
    const guard = requireFlag(client, flag, { shadowOk: shadow === 'shadow', context: () => ({ targetingKey: 'u' }) })
    guard(req, res, () => res.end(JSON.stringify({ mode: req.flagMode })))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const get = async (path) => {
    const r = await fetch(`http://127.0.0.1:${server.address().port}${path}`)
    return [r.status, await r.json()]
  }
  try {
    assert.deepEqual(await get('/new-checkout'), [200, { mode: 'enabled' }])
    assert.deepEqual(await get('/dark-launch/shadow'), [200, { mode: 'shadow' }])
    assert.deepEqual(await get('/dark-launch'), [
      403,
      { error: 'FEATURE_DISABLED', flag: 'dark-launch', state: 'shadow', reason: 'SHADOW' },
    ])
    assert.deepEqual(await get('/killed-one/shadow'), [
      403,
      { error: 'FEATURE_DISABLED', flag: 'killed-one', state: 'kill', reason: 'KILLED' },
    ])
    assert.deepEqual(await get('/missing'), [
      403,
      { error: 'FEATURE_DISABLED', flag: 'missing', state: 'error', reason: 'ERROR' },
    ])
  } finally {
    server.close()
  }
})

async function waitFor(predicate, ms = 3000) {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(10)
  }
}
