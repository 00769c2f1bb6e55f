//! The safe half of the binding: the engine behind a `PennonEngine` handle, argument
//! conversion and the JSON the C functions return. Nothing here touches a raw pointer;
//! `ffi.rs` turns pointers into the references and strings used here.

use std::sync::Arc;

use pennon_core::{Context, Error, ErrorCode, Evaluation, FlagType, Map, Snapshot, Value, json};
use pennon_host::{Holder, args};

use crate::status::PennonStatus;

/// Deepest nesting of objects and arrays accepted in a context, counting the context
/// object itself as level 1 (`docs/bindings.md`: deeper contexts are `INVALID_CONTEXT`).
pub const PENNON_MAX_CONTEXT_DEPTH: usize = 64;

/// Why a C call failed: the status it returns, and the message and JSON path that
/// `pennon_last_error_message` / `pennon_last_error_path` report afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The status returned to C.
    pub status: PennonStatus,
    /// JSON path of the problem, empty when there is none.
    pub path: String,
    /// What went wrong, starting with the status code.
    pub message: String,
}

impl Failure {
    /// `invalid_argument`: a programmer error (NULL pointer, bad UTF-8, unknown type name…).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Failure::from(Error::new(ErrorCode::InvalidArgument, "", message))
    }

    /// The C-only `not_loaded` status: the engine has no snapshot yet.
    pub fn not_loaded() -> Self {
        Failure {
            status: PennonStatus::PENNON_NOT_LOADED,
            path: String::new(),
            message: "not_loaded: no snapshot has been loaded yet".into(),
        }
    }

    /// `internal`: a panic was caught at the C boundary (`pennon_host::guard` words it).
    pub fn internal(error: Error) -> Self {
        Failure::from(error)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { status: PennonStatus::from_error_code(error.code), message: error.to_string(), path: error.path }
    }
}

/// Holds at most one compiled snapshot (`pennon_host::Holder`: not ready, last good kept,
/// atomic swaps). All methods take `&self`, so one engine may be used from many threads
/// at once.
#[derive(Debug, Default)]
pub struct Engine {
    holder: Holder,
}

impl Engine {
    /// An engine without a snapshot.
    pub fn new() -> Self {
        Engine::default()
    }

    /// Compiles `text` and makes it the current snapshot. On failure the previous
    /// snapshot stays (a failed update never replaces the last good one).
    pub fn load(&self, text: &[u8]) -> Result<(), Error> {
        let text = std::str::from_utf8(text).map_err(|e| {
            Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not JSON: it is not valid UTF-8 ({e})"))
        })?;
        self.holder.load(Snapshot::from_json(text)).map(drop)
    }

    /// The current snapshot, if any.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.holder.current().map(|loaded| Arc::clone(&loaded.snapshot))
    }

    /// The current snapshot's revision.
    pub fn revision(&self) -> Result<u64, Failure> {
        self.holder.revision().ok_or_else(Failure::not_loaded)
    }

    /// The keys of the flags whose evaluation may differ between `previous`'s snapshot and
    /// this engine's (`Snapshot::changed_flags`: sorted, removed keys included), as a
    /// canonical JSON array. An engine without a snapshot counts as an empty snapshot.
    pub fn changed_flags_json(&self, previous: &Engine) -> String {
        let keys = pennon_host::changed_flags(self.snapshot().as_deref(), previous.snapshot().as_deref());
        json::canonical(&Value::Array(keys.into_iter().map(Value::String).collect()))
    }

    /// `[{"code","path","message"}]` of the current snapshot, canonical JSON; `[]` before
    /// the first load.
    pub fn warnings_json(&self) -> String {
        let loaded = self.holder.current();
        let warnings = loaded.map(|loaded| loaded.snapshot.warnings().iter().map(Error::to_json).collect());
        json::canonical(&Value::Array(warnings.unwrap_or_default()))
    }
}

/// A context as the C caller gave it: converted, or the reason it could not be (which
/// becomes an `INVALID_CONTEXT` result, not a failed call).
pub type ContextArg<'a> = Result<&'a Context, &'a str>;

/// Parses context JSON text: an object nested at most [`PENNON_MAX_CONTEXT_DEPTH`] deep.
/// Errors carry [`ErrorCode::InvalidContext`] and core's wording.
pub fn parse_context(text: &str) -> Result<Context, Error> {
    Context::from_json(text)
}

/// Parses a type name (`boolean`, `string`, `number`, `object`, or `any` for no type
/// check, as NULL is), by the rules every binding shares (`pennon_host::args`).
pub fn parse_type(name: &str) -> Result<Option<FlagType>, Failure> {
    args::flag_type(name).map_err(Failure::from)
}

/// Parses a caller's default value (any JSON). Invalid JSON is a programmer error.
pub fn parse_default(text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::invalid_argument(format!("the default value is not JSON: {e}")))
}

/// The canonical JSON of an evaluation. `revision` is null before the first load.
fn canonical_result(evaluation: &Evaluation<'_>, default: &Value, revision: Option<u64>) -> String {
    evaluation.to_canonical_json(default, revision)
}

