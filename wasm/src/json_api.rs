//! The JSON requests and responses of the raw ABI (`wasm/README.md`, "Raw ABI").
//!
//! Plain safe Rust with no pointers, so that it can be unit-tested natively; the `raw`
//! module only moves bytes between linear memory and these functions. Every response is
//! canonical JSON ([`pennon_core::json::canonical`]), so a result is byte-for-byte what
//! every other JSON interface of Pennon returns.
//!
//! Nothing here panics: every lookup is checked (the workspace denies `unwrap`, `expect`,
//! `panic!` and indexing), and every failure is an [`Error`] whose code becomes the
//! status the raw ABI returns.

use std::sync::Arc;

use pennon_core::{Context, Error, ErrorCode, Map, Snapshot, Value, bucket, json};
use pennon_host::{Holder, args};

/// How deep a context may nest (the same limit as the wasm-bindgen API's object walk).
pub const MAX_CONTEXT_DEPTH: usize = pennon_core::MAX_CONTEXT_DEPTH;

const EVALUATE_FIELDS: [&str; 5] = ["flag", "context", "type", "default", "now"];
const EVALUATE_ALL_FIELDS: [&str; 2] = ["context", "now"];
const BUCKET_FIELDS: [&str; 2] = ["salt", "unit"];

/// `{"code":…,"message":…,"path":…}`: the response that comes with a non-zero status.
pub fn error_json(error: &Error) -> String {
    json::canonical(&error.to_json())
}

/// `["invalid_json", …]`: every code of [`ErrorCode::ALL`], in status order (status
/// `i + 1` is element `i`).
pub fn error_codes_json() -> String {
    json::canonical(&Value::Array(ErrorCode::ALL.iter().map(|c| Value::from(c.as_str())).collect()))
}

/// `{"bucket":…,"hash":"…"}` for a request `{"salt": "…", "unit": "…"}`; the hash is
/// a decimal string because a u64 does not fit in a JSON number everywhere.
pub fn bucket_json(request: &[u8]) -> Result<String, Error> {
    let request = parse_request(request, &BUCKET_FIELDS)?;
    let salt = required_str(&request, "salt")?;
    let unit = required_str(&request, "unit")?;
    let hash = bucket::hash(salt, unit);
    let mut object = Map::new();
    object.insert("hash".into(), Value::from(alloc_decimal(hash)));
    object.insert("bucket".into(), Value::from(bucket::bucket_of_hash(hash)));
    Ok(json::canonical(&Value::Object(object)))
}

fn alloc_decimal(n: u64) -> String {
    use core::fmt::Write as _;
    let mut out = String::new();
    let _ = write!(out, "{n}");
    out
}

/// An engine holding at most one compiled snapshot; a failed load keeps the previous one
/// (`pennon_host::Holder`, as in every binding).
#[derive(Debug, Default)]
pub struct JsonEngine {
    holder: Holder,
}

impl JsonEngine {
    /// An engine with no snapshot.
    pub fn new() -> Self {
        JsonEngine::default()
    }

    /// The loaded snapshot, if any.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.holder.current().map(|loaded| Arc::clone(&loaded.snapshot))
    }

    /// Loads snapshot JSON (UTF-8 bytes). On success the response is the engine's
    /// [`info`](Self::info); on failure the previous snapshot stays loaded.
    pub fn load(&mut self, text: &[u8]) -> Result<String, Error> {
        let text = core::str::from_utf8(text)
            .map_err(|e| Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not UTF-8 text: {e}")))?;
        self.holder.load(Snapshot::from_json(text))?;
        Ok(self.info())
    }

    /// `{"revision": n | null, "warnings": [{"code","path","message"}…]}`.
    pub fn info(&self) -> String {
        let mut object = Map::new();
        let snapshot = self.snapshot();
        object.insert("revision".into(), snapshot.as_ref().map_or(Value::Null, |s| Value::from(s.revision())));
        object.insert("warnings".into(), warnings_value(snapshot.as_deref()));
        json::canonical(&Value::Object(object))
    }

    /// Evaluates `{"flag", "context"?, "type"?, "default"?, "now"}` into the canonical
    /// result object. Evaluation problems (unknown flag, bad context, no snapshot yet…)
    /// are results with `reason: "ERROR"`; only a malformed request is an error.
    pub fn evaluate(&self, request: &[u8]) -> Result<String, Error> {
        let mut request = parse_request(request, &EVALUATE_FIELDS)?;
        let context = context_of(request.remove("context"));
        // The flag key follows the argument rules every binding shares (no path: the same
        // error object as a JS or Python call gives).
        let flag = match request.get("flag") {
            Some(Value::String(flag)) => flag.as_str(),
            Some(other) => return Err(args::flag_key_error(args::kind_of(other))),
            None => return Err(argument("flag", "`flag` is required")),
        };
        let expected = match request.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => args::flag_type(name)?,
            Some(other) => return Err(args::flag_type_kind_error(args::kind_of(other))),
        };
        let now = required_now(&request)?;
        let default = request.get("default").unwrap_or(&Value::Null);
        let loaded = self.holder.current();
        let context = context.as_ref().map_err(String::as_str);
        // The raw ABI offers no counters (nothing can switch them on): evaluate uncounted.
        let (evaluation, revision) = Holder::evaluate_uncounted(loaded.as_deref(), flag, context, now, expected);
        Ok(json::canonical(&evaluation.to_json(default, revision)))
    }

    /// `["flagKey", …]`: the keys of the flags whose evaluation may differ between
    /// `previous`'s snapshot and this engine's, as core computes them
    /// (`pennon_host::changed_flags`: sorted; an engine without a snapshot counts as empty).
    pub fn changed_flags(&self, previous: &JsonEngine) -> String {
        let keys = pennon_host::changed_flags(self.snapshot().as_deref(), previous.snapshot().as_deref());
        json::canonical(&Value::Array(keys.into_iter().map(Value::from).collect()))
    }

    /// Evaluates every flag for `{"context"?, "now"}`: `{"flagKey": result, …}` with a
    /// `null` default. Before any load the object is empty.
    pub fn evaluate_all(&self, request: &[u8]) -> Result<String, Error> {
        let mut request = parse_request(request, &EVALUATE_ALL_FIELDS)?;
        let now = required_now(&request)?;
        let context = context_of(request.remove("context"));
        let mut out = Map::new();
        if let Some(snapshot) = self.snapshot() {
            let revision = snapshot.revision();
            for (key, evaluation) in snapshot.evaluate_all_converted(context.as_ref().map_err(String::as_str), now) {
                out.insert(key.into(), evaluation.to_json(&Value::Null, revision));
            }
        }
        Ok(json::canonical(&Value::Object(out)))
    }
}

