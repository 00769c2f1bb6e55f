// pennon/browser: the Pennon client for web pages. It carries no rules: the server
// evaluates every flag for the page's one user (`POST /sdk/v1/evaluate`, or results a
// server rendered into the page), and the client follows changes over OFREP's light
// notification stream (`GET /ofrep/v1/events`, read with fetch so it can send the key in
// `Authorization`), re-fetching the user's results once per published revision.
// Plain ES module, no dependencies. The behaviour follows docs/sdk.md where it applies.

const SECOND = 1000
const REQUEST_TIMEOUT = 10 * SECOND

/** An error of the client: a stable `code` and a message for people. */
export class ClientError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'ClientError'
    this.code = code
  }
}

/** `value` has the JSON type of a flag type (core's `FlagType::accepts`). */
const accepts = (type, value) =>
  type === 'object'
    ? typeof value === 'object' && value !== null && !Array.isArray(value)
    : type === 'number'
      ? Number.isFinite(value)
      : typeof value === type

/** A result in core's JSON form, as the server would send it for an error. */
const failed = (errorCode, errorMessage, revision) => ({
  value: null,
  variant: null,
  reason: 'ERROR',
  ruleId: null,
  stage: null,
  shadowVariant: null,
  errorCode,
  errorMessage,
  revision,
  flagMetadata: null,
})

/** What identifies a result for `change.flags`: everything but the revision that carried it. */
const identity = (details) => (details ? JSON.stringify({ ...details, revision: 0, age: 0 }) : '')

/** The keys whose result differs between two result maps, sorted. */
function changedKeys(before, after) {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)])
  return [...keys].filter((key) => identity(before?.[key]) !== identity(after[key])).sort()
}

/**
 * Reads `{revision, generatedAt, flags}` from an answer of `POST /sdk/v1/evaluate` or from
 * a bootstrap: that same object, or a map `{flag: details}` (what the Node client's
 * `allFlags(context)` renders), whose revision is the newest its details carry.
 */
function results(input, what) {
  const value = typeof input === 'string' ? JSON.parse(input) : input
  if (typeof value !== 'object' || value === null) throw new ClientError('invalid_body', `${what} is not an object`)
  const flags = value.flags && typeof value.flags === 'object' && !Array.isArray(value.flags) ? value.flags : value
  let revision = Number.isInteger(value.revision) ? value.revision : null
  for (const details of Object.values(flags)) {
    if (typeof details !== 'object' || details === null || !('value' in details)) {
      throw new ClientError('invalid_body', `${what} holds something other than evaluation results`)
    }
    if (value.flags === undefined && Number.isInteger(details.revision)) revision = Math.max(revision ?? 0, details.revision)
  }
  const at = typeof value.generatedAt === 'string' ? Date.parse(value.generatedAt) : Number.NaN
  return { revision, generatedAt: Number.isNaN(at) ? null : at, flags }
}

/**
 * Splits a byte stream of server-sent events into `{event, id, data}` (and `{comment}`
 * for `:` lines): lines end with LF, CR or CRLF, also split across chunks, `data` lines
 * join with `\n`, and an event cut off before its blank line is never delivered.
 */
export function sseReader(onItem) {
  const decoder = new TextDecoder()
  let pending = ''
  let event = { data: null, event: 'message', id: null }
  let lastId = null
  return (chunk) => {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    // A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
    const cut = pending.endsWith('\r') ? pending.length - 1 : pending.length
    const lines = pending.slice(0, cut).split(/\r\n|\r|\n/)
    pending = lines.pop() + pending.slice(cut)
    for (const line of lines) {
      if (line === '') {
        if (event.data !== null) onItem({ event: event.event, id: lastId, data: event.data })
        event = { data: null, event: 'message', id: null }
        continue
      }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1))
      if (field === '') onItem({ comment: value })
      else if (field === 'data') event.data = event.data === null ? value : `${event.data}\n${value}`
      else if (field === 'event') event.event = value
      else if (field === 'id' && !value.includes('\0')) lastId = value
    }
  }
}

/** A failed request: `auth` marks 401/403 (never retried faster than the poll interval). */
function failure(code, message, auth = false) {
  return Object.assign(new ClientError(code, message), { auth })
}

