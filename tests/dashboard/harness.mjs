// What the dashboard's browser tests run against: a real `pennon serve` (PENNON_BIN) on a
// SQLite database in a temporary directory with the example flags imported into
// development and production (production protected, as the server creates it), tokens
// made over the admin API, SDK clients that report what they evaluate (the simulator's
// Rust client: `pennon-rollouts watch`, PENNON_ROLLOUTS_BIN), and headless Chromium
// (Debian's, driven by playwright-core) with every console error and page error kept.
// Not a test file itself (no `.test.` in its name).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const ARTIFACTS = join(here, 'artifacts')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
// As root Chromium needs --no-sandbox (playwright passes it); the rest keeps it off the
// network it would otherwise call at every start (TOOLCHAIN.md).
const CHROMIUM_ARGS = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const BOOTSTRAP = 'dashboard-bootstrap-admin-0123456789abcdef'
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** The binary an environment variable names; fails loudly without it. */
export function binary(variable, build) {
  const path = process.env[variable]
  assert.ok(path, `${variable} must name the binary: ${build}`)
  assert.ok(existsSync(path), `${variable}=${path} does not exist: ${build}`)
  return path
}

const pennonBin = () => binary('PENNON_BIN', 'cargo build -p pennon-server --bin pennon')
const rolloutsBin = () => binary('PENNON_ROLLOUTS_BIN', 'cargo build -p pennon-rollouts --bin pennon-rollouts')

/** Lines of a child's stdout, as they come, with a way to wait for one. */
function lines(child) {
  const seen = []
  const waiting = new Set()
  createInterface({ input: child.stdout }).on('line', (line) => {
    seen.push(line)
    for (const waiter of waiting) waiter()
  })
  const waitFor = (predicate, timeout, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = seen.find(predicate)
        if (found === undefined) return false
        waiting.delete(check)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        waiting.delete(check)
        reject(new Error(`${what} within ${timeout} ms; got:\n${seen.join('\n')}`))
      }, timeout)
      if (!check()) waiting.add(check)
    })
  return { seen, waitFor }
}

/**
 * `pennon serve --rollout-interval 200ms` with the example flags in development and
 * production; `call(token, method, path, body)` is the admin API as `token` sees it,
 * `tokens` the people (alice and bob are admins, dana a developer, victor a viewer),
 * `sdkKeys` one SDK key per environment.
 */
export async function startPennon() {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-dashboard-'))
  const env = { ...process.env, PENNON_ADMIN_TOKEN: BOOTSTRAP, RUST_LOG: 'warn' }
  delete env.PENNON_LISTEN
  delete env.PENNON_DATABASE_URL
  const child = spawn(
    pennonBin(),
    ['serve', '--listen', '127.0.0.1:0', '--heartbeat', '1', '--rollout-interval', '200ms', '--database-url', `sqlite://${join(dir, 'db')}`],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const out = lines(child)
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const listening = out.waitFor((line) => line.startsWith('pennon: listening on '), 30_000, 'pennon serve said where it listens')
  const url = (await Promise.race([listening, exited.then((code) => assert.fail(`pennon serve exited (${code})`))])).split(' ').pop()

  const call = async (token, method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text)
  }
  const token = async (name, role, environment) =>
    (await call(BOOTSTRAP, 'POST', '/api/v1/tokens', { name, role, environment })).token
  const snapshot = JSON.parse(readFileSync(join(here, '../../examples/flags.json'), 'utf8'))
  for (const environment of ['development', 'production']) {
    await call(BOOTSTRAP, 'POST', `/api/v1/environments/${environment}/import`, { snapshot, reason: 'the example flags' })
  }
  const environments = await call(BOOTSTRAP, 'GET', '/api/v1/environments')
  const production = environments.find((e) => e.key === 'production')
  assert.equal(production?.protected, true, `production is not protected: ${JSON.stringify(environments)}`)
  const tokens = {
    alice: await token('alice', 'admin'),
    bob: await token('bob', 'admin'),
    dana: await token('dana', 'developer'),
    victor: await token('victor', 'viewer'),
  }
  const sdkKeys = { development: await token('dashboard-test-dev', 'sdk', 'development'), production: await token('dashboard-test-prod', 'sdk', 'production') }
  const stop = async () => {
    child.kill()
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  return { url, call, tokens, sdkKeys, stop }
}

/**
 * One SDK client (`pennon-rollouts watch`, the Rust SDK) of `environment`, evaluating
 * `flags` for `context`: `waitFor(predicate, timeout)` resolves with the first reported
 * evaluation (`{event, revision, flag, value, variant, reason, atMs}`) that matches.
 */
export async function watch(pennon, environment, flags, context) {
  const child = spawn(
    rolloutsBin(),
    ['watch', '--url', pennon.url, '--sdk-key', pennon.sdkKeys[environment], '--flag', flags.join(','), '--context', JSON.stringify(context)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const out = lines(child)
  const waitFor = (predicate, timeout, what) =>
    out.waitFor((line) => predicate(JSON.parse(line)), timeout, `${what} (SDK client of ${environment})`).then(JSON.parse)
  for (const flag of flags) await waitFor((e) => e.event === 'ready' && e.flag === flag, 20_000, `${flag} ready`)
  return { waitFor, stop: () => child.kill() }
}

/** `pennon-rollouts drive …`: resolves with its exit code and JSON summary. */
export function drive(pennon, args) {
  const child = spawn(
    rolloutsBin(),
    ['drive', '--url', pennon.url, '--token', pennon.tokens.alice, '--sdk-key', pennon.sdkKeys.development, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const out = lines(child)
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, summary: out.seen.length ? JSON.parse(out.seen.at(-1)) : null })))
}

export async function launch() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh does)`)
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/** A page in a new browser context (its own sessionStorage: another person), with every console error and page error in `problems`. */
export async function open(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport })
  // A missing element fails in seconds, not in Playwright's default 30 s.
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const problems = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error on ${page.url()}: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`))
  // Chromium's console error for a failed load does not name the resource: this does.
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.request().method()} ${response.url()}`)
  })
  return { page, problems, close: () => context.close() }
}

/** Signs in on the dashboard's sign-in page with `token`; resolves once the shell shows. */
export async function signIn(page, url, token) {
  await page.goto(`${url}/#/signin`)
  await page.getByRole('heading', { name: 'Sign in to Pennon' }).waitFor()
  await page.getByRole('textbox', { name: 'Access token' }).fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
}

/** axe-core on the page as it is: the serious and critical violations, one line each. */
export async function accessibility(page) {
  // Through the DevTools protocol (as @axe-core/playwright does): the dashboard's CSP
  // forbids inline scripts, rightly.
  await page.evaluate(AXE)
  const violations = await page.evaluate(async () => (await globalThis.axe.run(document)).violations)
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`)
}

/** A full-page screenshot into artifacts/; its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true })
  const viewport = page.viewportSize()
  const path = join(ARTIFACTS, `${name}-${viewport.width}x${viewport.height}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}
