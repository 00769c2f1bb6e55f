// pennon/openfeature: an OpenFeature server provider over a Pennon client
// (lib/openfeature.js). Needs the optional peer dependency `@openfeature/server-sdk`.
import type {
  EvaluationContext,
  JsonValue,
  OpenFeatureEventEmitter,
  Provider,
  ResolutionDetails,
  TrackingEventDetails,
} from '@openfeature/server-sdk'
import type { Client, ClientOptions } from './index.js'

export interface PennonProviderOptions {
  /** `{trackingEventName: flag | flag[]}`: the flags whose conversion a tracking event is. */
  conversions?: Record<string, string | string[]>
}

export declare class PennonProvider implements Provider {
  /**
   * `client`: a Pennon `Client` (it stays the caller's: `onClose` only detaches from it),
   * or the options of `createClient` (the provider then owns the client and closes it).
   */
  constructor(client: Client | ClientOptions, options?: PennonProviderOptions)
  readonly metadata: { readonly name: 'pennon' }
  readonly runsOn: 'server'
  /** READY (after stale or error), PROVIDER_CONFIGURATION_CHANGED (`flagsChanged`), PROVIDER_ERROR, PROVIDER_STALE. */
  readonly events: OpenFeatureEventEmitter
  /** The Pennon client answering this provider's evaluations. */
  readonly client: Client
  /** Waits for the client's first snapshot; rejects after its `initTimeout`. */
  initialize(): Promise<void>
  onClose(): Promise<void>
  /**
   * A conversion of each flag the event names (`conversions[trackingEventName]`, and
   * `details.flag`: a key or a list), recorded for `context`; other events record nothing.
   */
  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>>
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>>
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>>
  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>>
}
