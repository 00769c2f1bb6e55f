//! Files generated from core's lists (error codes, reasons, OpenFeature error codes, flag
//! types, type names) for the hosts' type systems. The test fails when a checked-in copy
//! differs from what core says today; `PENNON_BLESS=1 cargo test -p pennon-host --test
//! generated` rewrites them.
#![allow(clippy::panic, clippy::expect_used, clippy::indexing_slicing)] // Test helpers fail by panicking.

use std::path::{Path, PathBuf};

use pennon_core::{ErrorCode, EvaluationErrorCode, FlagType, Reason};
use pennon_host::args::TYPE_NAMES;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const BEGIN: &str = "# BEGIN GENERATED from pennon-core (cargo test -p pennon-host --test generated)\n";
const END: &str = "# END GENERATED\n";

fn literal(name: &str, doc: &str, items: impl IntoIterator<Item = &'static str>) -> String {
    let items: Vec<String> = items.into_iter().map(|item| format!("    \"{item}\",\n")).collect();
    format!("{name} = Literal[\n{}]\n\"\"\"{doc}\"\"\"\n\n", items.concat())
}

fn python_literals() -> String {
    let mut out = String::from(BEGIN);
    out += &literal(
        "ErrorCode",
        "Every stable error code (``PennonError.code``, load warnings' ``code``), in core's order.",
        ErrorCode::ALL.iter().map(|code| code.as_str()),
    );
    out += &literal(
        "EvaluationErrorCode",
        "The OpenFeature error codes of evaluation results (``errorCode``).",
        EvaluationErrorCode::ALL.iter().map(|code| code.as_str()),
    );
    out += &literal("Reason", "Every evaluation reason (``reason``).", Reason::ALL.iter().map(|r| r.as_str()));
    out += &literal("FlagType", "The value types of flags.", FlagType::ALL.iter().map(|t| t.as_str()));
    out +=
        &literal("TypeName", "What ``evaluate(type=...)`` accepts: a flag type, or ``any`` for no check.", TYPE_NAMES);
    out.truncate(out.trim_end().len() + 1);
    out += END;
    out
}

/// Replaces the text between `BEGIN` and `END` (inclusive) in `file` with `generated`,
/// or checks that it is already that.
fn check_region(file: &Path, generated: &str) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let start = text.find(BEGIN).unwrap_or_else(|| panic!("{} has no generated region", file.display()));
    let end = text[start..].find(END).map(|at| start + at + END.len()).expect("generated region has an end");
    let current = &text[start..end];
    if current == generated {
        return;
    }
    if std::env::var_os("PENNON_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &text[..start], &text[end..]);
        std::fs::write(file, updated).expect("rewrite");
        return;
    }
    panic!(
        "{} is stale: run `PENNON_BLESS=1 cargo test -p pennon-host --test generated`\n--- expected ---\n{generated}",
        file.display()
    );
}

#[test]
fn python_literals_match_core() {
    check_region(&root().join("sdks/python/pennon/_types.py"), &python_literals());
}

// --- JavaScript: one error module and one type module for both JS packages ---------------

const JS_HEADER: &str = "Generated from pennon-core by `cargo test -p pennon-host --test generated`\n\
// (PENNON_BLESS=1 rewrites it): edit host/tests/generated.rs, not this file.";

const CLASSES: [(&str, &str); 5] = [
    (
        "PennonError",
        "Base class of every error Pennon throws: `code` is a stable snake_case code, `path` a JSON Pointer or null.",
    ),
    ("SnapshotError", "Loading a snapshot failed; the engine kept the snapshot it had."),
    ("ContextError", "A context could not be used."),
    ("ArgumentError", "An argument was invalid (a programmer error): code `invalid_argument`."),
    ("InternalError", "A bug inside Pennon (a caught panic or a wasm trap): code `internal`."),
];

