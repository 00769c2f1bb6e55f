// Types of every entry of pennon-wasm (web, bundler, nodejs): the same API everywhere.

// The error classes and the types every Pennon JS package shares (generated from core).
export * from './contract.js';
import type { Context, ErrorCode, EvaluateOptions, EvaluationResult, LoadWarning, Outcome } from './contract.js';

/** A Pennon engine holding at most one compiled snapshot. */
export class Engine {
  /** A new engine; loads `snapshot` (JSON text or an object) with `load` when given. */
  constructor(snapshot?: string | object | null);
  /** A new engine with `snapshot` loaded by `loadAsync` (loads the regex module if needed). */
  static create(snapshot: string | object): Promise<Engine>;
  /**
   * Loads a snapshot and returns its warnings. Throws a SnapshotError when the snapshot
   * cannot be loaded at all; the engine then keeps the snapshot it had. In the web and
   * bundler entries a snapshot with `matches` conditions needs the regex module loaded
   * first (`initRegex()` / `initRegexSync()`), else this throws a SnapshotError with code
   * `invalid_regex` and `regexNeeded: true`; in Node the module is loaded synchronously.
   */
  load(snapshot: string | object): LoadWarning[];
  /** `load`, loading the regex module first (`initRegex()`) when the snapshot needs it. */
  loadAsync(snapshot: string | object): Promise<LoadWarning[]>;
  /** The loaded snapshot's revision, or null before the first load. */
  readonly revision: number | null;
  /** The warnings of the loaded snapshot. */
  readonly warnings: LoadWarning[];
  /** Evaluates a flag with details. Never throws for evaluation problems. */
  evaluate<T = unknown>(flag: string, context?: Context | null, options?: EvaluateOptions<T> | null): EvaluationResult<T>;
  getBoolean(flag: string, context: Context | null | undefined, defaultValue: boolean, now?: number | null): boolean;
  getString(flag: string, context: Context | null | undefined, defaultValue: string, now?: number | null): string;
  getNumber(flag: string, context: Context | null | undefined, defaultValue: number, now?: number | null): number;
  getObject<T extends object | null = Record<string, unknown>>(
    flag: string,
    context: Context | null | undefined,
    defaultValue: T,
    now?: number | null,
  ): T;
  /** Every flag for one context (omitted or null: the empty context), for front-end bootstrap. */
  evaluateAll(context?: Context | null, now?: number | null): Record<string, EvaluationResult>;
  /**
   * The keys of the flags whose evaluation may differ between `previous`'s snapshot and
   * this engine's, as core computes them (added, removed, changed, and their dependents),
   * sorted. An engine without a snapshot counts as an empty one.
   */
  changedFlags(previous: Engine): string[];
  /**
   * Switches counting of `evaluate` and the typed getters (not `evaluateAll`) per flag ×
   * variant × reason on or off; off by default, counts so far are kept.
   */
  countEvaluations(enabled: boolean): void;
  /** Counts an answer given from a local override of `flag` (variant `override`, reason `STATIC`) when counting. */
  countOverride(flag: string): void;
  /** From now on this engine counts into `previous`'s counters (on or off with them). */
  shareCounters(previous: Engine): void;
  /** The counters in Prometheus text: `pennon_evaluations_total{flag,variant,reason}`, sorted. */
  metrics(): string;
  /**
   * Records what happened after the application used `flag` for `context` (a request that
   * succeeded or failed, with its latency, and/or a conversion), kept for the variant the
   * context is served. An invalid outcome throws an ArgumentError; an evaluation that fails
   * records nothing and throws nothing.
   */
  record(flag: string, context: Context | null | undefined, outcome: Outcome, now?: number | null): void;
  /**
   * The body of `POST /sdk/v1/metrics` (JSON text) with every outcome and exposure since the
   * previous take, `sdk` naming the sender, or null when nothing is new.
   */
  takeOutcomes(batchId: string, sdk?: string | null): string | null;
  /** Gives back a batch whose send failed: the next take carries it again. */
  restoreOutcomes(batch: string): void;
  /** The outcomes in Prometheus text: `pennon_canary_requests_total{flag,cohort}`, errors, conversions, latency histogram. */
  outcomeMetrics(): string;
  /** Releases the wasm memory now (otherwise a FinalizationRegistry does it). */
  free(): void;
  [Symbol.dispose](): void;
}

/** Maps a value thrown by the wasm engine to a PennonError (others are returned as is). */
export function toPennonError(thrown: unknown): unknown;
/** Every code the wasm core knows (core's ErrorCode::ALL). */
export function coreErrorCodes(): ErrorCode[];
/** The class name core assigns to a code. */
export function coreErrorClass(code: string): string | undefined;
/** The bucket in [0, 100000) of a unit under a salt. */
export function bucket(salt: string, unit: string): number;
/** XXH3_64(seed 0, salt ++ ":" ++ unit). */
export function bucketHash(salt: string, unit: string): bigint;

/** What `init` accepts: the .wasm's URL, a Response, its bytes or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/**
 * Instantiates the module (web entry; a no-op for the nodejs and bundler entries). Without
 * an argument the web entry fetches `pennon_wasm_bg.wasm` next to its JS file.
 */
export default function init(input?: { module_or_path: InitInput | Promise<InitInput> }): Promise<unknown>;
/** Instantiates the module synchronously from bytes or a compiled module. */
export function initSync(input?: { module: BufferSource | WebAssembly.Module }): unknown;

/**
 * Loads the regex module that `matches` conditions need (once; later calls do nothing).
 * Without an argument the web and bundler entries fetch `pennon_regex.wasm` next to their
 * JS file, and the nodejs entry reads it from disk.
 */
export function initRegex(input?: { module_or_path?: InitInput | Promise<InitInput> }): Promise<void>;
/** Loads the regex module synchronously from bytes or a compiled module. */
export function initRegexSync(input?: { module?: BufferSource | WebAssembly.Module }): void;
