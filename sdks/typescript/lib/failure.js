'use strict'
// What a failed check of the SDK protocol (docs/control-plane.md, SDK routes) is, the same
// over node:http (lib/http.js) and fetch (lib/fetch.js): the codes of an HTTP status, of a
// timeout and of a broken connection.
const { ClientError } = require('./errors.js')

/** No connection within this many ms fails a request with `timeout`. */
const CONNECT_TIMEOUT = 5_000
/** A snapshot request must be answered in full within this many ms. */
const REQUEST_TIMEOUT = 10_000

/** A failed check. `auth` marks 401/403: not a breaker failure, never retried faster than the poll interval. */
class Failure extends Error {
  constructor(code, message, auth = false) {
    super(message)
    this.error = new ClientError(code, message)
    this.auth = auth
  }
}

/** A thrown value as a Failure: `timeout` when a deadline fired, else `network_error`. */
function asFailure(error, timedOut, what = 'request failed') {
  if (error instanceof Failure) return error
  const code = timedOut ? 'timeout' : 'network_error'
  return new Failure(code, `${what}: ${error?.message ?? error}`)
}

/** The Failure of a non-2xx answer (`null` for 2xx). */
function statusFailure(status, base) {
  if (status >= 200 && status < 300) return null
  const [code, auth, what] =
    status === 401
      ? ['unauthorized', true, 'the SDK key was refused (unknown, revoked or malformed): check sdkKey']
      : status === 403
        ? ['forbidden', true, 'the SDK key may not read this (is it an SDK key for this environment?)']
        : status >= 500 && status <= 599
          ? ['server_error', false, 'the server failed']
          : ['http_error', false, 'unexpected answer']
  return new Failure(code, `${what} (HTTP ${status} from ${base})`, auth)
}

module.exports = { Failure, asFailure, statusFailure, CONNECT_TIMEOUT, REQUEST_TIMEOUT }
