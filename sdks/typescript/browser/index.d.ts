// pennon/browser: hand-written declarations of browser/index.js (checked by
// `tsc -p sdks/typescript` with test/browser-types.ts).

import type { Context, ErrorEvent, EvaluationResult, Json, StaleEvent } from '../client.js'

export type { Context, ErrorEvent, Json, StaleEvent } from '../client.js'

/** One flag's result as the server's core computed it (`value` is `null` on error), plus `age`. */
export interface Details<T = Json> extends EvaluationResult<T | null> {
  /** Milliseconds since the results' snapshot was generated (`null` when unknown). */
  age: number | null
}

/**
 * Results rendered into a page by a server: the answer of `POST /sdk/v1/evaluate`
 * (`{revision, generatedAt, flags}`), or the Node client's `allFlags(context)` map.
 */
export type Bootstrap = string | { revision?: number; generatedAt?: string; flags: Record<string, Partial<Details>> } | Record<string, Partial<Details>>

export interface ClientOptions {
  /** A Pennon server (`POST /sdk/v1/evaluate`, `GET /ofrep/v1/events`); needs `sdkKey`. */
  url?: string
  /** The SDK key, sent as `Authorization: Bearer`. Anyone with the page can read it. */
  sdkKey?: string
  /** The one user whose results the client holds (default `{}`); `setContext` changes it. */
  context?: Context
  /** Results for `context` rendered into the page: ready at once, without a request. */
  bootstrap?: Bootstrap
  /** Follow changes over the notification stream (default `true`) or poll only. */
  stream?: boolean
  /** Poll interval in ms while the stream is down, or always with `stream: false` (default 30 000). */
  pollInterval?: number
  /** How long `ready()` waits at most, in ms (default 5 000). */
  initTimeout?: number
  /** Stale after this many ms without a successful check (default 120 000). */
  staleAfter?: number
  /** The server's heartbeat in ms (default 15 000); a stream silent for 3× this is reconnected. */
  heartbeat?: number
  /** Reconnect backoff in ms: `random(0, min(cap, base · 2^attempt))` (default 1 000 / 30 000). */
  backoff?: { base?: number; cap?: number }
  /** The `fetch` to use (default `globalThis.fetch`). */
  fetch?: typeof fetch
}

export interface ReadyEvent {
  revision: number | null
  /** `true` when it ends a stale period or a run of failed checks. */
  recovered: boolean
}
export interface ChangeEvent {
  revision: number | null
  previousRevision: number | null
  /** The flags whose result for this user differs, sorted. */
  flags: string[]
  /** The change comes from `setContext`. */
  contextChanged: boolean
}
export interface ClientEvents {
  ready: ReadyEvent
  change: ChangeEvent
  error: ErrorEvent
  stale: StaleEvent
}

/** An error of the client: a stable `code` and a message. */
export declare class ClientError extends Error {
  constructor(code: string, message: string)
  code: string
}

export declare class Client {
  constructor(options: ClientOptions)
  on<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): this
  off<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): this
  once<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): this
  /** Resolves once results are held; rejects (`init_timeout`, `closed`) otherwise. Never hangs. */
  ready(): Promise<void>
  readonly revision: number | null
  readonly isStale: boolean
  readonly context: Context
  /** Fetches another user's results; resolves when they are held. */
  setContext(context: Context): Promise<void>
  isEnabled(flag: string): boolean
  getBoolean(flag: string, defaultValue: boolean): boolean
  getString(flag: string, defaultValue: string): string
  getNumber(flag: string, defaultValue: number): number
  getObject<T extends object | null = Record<string, Json>>(flag: string, defaultValue: T): T
  /** Every detail; `value` is `null` on error. */
  evaluate<T = Json>(flag: string): Details<T>
  allFlags(): Record<string, Details>
  close(): void
}

export declare function createClient(options: ClientOptions): Client

/** The incremental server-sent-events reader the client uses (exported for tests). */
export declare function sseReader(
  onItem: (item: { event: string; id: string | null; data: string } | { comment: string }) => void,
): (chunk: Uint8Array | string) => void
