// pennon: the declarations both builds share (index.d.ts: Node, web.d.ts: browsers,
// workers, Deno): options, details, events, errors and the client's methods. No Node types
// here, so that a browser project type-checks without @types/node.
import type { Context, EvaluationResult, Json } from 'pennon-wasm'

export type { Context, EvaluationResult, Json } from 'pennon-wasm'

/** Snapshot JSON text, its bytes, or an already parsed snapshot object. */
export type SnapshotInput = string | Uint8Array | object

export interface ClientOptions {
  /** Source: a Pennon server (or static host serving `/sdk/v1/snapshot`); needs `sdkKey`. */
  url?: string
  /** The SDK key sent as `Authorization: Bearer` (required with `url`). */
  sdkKey?: string
  /** Source: a snapshot file, re-read when its modification time or size changes (Node only: elsewhere `invalid_config`). */
  file?: string
  /** Source: a snapshot in memory, never refreshed (tests, embedded defaults). */
  snapshot?: SnapshotInput
  /** With `url`: a snapshot loaded first, so the client is ready offline. */
  bootstrap?: SnapshotInput
  /** With `url`: `bootstrap` read from this file (Node only: elsewhere `invalid_config`). */
  bootstrapFile?: string
  /** Server-sent events (default `true`) or polling only. */
  stream?: boolean
  /** Poll interval in ms (default 30 000 for `url`, 1 000 for `file`). */
  pollInterval?: number
  /** How long `ready()` waits at most, in ms from `createClient` (default 5 000). */
  initTimeout?: number
  /** Stale after this many ms without a successful check (default 120 000). */
  staleAfter?: number
  /** The server's heartbeat in ms (default 15 000); a stream silent for 3× this is dead. */
  heartbeat?: number
  /** The server's Ed25519 public key, base64 of 32 bytes (`GET /sdk/v1/public-key`). */
  publicKey?: string | null
  /** Reconnect backoff in ms: `random(0, min(cap, base · 2^attempt))` (default 1 000 / 30 000). */
  backoff?: { base?: number; cap?: number }
  /** Circuit breaker: open after `failures` consecutive failed checks, for `openFor` ms (default 5 / 30 000). */
  breaker?: { failures?: number; openFor?: number }
  /** Read `PENNON_FLAG_*` overrides: `true` from `process.env` (where there is one), or from the given variables. */
  envOverrides?: boolean | Record<string, string | undefined>
  /**
   * Send what `record` recorded and the exposures (evaluations counted per variant) to
   * `POST {url}/sdk/v1/metrics` in batches (default `true` with `url`; only with `url`).
   */
  metrics?: boolean
  /** How often a batch is sent, in ms (default 10 000). */
  metricsInterval?: number
}

/**
 * What `record` takes: a request (`ok` / `error`, `latencyMs`) and/or a conversion
 * (`converted`). pennon-wasm's `Outcome`, stricter: a latency only with a request.
 */
export type Outcome =
  | { ok: true; error?: false; converted?: boolean; latencyMs?: number }
  | { error: true; ok?: false; converted?: boolean; latencyMs?: number }
  | { converted: true; ok?: false; error?: false; latencyMs?: never }

/** Every detail of one evaluation: core's result plus `age`. */
export interface Details<T = unknown> extends EvaluationResult<T> {
  /** Milliseconds since the snapshot's `generatedAt`, when it has one. */
  age: number | null
}

export interface ReadyEvent {
  revision: number
  /** `true` when it ends a stale period. */
  recovered: boolean
}
export interface ChangeEvent {
  revision: number
  previousRevision: number
  /**
   * The keys of the flags whose evaluation may differ, computed by core
   * (`Snapshot::changed_flags`), sorted.
   */
  flags: string[]
}
export interface ErrorEvent {
  code: string
  message: string
}
export interface StaleEvent {
  /** When the last check succeeded (ms since the epoch). */
  since: number
  revision: number | null
}
export interface ClientEvents {
  ready: [ReadyEvent]
  change: [ChangeEvent]
  error: [ErrorEvent]
  stale: [StaleEvent]
}

/** An error of the client: a stable `code` and a message. */
export declare class ClientError extends Error {
  constructor(code: string, message: string, options?: ErrorOptions)
  code: string
}

/** What both builds' `Client` offers besides its events. */
export interface ClientMethods {
  /** Resolves once the first snapshot is installed; rejects (`init_timeout`, `closed`) otherwise. Never hangs. */
  ready(): Promise<void>
  /** The revision held, `null` before the first snapshot. */
  readonly revision: number | null
  /** No check succeeded for `staleAfter`. */
  readonly isStale: boolean
  isEnabled(flag: string, context?: Context | null): boolean
  getBoolean(flag: string, context: Context | null | undefined, defaultValue: boolean): boolean
  getString(flag: string, context: Context | null | undefined, defaultValue: string): string
  getNumber(flag: string, context: Context | null | undefined, defaultValue: number): number
  getObject<T extends object | null = Record<string, unknown>>(
    flag: string,
    context: Context | null | undefined,
    defaultValue: T,
  ): T
  /** Every detail; `value` is `null` on error. With `{type}`, a flag of another type is `TYPE_MISMATCH`. */
  evaluate<T = unknown>(
    flag: string,
    context?: Context | null,
    options?: { type?: 'boolean' | 'string' | 'number' | 'object' | null },
  ): Details<T | null>
  /** Every flag (and every overridden flag) for `context`, keys sorted. */
  allFlags(context?: Context | null): Record<string, Details>
  override(flag: string, value: Json): this
  clearOverride(flag?: string): this
  /** The local overrides in force, `{flag: value}` (a copy). */
  overrides(): Record<string, Json>
  /** Prometheus text: `pennon_evaluations_total{flag,variant,reason}`. */
  metrics(): string
  /** Runs after every single-flag evaluation; returns a function that removes the hook. */
  onEvaluation(hook: (flag: string, details: Details) => void): () => void
  /**
   * Records an outcome under the variant `context` gets for `flag` (sent in the next batch).
   * Throws a ClientError `invalid_argument` for an invalid outcome; an unknown flag, a bad
   * context or a flag a local override answers records nothing.
   */
  record(flag: string, context: Context | null | undefined, outcome: Outcome): void
  /**
   * Sends what was recorded since the last batch now: `true` when the server took it,
   * `false` when nothing was new; rejects with a ClientError when the send failed (the
   * batch is kept for the next one). Only for a `url` client (`invalid_config` otherwise).
   */
  flushOutcomes(): Promise<boolean>
  /**
   * Prometheus text of the recorded outcomes (cumulative, `cohort` = variant):
   * `pennon_canary_requests_total`, `pennon_canary_errors_total`, `pennon_conversions_total`,
   * `pennon_canary_latency_ms` (histogram).
   */
  outcomeMetrics(): string
  /** Stops refreshing; resolves once the last outcome batch is sent (within 1 s). Never rejects. */
  close(): Promise<void>
}
