'use strict'
// `pennon/openfeature`: an OpenFeature server provider (`@openfeature/server-sdk`, an
// optional peer dependency) over a Pennon `Client`. Core decides every value, variant,
// reason and error code; this file only translates them into OpenFeature's words and
// forwards the client's events as provider events.
const { ErrorCode, OpenFeatureEventEmitter, ProviderEvents } = require('@openfeature/server-sdk')
const { Client } = require('./client.js')
const { ClientError } = require('./errors.js')

const ERROR_CODES = new Set(Object.values(ErrorCode))

/**
 * OpenFeature's flag metadata holds strings, numbers and booleans: the flag's metadata of
 * those types plus the snapshot `revision`, as Pennon's OFREP endpoint and the Python
 * provider report it (docs/sdk.md, OpenFeature).
 */
function flagMetadata(details) {
  const out = {}
  for (const [key, value] of Object.entries(details.flagMetadata ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value
  }
  if (details.revision !== null && details.revision !== undefined) out.revision = details.revision
  return out
}

/** A Pennon evaluation's details as OpenFeature resolution details. */
function resolution(details, defaultValue) {
  const out = {
    value: details.errorCode === null ? details.value : defaultValue,
    reason: details.reason,
    flagMetadata: flagMetadata(details),
  }
  if (details.variant !== null) out.variant = details.variant
  if (details.errorCode !== null) {
    // Core's error codes are OpenFeature's; one this SDK version does not know is GENERAL.
    out.errorCode = ERROR_CODES.has(details.errorCode) ? details.errorCode : ErrorCode.GENERAL
    if (details.errorMessage !== null) out.errorMessage = details.errorMessage
  }
  return out
}

/** A flag key or a list of them as a list (anything else: none). */
function flagList(value) {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((flag) => typeof flag === 'string')
  return []
}

/** `options.conversions` as a Map of event name → flag keys. */
function conversionsOption(conversions) {
  const out = new Map()
  if (conversions === undefined || conversions === null) return out
  if (typeof conversions !== 'object') {
    throw new ClientError('invalid_config', 'conversions must be an object {trackingEventName: flag | flag[]}')
  }
  for (const [event, flags] of Object.entries(conversions)) {
    const list = flagList(flags)
    if (list.length === 0 || (Array.isArray(flags) && list.length !== flags.length)) {
      throw new ClientError('invalid_config', `conversions.${event} must be a flag key or a list of flag keys`)
    }
    out.set(event, list)
  }
  return out
}

class PennonProvider {
  metadata = { name: 'pennon' }
  runsOn = 'server'
  events = new OpenFeatureEventEmitter()
  #client
  #owned
  #initializing = false
  /** An `error` was forwarded: the next snapshot installed makes the provider ready again. */
  #errored = false
  #listeners
  #conversions

  /**
   * `client`: a Pennon `Client` (it stays the caller's: `onClose` only detaches from it),
   * or the options of `createClient` (the provider then owns the client and closes it).
   * `options.conversions`: `{trackingEventName: flag | flag[]}`, the flags whose conversion a
   * tracking event is (see `track`).
   */
  constructor(client, options = {}) {
    this.#conversions = conversionsOption(options?.conversions)
    this.#owned = !(client instanceof Client)
    this.#client = this.#owned ? new Client(client) : client
    const emit = (event, details) => this.events.emit(event, details)
    this.#listeners = {
      // The first `ready` settles `initialize` (the SDK then emits READY itself).
      ready: ({ revision }) => {
        this.#errored = false
        if (!this.#initializing) emit(ProviderEvents.Ready, { metadata: { revision } })
      },
      change: ({ flags, revision, previousRevision }) => {
        if (this.#errored) {
          this.#errored = false
          emit(ProviderEvents.Ready, { metadata: { revision } })
        }
        emit(ProviderEvents.ConfigurationChanged, { flagsChanged: flags, metadata: { revision, previousRevision } })
      },
      error: ({ code, message }) => {
        // While `initialize` waits, its rejection (init_timeout, naming the last error) is
        // the error the SDK reports. With a snapshot held the provider still answers (a
        // failed check is not OpenFeature's ERROR, "cannot evaluate"): `stale` says when
        // that snapshot grows old.
        if (this.#initializing || this.#client.revision !== null) return
        this.#errored = true
        emit(ProviderEvents.Error, { message, metadata: { code } })
      },
      stale: ({ since, revision }) =>
        emit(ProviderEvents.Stale, {
          message: `no fresh snapshot since ${new Date(since).toISOString()}`,
          metadata: revision === null ? { since } : { since, revision },
        }),
    }
    for (const [event, listener] of Object.entries(this.#listeners)) this.#client.on(event, listener)
  }

  /** The Pennon client answering this provider's evaluations. */
  get client() {
    return this.#client
  }

  /** Waits for the client's first snapshot (rejects after `initTimeout`, as `client.ready()`). */
  async initialize() {
    this.#initializing = true
    try {
      await this.#client.ready()
    } finally {
      this.#initializing = false
    }
  }

  async onClose() {
    for (const [event, listener] of Object.entries(this.#listeners)) this.#client.off(event, listener)
    if (this.#owned) await this.#client.close()
  }

  /**
   * OpenFeature's Tracking API (`client.track(eventName, context, details)`): the event is a
   * conversion of each flag it names — the flags `options.conversions` maps `eventName` to,
   * and `details.flag` (a key or a list of keys) — recorded for `context` with
   * `client.record(flag, context, {converted: true})`, under the variant `context` gets. An
   * event that names no flag records nothing (Pennon counts conversions per flag and variant;
   * `details.value` and other fields are not kept).
   */
  track(trackingEventName, context, details) {
    const flags = new Set(this.#conversions.get(trackingEventName) ?? [])
    for (const flag of flagList(details?.flag)) flags.add(flag)
    for (const flag of flags) this.#client.record(flag, context ?? {}, { converted: true })
  }

  #resolve(flagKey, type, defaultValue, context) {
    return Promise.resolve(resolution(this.#client.evaluate(flagKey, context, { type }), defaultValue))
  }

  resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, 'boolean', defaultValue, context)
  }

  resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, 'string', defaultValue, context)
  }

  resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, 'number', defaultValue, context)
  }

  resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, 'object', defaultValue, context)
  }
}

module.exports = { PennonProvider }
