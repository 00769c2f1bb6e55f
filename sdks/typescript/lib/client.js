'use strict'
// The Pennon client (docs/sdk.md): holds the newest good snapshot of one source in an
// Engine, keeps it fresh (stream, poll, backoff, watchdog, breaker), and answers
// evaluations from it. Every answer comes from core through the engine; this file does
// IO, caching, events and integration only, on either platform:
//
// `#platform` is the Node platform (lib/platform/node.js: pennon-node, EventEmitter,
// node:http, node:fs, node:crypto) under Node's `node` condition, and the web platform
// (lib/platform/web.mjs: pennon-wasm, fetch, WebCrypto) in the web build (dist/web.mjs,
// made by scripts/build.mjs): package.json `imports`.
const platform = require('#platform')
const { Backoff } = require('./backoff.js')
const { Breaker } = require('./breaker.js')
const { ClientError } = require('./errors.js')
const env = require('./env.js')
const { Failure } = require('./failure.js')
const { Outcomes } = require('./outcomes.js')
const { SseParser } = require('./sse.js')

const SECOND = 1000
const TYPES = ['boolean', 'string', 'number', 'object']

const monotonic = () => performance.now()
// Bytes as they are (a BOM is kept, for core to judge, as Buffer#toString did).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const encoder = new TextEncoder()

/** Timers never keep a Node process alive (a no-op where timers are numbers). */
function unref(timer) {
  if (typeof timer?.unref === 'function') timer.unref()
}

/**
 * `change.flags`: the keys of the flags whose evaluation may differ between two
 * snapshots, as core computes them (`Snapshot::changed_flags`, docs/snapshot-format.md
 * §9, through the engine's `changedFlags`), so that every language reports the
 * same keys. The SDK never diffs definitions itself.
 */
function changedFlags(previous, next) {
  return next.changedFlags(previous)
}

/** `value` has the JSON type of flag type `type` (core's `FlagType::accepts`). */
function accepts(type, value) {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean'
    case 'string':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    default:
      return false
  }
}

function duration(options, name, fallback) {
  const value = options[name]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ClientError('invalid_config', `${name} must be a number of milliseconds ≥ 0`)
  }
  return value
}

function snapshotText(value, what) {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return utf8.decode(value)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  throw new ClientError('invalid_config', `${what} must be snapshot JSON text or an object`)
}

/** A compiled, accepted-so-far snapshot: its engine and what the SDK reads from its JSON. */
class Prepared {
  constructor(engine, text) {
    this.engine = engine
    this.revision = engine.revision
    // Parsed again (refresh path only, never per evaluation) for what the addon does not
    // expose: `generatedAt` (details' `age`) and the flags' declared types (environment
    // overrides apply only to a flag of their type). Core already accepted the text.
    let parsed = null
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = null
    }
    const at = typeof parsed?.generatedAt === 'string' ? Date.parse(parsed.generatedAt) : Number.NaN
    this.generatedAt = Number.isFinite(at) ? at : null
    this.types = new Map()
    for (const [key, flag] of Object.entries(parsed?.flags ?? {})) {
      if (TYPES.includes(flag?.type)) this.types.set(key, flag.type)
    }
  }
}

/** Compiles snapshot text with core (acceptance b); throws a ClientError with core's code. */
function compile(text) {
  const engine = platform.newEngine()
  try {
    engine.load(text)
  } catch (error) {
    throw loadError(error)
  }
  return new Prepared(engine, text)
}

/** `compile`, first loading what the snapshot needs (pennon-wasm: its regex module). */
async function compileAsync(text) {
  const engine = platform.newEngine()
  try {
    await engine.loadAsync(text)
  } catch (error) {
    throw loadError(error)
  }
  return new Prepared(engine, text)
}

/** `engine`, counting its evaluations. */
function counting(engine) {
  engine.countEvaluations(true)
  return engine
}

