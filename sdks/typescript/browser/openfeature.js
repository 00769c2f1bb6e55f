// pennon/openfeature-web: an OpenFeature provider for `@openfeature/web-sdk` (the
// static-context paradigm) on the browser client. The SDK's context is the one user the
// client fetches results for; a context change re-fetches. Client events become provider
// events: `change` → ConfigurationChanged (`flagsChanged`), `error` → Error, `stale` →
// Stale, a recovery → Ready.
import { ErrorCode, OpenFeatureEventEmitter, ProviderEvents } from '@openfeature/web-sdk'
import { Client } from './index.js'

const ERROR_CODES = new Set(Object.values(ErrorCode))

/** OpenFeature's flag metadata holds booleans, strings and numbers; `revision` is added. */
function metadata(details) {
  const out = {}
  for (const [key, value] of Object.entries(details.flagMetadata ?? {})) {
    if (['boolean', 'string', 'number'].includes(typeof value)) out[key] = value
  }
  if (details.revision !== null) out.revision = details.revision
  return out
}

export class PennonWebProvider {
  metadata = { name: 'pennon' }
  runsOn = 'client'
  hooks = []
  events = new OpenFeatureEventEmitter()
  #options
  #client = null
  #initFailed = false

  /**
   * `options`: the browser client's options (`url`, `sdkKey`, `bootstrap`, `stream`, …)
   * without `context` (the SDK's context is used), or `{client}`: a client to use as is.
   */
  constructor(options = {}) {
    this.#options = options
  }

  /** The browser client, once `initialize` ran. */
  get client() {
    return this.#client
  }

  async initialize(context) {
    const client = this.#options.client ?? new Client({ ...this.#options, context })
    this.#client = client
    client.on('change', ({ flags, revision, contextChanged }) => {
      // A context change is the SDK's own event (ContextChanged), not a configuration change.
      if (!contextChanged) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: flags, metadata: { revision } })
    })
    client.on('error', ({ code, message }) => this.events.emit(ProviderEvents.Error, { message: `${message} (${code})` }))
    client.on('stale', ({ since }) =>
      this.events.emit(ProviderEvents.Stale, { message: `no successful check since ${new Date(since).toISOString()}` }),
    )
    client.on('ready', ({ recovered }) => {
      if (recovered || this.#initFailed) this.events.emit(ProviderEvents.Ready)
      this.#initFailed = false
    })
    try {
      await client.ready()
    } catch (error) {
      this.#initFailed = true
      throw error
    }
  }

  async onContextChange(_oldContext, newContext) {
    await this.#client?.setContext(newContext)
  }

  async onClose() {
    this.#client?.close()
  }

  #resolve(flagKey, type, defaultValue) {
    const details = this.#client?.evaluate(flagKey)
    if (!details) return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.PROVIDER_NOT_READY }
    const flagMetadata = metadata(details)
    if (details.errorCode) {
      const errorCode = ERROR_CODES.has(details.errorCode) ? details.errorCode : ErrorCode.GENERAL
      return { value: defaultValue, reason: 'ERROR', errorCode, errorMessage: details.errorMessage, flagMetadata }
    }
    const value = details.value
    if (type === 'object' ? typeof value !== 'object' || value === null : typeof value !== type) {
      const errorMessage = `flag '${flagKey}' is not of type ${type}`
      return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage, flagMetadata }
    }
    return { value, variant: details.variant ?? undefined, reason: details.reason, flagMetadata }
  }

  resolveBooleanEvaluation(flagKey, defaultValue) {
    return this.#resolve(flagKey, 'boolean', defaultValue)
  }

  resolveStringEvaluation(flagKey, defaultValue) {
    return this.#resolve(flagKey, 'string', defaultValue)
  }

  resolveNumberEvaluation(flagKey, defaultValue) {
    return this.#resolve(flagKey, 'number', defaultValue)
  }

  resolveObjectEvaluation(flagKey, defaultValue) {
    return this.#resolve(flagKey, 'object', defaultValue)
  }
}
