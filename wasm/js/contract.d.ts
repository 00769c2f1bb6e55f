// Generated from pennon-core by `cargo test -p pennon-host --test generated`
// (PENNON_BLESS=1 rewrites it): edit host/tests/generated.rs, not this file.
//
// The types both JS packages (pennon-node, pennon-wasm) share, from core's lists.

/** Stable snake_case codes of `PennonError.code` and of load warnings (core's `ErrorCode::ALL`). */
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
  | 'internal'

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
  | 'CANARY_EXCLUDED'

/** OpenFeature error codes of results. */
export type EvaluationErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'PARSE_ERROR'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'PROVIDER_NOT_READY'
  | 'GENERAL'

/** A flag's value type. */
export type FlagType =
  | 'boolean'
  | 'string'
  | 'number'
  | 'object'

/** What `evaluate`'s `type` option accepts: a flag type, or `any` for no type check. */
export type TypeName =
  | 'boolean'
  | 'string'
  | 'number'
  | 'object'
  | 'any'

/** The class names of Pennon's errors. */
export type ErrorClassName =
  | 'SnapshotError'
  | 'ContextError'
  | 'ArgumentError'
  | 'InternalError'

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Base class of every error Pennon throws: `code` is a stable snake_case code, `path` a JSON Pointer or null. */
export declare class PennonError extends Error {
  constructor(message: string, code: ErrorCode, path?: string | null, options?: ErrorOptions)
  /** Stable machine-readable code. */
  code: ErrorCode
  /** JSON Pointer (RFC 6901) of the offending value (`/flags/checkout/rules/2/when`), or null. */
  path: string | null
  /** Set by pennon-wasm's web and bundler entries on the SnapshotError of a `load` that needs the regex module first (`initRegex()`). */
  regexNeeded?: true
}
/** Loading a snapshot failed; the engine kept the snapshot it had. */
export declare class SnapshotError extends PennonError {}
/** A context could not be used. */
export declare class ContextError extends PennonError {}
/** An argument was invalid (a programmer error): code `invalid_argument`. */
export declare class ArgumentError extends PennonError {}
/** A bug inside Pennon (a caught panic or a wasm trap): code `internal`. */
export declare class InternalError extends PennonError {}

/** Every error code core defines, with the name of the class its errors are thrown as. */
export declare const ERROR_CLASSES: Readonly<Record<ErrorCode, ErrorClassName>>
/** The error codes this package maps, in core's order. */
export declare function errorCodes(): ErrorCode[]
/** The class errors with `code` are thrown as, or undefined for a code core does not know. */
export declare function errorClass(code: string): typeof PennonError | undefined

/**
 * The evaluation context: a plain object of attributes. `targetingKey` is the default
 * bucketing unit, `tenant` is matched by tenant overrides, `groups` by group targets.
 * Values are JSON values (a `Date` is taken as its `toISOString()` text, `undefined`
 * properties are left out); a function, symbol, BigInt, NaN, ±Infinity or nesting deeper
 * than 64 makes the result `INVALID_CONTEXT`. An omitted or null context is empty.
 */
export interface Context {
  targetingKey?: string | number
  tenant?: string
  groups?: string | string[]
  [attribute: string]: unknown
}

/** Options of `Engine.evaluate`. */
export interface EvaluateOptions<T = unknown> {
  /** Expected flag type; a flag of another type gives `TYPE_MISMATCH`. Absent, null or `any`: no check. */
  type?: TypeName | null
  /** Returned as `value` when the evaluation fails (default `null`). */
  default?: T
  /** Time of evaluation in ms since the Unix epoch, floored (default: the host clock). */
  now?: number | null
}

/** The canonical result object: all ten fields, `null` included. */
export interface EvaluationResult<T = unknown> {
  /** The served value, or the caller's default on error. */
  value: T
  variant: string | null
  reason: Reason
  /** The rule that decided, if a rule did. */
  ruleId: string | null
  /** The 0-based progressive-rollout stage that decided, if any. */
  stage: number | null
  /** In state `shadow`: the variant the on path would have served. */
  shadowVariant: string | null
  errorCode: EvaluationErrorCode | null
  errorMessage: string | null
  /** The snapshot's revision; null before the first load. */
  revision: number | null
  flagMetadata: Record<string, unknown> | null
}

/**
 * What happened after the application used a flag (`record`): a request that succeeded
 * (`ok`) or failed (`error`), with its latency when measured, and/or a conversion. At
 * least one of `ok`, `error`, `converted`; not `ok` and `error` together; a latency only
 * with a request, a finite number ≥ 0. Anything else throws an `ArgumentError`.
 */
export type Outcome =
  | { ok: true; error?: false; converted?: boolean; latencyMs?: number }
  | { error: true; ok?: false; converted?: boolean; latencyMs?: number }
  | { converted: true; ok?: false; error?: false }

/** A load warning: an invalid flag or segment, an unknown prerequisite or top-level field. */
export interface LoadWarning {
  code: ErrorCode
  /** JSON Pointer of the offending value. */
  path: string
  message: string
}

/** What every Pennon JS engine offers (pennon-node's and pennon-wasm's `Engine`). */
export interface EngineApi {
  /** Loads JSON text or a parsed object; throws `SnapshotError` and keeps the old one on failure. */
  load(snapshot: string | object): LoadWarning[]
  /** `load`, first loading what the snapshot needs (pennon-wasm: the regex module); a promise. */
  loadAsync(snapshot: string | object): Promise<LoadWarning[]>
  /** The loaded snapshot's revision, or null before the first load. */
  readonly revision: number | null
  /** The loaded snapshot's load warnings. */
  readonly warnings: LoadWarning[]
  evaluate<T = unknown>(flag: string, context?: Context | null, options?: EvaluateOptions<T> | null): EvaluationResult<T>
  getBoolean(flag: string, context: Context | null | undefined, defaultValue: boolean, now?: number | null): boolean
  getString(flag: string, context: Context | null | undefined, defaultValue: string, now?: number | null): string
  getNumber(flag: string, context: Context | null | undefined, defaultValue: number, now?: number | null): number
  getObject<T extends object | null = Record<string, unknown>>(
    flag: string,
    context: Context | null | undefined,
    defaultValue: T,
    now?: number | null,
  ): T
  evaluateAll(context?: Context | null, now?: number | null): Record<string, EvaluationResult>
  /** Core's keys of the flags whose evaluation may differ between `previous`'s snapshot and this one's (sorted). */
  changedFlags(previous: this): string[]
  /** Counts `evaluate` and the typed getters per flag × variant × reason (on or off; off by default). */
  countEvaluations(enabled: boolean): void
  /** Counts an answer given from a local override of `flag` (variant `override`, reason `STATIC`) when counting. */
  countOverride(flag: string): void
  /** From now on counts into `previous`'s counters (an SDK's fresh engine per snapshot keeps one set). */
  shareCounters(previous: this): void
  /** The counters in Prometheus text: `pennon_evaluations_total{flag,variant,reason}`, sorted. */
  metrics(): string
  /** Records an outcome for the variant `context` is served (nothing when the evaluation fails). */
  record(flag: string, context: Context | null | undefined, outcome: Outcome, now?: number | null): void
  /** The body of `POST /sdk/v1/metrics` with everything since the previous take, or null when nothing is new. */
  takeOutcomes(batchId: string, sdk?: string | null): string | null
  /** Gives back a batch whose send failed: the next take carries it again. */
  restoreOutcomes(batch: string): void
  /** The outcomes in Prometheus text: `pennon_canary_requests_total{flag,cohort}`, errors, conversions, latency histogram. */
  outcomeMetrics(): string
}
