//! The wasm-bindgen API for JavaScript hosts: the `Engine` class, `coreErrorCodes()`,
//! `bucket()` / `bucketHash()`.
//!
//! Contexts are encoded by one JS helper straight into wasm memory and decoded in Rust
//! (no JSON on the evaluate path; `benches/wasm/README.md` has the measurements against
//! js-sys walking, serde-wasm-bindgen and JSON), and results are built as JS objects in
//! one call. Strings that come from the snapshot (variant names, rule ids,
//! string values, flag keys) are turned into JS strings once per loaded snapshot and
//! then reused: JS strings are immutable, so sharing them is invisible to callers.
//! Objects (object values, `flagMetadata`) are built fresh for every result.
//!
//! Errors are thrown as JS `Error`s whose `name` is the class (`SnapshotError`…) and
//! which carry `code` and `path`; the package's JS entry turns them into instances of
//! the `PennonError` classes (`wasm/js/common.mjs`).

use std::cell::RefCell;
use std::collections::HashMap;

use std::sync::Arc;

use js_sys::{Array, Date, Object, Reflect};
use pennon_core::time::Millis;
use pennon_core::{
    Context, ContextProblem, Error, ErrorCode, Evaluation, FlagType, Map, Reason, Snapshot, Value, bucket,
};
use pennon_host::args::{self, Kind};
use pennon_host::{Holder, outcomes};
use wasm_bindgen::prelude::*;

use crate::json_api::MAX_CONTEXT_DEPTH;

#[wasm_bindgen(inline_js = r#"
export function pennonResult(value, variant, reason, ruleId, stage, shadowVariant, errorCode, errorMessage, revision,
  flagMetadata) {
  return { value, variant, reason, ruleId, stage, shadowVariant, errorCode, errorMessage, revision, flagMetadata };
}

// Encodes a context into wasm memory at [ptr, ptr + cap) in the format `Reader` reads
// (little-endian): 0 null | 1 false | 2 true | 3 f64 | 4 string: u32 length, UTF-8 |
// 5 array: u32 count, items | 6 object: u32 count, (u32 length, UTF-8 key, value)*.
// Returns the length written, -1 when cap is too small, -2 when the context cannot be
// converted (the reason is then in pennonContextError()).
const utf8 = new TextEncoder();
let memory = null;
let bytes = new Uint8Array(0);
let view = new DataView(bytes.buffer);
let at = 0;
let end = 0;
let problem = '';
class Unconvertible extends Error {}
// Core's context limits (MAX_CONTEXT_DEPTH, MAX_CONTEXT_ARRAY_LEN), handed over by Rust.
let maxDepth = 0;
let maxArrayLen = 0;
const FULL = {};
export function pennonSetMemory(m, depth, arrayLen) { memory = m; maxDepth = depth; maxArrayLen = arrayLen; }
export function pennonContextError() { return problem; }
function room(n) { if (at + n > end) throw FULL; }
function putString(text) {
  room(4 + text.length);
  const start = at;
  at += 4;
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) break;
    bytes[at++] = code;
  }
  if (i < text.length) {
    // A lone surrogate has no UTF-8 form (encodeInto would write U+FFFD instead).
    if (!text.isWellFormed()) throw new Unconvertible('a context string has unpaired surrogates');
    room(3 * (text.length - i));
    at += utf8.encodeInto(i === 0 ? text : text.slice(i), bytes.subarray(at, end)).written;
  }
  view.setUint32(start, at - start - 4, true);
}
function putObject(o, depth) {
  room(5);
  bytes[at] = 6;
  const countAt = at + 1;
  at += 5;
  let count = 0;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const v = o[key];
    if (v === undefined) continue;
    putString(key);
    putValue(v, depth + 1);
    count++;
  }
  view.setUint32(countAt, count, true);
}
function putValue(v, depth) {
  switch (typeof v) {
    case 'string': room(1); bytes[at++] = 4; putString(v); return;
    case 'number':
      if (!Number.isFinite(v)) throw new Unconvertible(`a context number must be finite, not ${v}`);
      room(9); bytes[at] = 3; view.setFloat64(at + 1, v, true); at += 9; return;
    case 'boolean': room(1); bytes[at++] = v ? 2 : 1; return;
    case 'object':
      if (v === null) { room(1); bytes[at++] = 0; return; }
      if (depth > maxDepth) throw new Unconvertible('too_deep'); // worded by core (ContextProblem)
      if (Array.isArray(v)) {
        if (v.length > maxArrayLen) throw new Unconvertible('array_too_long'); // worded by core
        room(5); bytes[at] = 5; view.setUint32(at + 1, v.length, true); at += 5;
        for (const item of v) {
          if (item === undefined) { room(1); bytes[at++] = 0; } else putValue(item, depth + 1);
        }
        return;
      }
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) throw new Unconvertible('a context Date is invalid');
        room(1); bytes[at++] = 4; putString(v.toISOString()); return;
      }
      if (v instanceof Map || v instanceof Set) {
        throw new Unconvertible('a context value cannot be a Map or a Set: use a plain object or an array');
      }
      putObject(v, depth);
      return;
    default:
      throw new Unconvertible(`a context value cannot be a ${typeof v}`);
  }
}
export function pennonEncodeContext(context, ptr, cap) {
  if (bytes.buffer !== memory.buffer) {
    bytes = new Uint8Array(memory.buffer);
    view = new DataView(memory.buffer);
  }
  at = ptr;
  end = ptr + cap;
  try {
    if (context === null || typeof context !== 'object' || Array.isArray(context)) {
      throw new Unconvertible('not_object'); // worded by core (ContextProblem)
    }
    putObject(context, 1);
    return at - ptr;
  } catch (error) {
    if (error === FULL) return -1;
    problem = error instanceof Unconvertible ? error.message : `reading the context threw: ${error}`;
    return -2;
  }
}
"#)]
extern "C" {
    /// Builds a result object in one call (one boundary crossing instead of ten
    /// `Reflect.set`s, and every result shares one hidden class).
    #[wasm_bindgen(js_name = pennonResult)]
    #[allow(clippy::too_many_arguments)]
    fn make_result(
        value: &JsValue,
        variant: &JsValue,
        reason: &JsValue,
        rule_id: &JsValue,
        stage: &JsValue,
        shadow_variant: &JsValue,
        error_code: &JsValue,
        error_message: &JsValue,
        revision: &JsValue,
        flag_metadata: &JsValue,
    ) -> JsValue;

    /// Writes `context` into wasm memory at `[ptr, ptr + cap)`; see the JS above.
    #[wasm_bindgen(js_name = pennonEncodeContext)]
    fn encode_context(context: &JsValue, ptr: u32, cap: u32) -> i32;

    /// Hands the encoder the module's memory and core's context limits (once).
    #[wasm_bindgen(js_name = pennonSetMemory)]
    fn set_memory(memory: &JsValue, max_depth: u32, max_array_len: u32);

    /// Why the last `encode_context` returned -2.
    #[wasm_bindgen(js_name = pennonContextError)]
    fn context_error() -> String;
}

