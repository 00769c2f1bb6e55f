// pennon/openfeature-web: declarations of browser/openfeature.js.
import type {
  EvaluationContext,
  JsonValue,
  OpenFeatureEventEmitter,
  Provider,
  ResolutionDetails,
} from '@openfeature/web-sdk'
import type { Client, ClientOptions } from './index.js'

/** The browser client's options without `context` (the SDK's is used), or a client to share. */
export type PennonWebProviderOptions = Omit<ClientOptions, 'context'> | Client

export declare class PennonWebProvider implements Provider {
  constructor(client?: PennonWebProviderOptions)
  readonly metadata: { name: 'pennon' }
  readonly runsOn: 'client'
  readonly hooks: []
  readonly events: OpenFeatureEventEmitter
  /** The browser client, once `initialize` ran. */
  readonly client: Client | null
  initialize(context?: EvaluationContext): Promise<void>
  onContextChange(oldContext: EvaluationContext, newContext: EvaluationContext): Promise<void>
  onClose(): Promise<void>
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean>
  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string>
  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number>
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T>
}