/// Evaluates one flag and returns the canonical result object (`docs/snapshot-format.md`
/// §4): `PROVIDER_NOT_READY` without a snapshot, `INVALID_CONTEXT` for a context that
/// could not be converted, otherwise core's answer.
pub fn evaluate_json(
    snapshot: Option<&Snapshot>,
    flag: &str,
    context: ContextArg<'_>,
    expected: Option<FlagType>,
    default: &Value,
    now: i64,
) -> String {
    let Some(snapshot) = snapshot else { return canonical_result(&Evaluation::not_ready(), default, None) };
    let evaluation = snapshot.evaluate_converted(flag, context, now, expected);
    canonical_result(&evaluation, default, Some(snapshot.revision()))
}

/// `{flagKey: result}` for every flag, canonical JSON (`{}` before the first load). Each
/// result uses `null` as its default.
pub fn evaluate_all_json(snapshot: Option<&Snapshot>, context: ContextArg<'_>, now: i64) -> String {
    let Some(snapshot) = snapshot else { return "{}".into() };
    let revision = snapshot.revision();
    let mut all = Map::new();
    for (key, evaluation) in snapshot.evaluate_all_converted(context, now) {
        all.insert(key.into(), evaluation.to_json(&Value::Null, revision));
    }
    json::canonical(&Value::Object(all))
}

/// A boolean flag's value, or `default` on any evaluation problem.
pub fn get_boolean(snapshot: Option<&Snapshot>, flag: &str, context: ContextArg<'_>, default: bool, now: i64) -> bool {
    match (snapshot, context) {
        (Some(snapshot), Ok(context)) => snapshot.boolean(flag, context, now, default),
        _ => default,
    }
}

/// A number flag's value, or `default` on any evaluation problem.
pub fn get_number(snapshot: Option<&Snapshot>, flag: &str, context: ContextArg<'_>, default: f64, now: i64) -> f64 {
    match (snapshot, context) {
        (Some(snapshot), Ok(context)) => snapshot.number(flag, context, now, default),
        _ => default,
    }
}

/// A string flag's value, or `default` on any evaluation problem.
pub fn get_string<'a>(
    snapshot: Option<&'a Snapshot>,
    flag: &str,
    context: ContextArg<'_>,
    default: &'a str,
    now: i64,
) -> &'a str {
    match (snapshot, context) {
        (Some(snapshot), Ok(context)) => snapshot.string(flag, context, now, default),
        _ => default,
    }
}

/// An object flag's value as canonical JSON, or `default` on any evaluation problem.
pub fn get_object(
    snapshot: Option<&Snapshot>,
    flag: &str,
    context: ContextArg<'_>,
    default: &Value,
    now: i64,
) -> String {
    match (snapshot, context) {
        (Some(snapshot), Ok(context)) => json::canonical(snapshot.object(flag, context, now, default)),
        _ => json::canonical(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = r#"{"schemaVersion":1,"revision":3,"flags":{
        "on":{"type":"boolean","state":"on","variants":{"on":true,"off":false},"offVariant":"off",
              "fallthrough":{"variant":"on"}}}}"#;

    /// An object nesting `levels` levels of objects: `{"a":{"a":1}}` for 2.
    fn nested(levels: usize) -> String {
        let mut text = String::from("1");
        for _ in 0..levels {
            text = format!("{{\"a\":{text}}}");
        }
        text
    }

    #[test]
    fn failed_load_keeps_the_last_good_snapshot() {
        let engine = Engine::new();
        assert_eq!(engine.revision(), Err(Failure::not_loaded()));
        engine.load(SNAPSHOT.as_bytes()).unwrap();
        let error = engine.load(b"{").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidJson);
        let error = engine.load(&[0xff, 0xfe]).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidJson);
        assert_eq!(engine.revision(), Ok(3));
    }

    #[test]
    fn context_depth_limit() {
        // A literal so cbindgen can write it into the header; it must equal core's limit.
        assert_eq!(PENNON_MAX_CONTEXT_DEPTH, pennon_core::MAX_CONTEXT_DEPTH);
        assert_eq!(pennon_core::context_depth(&serde_json::from_str(&nested(64)).unwrap()), 64);
        assert!(parse_context(&nested(64)).is_ok());
        let error = parse_context(&nested(65)).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidContext);
        assert_eq!(parse_context("[]").unwrap_err().code, ErrorCode::InvalidContext);
        assert_eq!(parse_context("{").unwrap_err().code, ErrorCode::InvalidContext);
    }

    #[test]
    fn results_before_load_and_for_bad_contexts() {
        let not_ready = evaluate_json(None, "on", Ok(&Context::new()), None, &Value::Bool(false), 0);
        assert!(not_ready.contains(r#""errorCode":"PROVIDER_NOT_READY""#), "{not_ready}");
        assert!(not_ready.contains(r#""revision":null"#), "{not_ready}");
        let engine = Engine::new();
        engine.load(SNAPSHOT.as_bytes()).unwrap();
        let snapshot = engine.snapshot();
        let bad = evaluate_json(snapshot.as_deref(), "on", Err("nope"), None, &Value::Bool(false), 0);
        assert_eq!(
            bad,
            r#"{"errorCode":"INVALID_CONTEXT","errorMessage":"nope","flagMetadata":null,"reason":"ERROR","revision":3,"ruleId":null,"shadowVariant":null,"stage":null,"value":false,"variant":null}"#
        );
        assert!(get_boolean(snapshot.as_deref(), "on", Ok(&Context::new()), false, 0));
        assert!(!get_boolean(snapshot.as_deref(), "on", Err("nope"), false, 0));
        assert_eq!(evaluate_all_json(None, Ok(&Context::new()), 0), "{}");
    }
}
