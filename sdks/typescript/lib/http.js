'use strict'
// The requests of the SDK protocol (docs/control-plane.md, SDK routes) over
// node:http / node:https. Not `fetch`: its sockets cannot be unref'd, and a client must
// never keep a process alive (DESIGN §5) — an open stream would. Every socket here is
// unref'd; `Client.ready()` holds a ref'd timer while someone awaits it, and the final
// outcome batch of `close()` a ref'd request (1 s at most).
const http = require('node:http')
const https = require('node:https')
const { Failure, asFailure, statusFailure, CONNECT_TIMEOUT, REQUEST_TIMEOUT } = require('./failure.js')

const USER_AGENT = `pennon-node/${require('../package.json').version}`

class Http {
  #base
  #authorization
  #agent
  #module
  #active = new Set()

  constructor(base, sdkKey) {
    this.#base = base
    this.#authorization = `Bearer ${sdkKey}`
    this.#module = base.startsWith('https:') ? https : http
    this.#agent = new this.#module.Agent({ keepAlive: true })
  }

  /** What an outcome batch says sent it (its `sdk`): this SDK and version, as `User-Agent`. */
  get sdk() {
    return USER_AGENT
  }

  /** `POST /sdk/v1/metrics` (see `postMetrics`): the HTTP status. */
  postMetrics(body, options) {
    return postMetrics(this.#module, this.#base, this.#authorization, body, options)
  }

  /** Aborts every request in flight (but an outcome batch) and closes the idle sockets. */
  close() {
    for (const req of this.#active) req.destroy()
    this.#active.clear()
    this.#agent.destroy()
  }

  /**
   * Sends a GET; resolves with the response once its headers arrived. The request fails
   * with `timeout` when it is not connected within 5 s or has no headers within
   * `headersTimeout`. `request` receives the request (to destroy it later).
   */
  #get(path, headers, headersTimeout, request) {
    return new Promise((resolve, reject) => {
      const req = this.#module.get(
        `${this.#base}${path}`,
        { agent: this.#agent, headers: { authorization: this.#authorization, 'user-agent': USER_AGENT, ...headers } },
        (res) => {
          clearTimeout(timer)
          resolve(res)
        },
      )
      this.#active.add(req)
      request(req)
      let timedOut = false
      const timeout = (ms, what) =>
        setTimeout(() => {
          timedOut = true
          req.destroy(new Failure('timeout', `request failed: ${what} within ${ms} ms (${this.#base}${path})`))
        }, ms).unref()
      let timer = timeout(Math.min(CONNECT_TIMEOUT, headersTimeout), 'no connection')
      req.on('socket', (socket) => {
        socket.unref()
        const connected = () => {
          clearTimeout(timer)
          timer = timeout(headersTimeout, 'no answer')
        }
        if (socket.connecting) socket.once('connect', connected)
        else connected()
      })
      req.on('close', () => {
        clearTimeout(timer)
        this.#active.delete(req)
      })
      req.on('error', (error) => {
        clearTimeout(timer)
        reject(asFailure(error, timedOut))
      })
    })
  }

  /**
   * `GET /sdk/v1/snapshot`: `{notModified: true}` or `{bytes, signature, etag}`. Rejects with
   * a `Failure`. The whole exchange must finish within 10 s.
   */
  async snapshot(etag) {
    let req
    let expired = false
    const late = () => new Failure('timeout', `request failed: no complete answer within ${REQUEST_TIMEOUT} ms`)
    const deadline = setTimeout(() => {
      expired = true
      req?.destroy(late())
    }, REQUEST_TIMEOUT).unref()
    try {
      const res = await this.#get('/sdk/v1/snapshot', etag ? { 'if-none-match': etag } : {}, REQUEST_TIMEOUT, (r) => {
        req = r
      })
      if (res.statusCode === 304) {
        res.resume()
        return { notModified: true }
      }
      checkStatus(res, this.#base)
      const chunks = []
      try {
        for await (const chunk of res) chunks.push(chunk)
      } catch (error) {
        throw expired ? late() : asFailure(error, false, 'reading the snapshot failed')
      }
      if (!res.complete) throw new Failure('network_error', 'reading the snapshot failed: the answer was cut short')
      return {
        bytes: Buffer.concat(chunks),
        signature: header(res, 'pennon-signature'),
        etag: header(res, 'etag'),
      }
    } finally {
      clearTimeout(deadline)
    }
  }

  /**
   * `GET /sdk/v1/stream` with `Last-Event-ID`: resolves `{chunks, close}` (the body's byte
   * chunks, and a function that ends the request) once a 2xx answer's headers arrived (no
   * overall timeout: the caller's watchdog guards the body).
   */
  async openStream(lastEventId, watchdog) {
    let req
    const headers = { accept: 'text/event-stream' }
    if (lastEventId !== null && lastEventId !== undefined) headers['last-event-id'] = String(lastEventId)
    const res = await this.#get('/sdk/v1/stream', headers, watchdog, (r) => {
      req = r
    })
    try {
      checkStatus(res, this.#base)
    } catch (failure) {
      req.destroy()
      throw failure
    }
    return { chunks: res, close: () => req.destroy() }
  }
}

/**
 * `POST /sdk/v1/metrics` with an outcome batch (JSON text); resolves with the HTTP status
 * once the answer was read, rejects with a `Failure` (`timeout` after `timeout` ms). Its own
 * connection (`agent: false`), so that `close()` can end the refresh's requests at once while
 * the final flush still goes out. `hold`: the request keeps the process alive until it
 * settles (the final flush of `close()`); otherwise its socket and timer are unref'd.
 */
function postMetrics(module, base, authorization, body, { timeout, hold }) {
  return new Promise((resolve, reject) => {
    const url = `${base}/sdk/v1/metrics`
    const req = module.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization,
          'user-agent': USER_AGENT,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', (error) => reject(asFailure(error, false)))
      },
    )
    const timer = setTimeout(() => {
      req.destroy(new Failure('timeout', `request failed: no answer within ${timeout} ms (${url})`))
    }, timeout)
    if (!hold) timer.unref()
    req.on('socket', (socket) => {
      if (!hold) socket.unref()
    })
    req.on('close', () => clearTimeout(timer))
    req.on('error', (error) => reject(asFailure(error, false)))
    req.end(body)
  })
}

function header(res, name) {
  const value = res.headers[name]
  return typeof value === 'string' ? value : null
}

function checkStatus(res, base) {
  const failure = statusFailure(res.statusCode ?? 0, base)
  if (failure === null) return
  res.resume()
  throw failure
}

module.exports = { Http, Failure }