/// The warnings of a snapshot as `[{"code","path","message"}…]` (empty before a load).
pub fn warnings_value(snapshot: Option<&Snapshot>) -> Value {
    let warnings = snapshot.map(Snapshot::warnings).unwrap_or_default();
    Value::Array(warnings.iter().map(Error::to_json).collect())
}

/// An `invalid_argument` error about the request field `field` (a JSON Pointer into the
/// request), or about the whole request when `field` is empty.
fn argument(field: &str, message: impl Into<String>) -> Error {
    let mut path = String::new();
    if !field.is_empty() {
        path.push('/');
        json::push_pointer_token(&mut path, field);
    }
    Error::new(ErrorCode::InvalidArgument, path, message)
}

/// A request object with only the `allowed` fields (a misspelt field is an error, not
/// something silently ignored).
fn parse_request(bytes: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, Error> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| argument("", format!("the request is not JSON: {e}")))?;
    let Value::Object(object) = value else { return Err(argument("", "the request must be a JSON object")) };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(argument(unknown, format!("unknown request field `{unknown}` (expected one of {allowed:?})")));
    }
    Ok(object)
}

fn required_str<'a>(request: &'a Map<String, Value>, field: &str) -> Result<&'a str, Error> {
    match request.get(field) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(argument(field, format!("`{field}` must be a string"))),
        None => Err(argument(field, format!("`{field}` is required"))),
    }
}

/// `now` in ms since the Unix epoch: required (the raw module has no clock); a finite
/// number, rounded down to a whole millisecond.
fn required_now(request: &Map<String, Value>) -> Result<i64, Error> {
    let Some(now) = request.get("now") else {
        return Err(argument("now", "`now` (ms since the Unix epoch) is required: the raw module has no clock"));
    };
    if let Some(ms) = now.as_i64() {
        return Ok(ms);
    }
    match now.as_f64() {
        Some(ms) => args::now_from_number(ms),
        None => Err(args::now_kind_error(args::kind_of(now))),
    }
}

