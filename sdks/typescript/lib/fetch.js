'use strict'
// The requests of the SDK protocol (docs/control-plane.md, SDK routes) over `fetch`:
// the web platform's HTTP (browsers, workers, Deno). The stream is read from the response
// body (a ReadableStream), not with EventSource: EventSource cannot send the
// `Authorization` header, nor choose `Last-Event-ID` on a reconnect.
const { Failure, asFailure, statusFailure, REQUEST_TIMEOUT } = require('./failure.js')

const SDK = `pennon-web/${require('../package.json').version}`

class FetchHttp {
  #base
  #authorization
  #active = new Set()

  constructor(base, sdkKey) {
    this.#base = base
    this.#authorization = `Bearer ${sdkKey}`
  }

  /** What an outcome batch says sent it (its `sdk`): this SDK and version. */
  get sdk() {
    return SDK
  }

  /** `POST /sdk/v1/metrics` (see `postMetrics`): the HTTP status. */
  postMetrics(body, options) {
    return postMetrics(this.#base, this.#authorization, body, options)
  }

  /** Aborts every request in flight (but an outcome batch). */
  close() {
    for (const controller of this.#active) controller.abort()
    this.#active.clear()
  }

  /**
   * Sends a GET that `controller` can abort; resolves with the response once its headers
   * arrived, or rejects with a Failure (`timeout` when none came within `headersTimeout`).
   */
  async #get(path, headers, headersTimeout, controller) {
    this.#active.add(controller)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, headersTimeout)
    try {
      return await fetch(`${this.#base}${path}`, {
        headers: { authorization: this.#authorization, ...headers },
        // The client sends its own If-None-Match: no HTTP cache in between.
        cache: 'no-store',
        signal: controller.signal,
      })
    } catch (error) {
      this.#active.delete(controller)
      throw timedOut
        ? new Failure('timeout', `request failed: no answer within ${headersTimeout} ms (${this.#base}${path})`)
        : asFailure(error, false)
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * `GET /sdk/v1/snapshot`: `{notModified: true}` or `{bytes, signature, etag}`. Rejects with
   * a `Failure`. The whole exchange must finish within 10 s.
   */
  async snapshot(etag) {
    const controller = new AbortController()
    let expired = false
    const deadline = setTimeout(() => {
      expired = true
      controller.abort()
    }, REQUEST_TIMEOUT)
    const late = () => new Failure('timeout', `request failed: no complete answer within ${REQUEST_TIMEOUT} ms`)
    try {
      const res = await this.#get(
        '/sdk/v1/snapshot',
        etag ? { 'if-none-match': etag } : {},
        REQUEST_TIMEOUT,
        controller,
      ).catch((failure) => {
        throw expired ? late() : failure
      })
      if (res.status === 304) return { notModified: true }
      const failure = statusFailure(res.status, this.#base)
      if (failure !== null) {
        controller.abort()
        throw failure
      }
      let bytes
      try {
        bytes = new Uint8Array(await res.arrayBuffer())
      } catch (error) {
        throw expired ? late() : asFailure(error, false, 'reading the snapshot failed')
      }
      return { bytes, signature: res.headers.get('pennon-signature'), etag: res.headers.get('etag') }
    } finally {
      clearTimeout(deadline)
      this.#active.delete(controller)
    }
  }

  /**
   * `GET /sdk/v1/stream` with `Last-Event-ID`: resolves `{chunks, close}` (the body's byte
   * chunks, and a function that ends the request) once a 2xx answer's headers arrived (no
   * overall timeout: the caller's watchdog guards the body).
   */
  async openStream(lastEventId, watchdog) {
    const controller = new AbortController()
    const headers = { accept: 'text/event-stream' }
    if (lastEventId !== null && lastEventId !== undefined) headers['last-event-id'] = String(lastEventId)
    const res = await this.#get('/sdk/v1/stream', headers, watchdog, controller)
    const close = () => {
      controller.abort()
      this.#active.delete(controller)
    }
    const failure = statusFailure(res.status, this.#base)
    if (failure !== null || res.body === null) {
      close()
      throw failure ?? new Failure('network_error', `the stream answered without a body (${this.#base})`)
    }
    return { chunks: chunksOf(res.body), close }
  }
}

/** Browsers refuse a `keepalive` request whose body is larger than 64 KiB. */
const KEEPALIVE_LIMIT = 60 * 1024

/**
 * `POST /sdk/v1/metrics` with an outcome batch (JSON text): the HTTP status, or a `Failure`
 * (`timeout` after `timeout` ms). `keepalive` (when the body is small enough for it) lets the
 * request outlive the page that sent it (`close()` on `pagehide`).
 */
async function postMetrics(base, authorization, body, { timeout }) {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeout)
  const url = `${base}/sdk/v1/metrics`
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body,
      keepalive: new TextEncoder().encode(body).byteLength <= KEEPALIVE_LIMIT,
      signal: controller.signal,
    })
    await res.arrayBuffer().catch(() => null)
    return res.status
  } catch (error) {
    throw timedOut ? new Failure('timeout', `request failed: no answer within ${timeout} ms (${url})`) : asFailure(error, false)
  } finally {
    clearTimeout(timer)
  }
}

/** The chunks of a ReadableStream (not every browser makes one async-iterable). */
async function* chunksOf(body) {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

module.exports = { FetchHttp }
