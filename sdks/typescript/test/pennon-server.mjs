// A real `pennon serve` for the end-to-end tests (env PENNON_BIN; a missing binary fails
// loudly with the command that builds it): SQLite database in a temporary directory, admin
// token PENNON_ADMIN_TOKEN. `admin(method, path, body)` calls the admin API, `sdkKey()`
// creates an SDK key for `development`, `cli(...args)` runs the `pennon` command line
// against it. Not a test file itself (no `.test.` in its name).
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

const ADMIN = 'ts-sdk-admin-token-0123456789abcdef'

function binary() {
  const path = process.env.PENNON_BIN
  assert.ok(path, 'the end-to-end test needs the server: `cargo build -p pennon-server --bin pennon`, then PENNON_BIN=target/debug/pennon')
  assert.ok(existsSync(path), `PENNON_BIN=${path} does not exist`)
  return path
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'pennon-ts-e2e-'))
  const env = { ...process.env, PENNON_ADMIN_TOKEN: ADMIN }
  delete env.PENNON_LISTEN
  delete env.PENNON_DATABASE_URL
  const child = spawn(
    binary(),
    ['serve', '--listen', '127.0.0.1:0', '--heartbeat', '1', '--database-url', `sqlite://${join(dir, 'db')}`],
    { env, stdio: ['ignore', 'pipe', 'ignore'] },
  )
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pennon serve printed no `pennon: listening on URL`')), 30_000)
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^pennon: listening on (\S+)/.exec(line)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`pennon serve exited (${code})`)))
  })
  const admin = async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text)
  }
  const sdkKey = async (name = 'e2e') =>
    (await admin('POST', '/api/v1/tokens', { name, role: 'sdk', environment: 'development' })).token
  const cliEnv = { ...process.env, PENNON_URL: url, PENNON_TOKEN: ADMIN, PENNON_ENV: 'development' }
  delete cliEnv.PENNON_CONFIG
  const cli = (...args) => promisify(execFile)(binary(), args, { env: cliEnv })
  return { child, url, admin, sdkKey, cli }
}

export const booleanFlag = (state) => ({
  type: 'boolean',
  state,
  variants: { on: true, off: false },
  offVariant: 'off',
  fallthrough: { variant: 'on' },
})

/**
 * A client of `createClient` with a refused SDK key: its `ready()` rejects by
 * `initTimeout` and an `error` event says `unauthorized`. Returns it (to close).
 */
export async function refusedKey(createClient, url) {
  const bad = createClient({ url, sdkKey: 'nope', initTimeout: 500 })
  const errors = []
  bad.on('error', (e) => errors.push(e.code))
  await assert.rejects(bad.ready(), (e) => e.code === 'init_timeout')
  assert.ok(errors.includes('unauthorized'), JSON.stringify(errors))
  return bad
}