/// The request's context: absent is the empty context; anything but an object nested at
/// most [`MAX_CONTEXT_DEPTH`] deep gives core's message for an `INVALID_CONTEXT` result.
fn context_of(value: Option<Value>) -> Result<Context, String> {
    match value {
        None => Ok(Context::new()),
        Some(value) => Context::from_value(value).map_err(|error| error.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = r#"{"schemaVersion":1,"revision":7,"flags":{"dark":{"type":"boolean","state":"on",
        "variants":{"on":true,"off":false},"offVariant":"off","fallthrough":{"variant":"on"}}}}"#;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("response is JSON")
    }

    #[test]
    fn error_codes_are_listed_in_status_order() {
        let listed = parse(&error_codes_json());
        assert_eq!(listed.as_array().map(Vec::len), Some(ErrorCode::ALL.len()));
        for code in ErrorCode::ALL {
            assert_eq!(listed[code.status() as usize - 1], code.as_str(), "status {} is {code}", code.status());
        }
    }

    #[test]
    fn before_load_results_are_not_ready_without_revision() {
        let engine = JsonEngine::new();
        let result = parse(&engine.evaluate(br#"{"flag":"dark","now":0,"default":false}"#).unwrap());
        assert_eq!(result["errorCode"], "PROVIDER_NOT_READY");
        assert_eq!(result["value"], false);
        assert_eq!(result["revision"], Value::Null);
        assert_eq!(parse(&engine.info())["revision"], Value::Null);
        assert_eq!(engine.evaluate_all(br#"{"now":0}"#).unwrap(), "{}");
    }

    #[test]
    fn failed_load_keeps_the_last_good_snapshot() {
        let mut engine = JsonEngine::new();
        assert_eq!(parse(&engine.load(SNAPSHOT.as_bytes()).unwrap())["revision"], 7);
        let error = engine.load(b"{ nope").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidJson);
        assert_eq!(engine.load(&[0xff, 0xfe]).unwrap_err().code, ErrorCode::InvalidJson);
        assert_eq!(engine.load(b"[]").unwrap_err().code, ErrorCode::InvalidSnapshot);
        assert_eq!(engine.snapshot().map(|s| s.revision()), Some(7));
        let result = parse(&engine.evaluate(br#"{"flag":"dark","now":0,"type":"boolean"}"#).unwrap());
        assert_eq!(result["value"], true);
        assert_eq!(result["reason"], "STATIC");
    }

    #[test]
    fn bad_contexts_are_results_and_bad_requests_are_errors() {
        let mut engine = JsonEngine::new();
        engine.load(SNAPSHOT.as_bytes()).unwrap();
        let result = parse(&engine.evaluate(br#"{"flag":"dark","now":0,"context":[1]}"#).unwrap());
        assert_eq!(result["errorCode"], "INVALID_CONTEXT");
        assert_eq!(result["revision"], 7);
        let deep = format!(r#"{{"flag":"dark","now":0,"context":{{"a":{}1{}}}}}"#, "[".repeat(64), "]".repeat(64));
        assert_eq!(parse(&engine.evaluate(deep.as_bytes()).unwrap())["errorCode"], "INVALID_CONTEXT");
        let ok = format!(r#"{{"flag":"dark","now":0,"context":{{"a":{}1{}}}}}"#, "[".repeat(63), "]".repeat(63));
        assert_eq!(parse(&engine.evaluate(ok.as_bytes()).unwrap())["errorCode"], Value::Null);
        for bad in [
            &br#"{"now":0}"#[..],
            br#"{"flag":1,"now":0}"#,
            br#"{"flag":"dark"}"#,
            br#"{"flag":"dark","now":"soon"}"#,
            br#"{"flag":"dark","now":0,"type":"bool"}"#,
            br#"{"flag":"dark","now":0,"contxt":{}}"#,
            b"[]",
            b"",
        ] {
            assert_eq!(engine.evaluate(bad).unwrap_err().code, ErrorCode::InvalidArgument, "{bad:?}");
        }
        let all = parse(&engine.evaluate_all(br#"{"now":0,"context":"x"}"#).unwrap());
        assert_eq!(all["dark"]["errorCode"], "INVALID_CONTEXT");
    }

    #[test]
    fn changed_flags_are_cores_keys_for_every_case_of_changes_json() {
        let cases = parse(include_str!("../../tests/conformance/changes.json"));
        let cases = cases.as_array().expect("changes.json is an array");
        assert!(cases.len() >= 10, "the case file went missing");
        for case in cases {
            let engine = |key: &str| {
                let mut engine = JsonEngine::new();
                engine.load(case[key].to_string().as_bytes()).expect("the case's snapshot loads");
                engine
            };
            let (before, after) = (engine("before"), engine("after"));
            let name = &case["name"];
            assert_eq!(parse(&after.changed_flags(&before)), case["changed"], "{name}");
            assert_eq!(parse(&before.changed_flags(&after)), case["changed"], "{name} (reversed)");
        }
        let mut one = JsonEngine::new();
        one.load(SNAPSHOT.as_bytes()).unwrap();
        assert_eq!(one.changed_flags(&JsonEngine::new()), r#"["dark"]"#);
        assert_eq!(JsonEngine::new().changed_flags(&one), r#"["dark"]"#);
        assert_eq!(one.changed_flags(&one), "[]");
    }

    #[test]
    fn bucket_matches_core() {
        let response = parse(&bucket_json(br#"{"salt":"new-checkout","unit":"user-1"}"#).unwrap());
        assert_eq!(response["hash"], "3365944948836531778");
        assert_eq!(response["bucket"], 18246);
        assert_eq!(bucket_json(br#"{"salt":"s"}"#).unwrap_err().code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn errors_serialise_canonically() {
        let text = error_json(&Error::new(ErrorCode::InvalidJson, "a.b", "bad \"x\""));
        assert_eq!(text, r#"{"code":"invalid_json","message":"bad \"x\"","path":"a.b"}"#);
    }
}