/// JS strings made once: the reasons results carry and the keys of `evaluate`'s options.
struct Constants {
    reasons: Vec<JsValue>,
    type_key: JsValue,
    default_key: JsValue,
    now_key: JsValue,
}

thread_local! {
    static CONSTANTS: Constants = Constants {
        reasons: Reason::ALL.iter().map(|r| JsValue::from_str(r.as_str())).collect(),
        type_key: JsValue::from_str("type"),
        default_key: JsValue::from_str("default"),
        now_key: JsValue::from_str("now"),
    };
}

fn reason_js(reason: Reason) -> JsValue {
    CONSTANTS
        .with(|c| Reason::ALL.iter().position(|r| *r == reason).and_then(|i| c.reasons.get(i).cloned()))
        .unwrap_or_else(|| JsValue::from_str(reason.as_str()))
}

/// The error `load` throws for a snapshot with `matches` conditions while the regex module
/// is not loaded; `regexNeeded: true` tells the glue to load it and retry (the engine keeps
/// its snapshot).
fn regex_needed() -> JsValue {
    let error = js_error(&Error::new(
        ErrorCode::InvalidRegex,
        "",
        "this snapshot has `matches` conditions and the regex module is not loaded: call \
         `await initRegex()` (or `initRegexSync({ module })`) first, or load the snapshot with \
         `await engine.loadAsync(snapshot)`",
    ));
    let _ = Reflect::set(&error, &JsValue::from_str("regexNeeded"), &JsValue::TRUE);
    error
}

/// A JS `Error` named after the code's class, with `code` and `path` (`null` when the
/// error concerns no particular value); its message is core's display of the error.
fn js_error(error: &Error) -> JsValue {
    let thrown = js_sys::Error::new(&error.to_string());
    thrown.set_name(error.code.category().class_name());
    let path = if error.path.is_empty() { JsValue::NULL } else { JsValue::from_str(&error.path) };
    let _ = Reflect::set(&thrown, &JsValue::from_str("code"), &JsValue::from_str(error.code.as_str()));
    let _ = Reflect::set(&thrown, &JsValue::from_str("path"), &path);
    thrown.into()
}

/// What a JS value is, in the words of the argument rules (`pennon_host::args`).
fn kind(value: &JsValue) -> Kind {
    if value.is_undefined() {
        Kind::Undefined
    } else if value.is_null() {
        Kind::Null
    } else if value.as_bool().is_some() {
        Kind::Boolean
    } else if value.as_f64().is_some() {
        Kind::Number
    } else if value.is_string() {
        Kind::String
    } else if Array::is_array(value) {
        Kind::Array
    } else if value.is_function() {
        Kind::Other("a function".into())
    } else if value.is_symbol() {
        Kind::Other("a symbol".into())
    } else if value.is_bigint() {
        Kind::Other("a BigInt".into())
    } else {
        Kind::Object
    }
}

/// A Pennon engine holding at most one compiled snapshot.
///
/// `load` replaces the snapshot only when the new one compiles; evaluation never throws
/// for evaluation problems (they come back as `reason: "ERROR"` with the default).
#[wasm_bindgen]
pub struct Engine {
    /// The snapshot slot every binding shares (`pennon_host::Holder`).
    holder: Holder,
    /// JS strings of snapshot strings, by address and length (cleared on load).
    strings: RefCell<HashMap<(usize, usize), JsValue>>,
    revision: JsValue,
}

