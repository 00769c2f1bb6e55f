// pennon/testing: clients for tests (lib/testing.js), with any test framework.
import type { Client, ClientOptions, Json, SnapshotInput } from './index.js'

export interface TestClientOptions extends Omit<ClientOptions, 'url' | 'sdkKey' | 'file' | 'snapshot' | 'bootstrap' | 'bootstrapFile'> {
  /** `{flag: value}` overridden on the client (reason `STATIC`, variant `override`). */
  flags?: Record<string, Json>
  /** The snapshot answering the flags not overridden (default: one without flags). */
  snapshot?: SnapshotInput
}
/** A snapshot without flags. */
export declare const EMPTY_SNAPSHOT: SnapshotInput
/** A client that is ready at once, answers from `snapshot` and never refreshes. */
export declare function createTestClient(options?: TestClientOptions): Client
/**
 * Runs `fn()` with `flags` overridden on `client`, then puts back what those flags were,
 * also when `fn` throws or rejects. Returns what `fn` returns.
 */
export declare function withFlags<T>(client: Client, flags: Record<string, Json>, fn: () => T): T
