'use strict'
// `pennon/testing`: clients for tests (Jest, node:test, Vitest, Mocha alike: no test
// framework is imported). A test client answers from a snapshot in memory, so it is ready
// at once and never touches the network; flags are set with `client.override`.
const { Client } = require('./client.js')
const { ClientError } = require('./errors.js')

/** A snapshot without flags: every flag not overridden is `FLAG_NOT_FOUND` (the getter's default). */
const EMPTY_SNAPSHOT = { schemaVersion: 1, revision: 1, environment: 'test', flags: {} }

function setAll(client, flags) {
  if (typeof flags !== 'object' || flags === null) {
    throw new ClientError('invalid_argument', 'flags must be an object {flag: value}')
  }
  for (const [flag, value] of Object.entries(flags)) client.override(flag, value)
}

/**
 * A ready client for tests: `snapshot` (default: one without flags) with `flags`
 * overridden (`{flag: value}`, reason `STATIC`, variant `override`). Other options go to
 * `createClient` (`envOverrides`, …); no `url` or `file`: a test client never refreshes.
 */
function createTestClient(options = {}) {
  const { flags = {}, snapshot = EMPTY_SNAPSHOT, ...rest } = options
  if (rest.url !== undefined || rest.file !== undefined) {
    throw new ClientError('invalid_config', 'a test client answers from `snapshot`: no url or file')
  }
  const client = new Client({ ...rest, snapshot })
  setAll(client, flags)
  return client
}

/**
 * Runs `fn()` with `flags` overridden on `client`, then puts back what those flags were
 * (their earlier override, or none), also when `fn` throws or its promise rejects.
 * Returns what `fn` returns (a promise when it is `async`). Nested calls restore in turn.
 */
function withFlags(client, flags, fn) {
  const before = client.overrides()
  const restore = () => {
    for (const flag of Object.keys(flags)) {
      if (Object.hasOwn(before, flag)) client.override(flag, before[flag])
      else client.clearOverride(flag)
    }
  }
  let result
  try {
    setAll(client, flags)
    result = fn()
  } catch (error) {
    restore()
    throw error
  }
  if (result !== null && typeof result?.then === 'function') {
    return Promise.resolve(result).finally(restore)
  }
  restore()
  return result
}

module.exports = { createTestClient, withFlags, EMPTY_SNAPSHOT }
