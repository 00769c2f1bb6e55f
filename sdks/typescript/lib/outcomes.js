'use strict'
// Outcome batches (docs/sdk.md, Outcomes): what the app records with `client.record` and
// the engine counts as exposures is aggregated by the engine (pennon_host::outcomes, lock
// free); this file only takes a batch now and then and sends it to
// `POST {url}/sdk/v1/metrics`. A batch whose send fails is kept (pending) and sent again
// verbatim, same batch id and bytes, before a new one is taken: when the server stored it
// but the answer was lost (a timeout, a 503 after the commit) it ignores the repeat, so
// nothing is counted twice, and nothing is lost however long it is down. Meanwhile the
// engine's counters keep adding up, so memory stays one pending body plus the engine's
// fixed sums, never a queue of batches. The same policy as the Rust SDK
// (sdks/rust/src/outcomes.rs): periodic failures are retried on the next tick, silently;
// `client.flushOutcomes()` reports them.
const { ClientError } = require('./errors.js')
const { REQUEST_TIMEOUT, statusFailure } = require('./failure.js')

/** The final flush of `close()` gets this long at most. */
const CLOSE_FLUSH_TIMEOUT = 1_000

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** A batch id: 32 random hex digits (the server stores each id once and ignores repeats). */
function newBatchId() {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(16)))
}

/**
 * Statuses after which sending the same batch again cannot succeed (the server refused its
 * body): the batch is dropped rather than kept, else it would block every later one.
 */
const UNSENDABLE = new Set([400, 413, 422])

class Outcomes {
  #engine
  #sdk
  #send
  #sending = false
  /** The batch whose send failed (a string), sent again before a new one is taken. */
  #pending = null

  /**
   * `engine()`: the engine in use (successive engines share their outcomes); `sdk`: what
   * a batch says sent it; `send(body, {timeout, hold})`: resolves with the HTTP status or
   * rejects.
   */
  constructor(engine, sdk, send) {
    this.#engine = engine
    this.#sdk = sdk
    this.#send = send
  }

  /** The periodic send: skipped while the previous one is in flight; never rejects. */
  tick() {
    if (this.#sending) return
    this.flush().catch(() => {})
  }

  /**
   * Sends the pending batch, else takes a new one and sends it: `true` when the server
   * took it, `false` when nothing was new. Rejects with a ClientError when the send failed
   * (the batch stays pending, or is dropped when the server refused its body). `final`: the
   * flush of `close()` (1 s at most; in Node it holds the process open until it settles).
   */
  async flush(final = false) {
    this.#sending = true
    try {
      return await this.#flush(final)
    } finally {
      this.#sending = false
    }
  }

  async #flush(final) {
    this.#pending ??= this.#engine().takeOutcomes(newBatchId(), this.#sdk) ?? null
    // Two sends at once (a tick's and flushOutcomes()'s) send the same batch: the server
    // keeps it once.
    const body = this.#pending
    if (body === null) return false
    let status
    try {
      status = await this.#send(body, { timeout: final ? CLOSE_FLUSH_TIMEOUT : REQUEST_TIMEOUT, hold: final })
    } catch (error) {
      throw new ClientError(error?.error?.code ?? 'network_error', `sending outcomes failed: ${error?.message ?? error}`)
    }
    if (status >= 200 && status < 300) return this.#settle(body)
    if (UNSENDABLE.has(status)) {
      this.#settle(body)
      throw new ClientError('http_error', `the server refused an outcome batch (HTTP ${status}): dropped`)
    }
    throw statusFailure(status, 'POST /sdk/v1/metrics').error
  }

  /** The server answered `body` for good: the next send takes a new batch. */
  #settle(body) {
    if (this.#pending === body) this.#pending = null
    return true
  }
}

module.exports = { Outcomes, newBatchId }
