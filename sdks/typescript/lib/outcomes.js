'use strict'
// Outcome batches (docs/sdk.md, Outcomes): what the app records with `client.record` and
// the engine counts as exposures is aggregated by the engine (pennon_host::outcomes, lock
// free); this file only takes a batch now and then and sends it to
// `POST {url}/sdk/v1/metrics`. A batch whose send fails is added back to the engine
// (`restoreOutcomes`), so nothing is lost and memory stays bounded however long the server
// is down: the engine holds one set of sums, never a queue of batches.
const { ClientError } = require('./errors.js')

/** The final flush of `close()` gets this long at most. */
const CLOSE_FLUSH_TIMEOUT = 1_000
/** A periodic send gets this long at most (it never delays anything else). */
const SEND_TIMEOUT = 10_000

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** A batch id: 32 random hex digits (the server stores each id once and ignores repeats). */
function newBatchId() {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(16)))
}

/**
 * Statuses after which sending the same batch again cannot succeed (the server refused its
 * body): the batch is dropped rather than restored, else it would block every later one.
 */
const UNSENDABLE = new Set([400, 413])

class Outcomes {
  #engine
  #sdk
  #send
  #report
  #failing = false
  #sending = false

  /**
   * `engine()`: the engine in use (successive engines share their outcomes); `sdk`: what
   * a batch says sent it; `send(body, {timeout, hold})`: resolves with the HTTP status or
   * rejects; `report(error)`: a `ClientError` for the client's `error` event (once per run
   * of failures).
   */
  constructor(engine, sdk, send, report) {
    this.#engine = engine
    this.#sdk = sdk
    this.#send = send
    this.#report = report
  }

  /**
   * Takes one batch and sends it; never rejects. A periodic flush is skipped while the
   * previous one is still in flight (a slow server gets one request at a time). `final`:
   * the flush of `close()` (shorter timeout; in Node it holds the process open until it
   * settles).
   */
  async flush(final = false) {
    if (this.#sending && !final) return
    this.#sending = true
    try {
      await this.#flush(final)
    } finally {
      this.#sending = false
    }
  }

  async #flush(final) {
    let body
    try {
      body = this.#engine().takeOutcomes(newBatchId(), this.#sdk)
    } catch (error) {
      return this.#failed(new ClientError('internal', `taking an outcome batch failed: ${error?.message ?? error}`))
    }
    if (body === null || body === undefined) return
    let status
    try {
      status = await this.#send(body, { timeout: final ? CLOSE_FLUSH_TIMEOUT : SEND_TIMEOUT, hold: final })
    } catch (error) {
      return this.#restore(body, `sending outcomes failed: ${error?.message ?? error}`)
    }
    if (status >= 200 && status < 300) {
      this.#failing = false
      return
    }
    if (UNSENDABLE.has(status)) {
      return this.#failed(new ClientError('metrics_refused', `the server refused an outcome batch (HTTP ${status}): dropped`))
    }
    this.#restore(body, `sending outcomes failed (HTTP ${status})`)
  }

  /** Adds an unsent batch back to the engine's sums: the next batch carries it. */
  #restore(body, why) {
    try {
      this.#engine().restoreOutcomes(body)
    } catch (error) {
      return this.#failed(new ClientError('internal', `${why}; restoring it failed: ${error?.message ?? error}`))
    }
    this.#failed(new ClientError('metrics_failed', `${why}: kept for the next send`))
  }

  #failed(error) {
    if (this.#failing) return
    this.#failing = true
    this.#report(error)
  }
}

module.exports = { Outcomes, newBatchId, CLOSE_FLUSH_TIMEOUT }
