// pennon/openfeature-web: an OpenFeature provider for `@openfeature/web-sdk` (the
// static-context paradigm) on the browser client. The SDK's context is the one user the
// client fetches results for; a context change re-fetches. It maps results and events as
// every Pennon provider does (docs/sdk.md, "OpenFeature"): `change` → ConfigurationChanged
// (`flagsChanged`), `error` → Error (after initialisation, while no results are held),
// `stale` → Stale, a recovery → Ready.
import { ErrorCode, OpenFeatureEventEmitter, ProviderEvents } from '@openfeature/web-sdk'
import { Client } from './index.js'

const ERROR_CODES = new Set(Object.values(ErrorCode))

/**
 * OpenFeature's flag metadata holds strings, numbers and booleans: the flag's metadata of
 * those types plus the `revision`, as every Pennon provider and the OFREP endpoint report it.
 */
function flagMetadata(details) {
  const out = {}
  for (const [key, value] of Object.entries(details.flagMetadata ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value
  }
  if (details.revision !== null && details.revision !== undefined) out.revision = details.revision
  return out
}

export class PennonWebProvider {
  metadata = { name: 'pennon' }
  runsOn = 'client'
  hooks = []
  events = new OpenFeatureEventEmitter()
  #options
  #client = null
  #listeners = null
  #initializing = false
  #initFailed = false

  /**
   * `client`: a browser `Client` (it stays the caller's: `onClose` only detaches from it),
   * or the browser client's options (`url`, `sdkKey`, `bootstrap`, …) without `context`:
   * the provider then creates the client for the SDK's context, owns it and closes it.
   */
  constructor(client = {}) {
    this.#options = client
  }

  /** The browser client, once `initialize` ran. */
  get client() {
    return this.#client
  }

  async initialize(context = {}) {
    const shared = this.#options instanceof Client
    const client = shared ? this.#options : new Client({ ...this.#options, context })
    this.#client = client
    const emit = (event, details) => this.events.emit(event, details)
    this.#listeners = {
      // The first `ready` settles `initialize` (the SDK then emits READY itself).
      ready: ({ revision, recovered }) => {
        if (recovered || this.#initFailed) emit(ProviderEvents.Ready, { metadata: { revision } })
        this.#initFailed = false
      },
      change: ({ flags, revision, previousRevision, contextChanged }) => {
        // A context change is the SDK's own event (ContextChanged), not a configuration change.
        if (!contextChanged) emit(ProviderEvents.ConfigurationChanged, { flagsChanged: flags, metadata: { revision, previousRevision } })
      },
      error: ({ code, message }) => {
        // While `initialize` waits, its rejection (init_timeout, naming the last error) is
        // the error the SDK reports. With results held the provider still answers (ERROR
        // means "cannot evaluate"); `stale` tells when they grow old.
        if (!this.#initializing && this.#client?.revision === null) emit(ProviderEvents.Error, { message, metadata: { code } })
      },
      stale: ({ since, revision }) =>
        emit(ProviderEvents.Stale, {
          message: `no successful check since ${new Date(since).toISOString()}`,
          metadata: revision === null ? { since } : { since, revision },
        }),
    }
    for (const [event, listener] of Object.entries(this.#listeners)) client.on(event, listener)
    this.#initializing = true
    try {
      await client.ready()
      if (shared && Object.keys(context).length > 0 && JSON.stringify(context) !== JSON.stringify(client.context)) {
        await client.setContext(context)
      }
    } catch (error) {
      this.#initFailed = true
      throw error
    } finally {
      this.#initializing = false
    }
  }

  /** Static context: the new context's results are fetched before the SDK reports the change. */
  async onContextChange(_oldContext, newContext) {
    await this.#client?.setContext(newContext)
  }

  async onClose() {
    for (const [event, listener] of Object.entries(this.#listeners ?? {})) this.#client.off(event, listener)
    if (!(this.#options instanceof Client)) this.#client?.close()
  }

  #resolve(flagKey, type, defaultValue) {
    const details = this.#client?.evaluate(flagKey)
    if (!details) return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.PROVIDER_NOT_READY }
    const metadata = flagMetadata(details)
    if (details.errorCode) {
      const errorCode = ERROR_CODES.has(details.errorCode) ? details.errorCode : ErrorCode.GENERAL
      return { value: defaultValue, reason: 'ERROR', errorCode, errorMessage: details.errorMessage ?? undefined, flagMetadata: metadata }
    }
    const value = details.value
    if (type === 'object' ? typeof value !== 'object' || value === null : typeof value !== type) {
      const errorMessage = `flag '${flagKey}' is not of type ${type}`
      return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage, flagMetadata: metadata }
    }
    return { value, variant: details.variant ?? undefined, reason: details.reason, flagMetadata: metadata }
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