/// The error module, as ESM (`esm`) or CommonJS.
fn js_errors(esm: bool) -> String {
    let export = if esm { "export " } else { "" };
    let mut out = format!(
        "// {JS_HEADER}\n//\n// Pennon's error classes and the error codes core defines, the same in every JS package.\n"
    );
    if !esm {
        out += "'use strict'\n";
    }
    let (base, base_doc) = CLASSES[0];
    out += &format!(
        "\n/** {base_doc} */\n{export}class {base} extends Error {{\n  /**\n   * @param {{string}} message\n   * @param {{ErrorCode}} code\n   * @param {{string | null}} [path]\n   * @param {{ErrorOptions}} [options]\n   */\n  constructor(message, code, path = null, options = undefined) {{\n    super(message, options)\n    /** Stable snake_case code, one of `errorCodes()`. */\n    this.code = code\n    /** JSON Pointer (RFC 6901) of the offending value, or null. */\n    this.path = path\n  }}\n}}\n"
    );
    for (name, doc) in &CLASSES[1..] {
        out += &format!("\n/** {doc} */\n{export}class {name} extends {base} {{}}\n");
    }
    out += "\n// Explicit names survive minifiers that rename classes.\n";
    for (name, _) in CLASSES {
        out += &format!(
            "Object.defineProperty({name}.prototype, 'name', {{ value: '{name}', writable: true, configurable: true }})\n"
        );
    }
    out += "\n/** Every error code core defines, in core's order, with the name of its class. */\n";
    out += &format!("{export}const ERROR_CLASSES = Object.freeze({{\n");
    for code in ErrorCode::ALL {
        out += &format!("  {}: '{}',\n", code.as_str(), code.category().class_name());
    }
    out += "})\n";
    out += &format!(
        "\nconst CLASSES = {{ {} }}\n",
        CLASSES[1..].iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    );
    out += &format!(
        "\n/** The error codes this package maps, in core's order. */\n{export}function errorCodes() {{\n  return Object.keys(ERROR_CLASSES)\n}}\n"
    );
    out += &format!(
        "\n/** The class errors with `code` are thrown as, or undefined for a code core does not know. */\n{export}function errorClass(code) {{\n  return Object.hasOwn(ERROR_CLASSES, code) ? CLASSES[ERROR_CLASSES[code]] : undefined\n}}\n"
    );
    if !esm {
        let names: Vec<&str> = CLASSES.iter().map(|(name, _)| *name).collect();
        out += &format!("\nmodule.exports = {{ {}, ERROR_CLASSES, errorCodes, errorClass }}\n", names.join(", "));
    }
    out
}

fn ts_union(name: &str, doc: &str, items: impl IntoIterator<Item = &'static str>) -> String {
    let items: Vec<String> = items.into_iter().map(|item| format!("  | '{item}'\n")).collect();
    format!("/** {doc} */\nexport type {name} =\n{}", items.concat())
}

/// The shared declarations (`contract.d.ts`).
fn ts_contract() -> String {
    let mut out = format!(
        "// {JS_HEADER}\n//\n// The types both JS packages (pennon-node, pennon-wasm) share, from core's lists.\n\n"
    );
    out += &ts_union(
        "ErrorCode",
        "Stable snake_case codes of `PennonError.code` and of load warnings (core's `ErrorCode::ALL`).",
        ErrorCode::ALL.iter().map(|c| c.as_str()),
    );
    out += "\n";
    out += &ts_union(
        "Reason",
        "Why a value was served (docs/snapshot-format.md §4).",
        Reason::ALL.iter().map(|r| r.as_str()),
    );
    out += "\n";
    out += &ts_union(
        "EvaluationErrorCode",
        "OpenFeature error codes of results.",
        EvaluationErrorCode::ALL.iter().map(|c| c.as_str()),
    );
    out += "\n";
    out += &ts_union("FlagType", "A flag's value type.", FlagType::ALL.iter().map(|t| t.as_str()));
    out += "\n";
    out += &ts_union(
        "TypeName",
        "What `evaluate`'s `type` option accepts: a flag type, or `any` for no type check.",
        TYPE_NAMES,
    );
    out += "\n";
    out +=
        &ts_union("ErrorClassName", "The class names of Pennon's errors.", CLASSES[1..].iter().map(|(name, _)| *name));
    out += r#"
/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

"#;
    for (index, (name, doc)) in CLASSES.iter().enumerate() {
        if index == 0 {
            out += &format!(
                "/** {doc} */\nexport declare class {name} extends Error {{\n  constructor(message: string, code: ErrorCode, path?: string | null, options?: ErrorOptions)\n  /** Stable machine-readable code. */\n  code: ErrorCode\n  /** JSON Pointer (RFC 6901) of the offending value (`/flags/checkout/rules/2/when`), or null. */\n  path: string | null\n  /** Set by pennon-wasm's web and bundler entries on the SnapshotError of a `load` that needs the regex module first (`initRegex()`). */\n  regexNeeded?: true\n}}\n"
            );
        } else {
            out += &format!("/** {doc} */\nexport declare class {name} extends PennonError {{}}\n");
        }
    }
    out += r#"
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
"#;
    out
}

/// Checks (or with `PENNON_BLESS`, writes) a wholly generated file.
fn check_file(relative: &str, generated: &str) {
    let file = root().join(relative);
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    if current == generated {
        return;
    }
    if std::env::var_os("PENNON_BLESS").is_some() {
        std::fs::write(&file, generated).expect("write");
        return;
    }
    panic!("{relative} is stale: run `PENNON_BLESS=1 cargo test -p pennon-host --test generated`");
}

#[test]
fn js_contract_matches_core() {
    check_file("bindings/node/errors.cjs", &js_errors(false));
    check_file("wasm/js/errors.mjs", &js_errors(true));
    let types = ts_contract();
    check_file("bindings/node/contract.d.ts", &types);
    check_file("wasm/js/contract.d.ts", &types);
}