function statusFailure(status, url) {
  if (status === 401) return failure('unauthorized', `the SDK key was refused (HTTP 401 from ${url})`, true)
  if (status === 403) return failure('forbidden', `the SDK key may not read this environment (HTTP 403 from ${url})`, true)
  return failure(status >= 500 ? 'server_error' : 'http_error', `unexpected answer HTTP ${status} from ${url}`)
}

function number(options, name, fallback) {
  const value = options[name] ?? fallback
  if (!Number.isFinite(value) || value < 0) throw new ClientError('invalid_config', `${name} must be a number of milliseconds ≥ 0`)
  return value
}

/** One user's flag results, kept current (README, "Browsers without rules"). */
export class Client {
  #url
  #key
  #fetch
  #context
  #contextVersion = 0
  #flags = null
  /** The context version the held results were fetched for. */
  #installedVersion = 0
  #revision = null
  #generatedAt = null
  #listeners = {}
  #settings
  #ready
  #readyState = {}
  #closed = false
  #stale = false
  /** A check failed since the last success: the next success emits `ready` again. */
  #failing = false
  #lastCheck = Date.now()
  #lastError = null
  #staleTimer
  #pollTimer
  #stream = null
  #attempt = 0
  #watchdog
  #reconnectTimer

  constructor(options = {}) {
    this.#url = options.url ? String(options.url).replace(/\/+$/, '') : null
    this.#key = options.sdkKey ?? null
    if (this.#url && !this.#key) throw new ClientError('invalid_config', 'url needs sdkKey')
    if (!this.#url && options.bootstrap === undefined) throw new ClientError('invalid_config', 'give url + sdkKey, or a bootstrap')
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#context = options.context ?? {}
    const bootstrap = options.bootstrap === undefined ? null : results(options.bootstrap, 'the bootstrap')
    this.#settings = {
      stream: options.stream ?? true,
      pollInterval: number(options, 'pollInterval', 30 * SECOND),
      initTimeout: number(options, 'initTimeout', 5 * SECOND),
      staleAfter: number(options, 'staleAfter', 120 * SECOND),
      heartbeat: number(options, 'heartbeat', 15 * SECOND),
      base: number(options.backoff ?? {}, 'base', SECOND),
      cap: number(options.backoff ?? {}, 'cap', 30 * SECOND),
    }
    this.#ready = new Promise((resolve, reject) => Object.assign(this.#readyState, { resolve, reject }))
    this.#ready.catch(() => {}) // only those who call ready() hear of a timeout
    this.#readyState.timer = setTimeout(() => {
      const why = this.#lastError ? `; last error: ${this.#lastError.message} (${this.#lastError.code})` : ''
      this.#readyState.reject(new ClientError('init_timeout', `no results within ${this.#settings.initTimeout} ms${why}`))
    }, this.#settings.initTimeout)
    if (bootstrap) this.#install(bootstrap, this.#contextVersion)
    if (!this.#url) return
    this.#checked()
    // A bootstrap with a revision needs no fetch while streaming: the stream resumes from
    // that revision (`Last-Event-ID`) and announces any newer one at once.
    if (this.#revision === null || !this.#settings.stream) this.#refresh().catch(() => {})
    if (this.#settings.stream) this.#connect()
    else this.#polling(true)
  }

  // -- events ---------------------------------------------------------------------------

  /** Listens to `ready`, `change`, `error` or `stale`. */
  on(event, listener) {
    ;(this.#listeners[event] ??= new Set()).add(listener)
    return this
  }

  off(event, listener) {
    this.#listeners[event]?.delete(listener)
    return this
  }

  once(event, listener) {
    const once = (payload) => {
      this.off(event, once)
      listener(payload)
    }
    return this.on(event, once)
  }

  #emit(event, payload) {
    for (const listener of this.#listeners[event] ?? []) {
      try {
        listener(payload)
      } catch (error) {
        setTimeout(() => {
          throw error
        })
      }
    }
  }

  #error(error) {
    this.#lastError = error
    this.#failing = true
    this.#emit('error', { code: error.code ?? 'internal', message: error.message })
  }

  // -- state ----------------------------------------------------------------------------

  /** Resolves once results are held (from the server or the bootstrap); rejects with `init_timeout` or `closed`. */
  ready() {
    return this.#ready
  }

  /** The revision the results come from, `null` before the first. */
  get revision() {
    return this.#revision
  }

  get isStale() {
    return this.#stale
  }

  /** The context the results are for. */
  get context() {
    return this.#context
  }

  /**
   * Switches to another user: fetches their results and resolves when they are held
   * (`change` names the flags whose result differs, with `contextChanged: true`).
   * Rejects when the fetch fails; evaluations then keep answering for the old context.
   */
  async setContext(context) {
    if (!this.#url) throw new ClientError('invalid_config', 'a client without url cannot fetch another context')
    this.#context = context ?? {}
    this.#contextVersion++
    await this.#refresh()
  }

  /** Installs fetched or bootstrapped results; the first resolves `ready()`. */
  #install(next, version) {
    if (this.#closed || version !== this.#contextVersion) return
    const contextChanged = this.#flags !== null && this.#installedVersion !== version
    const previous = this.#revision
    if (!contextChanged && this.#flags !== null && next.revision !== null && previous !== null && next.revision <= previous) return
    const flags = changedKeys(this.#flags, next.flags)
    const first = this.#flags === null
    this.#flags = next.flags
    this.#revision = next.revision
    this.#generatedAt = next.generatedAt
    this.#installedVersion = version
    if (first) {
      this.#failing = false
      clearTimeout(this.#readyState.timer)
      this.#readyState.resolve()
      queueMicrotask(() => this.#emit('ready', { revision: this.#revision, recovered: false }))
    } else if (!contextChanged || flags.length > 0) {
      this.#emit('change', { revision: this.#revision, previousRevision: previous, flags, contextChanged })
    }
  }

  /** A check succeeded (a fetch answered, the stream is alive): ends a stale period. */
  #checked() {
    this.#lastCheck = Date.now()
    clearTimeout(this.#staleTimer)
    if (this.#closed) return
    this.#staleTimer = setTimeout(() => {
      this.#stale = true
      this.#emit('stale', { since: this.#lastCheck, revision: this.#revision })
    }, this.#settings.staleAfter)
    if ((this.#stale || this.#failing) && this.#flags !== null) {
      this.#stale = false
      this.#failing = false
      this.#emit('ready', { revision: this.#revision, recovered: true })
    }
  }

  // -- requests -------------------------------------------------------------------------

  async #request(path, init, timeout) {
    const controller = new AbortController()
    const timer = timeout && setTimeout(() => controller.abort(), timeout)
    const url = `${this.#url}${path}`
    try {
      const response = await this.#fetch(url, {
        ...init,
        headers: { authorization: `Bearer ${this.#key}`, ...init.headers },
        signal: controller.signal,
      })
      if (!response.ok) throw statusFailure(response.status, url)
      return { response, controller, timer }
    } catch (error) {
      clearTimeout(timer)
      if (error instanceof ClientError) throw error
      throw controller.signal.aborted && !this.#closed
        ? failure('timeout', `no answer within ${timeout} ms from ${url}`)
        : failure('network_error', `request failed: ${error?.message ?? error} (${url})`)
    }
  }

  /** Fetches the results of the current context and installs them. */
  async #refresh() {
    const version = this.#contextVersion
    try {
      const { response, timer } = await this.#request(
        '/sdk/v1/evaluate',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context: this.#context }) },
        REQUEST_TIMEOUT,
      )
      let body
      try {
        body = results(await response.json(), 'the answer')
      } catch (error) {
        throw failure('invalid_body', `unusable answer from ${this.#url}/sdk/v1/evaluate: ${error.message}`)
      } finally {
        clearTimeout(timer)
      }
      this.#checked()
      this.#install(body, version)
    } catch (error) {
      if (!this.#closed) this.#error(error)
      throw error
    }
  }

  /** Polls while the stream is down (or always, with `stream: false`). */
  #polling(on) {
    if (on && !this.#pollTimer && !this.#closed) {
      this.#pollTimer = setInterval(() => this.#refresh().catch(() => {}), this.#settings.pollInterval)
    } else if (!on) {
      clearInterval(this.#pollTimer)
      this.#pollTimer = null
    }
  }

  // -- the change notification stream -----------------------------------------------------

  async #connect() {
    if (this.#closed) return
    const headers = { accept: 'text/event-stream' }
    if (this.#revision !== null) headers['last-event-id'] = String(this.#revision)
    let auth = false
    let stream = null
    try {
      const { response, controller, timer } = await this.#request('/ofrep/v1/events', { headers }, this.#settings.heartbeat * 3)
      clearTimeout(timer)
      stream = this.#stream = controller
      this.#polling(false)
      this.#checked()
      this.#alive()
      const read = sseReader((item) => this.#notified(item))
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        this.#alive()
        read(value)
      }
    } catch (error) {
      auth = error.auth === true
      // A stream this client aborted (watchdog, close) has already said why.
      if (!this.#closed && !stream?.signal.aborted) {
        this.#error(error instanceof ClientError ? error : failure('network_error', `the stream failed: ${error?.message ?? error}`))
      }
    }
    clearTimeout(this.#watchdog)
    this.#stream = null
    if (this.#closed) return
    // While the stream is down: poll, and reconnect after a backoff with full jitter.
    this.#polling(true)
    const ceiling = Math.min(this.#settings.cap, this.#settings.base * 2 ** Math.min(this.#attempt++, 30))
    const delay = Math.max(Math.random() * ceiling, auth ? this.#settings.pollInterval : 0)
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
  }

  /** Bytes arrived: the stream is alive; silence past 3× the heartbeat means it is not. */
  #alive() {
    clearTimeout(this.#watchdog)
    this.#watchdog = setTimeout(() => {
      this.#error(failure('stream_silent', `no event or heartbeat for ${this.#settings.heartbeat * 3} ms: reconnecting`))
      this.#stream?.abort()
      this.#refresh().catch(() => {})
    }, this.#settings.heartbeat * 3)
  }

  #notified(item) {
    this.#checked()
    if (item.comment !== undefined) return
    this.#attempt = 0
    let notification = null
    try {
      notification = JSON.parse(item.data)
    } catch {
      notification = null
    }
    if (notification?.type !== 'refetchEvaluation') return
    const revision = Number(item.id)
    if (Number.isInteger(revision) && this.#revision !== null && revision <= this.#revision) return
    this.#refresh().catch(() => {})
  }

  // -- evaluation -----------------------------------------------------------------------

  /** Every detail of one flag's result (core's fields, `revision`, and `age` in ms). */
  evaluate(flag) {
    const details = this.#flags?.[flag] ?? (this.#flags === null
      ? failed('PROVIDER_NOT_READY', 'no results yet', null)
      : failed('FLAG_NOT_FOUND', `no flag '${flag}'`, this.#revision))
    const age = this.#generatedAt === null ? null : Date.now() - this.#generatedAt
    return { ...details, revision: details.revision ?? this.#revision, age }
  }

  #typed(flag, type, defaultValue) {
    const details = this.#flags?.[flag]
    return details && !details.errorCode && accepts(type, details.value) ? details.value : defaultValue
  }

  /** A boolean flag is on: `getBoolean(flag, false)`. */
  isEnabled(flag) {
    return this.#typed(flag, 'boolean', false)
  }

  getBoolean(flag, defaultValue) {
    return this.#typed(flag, 'boolean', defaultValue)
  }

  getString(flag, defaultValue) {
    return this.#typed(flag, 'string', defaultValue)
  }

  getNumber(flag, defaultValue) {
    return this.#typed(flag, 'number', defaultValue)
  }

  getObject(flag, defaultValue) {
    return this.#typed(flag, 'object', defaultValue)
  }

  /** Every flag's details, by key (sorted). */
  allFlags() {
    return Object.fromEntries(Object.keys(this.#flags ?? {}).sort().map((key) => [key, this.evaluate(key)]))
  }

  /** Stops following changes; evaluations keep answering from the results held. */
  close() {
    if (this.#closed) return
    this.#closed = true
    this.#stream?.abort()
    for (const timer of [this.#watchdog, this.#reconnectTimer, this.#staleTimer, this.#readyState.timer]) clearTimeout(timer)
    this.#polling(false)
    if (this.#flags === null) this.#readyState.reject(new ClientError('closed', 'the client was closed before it was ready'))
  }
}

/** A client for one user's results (see `Client`). */
export function createClient(options) {
  return new Client(options)
}