#[wasm_bindgen]
impl Engine {
    /// A new engine; with a snapshot (JSON text or an object), loads it.
    #[wasm_bindgen(constructor)]
    pub fn new(snapshot: JsValue) -> Result<Engine, JsValue> {
        let mut engine = Engine { holder: Holder::new(), strings: RefCell::default(), revision: JsValue::NULL };
        if !snapshot.is_undefined() && !snapshot.is_null() {
            engine.load(snapshot)?;
        }
        Ok(engine)
    }

    /// Loads a snapshot (JSON text or an already parsed object) and returns its warnings.
    /// Throws a `SnapshotError` when the snapshot cannot be loaded at all; the engine then
    /// keeps the snapshot it had.
    pub fn load(&mut self, snapshot: JsValue) -> Result<Array, JsValue> {
        let text = if let Some(text) = snapshot.as_string() {
            text
        } else if matches!(kind(&snapshot), Kind::Object | Kind::Array) {
            let text = js_sys::JSON::stringify(&snapshot).map_err(|e| {
                let reason = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
                js_error(&Error::new(
                    ErrorCode::InvalidJson,
                    "",
                    format!("the snapshot object cannot be written as JSON: {reason}"),
                ))
            })?;
            String::from(text)
        } else {
            return Err(js_error(&args::snapshot_kind_error(kind(&snapshot))));
        };
        crate::regex_host::take_unavailable();
        let compiled = Snapshot::from_json(&text).map_err(|e| js_error(&e))?;
        if crate::regex_host::take_unavailable() {
            return Err(regex_needed());
        }
        self.revision = JsValue::from_f64(compiled.revision() as f64);
        self.holder.install(Arc::new(compiled));
        if let Ok(mut strings) = self.strings.try_borrow_mut() {
            strings.clear();
        }
        Ok(self.warnings())
    }

