// Types of every entry of pennon-wasm (web, bundler, nodejs): the same API everywhere.

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Flag value types; `any` (or no type) skips the type check. */
export type FlagType = 'boolean' | 'string' | 'number' | 'object' | 'any';

/** Why a value was served (docs/snapshot-format.md §4). */
export type Reason =
  | 'STATIC'
  | 'DEFAULT'
  | 'TARGETING_MATCH'
  | 'SPLIT'
  | 'DISABLED'
  | 'ERROR'
  | 'KILLED'
  | 'SHADOW'
  | 'OVERRIDE'
  | 'PREREQUISITE_FAILED'
  | 'OUT_OF_WINDOW'
  | 'CANARY_EXCLUDED';

/** OpenFeature error codes of results. */
export type EvaluationErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'PARSE_ERROR'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'PROVIDER_NOT_READY'
  | 'GENERAL';

/**
 * An evaluation context: attributes for conditions. `targetingKey` is the default
 * bucketing unit, `tenant` and `groups` are matched by overrides and targets. Values are
 * JSON values (a `Date` is passed as its ISO string; `undefined` properties are ignored).
 */
export interface EvaluationContext {
  targetingKey?: string | number;
  tenant?: string;
  groups?: string | string[];
  [attribute: string]: unknown;
}

/** The result of `evaluate` (the canonical result object, docs/snapshot-format.md §4). */
export interface EvaluationResult<T = Json> {
  /** The served value, or the caller's default on error. */
  value: T;
  variant: string | null;
  reason: Reason;
  ruleId: string | null;
  stage: number | null;
  shadowVariant: string | null;
  errorCode: EvaluationErrorCode | null;
  errorMessage: string | null;
  /** The snapshot's revision; null before any load (PROVIDER_NOT_READY). */
  revision: number | null;
  flagMetadata: { [key: string]: Json } | null;
}

export interface EvaluateOptions<T = Json> {
  /** Expected flag type; another type gives TYPE_MISMATCH. Default: no check. */
  type?: FlagType;
  /** Returned on error. Default: null. */
  default?: T;
  /** Evaluation time in ms since the Unix epoch. Default: Date.now(). */
  now?: number;
}

/** A load warning (an invalid flag or segment, an unknown prerequisite…). */
export interface LoadWarning {
  code: ErrorCode;
  path: string;
  message: string;
}

/** A Pennon engine holding at most one compiled snapshot. */
export class Engine {
  /** A new engine; loads `snapshot` (JSON text or an object) with `load` when given. */
  constructor(snapshot?: string | object);
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
  evaluate<T = Json>(flag: string, context?: EvaluationContext, options?: EvaluateOptions<T>): EvaluationResult<T>;
  getBoolean(flag: string, context: EvaluationContext | undefined, defaultValue: boolean, now?: number): boolean;
  getString(flag: string, context: EvaluationContext | undefined, defaultValue: string, now?: number): string;
  getNumber(flag: string, context: EvaluationContext | undefined, defaultValue: number, now?: number): number;
  getObject<T extends object = { [key: string]: Json }>(
    flag: string,
    context: EvaluationContext | undefined,
    defaultValue: T,
    now?: number,
  ): T;
  /** Every flag for one context (default null), for front-end bootstrap. */
  evaluateAll(context?: EvaluationContext, now?: number): { [flag: string]: EvaluationResult };
  /** Releases the wasm memory now (otherwise a FinalizationRegistry does it). */
  free(): void;
  [Symbol.dispose](): void;
}

/** Stable snake_case error codes (core's ErrorCode). */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_snapshot'
  | 'unsupported_schema_version'
  | 'missing_field'
  | 'invalid_type'
  | 'invalid_value'
  | 'unknown_field'
  | 'unknown_operator'
  | 'unknown_variant'
  | 'variant_type_mismatch'
  | 'invalid_regex'
  | 'invalid_semver'
  | 'invalid_cidr'
  | 'invalid_date'
  | 'invalid_duration'
  | 'invalid_percentage'
  | 'invalid_weights'
  | 'unknown_segment'
  | 'invalid_segment'
  | 'segment_cycle'
  | 'prerequisite_cycle'
  | 'depth_exceeded'
  | 'unknown_prerequisite'
  | 'duplicate_id'
  | 'invalid_context'
  | 'invalid_argument'
  | 'internal';

export class PennonError extends Error {
  constructor(code: ErrorCode, message: string, path?: string, options?: ErrorOptions);
  readonly code: ErrorCode;
  readonly path: string;
  /** Set on the SnapshotError of a `load` that needs the regex module first. */
  regexNeeded?: true;
}
export class SnapshotError extends PennonError {}
export class ContextError extends PennonError {}
export class ArgumentError extends PennonError {}
export class InternalError extends PennonError {}

/** Every code this package maps to a class, in core's order. */
export function errorCodes(): ErrorCode[];
/** The class of a code, or undefined. */
export function errorClass(code: string): typeof PennonError | undefined;
/** Maps a value thrown by the wasm engine to a PennonError (others are returned as is). */
export function toPennonError(thrown: unknown): unknown;
/** Every code the wasm core knows (core's ErrorCode::ALL). */
export function coreErrorCodes(): string[];
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