function loadError(error) {
  return new ClientError(error?.code ?? 'internal', error?.message ?? String(error), { cause: error })
}

class Client extends platform.Emitter {
  #config
  /**
   * The engine evaluations use: the installed snapshot's, or an empty one before it. The
   * engines count evaluations (`pennon_evaluations_total`: docs/bindings.md, "Counting
   * evaluations"), each snapshot's into its predecessor's counters (`shareCounters`, which
   * also hands over what the predecessor counted on the JS side), so there is one set.
   */
  #engine = counting(platform.newEngine())
  #current = null
  #etag = null
  #lastSuccess = monotonic()
  #lastSuccessMs = Date.now()
  #stale = false
  #lastError = null
  #closed = false
  #created = monotonic()
  #sleepers = new Set()
  #timers = new Set()
  #readyWaiters = new Set()
  #overrides = new Map()
  #env
  #hooks = []
  #http = null
  #outcomes = null
  /** The sender of flushOutcomes() with `metrics: false`. */
  #manualOutcomes = null
  #closing = null

  constructor(options) {
    super()
    if (typeof options !== 'object' || options === null) {
      throw new ClientError('invalid_config', 'createClient needs an options object')
    }
    const sources = ['url', 'file', 'snapshot'].filter((s) => options[s] !== undefined && options[s] !== null)
    if (sources.length !== 1) {
      throw new ClientError('invalid_config', 'configure exactly one source: url (with sdkKey), file or snapshot')
    }
    let source
    if (options.url !== undefined && options.url !== null) {
      if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
        throw new ClientError('invalid_config', 'url must start with http:// or https://')
      }
      if (typeof options.sdkKey !== 'string' || options.sdkKey === '') {
        throw new ClientError('invalid_config', 'url needs an sdkKey')
      }
      source = { kind: 'url', url: options.url.replace(/\/+$/, ''), sdkKey: options.sdkKey }
    } else if (options.file !== undefined && options.file !== null) {
      noFiles('file')
      source = { kind: 'file', path: String(options.file) }
    } else {
      source = { kind: 'snapshot' }
    }
    if (options.bootstrapFile != null) noFiles('bootstrapFile')
    const hasBootstrap = options.bootstrap != null || options.bootstrapFile != null
    if (hasBootstrap && source.kind !== 'url') {
      throw new ClientError('invalid_config', 'a bootstrap goes with the url source')
    }
    const metrics = options.metrics ?? source.kind === 'url'
    if (typeof metrics !== 'boolean') throw new ClientError('invalid_config', 'metrics must be true or false')
    if (metrics && source.kind !== 'url') {
      throw new ClientError('invalid_config', 'metrics are sent to the server of the url source: configure url or metrics: false')
    }
    const backoff = options.backoff ?? {}
    const breaker = options.breaker ?? {}
    this.#config = {
      source,
      stream: options.stream ?? true,
      pollInterval: duration(options, 'pollInterval', source.kind === 'file' ? SECOND : 30 * SECOND),
      initTimeout: duration(options, 'initTimeout', 5 * SECOND),
      staleAfter: duration(options, 'staleAfter', 120 * SECOND),
      heartbeat: duration(options, 'heartbeat', 15 * SECOND),
      publicKey: options.publicKey == null ? null : platform.parsePublicKey(options.publicKey),
      backoffBase: duration(backoff, 'base', SECOND),
      backoffCap: duration(backoff, 'cap', 30 * SECOND),
      breakerFailures: duration(breaker, 'failures', 5),
      breakerOpenFor: duration(breaker, 'openFor', 30 * SECOND),
      metrics,
      metricsInterval: duration(options, 'metricsInterval', 10 * SECOND),
    }
    if (this.#config.metricsInterval === 0) {
      throw new ClientError('invalid_config', 'metricsInterval must be a number of milliseconds > 0')
    }
    const envOverrides = options.envOverrides ?? false
    this.#env = envOverrides === false ? new Map() : env.collect(envOverrides === true ? environment() : envOverrides)

    // Sources given in memory load now; their errors are configuration errors (thrown).
    let inMemory = null
    if (source.kind === 'snapshot') inMemory = snapshotText(options.snapshot, 'snapshot')
    else if (options.bootstrap != null) inMemory = snapshotText(options.bootstrap, 'bootstrap')
    else if (options.bootstrapFile != null) {
      try {
        inMemory = platform.files.readSync(options.bootstrapFile)
      } catch (error) {
        throw new ClientError('io_error', `cannot read the bootstrap file ${options.bootstrapFile}: ${error.message}`)
      }
    }
    if (inMemory !== null) this.#install(compile(inMemory), null)

    if (source.kind === 'url') {
      this.#http = new platform.Http(source.url, source.sdkKey)
      this.#background(this.#runUrl())
      const tick = Math.min(Math.max(this.#config.staleAfter / 4, 10), SECOND)
      this.#interval(() => this.#checkStaleness(), tick)
      if (metrics) {
        const http = this.#http
        this.#outcomes = new Outcomes(
          () => this.#engine,
          http.sdk,
          (body, sending) => http.postMetrics(body, sending),
        )
        this.#interval(() => this.#outcomes.tick(), this.#config.metricsInterval)
      }
    } else if (source.kind === 'file') {
      this.#background(this.#runFile(source.path))
    }
  }

  // ---- readiness --------------------------------------------------------------------

  /**
   * Resolves when the first snapshot is installed; rejects with a ClientError `init_timeout`
   * (naming the last error seen) once `initTimeout`, counted from `createClient`, passed,
   * or `closed`. Never hangs. While a call is pending, a ref'd timer keeps the process
   * alive (up to `initTimeout`): `await client.ready()` in a script works.
   */
  ready() {
    if (this.#current !== null) return Promise.resolve()
    if (this.#closed) return Promise.reject(new ClientError('closed', 'the client was closed before it became ready'))
    return new Promise((resolve, reject) => {
      const left = Math.max(0, this.#config.initTimeout - (monotonic() - this.#created))
      const waiter = {
        resolve: () => {
          clearTimeout(waiter.timer)
          this.#readyWaiters.delete(waiter)
          resolve()
        },
        reject: (error) => {
          clearTimeout(waiter.timer)
          this.#readyWaiters.delete(waiter)
          reject(error)
        },
      }
      waiter.timer = setTimeout(() => {
        const why = this.#lastError ? `; last error: ${this.#lastError.message} (${this.#lastError.code})` : ''
        waiter.reject(new ClientError('init_timeout', `no snapshot within ${this.#config.initTimeout} ms${why}`))
      }, left)
      this.#readyWaiters.add(waiter)
    })
  }

  /** The revision of the snapshot held, `null` before the first. */
  get revision() {
    return this.#current?.revision ?? null
  }

  /** Whether no check succeeded for `staleAfter` (the last good snapshot is still served). */
  get isStale() {
    return this.#stale
  }

  // ---- evaluation ---------------------------------------------------------------------

  #age(now) {
    const at = this.#current?.generatedAt
    return at === null || at === undefined ? null : now - at
  }

  /** A local override of `flag` answering a call that expects `expected` (or any type). */
  #overrideFor(flag, expected) {
    if (this.#overrides.size === 0 && this.#env.size === 0) return null
    const fits = (value) => expected === null || accepts(expected, value)
    if (this.#overrides.has(flag)) {
      const value = this.#overrides.get(flag)
      if (fits(value)) return { value }
    }
    if (this.#env.size === 0) return null
    const name = env.variableName(flag)
    if (!this.#env.has(name)) return null
    const value = this.#env.get(name)
    // Applies only when its type matches the flag's (the getter's when the snapshot does
    // not know the flag).
    const flagType = this.#current?.types.get(flag) ?? expected
    if (flagType === null || !accepts(flagType, value) || !fits(value)) return null
    return { value }
  }

  #overridden(value, now) {
    return {
      value,
      variant: 'override',
      reason: 'STATIC',
      ruleId: null,
      stage: null,
      shadowVariant: null,
      errorCode: null,
      errorMessage: null,
      revision: this.revision,
      flagMetadata: null,
      age: this.#age(now),
    }
  }

  #resolve(flag, context, type, defaultValue) {
    const now = Date.now()
    const override = this.#overrideFor(flag, type)
    let details
    if (override !== null) {
      details = this.#overridden(override.value, now)
    } else {
      details = this.#engine.evaluate(flag, context, { type, default: defaultValue, now })
      details.age = this.#age(now)
    }
    if (override !== null) this.#engine.countOverride(flag)
    this.#runHooks(flag, details)
    return details
  }

  #runHooks(flag, details) {
    for (const hook of this.#hooks) {
      try {
        hook(flag, details)
      } catch (error) {
        this.#emitError(new ClientError('hook_failed', `an onEvaluation hook threw: ${error?.message ?? error}`))
      }
    }
  }

  /** No override, environment variable or hook: a typed getter is the engine's (it counts). */
  #plain() {
    return this.#hooks.length === 0 && this.#overrides.size === 0 && this.#env.size === 0
  }

  #typed(flag, context, type, defaultValue) {
    if (!accepts(type, defaultValue) && !(type === 'object' && defaultValue === null)) {
      throw new ClientError('invalid_argument', `the default of a ${type} getter must be a ${type}`)
    }
    const { value } = this.#resolve(flag, context, type, defaultValue)
    return accepts(type, value) ? value : defaultValue
  }

  // The typed getters. The hot path (no override, environment variable or hook) is one
  // call of the engine's typed getter, which counts the evaluation itself: no details are
  // built. Anything else goes through `#resolve`, with the same answers and counts.

  /** A boolean flag is on: `getBoolean(flag, context, false)`. */
  isEnabled(flag, context) {
    return this.#plain() ? this.#engine.getBoolean(flag, context, false) : this.#typed(flag, context, 'boolean', false)
  }

  getBoolean(flag, context, defaultValue) {
    if (this.#plain() && typeof defaultValue === 'boolean') return this.#engine.getBoolean(flag, context, defaultValue)
    return this.#typed(flag, context, 'boolean', defaultValue)
  }

  getString(flag, context, defaultValue) {
    if (this.#plain() && typeof defaultValue === 'string') return this.#engine.getString(flag, context, defaultValue)
    return this.#typed(flag, context, 'string', defaultValue)
  }

  getNumber(flag, context, defaultValue) {
    if (this.#plain() && accepts('number', defaultValue)) return this.#engine.getNumber(flag, context, defaultValue)
    return this.#typed(flag, context, 'number', defaultValue)
  }

  getObject(flag, context, defaultValue) {
    if (this.#plain() && (defaultValue === null || accepts('object', defaultValue))) {
      return this.#engine.getObject(flag, context, defaultValue)
    }
    return this.#typed(flag, context, 'object', defaultValue)
  }

  /**
   * Evaluates a flag with every detail; `value` is `null` on error. With `{type}`, a flag
   * of another type is core's `TYPE_MISMATCH` (as for the typed getters).
   */
  evaluate(flag, context, options) {
    const type = options?.type ?? null
    if (type !== null && !TYPES.includes(type)) {
      throw new ClientError('invalid_argument', `type must be one of ${TYPES.join(', ')}`)
    }
    return this.#resolve(flag, context, type, null)
  }

  /**
   * Every flag of the snapshot (and every overridden flag) evaluated for `context`, by key
   * (a front end's bootstrap). Not counted in the metrics, no hooks.
   */
  allFlags(context) {
    const now = Date.now()
    const age = this.#age(now)
    const out = {}
    const all = this.#current === null ? {} : this.#engine.evaluateAll(context, now)
    for (const [key, result] of Object.entries(all)) {
      const override = this.#overrideFor(key, null)
      out[key] = override === null ? { ...result, age } : this.#overridden(override.value, now)
    }
    for (const [key, value] of this.#overrides) {
      if (!(key in out)) out[key] = this.#overridden(value, now)
    }
    return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]))
  }

  /** Makes `flag` answer `value` (reason `STATIC`, variant `override`) for calls whose type `value` has. */
  override(flag, value) {
    if (value === undefined) throw new ClientError('invalid_argument', 'an override needs a value')
    this.#overrides.set(flag, value)
    return this
  }

  /** The local overrides in force, `{flag: value}` (a copy). */
  overrides() {
    return Object.fromEntries(this.#overrides)
  }

  /** Removes an `override` (all of them without a flag). */
  clearOverride(flag) {
    if (flag === undefined) this.#overrides.clear()
    else this.#overrides.delete(flag)
    return this
  }

  /** The evaluation counters in Prometheus text (`pennon_evaluations_total{flag,variant,reason}`). */
  metrics() {
    return this.#engine.metrics()
  }

  /**
   * Records what happened after using `flag` for `context`: a request (`{ok: true}` or
   * `{error: true}`, with `latencyMs`) and/or a conversion (`{converted: true}`), under the
   * variant core serves `context` (evaluated again, uncounted, no hooks). Lock free; sent
   * in the next batch (`metrics`). Throws a ClientError `invalid_argument` for an invalid
   * outcome only: an unknown flag, a bad context or a flag a local override answers (no
   * cohort of a rollout) records nothing.
   */
  record(flag, context, outcome) {
    // An engine without a snapshot checks the outcome and records nothing.
    const engine = this.#overrideFor(flag, null) === null ? this.#engine : argumentsEngine()
    try {
      engine.record(flag, context, outcome)
    } catch (error) {
      throw new ClientError(error?.code ?? 'invalid_argument', error?.message ?? String(error), { cause: error })
    }
  }

  /**
   * Sends what was recorded since the last batch now instead of at the next
   * `metricsInterval`: resolves `true` when the server took the batch, `false` when nothing
   * was new; rejects with a ClientError when the send failed (the batch is kept and sent
   * again, the same batch, by the next flush; what was recorded meanwhile goes in the one
   * after). Only for a `url` client (`invalid_config` otherwise).
   */
  async flushOutcomes() {
    if (this.#http === null) throw new ClientError('invalid_config', 'outcomes are sent to the server of a url source')
    // With `metrics: false`, a sender of its own kept for its pending batch (close() sends nothing).
    const outcomes =
      this.#outcomes ??
      (this.#manualOutcomes ??= new Outcomes(() => this.#engine, this.#http.sdk, (b, s) => this.#http.postMetrics(b, s)))
    return outcomes.flush()
  }

  /**
   * The recorded outcomes in Prometheus text (cumulative, `cohort` = the variant):
   * `pennon_canary_requests_total`, `pennon_canary_errors_total`, `pennon_conversions_total`,
   * `pennon_canary_latency_ms` (histogram).
   */
  outcomeMetrics() {
    return this.#engine.outcomeMetrics()
  }

  /**
   * Runs `hook(flag, details)` after every single-flag evaluation (typed getters,
   * `isEnabled`, `evaluate`): exposure logging. Returns a function that removes it.
   */
  onEvaluation(hook) {
    if (typeof hook !== 'function') throw new ClientError('invalid_argument', 'onEvaluation needs a function')
    this.#hooks = [...this.#hooks, hook]
    return () => {
      this.#hooks = this.#hooks.filter((h) => h !== hook)
    }
  }

  /**
   * Stops refreshing (idempotent) and sends what was recorded since the last batch, once
   * (within 1 s; it resolves when that is done, never rejects, and in Node holds the
   * process open until then). Evaluations keep answering from the snapshot held.
   */
  close() {
    if (this.#closing !== null) return this.#closing
    this.#closed = true
    for (const sleeper of this.#sleepers) sleeper(false)
    this.#sleepers.clear()
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers.clear()
    this.#http?.close()
    for (const waiter of [...this.#readyWaiters]) {
      waiter.reject(new ClientError('closed', 'the client was closed before it became ready'))
    }
    this.#closing = this.#outcomes === null ? Promise.resolve() : this.#outcomes.flush(true).then(
      () => undefined,
      () => undefined,
    )
    return this.#closing
  }

  // ---- acceptance, install, status ----------------------------------------------------

  /** Verifies and compiles fetched snapshot bytes (acceptance a and b). */
  async #prepare(bytes, signature) {
    if (this.#config.publicKey !== null) await platform.verifySignature(this.#config.publicKey, bytes, signature)
    return compileAsync(utf8.decode(bytes))
  }

  /**
   * Installs a prepared snapshot unless it is older than the one held (acceptance c); an
   * equal revision is a no-op. The swap is one assignment: no evaluation sees half of
   * each. Emits `ready` or `change`.
   */
  #install(prepared, etag) {
    const previous = this.#current
    const revision = prepared.revision
    if (previous !== null) {
      if (revision < previous.revision) {
        throw new ClientError(
          'revision_older',
          `refused revision ${revision}: older than the revision held (${previous.revision})`,
        )
      }
      if (revision === previous.revision) {
        this.#etag = etag ?? this.#etag
        return
      }
    }
    this.#current = prepared
    prepared.engine.shareCounters(this.#engine)
    this.#engine = prepared.engine
    this.#etag = etag
    if (previous === null) {
      for (const waiter of [...this.#readyWaiters]) waiter.resolve()
      this.emit('ready', { revision, recovered: false })
    } else {
      this.emit('change', {
        revision,
        previousRevision: previous.revision,
        flags: changedFlags(previous.engine, prepared.engine),
      })
    }
  }

  #checkSucceeded() {
    this.#lastSuccess = monotonic()
    this.#lastSuccessMs = Date.now()
    if (this.#stale) {
      this.#stale = false
      if (this.#current !== null) this.emit('ready', { revision: this.#current.revision, recovered: true })
    }
  }

  #checkFailed(error) {
    this.#lastError = error
    this.#emitError(error)
  }

  /** `error` events only reach listeners: EventEmitter would throw an unheard `error`. */
  #emitError(error) {
    if (this.listenerCount('error') > 0) this.emit('error', { code: error.code, message: error.message })
  }

  #checkStaleness() {
    if (!this.#stale && monotonic() - this.#lastSuccess >= this.#config.staleAfter) {
      this.#stale = true
      this.emit('stale', { since: this.#lastSuccessMs, revision: this.revision })
    }
  }

  // ---- timers -------------------------------------------------------------------------

  /** Sleeps up to `ms` (an unref'd timer); resolves `false` when the client was closed. */
  #sleep(ms) {
    if (this.#closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer)
        this.#sleepers.delete(done)
        resolve(value)
      }
      const timer = setTimeout(() => done(!this.#closed), Math.max(0, ms))
      unref(timer)
      this.#sleepers.add(done)
    })
  }

  #interval(fn, ms) {
    const timer = setInterval(fn, ms)
    unref(timer)
    this.#timers.add(timer)
  }

  /** Runs a background loop; a bug in it becomes an `error` event, never an unhandled rejection. */
  #background(promise) {
    promise.catch((error) => {
      this.#checkFailed(new ClientError('internal', `the refresh loop failed: ${error?.stack ?? error}`))
    })
  }

  // ---- file source --------------------------------------------------------------------

  async #runFile(path) {
    let seen = null
    const read = async () => {
      try {
        const stamp = await platform.files.stamp(path)
        if (stamp === seen) return this.#checkSucceeded()
        const text = await platform.files.read(path)
        seen = stamp
        let prepared
        try {
          prepared = await compileAsync(text)
        } catch (error) {
          return this.#checkFailed(error)
        }
        this.#checkSucceeded()
        try {
          this.#install(prepared, null)
        } catch (error) {
          this.#checkFailed(error)
        }
      } catch (error) {
        this.#checkFailed(new ClientError('io_error', `cannot read ${path}: ${error.message}`))
      }
    }
    await read()
    while (await this.#sleep(this.#config.pollInterval)) {
      if (this.#closed) return
      await read()
    }
  }

  // ---- url source: the refresh loop (docs/sdk.md, Refresh) --------------------------------

  async #runUrl() {
    const config = this.#config
    const state = {
      breaker: new Breaker(config.breakerFailures, config.breakerOpenFor),
      backoff: new Backoff(config.backoffBase, config.backoffCap),
      lastPoll: monotonic(),
    }
    // 1. The initial fetch.
    let auth = (await this.#poll(state, true))?.auth ?? false
    while (!this.#closed) {
      const wait = state.breaker.permit(monotonic())
      if (wait > 0) {
        if (!(await this.#sleep(wait))) return
        continue
      }
      if (!config.stream) {
        // 3. Polling: every poll interval (a 401/403 waits the same).
        const left = config.pollInterval - (monotonic() - state.lastPoll)
        if (left > 0) {
          if (!(await this.#sleep(left))) return
          continue
        }
        await this.#poll(state, true)
        continue
      }
      // 2. Streaming.
      let delayAtLeast = 0
      if (auth) {
        delayAtLeast = config.pollInterval
        auth = false
      } else {
        const end = await this.#stream(state)
        if (end.kind === 'closed') return
        if (end.kind === 'watchdog') {
          // 5. Close it, fetch in full, reconnect.
          this.#checkFailed(
            new ClientError('stream_silent', `the stream was silent for ${3 * config.heartbeat} ms: reconnecting`),
          )
          if (state.breaker.permit(monotonic()) === 0) await this.#poll(state, false)
          continue
        }
        if (end.kind === 'failed' && end.failure.auth) delayAtLeast = config.pollInterval
      }
      // 4. Reconnect after a jittered backoff, polling meanwhile. A refused key is asked
      // again once per poll interval, by the stream alone.
      const delay = Math.max(state.backoff.nextDelay(), delayAtLeast)
      const waited = delayAtLeast === 0 ? await this.#waitPolling(state, delay) : await this.#sleep(delay)
      if (!waited) return
    }
  }

  /** One `GET /sdk/v1/snapshot` (with `If-None-Match` when `conditional`); the failure, if any. */
  async #poll(state, conditional) {
    state.lastPoll = monotonic()
    let failure
    try {
      const fetched = await this.#http.snapshot(conditional ? this.#etag : null)
      if (this.#closed) return null
      if (fetched.notModified) {
        this.#succeeded(state)
        return null
      }
      const prepared = await this.#prepare(fetched.bytes, fetched.signature)
      if (this.#closed) return null
      this.#succeeded(state)
      try {
        this.#install(prepared, fetched.etag)
      } catch (error) {
        this.#checkFailed(error)
      }
      return null
    } catch (error) {
      if (this.#closed) return null
      failure = error instanceof Failure ? error : { error, auth: false }
    }
    this.#failed(state, failure)
    return failure
  }

  #succeeded(state) {
    state.breaker.success()
    this.#checkSucceeded()
  }

  #failed(state, failure) {
    if (!failure.auth) state.breaker.failure(monotonic())
    this.#checkFailed(failure.error)
  }

  /** Sleeps `delay` ms, polling every poll interval meanwhile (the stream is down). */
  async #waitPolling(state, delay) {
    const deadline = monotonic() + delay
    const interval = this.#config.pollInterval
    for (;;) {
      if (this.#closed) return false
      const now = monotonic()
      if (now >= deadline) return true
      const nextPoll = state.lastPoll + interval
      if (now >= nextPoll) {
        if (state.breaker.permit(now) === 0) await this.#poll(state, true)
        else state.lastPoll = now
        continue
      }
      if (!(await this.#sleep(Math.min(deadline, nextPoll) - now))) return false
    }
  }

  /** One stream connection, read until it ends: `{kind: 'closed'|'ended'|'failed'|'watchdog'}`. */
  async #stream(state) {
    const watchdog = 3 * this.#config.heartbeat
    let stream
    try {
      stream = await this.#http.openStream(this.revision, watchdog)
    } catch (error) {
      if (this.#closed) return { kind: 'closed' }
      // A failed connection was a check too: the next poll counts from it.
      state.lastPoll = monotonic()
      const failure = error instanceof Failure ? error : { error, auth: false }
      this.#failed(state, failure)
      return { kind: 'failed', failure }
    }
    if (this.#closed) {
      stream.close()
      return { kind: 'closed' }
    }
    this.#succeeded(state)
    const parser = new SseParser()
    let silent = false
    let timer = null
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        silent = true
        stream.close()
      }, watchdog)
      unref(timer)
    }
    arm()
    try {
      for await (const chunk of stream.chunks) {
        if (this.#closed) return { kind: 'closed' }
        arm()
        for (const item of parser.feed(chunk)) {
          if (item.type === 'comment') this.#checkSucceeded()
          else if (item.event === 'snapshot') await this.#snapshotEvent(state, item.data)
          if (this.#closed) return { kind: 'closed' }
        }
      }
      if (this.#closed) return { kind: 'closed' }
      return silent ? { kind: 'watchdog' } : { kind: 'ended' }
    } catch (error) {
      if (this.#closed) return { kind: 'closed' }
      if (silent) return { kind: 'watchdog' }
      this.#checkFailed(new ClientError('network_error', `the stream broke: ${error?.message ?? error}`))
      return { kind: 'ended' }
    } finally {
      clearTimeout(timer)
      stream.close()
    }
  }

  /** A `snapshot` event: metadata JSON, `\n`, the exact snapshot bytes. */
  async #snapshotEvent(state, data) {
    const newline = data.indexOf('\n')
    if (newline < 0) {
      const error = new ClientError('invalid_event', 'a snapshot event needs two data lines (metadata, snapshot)')
      return this.#failed(state, { error, auth: false })
    }
    let meta = {}
    try {
      meta = JSON.parse(data.slice(0, newline)) ?? {}
    } catch {
      meta = {}
    }
    const signature = typeof meta.signature === 'string' ? meta.signature : null
    const etag = typeof meta.etag === 'string' ? meta.etag : null
    let prepared
    try {
      prepared = await this.#prepare(encoder.encode(data.slice(newline + 1)), signature)
    } catch (error) {
      return this.#failed(state, { error, auth: false })
    }
    state.backoff.reset()
    this.#succeeded(state)
    try {
      this.#install(prepared, etag)
    } catch (error) {
      this.#checkFailed(error)
    }
  }
}

let checker = null
/** An engine without a snapshot (made on first use: the web build's needs `init()` first). */
function argumentsEngine() {
  checker ??= platform.newEngine()
  return checker
}

/** The file source and bootstrap files need a file system (the Node platform). */
function noFiles(option) {
  if (platform.files === null) {
    throw new ClientError('invalid_config', `${option} needs a file system, which ${platform.name} has not: use url, snapshot or bootstrap`)
  }
}

/** The variables `envOverrides: true` reads (`process.env`). */
function environment() {
  const vars = platform.environment()
  if (vars === null) {
    throw new ClientError('invalid_config', 'envOverrides: true reads process.env, which is missing here: pass the variables as an object')
  }
  return vars
}

/** Creates a client and starts refreshing; does not wait (see `client.ready()`). */
function createClient(options) {
  return new Client(options)
}

module.exports = { Client, createClient, changedFlags }