    /// The loaded snapshot's revision, or `null` before the first load.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> JsValue {
        self.revision.clone()
    }

    /// The keys of the flags whose evaluation may differ between `previous`'s snapshot and
    /// this engine's, as core computes them (`Snapshot::changed_flags`: added, removed,
    /// changed, and their dependents), sorted. An engine without a snapshot counts as an
    /// empty one. SDKs call it after loading a new snapshot into a fresh engine.
    #[wasm_bindgen(js_name = changedFlags)]
    pub fn changed_flags(&self, previous: &Engine) -> Array {
        let (new, old) = (self.holder.current(), previous.holder.current());
        pennon_host::changed_flags(new.as_ref().map(|l| &*l.snapshot), old.as_ref().map(|l| &*l.snapshot))
            .iter()
            .map(|key| JsValue::from_str(key))
            .collect()
    }

    /// `[{code, path, message}]`: the load warnings of the loaded snapshot.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Array {
        let loaded = self.holder.current();
        let warnings = loaded.as_ref().map(|loaded| loaded.snapshot.warnings()).unwrap_or_default();
        warnings
            .iter()
            .map(|w| {
                let object = Object::new();
                let _ = Reflect::set(&object, &JsValue::from_str("code"), &JsValue::from_str(w.code.as_str()));
                let _ = Reflect::set(&object, &JsValue::from_str("path"), &JsValue::from_str(&w.path));
                let _ = Reflect::set(&object, &JsValue::from_str("message"), &JsValue::from_str(&w.message));
                JsValue::from(object)
            })
            .collect()
    }

    /// Evaluates a flag with details. `options`: `{ type?, default?, now? }` — `type` is
    /// `boolean | string | number | object` (or `any`/absent: no type check), `default`
    /// is returned on error (default `null`), `now` is ms since the Unix epoch (default
    /// `Date.now()`).
    pub fn evaluate(&self, flag: JsValue, context: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
        let flag = flag_key(&flag)?;
        let (expected, default, now) = if options.is_undefined() || options.is_null() {
            (None, JsValue::NULL, Date::now() as i64)
        } else {
            let (type_key, default_key, now_key) =
                CONSTANTS.with(|c| (c.type_key.clone(), c.default_key.clone(), c.now_key.clone()));
            // `Reflect.get` throws on a primitive: options that are not an object.
            let get = |key: &JsValue| {
                Reflect::get(&options, key).map_err(|_| {
                    js_error(&args::invalid(format!(
                        "the options must be an object, not {}",
                        kind(&options).describe()
                    )))
                })
            };
            let default = get(&default_key)?;
            let default = if default.is_undefined() { JsValue::NULL } else { default };
            (flag_type(&get(&type_key)?)?, default, now_ms(&get(&now_key)?)?)
        };
        Ok(self.evaluate_js(&flag, &context, now, expected, &default))
    }

    /// A boolean flag's value, or `defaultValue` on any error.
    #[wasm_bindgen(js_name = getBoolean)]
    pub fn get_boolean(&self, flag: JsValue, context: JsValue, default_value: JsValue, now: JsValue) -> JsResult {
        self.get_typed(flag, context, default_value, now, FlagType::Boolean)
    }

    /// A string flag's value, or `defaultValue` on any error.
    #[wasm_bindgen(js_name = getString)]
    pub fn get_string(&self, flag: JsValue, context: JsValue, default_value: JsValue, now: JsValue) -> JsResult {
        self.get_typed(flag, context, default_value, now, FlagType::String)
    }

    /// A number flag's value, or `defaultValue` on any error.
    #[wasm_bindgen(js_name = getNumber)]
    pub fn get_number(&self, flag: JsValue, context: JsValue, default_value: JsValue, now: JsValue) -> JsResult {
        self.get_typed(flag, context, default_value, now, FlagType::Number)
    }

    /// An object flag's value (a fresh object), or `defaultValue` on any error.
    #[wasm_bindgen(js_name = getObject)]
    pub fn get_object(&self, flag: JsValue, context: JsValue, default_value: JsValue, now: JsValue) -> JsResult {
        self.get_typed(flag, context, default_value, now, FlagType::Object)
    }

    /// Switches counting of this engine's single-flag evaluations (`evaluate` and the
    /// typed getters, not `evaluateAll`) per flag × variant × reason on or off. Off by
    /// default; counts so far are kept.
    #[wasm_bindgen(js_name = countEvaluations)]
    pub fn count_evaluations(&self, enabled: bool) {
        self.holder.counters().set_enabled(enabled);
    }

    /// Counts an answer the caller gave itself from a local override of `flag` (variant
    /// `override`, reason `STATIC`), when counting is on.
    #[wasm_bindgen(js_name = countOverride)]
    pub fn count_override(&self, flag: JsValue) -> Result<(), JsValue> {
        self.holder.counters().count_override(&flag_key(&flag)?);
        Ok(())
    }

    /// From now on this engine counts into `previous`'s counters (switched on or off with
    /// them): an SDK that loads each new snapshot into a fresh engine keeps one set of
    /// counters this way.
    #[wasm_bindgen(js_name = shareCounters)]
    pub fn share_counters(&self, previous: &Engine) {
        self.holder.share_counters(&previous.holder);
    }

    /// The counters in Prometheus text format: `pennon_evaluations_total{flag,variant,reason}`,
    /// series sorted, `# HELP` and `# TYPE` first.
    pub fn metrics(&self) -> String {
        self.holder.counters().metrics_text()
    }

    /// Records what happened after the application used `flag` for `context`: `{ ok: true,
    /// latencyMs? }` or `{ error: true, latencyMs? }` (a request) and/or `{ converted: true }`,
    /// kept for the variant the context is served (evaluated at `now`, uncounted). An
    /// invalid outcome throws an `ArgumentError`; an evaluation that fails records nothing.
    pub fn record(&self, flag: JsValue, context: JsValue, outcome: JsValue, now: JsValue) -> Result<(), JsValue> {
        let flag = flag_key(&flag)?;
        let outcome = outcome_from_js(&outcome).map_err(|e| js_error(&e))?;
        let now = now_ms(&now)?;
        let loaded = self.holder.current();
        let context = context_if_loaded(loaded.as_deref(), &context);
        let context = context.as_ref().map_err(String::as_str);
        let latency = outcomes::LATENCY_KEY;
        self.holder.record(loaded.as_deref(), &flag, context, now, &outcome, latency).map_err(|e| js_error(&e))?;
        Ok(())
    }

    /// The body of `POST /sdk/v1/metrics` (JSON text) with every outcome and exposure since
    /// the previous take, `sdk` naming the sender (default `pennon-host/<version>`), or
    /// `null` when nothing is new; it counts as sent until `restoreOutcomes` gives it back.
    #[wasm_bindgen(js_name = takeOutcomes)]
    pub fn take_outcomes(&self, batch_id: &str, sdk: Option<String>) -> JsValue {
        match self.holder.take_outcomes(batch_id, sdk.as_deref()) {
            Some(body) => JsValue::from_str(&body),
            None => JsValue::NULL,
        }
    }

    /// Gives back a batch `takeOutcomes` made whose send failed: the next take carries it.
    #[wasm_bindgen(js_name = restoreOutcomes)]
    pub fn restore_outcomes(&self, batch: &str) -> Result<(), JsValue> {
        self.holder.restore_outcomes(batch).map_err(|e| js_error(&e))
    }

    /// The outcomes in Prometheus text (cumulative): `pennon_canary_requests_total`,
    /// `pennon_canary_errors_total`, `pennon_conversions_total` and the histogram
    /// `pennon_canary_latency_ms`, labelled `{flag, cohort}` (the variant).
    #[wasm_bindgen(js_name = outcomeMetrics)]
    pub fn outcome_metrics(&self) -> String {
        self.holder.outcome_metrics()
    }

    /// `{flagKey: result}` for every flag (default `null`), for front-end bootstrap.
    #[wasm_bindgen(js_name = evaluateAll)]
    pub fn evaluate_all(&self, context: JsValue, now: JsValue) -> Result<Object, JsValue> {
        let now = now_ms(&now)?;
        let out = Object::new();
        let Some(loaded) = self.holder.current() else { return Ok(out) };
        let snapshot = &*loaded.snapshot;
        let context = context_from_js(&context);
        for (key, evaluation) in snapshot.evaluate_all_converted(context.as_ref().map_err(String::as_str), now) {
            let result = self.result_js(&evaluation, &JsValue::NULL);
            let _ = Reflect::set(&out, &self.cached(key), &result);
        }
        Ok(out)
    }
}

