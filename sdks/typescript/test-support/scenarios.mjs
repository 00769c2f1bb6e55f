// The language-neutral SDK behaviour suite (tests/sdk/, format in its README), run by the
// TypeScript SDK on each of its platforms (scenarios.test.mjs: Node, scenarios-web.test.mjs:
// the web build): every scenario in tests/sdk/scenarios/ against its own
// pennon-sdk-harness process (env PENNON_SDK_HARNESS; a missing binary fails loudly with
// the command that builds it). PENNON_SCENARIO=name runs one scenario.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

const SDK_KEY = 'harness-sdk-key'
const DEFAULT_WITHIN = 3000

function harnessBinary() {
  const path = process.env.PENNON_SDK_HARNESS
  assert.ok(
    path,
    'the SDK scenarios need the harness: build it with `cargo build -p pennon-sdk-harness --bin ' +
      'pennon-sdk-harness` and set PENNON_SDK_HARNESS to target/debug/pennon-sdk-harness',
  )
  assert.ok(existsSync(path), `PENNON_SDK_HARNESS=${path} does not exist`)
  return path
}

class Harness {
  static async start() {
    const child = spawn(harnessBinary(), ['--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout })
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the harness did not print `harness: listening on URL`')), 10_000)
      lines.on('line', (line) => {
        const match = /^harness: listening on (\S+)/.exec(line)
        if (match) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
      child.on('exit', (code) => reject(new Error(`the harness exited (${code})`)))
    }).catch((error) => {
      child.kill()
      throw error
    })
    return new Harness(child, url)
  }

  constructor(child, url) {
    this.child = child
    this.url = url
  }

  async control(path, init) {
    const response = await fetch(`${this.url}${path}`, init)
    const text = await response.text()
    let body
    try {
      body = JSON.parse(text)
    } catch {
      throw new Error(`the harness answered no JSON: ${text}`)
    }
    if (!response.ok) throw new Error(`the harness refused: ${response.status} ${text}`)
    return body
  }

  script(serve) {
    return this.control('/_harness/script', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(serve),
    })
  }

  async requests() {
    return (await this.control('/_harness/requests')).requests ?? []
  }

  async publicKey(which) {
    const body = await this.control('/_harness/public-key')
    return which === 'wrong' ? body.wrongPublicKey : body.publicKey
  }

  stop() {
    this.child.stdin.end()
    this.child.kill()
  }
}

const KNOWN_OPTIONS = [
  'stream',
  'pollIntervalMs',
  'initTimeoutMs',
  'staleAfterMs',
  'heartbeatMs',
  'publicKey',
  'backoffBaseMs',
  'backoffCapMs',
  'breakerFailures',
  'breakerOpenMs',
]

/** Numbers compare by value, everything else structurally. */
const same = (a, b) => isDeepStrictEqual(a ?? null, b ?? null)

class Run {
  constructor(createClient, harness, config) {
    this.createClient = createClient
    this.harness = harness
    this.config = config ?? {}
    this.client = null
    this.events = []
    this.wake = null
  }

  async getClient() {
    if (this.client === null) {
      const c = this.config
      for (const key of Object.keys(c)) {
        if (!KNOWN_OPTIONS.includes(key)) throw new Error(`client option \`${key}\` is unknown to the TypeScript runner`)
      }
      // The scenarios are about snapshots: no outcome batches in the harness's request log
      // (test/outcomes.test.mjs tests those).
      const options = { url: this.harness.url, sdkKey: SDK_KEY, metrics: false }
      if (c.stream !== undefined) options.stream = c.stream
      if (c.pollIntervalMs !== undefined) options.pollInterval = c.pollIntervalMs
      if (c.initTimeoutMs !== undefined) options.initTimeout = c.initTimeoutMs
      if (c.staleAfterMs !== undefined) options.staleAfter = c.staleAfterMs
      if (c.heartbeatMs !== undefined) options.heartbeat = c.heartbeatMs
      if (typeof c.publicKey === 'string') options.publicKey = await this.harness.publicKey(c.publicKey)
      if (c.backoffBaseMs !== undefined || c.backoffCapMs !== undefined) {
        options.backoff = { base: c.backoffBaseMs ?? 1000, cap: c.backoffCapMs ?? 30_000 }
      }
      if (c.breakerFailures !== undefined || c.breakerOpenMs !== undefined) {
        options.breaker = { failures: c.breakerFailures ?? 5, openFor: c.breakerOpenMs ?? 30_000 }
      }
      this.client = this.createClient(options)
      for (const type of ['ready', 'change', 'error', 'stale']) {
        this.client.on(type, (payload) => {
          this.events.push({ type, ...payload })
          this.wake?.()
        })
      }
    }
    return this.client
  }