/// What getters return.
type JsResult = Result<JsValue, JsValue>;

/// The context converted when there is a snapshot to evaluate (without one every answer is
/// `PROVIDER_NOT_READY`, whatever the context).
fn context_if_loaded(loaded: Option<&pennon_host::Loaded>, context: &JsValue) -> Result<Context, String> {
    match loaded {
        Some(_) => context_from_js(context),
        None => Ok(Context::new()),
    }
}

/// An outcome object, read as `JSON.stringify` would see it (own enumerable string keys),
/// checked by `pennon_host::outcomes`.
fn outcome_from_js(outcome: &JsValue) -> Result<outcomes::Outcome, Error> {
    if kind(outcome) != Kind::Object {
        return Err(outcomes::outcome_kind_error(kind(outcome)));
    }
    let reading = |e: JsValue| {
        let reason = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
        args::invalid(format!("reading the outcome threw: {reason}"))
    };
    let mut fields = Vec::new();
    for key in Object::keys(outcome.unchecked_ref::<Object>()).iter() {
        let value = Reflect::get(outcome, &key).map_err(reading)?;
        let field = match (value.as_bool(), value.as_f64()) {
            (Some(flag), _) => outcomes::Field::Boolean(flag),
            (None, Some(number)) => outcomes::Field::Number(number),
            _ => outcomes::Field::Other(kind(&value)),
        };
        fields.push((key.as_string().unwrap_or_default(), field));
    }
    outcomes::outcome_from_fields(
        fields.iter().map(|(name, field)| (name.as_str(), field.clone())),
        outcomes::LATENCY_KEY,
    )
}

impl Engine {
    fn get_typed(&self, flag: JsValue, context: JsValue, default: JsValue, now: JsValue, kind: FlagType) -> JsResult {
        let flag = flag_key(&flag)?;
        args::check_default(kind, self::kind(&default)).map_err(|e| js_error(&e))?;
        let now = now_ms(&now)?;
        let loaded = self.holder.current();
        let context = context_if_loaded(loaded.as_deref(), &context);
        let context = context.as_ref().map_err(String::as_str);
        let (evaluation, _) = self.holder.evaluate(loaded.as_deref(), &flag, context, now, Some(kind));
        Ok(match evaluation.value {
            Some(value) => self.value_js(value),
            None => default,
        })
    }

    fn evaluate_js(
        &self,
        flag: &str,
        context: &JsValue,
        now: i64,
        expected: Option<FlagType>,
        default: &JsValue,
    ) -> JsValue {
        let loaded = self.holder.current();
        let context = context_from_js(context);
        let (evaluation, _) =
            self.holder.evaluate(loaded.as_deref(), flag, context.as_ref().map_err(String::as_str), now, expected);
        self.result_js(&evaluation, default)
    }

    /// The JS string of a string that lives in the snapshot (cached per snapshot).
    fn cached(&self, text: &str) -> JsValue {
        let key = (text.as_ptr() as usize, text.len());
        let Ok(mut strings) = self.strings.try_borrow_mut() else { return JsValue::from_str(text) };
        strings.entry(key).or_insert_with(|| JsValue::from_str(text)).clone()
    }

    fn optional_str(&self, text: Option<&str>) -> JsValue {
        text.map_or(JsValue::NULL, |text| self.cached(text))
    }

    /// A snapshot value as JS: strings cached, objects and arrays fresh.
    fn value_js(&self, value: &Value) -> JsValue {
        match value {
            Value::String(text) => self.cached(text),
            other => value_to_js(other),
        }
    }

    fn result_js(&self, evaluation: &Evaluation<'_>, default: &JsValue) -> JsValue {
        let value = evaluation.value.map_or_else(|| default.clone(), |v| self.value_js(v));
        let stage = evaluation.stage.map_or(JsValue::NULL, |s| JsValue::from_f64(f64::from(s)));
        let (code, message) = match &evaluation.error {
            Some(error) => (JsValue::from_str(error.code.as_str()), JsValue::from_str(&error.message)),
            None => (JsValue::NULL, JsValue::NULL),
        };
        let metadata = evaluation.flag_metadata.map_or(JsValue::NULL, map_to_js);
        // Before any load (`PROVIDER_NOT_READY`) the revision is null, like `engine.revision`.
        make_result(
            &value,
            &self.optional_str(evaluation.variant),
            &reason_js(evaluation.reason),
            &self.optional_str(evaluation.rule_id),
            &stage,
            &self.optional_str(evaluation.shadow_variant),
            &code,
            &message,
            &self.revision,
            &metadata,
        )
    }
}

fn flag_key(flag: &JsValue) -> Result<String, JsValue> {
    flag.as_string().ok_or_else(|| js_error(&args::flag_key_error(kind(flag))))
}

fn flag_type(name: &JsValue) -> Result<Option<FlagType>, JsValue> {
    if name.is_undefined() || name.is_null() {
        return Ok(None);
    }
    match name.as_string() {
        Some(name) => args::flag_type(&name).map_err(|e| js_error(&e)),
        None => Err(js_error(&args::flag_type_kind_error(kind(name)))),
    }
}

/// `now` in ms since the Unix epoch (floored); `undefined`/`null` is the host clock
/// (`Date.now()`: `wasm32-unknown-unknown` has no system clock).
fn now_ms(now: &JsValue) -> Result<Millis, JsValue> {
    // The number test first: it is the common case and one boundary crossing.
    match now.as_f64() {
        Some(ms) => args::now_from_number(ms).map_err(|e| js_error(&e)),
        None if now.is_undefined() || now.is_null() => Ok(Date::now() as Millis),
        None => Err(js_error(&args::now_kind_error(kind(now)))),
    }
}

/// A serde value as a fresh JS value.
fn value_to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(value_to_js).collect::<Array>().into(),
        Value::Object(map) => map_to_js(map),
    }
}

fn map_to_js(map: &Map<String, Value>) -> JsValue {
    let object = Object::new();
    for (key, value) in map {
        let _ = Reflect::set(&object, &JsValue::from_str(key), &value_to_js(value));
    }
    object.into()
}

/// Converts a JS context (`undefined` is the empty context) into a core context, or
/// says why it cannot be one (then the result is `INVALID_CONTEXT`).
///
/// One call into JS (`pennonEncodeContext`) walks the object with the JIT and writes it
/// into a scratch buffer in wasm memory; [`Reader`] reads it back. That is several
/// times faster than walking it from Rust with a boundary crossing per property and type
/// test (`benches/wasm/README.md`). The conversion follows `JSON.stringify` where that is
/// safe — `undefined` properties are left out (`null` in arrays), a `Date` becomes its ISO
/// 8601 string, only own enumerable string keys count — and refuses what JSON would
/// silently change: functions, symbols, BigInts, NaN and ±Infinity, `Map` and `Set`,
/// invalid dates, and nesting deeper than 64 levels (which also stops cycles). Integral
/// numbers within ±2^53 become JSON integers, as parsing JSON would make them.
pub(crate) fn context_from_js(context: &JsValue) -> Result<Context, String> {
    // An omitted or `null` context is the empty context (tests/conformance/arguments.json).
    if context.is_undefined() || context.is_null() {
        return Ok(Context::new());
    }
    SCRATCH.with(|scratch| {
        let Ok(mut buffer) = scratch.try_borrow_mut() else {
            return Err("the context encoder is busy (re-entrant call)".to_string());
        };
        MEMORY_SET.with(|_| ());
        loop {
            let capacity = u32::try_from(buffer.len()).map_err(|_| "the context is too large".to_string())?;
            let ptr = buffer.as_mut_ptr() as usize as u32;
            match encode_context(context, ptr, capacity) {
                -1 if buffer.len() < MAX_CONTEXT_BYTES => {
                    let bigger = buffer.len().saturating_mul(4).min(MAX_CONTEXT_BYTES);
                    buffer.resize(bigger, 0);
                }
                -1 => return Err(format!("the context encodes to more than {MAX_CONTEXT_BYTES} bytes")),
                -2 => {
                    // The two problems every binding can meet with JSON data are worded by
                    // core, so that all bindings report them identically.
                    let problem = context_error();
                    return Err(match problem.as_str() {
                        "too_deep" => ContextProblem::TooDeep.message(),
                        "array_too_long" => ContextProblem::ArrayTooLong.message(),
                        "not_object" => ContextProblem::NotAnObject.message(),
                        _ => problem,
                    });
                }
                written => {
                    let bytes = usize::try_from(written)
                        .ok()
                        .and_then(|n| buffer.get(..n))
                        .ok_or_else(|| "the context encoder failed".to_string())?;
                    let mut reader = Reader { bytes, at: 0 };
                    return match reader.value(1)? {
                        Value::Object(map) if reader.at == bytes.len() => Ok(Context::from_map(map)),
                        _ => Err("the context encoder wrote a malformed context".into()),
                    };
                }
            }
        }
    })
}

/// The largest encoded context (16 MiB).
const MAX_CONTEXT_BYTES: usize = 16 << 20;

thread_local! {
    /// The buffer contexts are encoded into (grows on demand, starts at 4 KiB).
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; 4096]);
    /// Initialised (handing the encoder the memory) on first use.
    static MEMORY_SET: () = set_memory(
        &wasm_bindgen::memory(),
        MAX_CONTEXT_DEPTH as u32,
        pennon_core::MAX_CONTEXT_ARRAY_LEN as u32,
    );
}