  /** The next event, or null when `deadline` (ms, Date.now()) passes first. */
  async nextEvent(deadline) {
    while (this.events.length === 0) {
      const left = deadline - Date.now()
      if (left <= 0) return null
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = null
    }
    return this.events.shift()
  }

  async step(step) {
    const keys = Object.keys(step)
    if (keys.length !== 1) throw new Error('a step is an object with exactly one key')
    const [kind] = keys
    const spec = step[kind]
    switch (kind) {
      case 'serve':
        return this.harness.script(spec)
      case 'wait':
        await this.getClient()
        return sleep(spec)
      case 'ready':
        return this.ready(spec)
      case 'expectValue':
        return this.expectValue(spec)
      case 'expectEvent':
        return this.expectEvent(spec)
      case 'expectNoEvent':
        return this.expectNoEvent(spec)
      case 'expectRequests':
        return this.expectRequests(spec)
      case 'expectNoRequests':
        return this.expectNoRequests(spec)
      default:
        throw new Error(`unknown step \`${kind}\``)
    }
  }

  async ready(spec) {
    const client = await this.getClient()
    const started = Date.now()
    let error = null
    try {
      await client.ready()
    } catch (e) {
      error = e
    }
    const took = Date.now() - started
    const wantError = typeof spec === 'object' && spec.error === true
    if (!wantError) {
      if (error) throw new Error(`ready failed: ${error.message} (${error.code})`)
      return
    }
    if (!error) throw new Error('ready succeeded, the scenario expects an error')
    if (spec.code !== undefined && error.code !== spec.code) {
      throw new Error(`ready failed with code \`${error.code}\`, expected \`${spec.code}\`: ${error.message}`)
    }
    if (spec.withinMs !== undefined && took > spec.withinMs) {
      throw new Error(`ready took ${took} ms to fail, more than ${spec.withinMs} ms`)
    }
  }

  async expectValue(spec) {
    const client = await this.getClient()
    const deadline = Date.now() + (spec.withinMs ?? DEFAULT_WITHIN)
    for (;;) {
      const details = client.evaluate(spec.flag, spec.context)
      const why = valueMismatch(spec, details)
      if (why === null) return
      if (Date.now() >= deadline) throw new Error(`flag \`${spec.flag}\`: ${why} (details: ${JSON.stringify(details)})`)
      await sleep(20)
    }
  }

  async expectEvent(spec) {
    await this.getClient()
    const within = spec.withinMs ?? DEFAULT_WITHIN
    const deadline = Date.now() + within
    const seen = []
    for (;;) {
      const event = await this.nextEvent(deadline)
      if (event === null) throw new Error(`no matching event within ${within} ms; saw ${JSON.stringify(seen)}`)
      if (eventMatches(spec, event)) return
      seen.push(event)
    }
  }

  async expectNoEvent(spec) {
    await this.getClient()
    const deadline = Date.now() + spec.forMs
    for (;;) {
      const event = await this.nextEvent(deadline)
      if (event === null) return
      if (eventMatches(spec, event)) throw new Error(`unexpected event ${JSON.stringify(event)}`)
    }
  }

  async expectRequests(spec) {
    await this.getClient()
    const deadline = Date.now() + (spec.withinMs ?? DEFAULT_WITHIN)
    const log = []
    for (;;) {
      log.push(...(await this.harness.requests()))
      const problems = ['snapshot', 'stream']
        .filter((route) => spec[route] !== undefined)
        .map((route) => routeMismatch(route, spec[route], log))
        .filter((p) => p !== null)
      if (problems.length === 0) return
      if (Date.now() >= deadline) throw new Error(`${problems.join('; ')} (log: ${summarize(log)})`)
      await sleep(25)
    }
  }

  async expectNoRequests(spec) {
    await this.getClient()
    await this.harness.requests()
    await sleep(spec.forMs)
    const log = (await this.harness.requests()).filter((r) => r.route !== 'other')
    if (log.length > 0) throw new Error(`requests arrived within ${spec.forMs} ms: ${summarize(log)}`)
  }
}

function summarize(log) {
  return `[${log.map((r) => `${r.route}@${r.atMs}ms:${r.status} ${JSON.stringify(r.headers)}`).join(', ')}]`
}

function valueMismatch(spec, details) {
  if (!same(spec.value, details.value)) {
    return `value ${JSON.stringify(details.value)} (expected ${JSON.stringify(spec.value)})`
  }
  for (const key of ['revision', 'variant', 'reason', 'stage', 'errorCode']) {
    if (key in spec && !same(spec[key], details[key])) {
      return `${key} ${JSON.stringify(details[key])} (expected ${JSON.stringify(spec[key])})`
    }
  }
  return null
}

function eventMatches(spec, event) {
  if (spec.type !== event.type) return false
  for (const key of ['revision', 'previousRevision', 'code', 'recovered']) {
    if (key in spec && !same(spec[key], event[key])) return false
  }
  // Exactly core's keys (Snapshot::changed_flags), sorted: every SDK reports the same.
  if (Array.isArray(spec.flags) && !same(spec.flags, event.flags)) return false
  return true
}

function headersMatch(expected, request) {
  return Object.entries(expected).every(([name, want]) => {
    const got = request.headers?.[name.toLowerCase()] ?? null
    return typeof want === 'boolean' ? want === (got !== null) : want === got
  })
}

function routeMismatch(route, spec, log) {
  const requests = log.filter((r) => r.route === route && (spec.status === undefined || r.status === spec.status))
  const n = requests.length
  const what = spec.status === undefined ? `${route} requests` : `${route} requests answered ${spec.status}`
  if (spec.count !== undefined && n !== spec.count) return `${n} ${what}, expected ${spec.count}`
  if (spec.min !== undefined && n < spec.min) return `${n} ${what}, expected at least ${spec.min}`
  if (spec.max !== undefined && n > spec.max) return `${n} ${what}, expected at most ${spec.max}`
  if (spec.every !== undefined) {
    const bad = requests.find((r) => !headersMatch(spec.every, r))
    if (bad) return `a ${route} request does not have ${JSON.stringify(spec.every)}: ${JSON.stringify(bad.headers)}`
  }
  if (spec.some !== undefined && !requests.some((r) => headersMatch(spec.some, r))) {
    return `no ${what} has ${JSON.stringify(spec.some)}`
  }
  return null
}

async function runScenario(createClient, scenario) {
  const harness = await Harness.start()
  const run = new Run(createClient, harness, scenario.client)
  try {
    for (const [index, step] of scenario.steps.entries()) {
      try {
        await run.step(step)
      } catch (error) {
        throw new Error(`step ${index + 1} ${JSON.stringify(step)}: ${error.message}`)
      }
    }
  } finally {
    run.client?.close()
    harness.stop()
  }
}

const dir = join(root, 'tests', 'sdk', 'scenarios')
const scenarios = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')))

/**
 * Defines a test per scenario for one platform's `createClient`. `notExpressible`: the
 * scenarios this platform cannot express yet, by name, with the reason; they are reported
 * as NOT RUN (a test marked `todo` with the reason), never skipped silently.
 */
export function scenarioTests(platform, createClient, notExpressible = {}) {
  test(`${platform}: the scenario list and the scenarios not run agree`, () => {
    assert.ok(scenarios.length > 0, `no scenarios in ${dir}`)
    for (const name of Object.keys(notExpressible)) {
      assert.ok(
        scenarios.some((s) => s.name === name),
        `the scenarios not run name \`${name}\`, which is no scenario`,
      )
    }
  })

  const only = process.env.PENNON_SCENARIO
  for (const scenario of scenarios) {
    if (only && only !== scenario.name) continue
    const reason = notExpressible[scenario.name]
    if (reason !== undefined) {
      test(`${platform}: scenario ${scenario.name}`, { todo: `NOT RUN: ${reason}` }, () => {})
      process.stdout.write(`# ${platform}: scenario ${scenario.name}: NOT RUN (${reason})\n`)
      continue
    }
    test(`${platform}: scenario ${scenario.name}`, { timeout: 60_000 }, () => runScenario(createClient, scenario))
  }
}