/// Reads what `pennonEncodeContext` wrote; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).ok_or("truncated context")?;
        let slice = self.bytes.get(self.at..end).ok_or("truncated context")?;
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<usize, String> {
        let raw: [u8; 4] = self.take(4)?.try_into().map_err(|_| "truncated context")?;
        Ok(u32::from_le_bytes(raw) as usize)
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.u32()?;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| "the context encoder wrote bad UTF-8".into())
    }

    /// A value at nesting level `depth` (the encoder already refused deeper ones).
    fn value(&mut self, depth: usize) -> Result<Value, String> {
        let tag = *self.take(1)?.first().ok_or("truncated context")?;
        Ok(match tag {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => {
                let raw: [u8; 8] = self.take(8)?.try_into().map_err(|_| "truncated context")?;
                number_value(f64::from_le_bytes(raw))?
            }
            4 => Value::String(self.string()?),
            5 if depth <= MAX_CONTEXT_DEPTH => {
                let count = self.u32()?;
                if count > pennon_core::MAX_CONTEXT_ARRAY_LEN {
                    return Err(ContextProblem::ArrayTooLong.message());
                }
                let mut items = Vec::with_capacity(count.min(self.bytes.len()));
                for _ in 0..count {
                    items.push(self.value(depth.saturating_add(1))?);
                }
                Value::Array(items)
            }
            6 if depth <= MAX_CONTEXT_DEPTH => {
                let count = self.u32()?;
                let mut map = Map::new();
                for _ in 0..count {
                    let key = self.string()?;
                    let value = self.value(depth.saturating_add(1))?;
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            _ => return Err("the context encoder wrote a malformed context".into()),
        })
    }
}

fn number_value(number: f64) -> Result<Value, String> {
    const SAFE: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() <= SAFE {
        // Integral and exact: the same value JSON parsing gives (`-0` becomes `0`).
        return Ok(Value::from(number as i64));
    }
    serde_json::Number::from_f64(number)
        .map(Value::Number)
        .ok_or_else(|| format!("a context number must be finite, not {number}"))
}

/// The js-sys walk this API used first, kept to be timed against the encoder.
#[cfg(feature = "bench-conversions")]
mod walk {
    use super::*;

    /// The js-sys walk over a JS context that `context_from_js` replaced (kept for the
    /// benchmark): the same conversion rules, with a boundary crossing per property and type test.
    ///
    /// The conversion follows `JSON.stringify` where that is safe — `undefined` properties
    /// are left out (`null` in arrays), a `Date` becomes its ISO 8601 string — and refuses
    /// what JSON would silently change: functions, symbols, BigInts, NaN and ±Infinity,
    /// `Map` and `Set`, invalid dates, and nesting deeper than 64 levels (which also stops
    /// cycles). Integral numbers within ±2^53 become JSON integers, as parsing JSON would.
    pub(crate) fn context_by_walk(context: &JsValue) -> Result<Context, String> {
        if context.is_undefined() {
            return Ok(Context::new());
        }
        if !context.is_object() || Array::is_array(context) {
            return Err(format!("the context must be an object, not {}", describe(context)));
        }
        match object_to_value(context, 1)? {
            Value::Object(map) => Ok(Context::from_map(map)),
            _ => Err("the context must be a plain object".into()),
        }
    }

    fn describe(value: &JsValue) -> String {
        if value.is_null() {
            "null".into()
        } else if Array::is_array(value) {
            "an array".into()
        } else {
            value.js_typeof().as_string().unwrap_or_default()
        }
    }

    /// `depth` is the nesting level of `value` itself (the context object is level 1).
    fn js_to_value(value: &JsValue, depth: usize) -> Result<Option<Value>, String> {
        if let Some(text) = value.as_string() {
            return Ok(Some(Value::String(text)));
        }
        if let Some(number) = value.as_f64() {
            return number_value(number).map(Some);
        }
        if let Some(flag) = value.as_bool() {
            return Ok(Some(Value::Bool(flag)));
        }
        if value.is_undefined() {
            return Ok(None);
        }
        if value.is_null() {
            return Ok(Some(Value::Null));
        }
        if !value.is_object() {
            return Err(format!("a context value cannot be a {}", describe(value)));
        }
        object_to_value(value, depth).map(Some)
    }

    /// An object or array (`value.is_object()` holds) at nesting level `depth`.
    fn object_to_value(value: &JsValue, depth: usize) -> Result<Value, String> {
        if depth > MAX_CONTEXT_DEPTH {
            return Err(ContextProblem::TooDeep.message());
        }
        if Array::is_array(value) {
            let array: &Array = value.unchecked_ref();
            let mut items = Vec::with_capacity(array.length() as usize);
            for item in array.iter() {
                items.push(js_to_value(&item, depth.saturating_add(1))?.unwrap_or(Value::Null));
            }
            return Ok(Value::Array(items));
        }
        if let Some(date) = value.dyn_ref::<Date>() {
            if date.get_time().is_nan() {
                return Err("a context Date is invalid".into());
            }
            return Ok(Value::String(String::from(date.to_iso_string())));
        }
        if value.is_instance_of::<js_sys::Map>() || value.is_instance_of::<js_sys::Set>() {
            return Err("a context value cannot be a Map or a Set: use a plain object or an array".into());
        }
        let object: &Object = value.unchecked_ref();
        let mut map = Map::new();
        for key in Object::keys(object).iter() {
            let property = Reflect::get(object, &key).map_err(|_| "reading a context property threw".to_string())?;
            if let Some(converted) = js_to_value(&property, depth.saturating_add(1))? {
                let name: &js_sys::JsString = key.unchecked_ref();
                map.insert(String::from(name), converted);
            }
        }
        Ok(Value::Object(map))
    }
}

/// Every error code core knows (`ErrorCode::ALL`), in order. The package's `errorCodes()`
/// lists the codes its JS classes map; a test checks the two agree.
#[wasm_bindgen(js_name = coreErrorCodes)]
pub fn core_error_codes() -> Array {
    ErrorCode::ALL.iter().map(|c| JsValue::from_str(c.as_str())).collect()
}

/// The class core assigns to an error code (`SnapshotError`, `ContextError`,
/// `ArgumentError`, `InternalError`), or `undefined` for an unknown code.
#[wasm_bindgen(js_name = coreErrorClass)]
pub fn core_error_class(code: &str) -> Option<String> {
    ErrorCode::from_code(code).map(|c| c.category().class_name().to_string())
}

/// The bucket in `[0, 100000)` of `unit` under `salt` (snapshot format §5.3).
#[wasm_bindgen]
pub fn bucket(salt: &str, unit: &str) -> u32 {
    bucket::bucket(salt, unit)
}

/// `XXH3_64(seed 0, salt ++ ":" ++ unit)` as a BigInt.
#[wasm_bindgen(js_name = bucketHash)]
pub fn bucket_hash(salt: &str, unit: &str) -> u64 {
    bucket::hash(salt, unit)
}

/// Alternatives to this module's conversions, exported only by the `bench-conversions`
/// build so that `benches/wasm` can time them against each other.
#[cfg(feature = "bench-conversions")]
mod bench {
    use super::*;

    /// Context via the js-sys walk this API used first.
    #[wasm_bindgen(js_name = __benchContextWalk)]
    pub fn context_walk(context: JsValue) -> usize {
        super::walk::context_by_walk(&context).map_or(0, |c| c.attributes().len())
    }

    /// Context via the JS encoder this API uses.
    #[wasm_bindgen(js_name = __benchContextEncoded)]
    pub fn context_encoded(context: JsValue) -> usize {
        context_from_js(&context).map_or(0, |c| c.attributes().len())
    }

    /// Only the JS half of the encoder (no decoding in Rust).
    #[wasm_bindgen(js_name = __benchContextEncodeOnly)]
    pub fn context_encode_only(context: JsValue) -> usize {
        MEMORY_SET.with(|_| ());
        SCRATCH.with(|scratch| {
            let mut buffer = scratch.borrow_mut();
            let capacity = buffer.len() as u32;
            encode_context(&context, buffer.as_mut_ptr() as usize as u32, capacity).max(0) as usize
        })
    }

    /// Context via serde-wasm-bindgen.
    #[wasm_bindgen(js_name = __benchContextSerde)]
    pub fn context_serde(context: JsValue) -> usize {
        serde_wasm_bindgen::from_value::<Value>(context)
            .ok()
            .and_then(|v| Context::from_value(v).ok())
            .map_or(0, |c| c.attributes().len())
    }

    /// Context via `JSON.stringify` and serde_json.
    #[wasm_bindgen(js_name = __benchContextJson)]
    pub fn context_json(context: JsValue) -> usize {
        js_sys::JSON::stringify(&context)
            .ok()
            .and_then(|text| Context::from_json(&String::from(text)).ok())
            .map_or(0, |c| c.attributes().len())
    }

    fn sample() -> Evaluation<'static> {
        static VALUE: Value = Value::Bool(true);
        Evaluation {
            value: Some(&VALUE),
            variant: Some("on"),
            reason: Reason::TargetingMatch,
            error: None,
            rule_id: Some("eu-paid-beta"),
            stage: None,
            shadow_variant: None,
            flag_metadata: None,
            slot: None,
        }
    }

    /// A result object via the one-call object literal this API uses (strings not cached).
    #[wasm_bindgen(js_name = __benchResultLiteral)]
    pub fn result_literal() -> JsValue {
        let e = sample();
        let text = |t: Option<&str>| t.map_or(JsValue::NULL, JsValue::from_str);
        make_result(
            &e.value.map_or(JsValue::NULL, value_to_js),
            &text(e.variant),
            &reason_js(e.reason),
            &text(e.rule_id),
            &JsValue::NULL,
            &JsValue::NULL,
            &JsValue::NULL,
            &JsValue::NULL,
            &JsValue::from_f64(1.0),
            &JsValue::NULL,
        )
    }

    /// A result object via ten `Reflect.set` calls.
    #[wasm_bindgen(js_name = __benchResultReflect)]
    pub fn result_reflect() -> JsValue {
        let e = sample();
        let text = |t: Option<&str>| t.map_or(JsValue::NULL, JsValue::from_str);
        let object = Object::new();
        let fields = [
            ("value", e.value.map_or(JsValue::NULL, value_to_js)),
            ("variant", text(e.variant)),
            ("reason", reason_js(e.reason)),
            ("ruleId", text(e.rule_id)),
            ("stage", JsValue::NULL),
            ("shadowVariant", JsValue::NULL),
            ("errorCode", JsValue::NULL),
            ("errorMessage", JsValue::NULL),
            ("revision", JsValue::from_f64(1.0)),
            ("flagMetadata", JsValue::NULL),
        ];
        for (key, value) in fields {
            let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
        }
        object.into()
    }

    /// A result object via canonical JSON and `JSON.parse`.
    #[wasm_bindgen(js_name = __benchResultJson)]
    pub fn result_json() -> JsValue {
        let text = pennon_core::json::canonical(&sample().to_json(&Value::Null, 1));
        js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
    }
}
