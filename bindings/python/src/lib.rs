//! `pennon._native`: Pennon's Python extension module (pyo3, abi3 for CPython ≥ 3.9).
//!
//! A thin layer over [`pennon_core`] that follows `docs/bindings.md`: it converts Python
//! objects into core values (no JSON text on the hot path), maps core errors onto the
//! exception classes, and owns the engine handle. Every decision about what a flag means
//! is made by core.
//!
//! The Python package `pennon` (under `sdks/python/pennon/`) re-exports the
//! public names; its `.pyi` stub documents the API for type checkers.

mod convert;
mod errors;
mod result;

use pennon_core::{Context, Error, ErrorCode, Evaluation, FlagType, Snapshot, Value, json, time::Millis};
use pennon_host::args::{self, Kind};
use pennon_host::{Holder, Loaded, clock, outcomes};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::convert::Mode;
use crate::errors::{argument_error, to_py_err};

/// Runs `body`, turning a panic into an `InternalError` (code `internal`) so that no
/// panic crosses the boundary as pyo3's `PanicException` (`docs/bindings.md`).
fn guarded<T>(py: Python<'_>, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    pennon_host::guard::catch(body).unwrap_or_else(|error| Err(to_py_err(py, &error)))
}

/// What a Python value is, in the words of the argument rules (`pennon_host::args`).
fn kind(object: &Bound<'_, PyAny>) -> Kind {
    if object.is_none() {
        Kind::Null
    } else if object.is_instance_of::<PyBool>() {
        Kind::Boolean
    } else if object.is_instance_of::<PyInt>() || object.is_instance_of::<PyFloat>() {
        Kind::Number
    } else if object.is_instance_of::<PyString>() {
        Kind::String
    } else if object.is_instance_of::<PyList>() || object.is_instance_of::<PyTuple>() {
        Kind::Array
    } else if object.is_instance_of::<PyDict>() {
        Kind::Object
    } else {
        Kind::Other(format!("a {}", type_name(object)).into())
    }
}

/// Raises an argument rule's error.
fn raise(py: Python<'_>, error: Error) -> PyErr {
    to_py_err(py, &error)
}

/// The flag key: a `str`, else an `ArgumentError`. Flag keys are nearly always the same
/// literals, so they go through the same per-thread cache as context keys.
fn flag_key(py: Python<'_>, flag: &Bound<'_, PyAny>) -> PyResult<String> {
    let Ok(text) = flag.cast::<PyString>() else {
        return Err(raise(py, args::flag_key_error(kind(flag))));
    };
    convert::cached_key(text).map_err(|_| argument_error(py, "the flag key has unpaired surrogates"))
}

/// The expected type: `None` or `"any"` (no check) or one of `boolean|string|number|object`.
fn flag_type(py: Python<'_>, name: Option<&Bound<'_, PyAny>>) -> PyResult<Option<FlagType>> {
    let Some(name) = name.filter(|name| !name.is_none()) else { return Ok(None) };
    // Type names in calls are literals, which CPython interns: an identity check against
    // the interned names usually decides without converting the string.
    let interned = [
        (pyo3::intern!(py, "boolean"), FlagType::Boolean),
        (pyo3::intern!(py, "string"), FlagType::String),
        (pyo3::intern!(py, "number"), FlagType::Number),
        (pyo3::intern!(py, "object"), FlagType::Object),
    ];
    if let Some((_, kind)) = interned.iter().find(|(text, _)| name.is(text)) {
        return Ok(Some(*kind));
    }
    let Ok(text) = name.cast::<PyString>() else { return Err(raise(py, args::flag_type_kind_error(kind(name)))) };
    let text = text.to_cow().map_err(|_| raise(py, args::invalid("the type has unpaired surrogates")))?;
    args::flag_type(&text).map_err(|error| raise(py, error))
}

/// `now`: `None` (the host clock), or ms since the Unix epoch as an `int` or a `float`
/// (floored), by the rules every binding shares (`pennon_host::args`).
fn now_ms(py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Millis> {
    let Some(now) = now.filter(|now| !now.is_none()) else { return Ok(clock::now()) };
    let ms = match kind(now) {
        Kind::Number if now.is_instance_of::<PyInt>() => now
            .extract::<Millis>()
            .map_err(|_| args::now_range_error(&now.str().map(|s| s.to_string()).unwrap_or_default())),
        Kind::Number => {
            now.extract::<f64>().map_err(|_| args::now_kind_error(kind(now))).and_then(args::now_from_number)
        }
        other => Err(args::now_kind_error(other)),
    };
    ms.map_err(|error| raise(py, error))
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| String::from("?"))
}

/// `[{code, path, message}]` for a list of core errors.
fn error_list<'py>(py: Python<'py>, errors: &[Error]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for error in errors {
        let item = PyDict::new(py);
        item.set_item(pyo3::intern!(py, "code"), error.code.as_str())?;
        item.set_item(pyo3::intern!(py, "path"), error.path.as_str())?;
        item.set_item(pyo3::intern!(py, "message"), error.message.as_str())?;
        list.append(item)?;
    }
    Ok(list)
}

/// Compiles a snapshot from what `load` received. Parsing and compiling run with the GIL
/// released; converting a parsed object needs it.
fn compile(py: Python<'_>, snapshot: &Bound<'_, PyAny>) -> PyResult<Result<Snapshot, Error>> {
    if !matches!(kind(snapshot), Kind::String | Kind::Object | Kind::Array) && !snapshot.is_instance_of::<PyBytes>() {
        return Err(raise(py, args::snapshot_kind_error(kind(snapshot))));
    }
    if let Ok(text) = snapshot.cast::<PyString>() {
        let Ok(text) = text.to_cow() else {
            return Ok(Err(Error::new(ErrorCode::InvalidJson, "", "the snapshot text has unpaired surrogates")));
        };
        return Ok(py.detach(|| Snapshot::from_json(&text)));
    }
    if let Ok(bytes) = snapshot.cast::<PyBytes>() {
        let bytes = bytes.as_bytes();
        return Ok(py.detach(|| match std::str::from_utf8(bytes) {
            Ok(text) => Snapshot::from_json(text),
            Err(e) => Err(Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not UTF-8: {e}"))),
        }));
    }
    // An already parsed document: any JSON-like object, so that a dict loads exactly as
    // its `json.dumps` text would (a list, say, is `invalid_snapshot`, as in text).
    match convert::value(snapshot, 1, Mode::Snapshot) {
        Ok(document) => Ok(py.detach(move || pennon_host::load_document(&document))),
        Err(problem) => Ok(Err(Error::new(
            ErrorCode::InvalidJson,
            problem.path(),
            format!("the snapshot object is not JSON: {}", problem.message()),
        ))),
    }
}

/// A Pennon engine: holds at most one compiled snapshot and evaluates flags against it.
///
/// Safe to share between threads: evaluations read an `Arc` of the current snapshot, and
/// `load` compiles with the GIL released and then swaps the `Arc` in, so every result
/// comes from one whole snapshot.
#[pyclass(frozen, module = "pennon._native")]
pub struct Engine {
    holder: Holder,
}

impl Engine {
    /// The current snapshot (an atomic load: never blocks, never holds a lock while
    /// Python code runs).
    fn snapshot(&self) -> Option<std::sync::Arc<Snapshot>> {
        self.holder.current().map(|loaded| std::sync::Arc::clone(&loaded.snapshot))
    }

    /// Evaluates `key` (after argument checks) and hands the result to `finish`.
    fn with_evaluation<'py, R>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        expected: Option<FlagType>,
        now: Option<&Bound<'py, PyAny>>,
        finish: impl FnOnce(&Evaluation<'_>, Option<u64>) -> PyResult<R>,
    ) -> PyResult<R> {
        let key = flag_key(py, flag)?;
        let now = now_ms(py, now)?;
        let loaded = self.holder.current();
        let context = context_for(loaded.as_deref(), &key, context);
        let context = context.as_ref().map_err(String::as_str);
        // The holder evaluates and counts (`count_evaluations`).
        let (evaluation, revision) = self.holder.evaluate(loaded.as_deref(), &key, context, now, expected);
        finish(&evaluation, revision)
    }

    fn typed<'py>(
        &self,
        py: Python<'py>,
        kind: FlagType,
        args: (&Bound<'py, PyAny>, &Bound<'py, PyAny>, &Bound<'py, PyAny>),
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (flag, context, default) = args;
        guarded(py, || {
            pennon_host::args::check_default(kind, self::kind(default)).map_err(|error| raise(py, error))?;
            self.with_evaluation(py, flag, context, Some(kind), now, |evaluation, _| {
                result::value(py, evaluation, default)
            })
        })
    }
}

/// The context of an evaluation of `key` with `loaded`, converting only what the flag
/// reads, or why it does not convert (`INVALID_CONTEXT`).
fn context_for(loaded: Option<&Loaded>, key: &str, context: &Bound<'_, PyAny>) -> Result<Context, String> {
    match loaded {
        Some(loaded) if !context.is_none() => convert::context_reading(context, loaded.snapshot.attributes_read(key))
            .map_err(|problem| invalid_context_message(&problem)),
        // No snapshot: `PROVIDER_NOT_READY`, whatever the context.
        _ => Ok(Context::new()),
    }
}

/// An outcome dict (`{"ok": True, "latency_ms": 12.5}`…), checked by `pennon_host::outcomes`.
fn outcome_arg(py: Python<'_>, outcome: &Bound<'_, PyAny>) -> PyResult<outcomes::Outcome> {
    let Ok(dict) = outcome.cast::<PyDict>() else {
        return Err(raise(py, outcomes::outcome_kind_error(kind(outcome))));
    };
    let mut fields = Vec::with_capacity(dict.len());
    for (name, value) in dict.iter() {
        let name = match name.cast::<PyString>() {
            Ok(text) => text.to_cow().map(|text| text.into_owned()).unwrap_or_default(),
            Err(_) => name.repr().map(|repr| repr.to_string()).unwrap_or_default(),
        };
        let field = match kind(&value) {
            Kind::Boolean => outcomes::Field::Boolean(value.is_truthy()?),
            Kind::Number => match value.extract::<f64>() {
                Ok(number) => outcomes::Field::Number(number),
                // An int beyond a float's range.
                Err(_) => outcomes::Field::Number(f64::INFINITY),
            },
            other => outcomes::Field::Other(other),
        };
        fields.push((name, field));
    }
    let fields = fields.iter().map(|(name, field)| (name.as_str(), field.clone()));
    outcomes::outcome_from_fields(fields, outcomes::LATENCY_KEY_PYTHON).map_err(|error| raise(py, error))
}

/// The `INVALID_CONTEXT` message for a context that did not convert.
fn invalid_context_message(problem: &convert::ConvertError) -> String {
    match problem.shared_problem() {
        Some(shared) => shared.message(),
        None => match problem.path() {
            path if path.is_empty() => format!("the context cannot be used: {}", problem.message()),
            path => format!("the context cannot be used: {} at {path}", problem.message()),
        },
    }
}

#[pymethods]
impl Engine {
    /// An engine with no snapshot: evaluations return `PROVIDER_NOT_READY` until the
    /// first successful `load`.
    #[new]
    #[pyo3(signature = (snapshot = None))]
    fn new(py: Python<'_>, snapshot: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let engine = Engine { holder: Holder::new() };
        if let Some(snapshot) = snapshot.filter(|snapshot| !snapshot.is_none()) {
            engine.load(py, snapshot)?;
        }
        Ok(engine)
    }

    /// Loads a snapshot: JSON text (`str` or UTF-8 `bytes`) or an already parsed
    /// document (a `dict`). Returns the load warnings. On failure raises `SnapshotError`
    /// and keeps the snapshot the engine had.
    fn load<'py>(&self, py: Python<'py>, snapshot: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        guarded(py, || {
            let compiled = compile(py, snapshot)?.map_err(|error| to_py_err(py, &error))?;
            let warnings = error_list(py, compiled.warnings())?;
            let previous = self.holder.current();
            self.holder.install(std::sync::Arc::new(compiled));
            // Freeing a large snapshot takes a while: not while holding the GIL.
            py.detach(move || drop(previous));
            Ok(warnings)
        })
    }

    /// The loaded snapshot's revision, or `None` before the first load.
    #[getter]
    fn revision(&self) -> Option<u64> {
        self.holder.revision()
    }

    /// The keys of the flags whose evaluation may differ between `previous`'s snapshot and
    /// this engine's, as core computes them (`Snapshot::changed_flags`: added, removed,
    /// changed, and their dependents), sorted. An engine without a snapshot counts as an
    /// empty one. SDKs call it after loading a new snapshot into a fresh engine.
    fn changed_flags(&self, previous: PyRef<'_, Engine>) -> Vec<String> {
        let (new, old) = (self.snapshot(), previous.snapshot());
        pennon_host::changed_flags(new.as_deref(), old.as_deref())
    }

    /// Switches counting of this engine's single-flag evaluations (`evaluate` and the
    /// typed getters, not `evaluate_all`) per flag × variant × reason on or off. Off by
    /// default; counts so far are kept.
    fn count_evaluations(&self, enabled: bool) {
        self.holder.counters().set_enabled(enabled);
    }

    /// Counts an answer the caller gave itself from a local override of `flag` (variant
    /// `override`, reason `STATIC`), when counting is on.
    fn count_override(&self, py: Python<'_>, flag: &Bound<'_, PyAny>) -> PyResult<()> {
        self.holder.counters().count_override(&flag_key(py, flag)?);
        Ok(())
    }

    /// From now on this engine counts into `previous`'s counters (switched on or off with
    /// them): an SDK that loads each new snapshot into a fresh engine keeps one set of
    /// counters this way.
    fn share_counters(&self, previous: PyRef<'_, Engine>) {
        self.holder.share_counters(&previous.holder);
    }

    /// The counters in Prometheus text format: `pennon_evaluations_total{flag,variant,reason}`,
    /// series sorted, `# HELP` and `# TYPE` first.
    fn metrics(&self) -> String {
        self.holder.counters().metrics_text()
    }

    /// Records what happened after the application used `flag` for `context`: `{"ok": True,
    /// "latency_ms": 12.5}` or `{"error": True, ...}` (a request) and/or `{"converted":
    /// True}`, kept for the variant the context is served (evaluated at `now`, uncounted).
    /// An invalid outcome raises `ArgumentError`; an evaluation that fails (not ready,
    /// unknown flag, a context that does not convert) records nothing and raises nothing.
    #[pyo3(signature = (flag, context, outcome, now = None))]
    fn record<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        outcome: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        guarded(py, || {
            let key = flag_key(py, flag)?;
            let outcome = outcome_arg(py, outcome)?;
            let now = now_ms(py, now)?;
            let loaded = self.holder.current();
            let context = context_for(loaded.as_deref(), &key, context);
            let context = context.as_ref().map_err(String::as_str);
            let latency = outcomes::LATENCY_KEY_PYTHON;
            self.holder.record(loaded.as_deref(), &key, context, now, &outcome, latency).map_err(|e| raise(py, e))?;
            Ok(())
        })
    }

    /// The body of `POST /sdk/v1/metrics` (JSON text) with every outcome and exposure since
    /// the previous take, `sdk` naming the sender (default `pennon-host/<version>`), or
    /// `None` when nothing is new. The numbers count as sent until `restore_outcomes` gives
    /// the batch back.
    #[pyo3(signature = (batch_id, sdk = None))]
    fn take_outcomes(&self, batch_id: &str, sdk: Option<&str>) -> Option<String> {
        self.holder.take_outcomes(batch_id, sdk)
    }

    /// Gives back a batch `take_outcomes` made whose send failed: the next take carries its
    /// numbers again.
    fn restore_outcomes(&self, py: Python<'_>, batch: &str) -> PyResult<()> {
        self.holder.restore_outcomes(batch).map_err(|error| raise(py, error))
    }

    /// The outcomes in Prometheus text format (cumulative): `pennon_canary_requests_total`,
    /// `pennon_canary_errors_total`, `pennon_conversions_total` and the histogram
    /// `pennon_canary_latency_ms`, labelled `{flag, cohort}` (the variant).
    fn outcome_metrics(&self) -> String {
        self.holder.outcome_metrics()
    }

    /// The loaded snapshot's warnings `[{code, path, message}]` (empty before a load).
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match self.snapshot() {
            Some(snapshot) => error_list(py, snapshot.warnings()),
            None => Ok(PyList::empty(py)),
        }
    }

    /// Evaluates one flag and returns the canonical result as a `dict` with the keys
    /// `value, variant, reason, ruleId, stage, shadowVariant, errorCode, errorMessage,
    /// revision, flagMetadata`. Never raises for evaluation problems (they come back as
    /// `reason == "ERROR"` with `value` = `default`); raises `ArgumentError` for a flag
    /// key that is not a `str`, an unknown `type` or a `now` that is not an `int`.
    #[pyo3(signature = (flag, context = None, *, r#type = None, default = None, now = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        r#type: Option<&Bound<'py, PyAny>>,
        default: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let none = py.None().into_bound(py);
            let default = default.unwrap_or(&none);
            let expected = flag_type(py, r#type)?;
            let context = context.unwrap_or(&none);
            self.with_evaluation(py, flag, context, expected, now, |evaluation, revision| {
                result::to_dict(py, evaluation, default, revision)
            })
        })
    }

    /// A boolean flag's value, or `default` on any error (including a type mismatch).
    #[pyo3(signature = (flag, context, default, now = None))]
    fn get_boolean<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        default: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.typed(py, FlagType::Boolean, (flag, context, default), now)
    }

    /// A string flag's value, or `default` on any error.
    #[pyo3(signature = (flag, context, default, now = None))]
    fn get_string<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        default: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.typed(py, FlagType::String, (flag, context, default), now)
    }

    /// A number flag's value (`int` or `float`), or `default` on any error.
    #[pyo3(signature = (flag, context, default, now = None))]
    fn get_number<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        default: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.typed(py, FlagType::Number, (flag, context, default), now)
    }

    /// An object flag's value (a new `dict` each call), or `default` on any error.
    #[pyo3(signature = (flag, context, default, now = None))]
    fn get_object<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        default: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.typed(py, FlagType::Object, (flag, context, default), now)
    }

    /// Every flag evaluated for one context (no type check, `default` `None`):
    /// `{flag_key: result}` in key order, for front-end bootstrap. Empty before a load.
    #[pyo3(signature = (context = None, now = None))]
    fn evaluate_all<'py>(
        &self,
        py: Python<'py>,
        context: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let now = now_ms(py, now)?;
            let all = PyDict::new(py);
            let Some(snapshot) = self.snapshot() else { return Ok(all) };
            let revision = Some(snapshot.revision());
            let none = py.None().into_bound(py);
            let context = match context {
                Some(context) if !context.is_none() => {
                    convert::context(context).map_err(|problem| invalid_context_message(&problem))
                }
                _ => Ok(Context::new()),
            };
            for (key, evaluation) in snapshot.evaluate_all_converted(context.as_ref().map_err(String::as_str), now) {
                all.set_item(key, result::to_dict(py, &evaluation, &none, revision)?)?;
            }
            Ok(all)
        })
    }

    /// Test hook: the same evaluation through core's JSON interface (context and default
    /// as JSON text, result as `pennon_core::json::canonical` text, as the C and raw wasm
    /// ABIs return it), to compare byte for byte with the object path.
    #[pyo3(signature = (flag, context_json, r#type, default_json, now))]
    fn _evaluate_canonical(
        &self,
        py: Python<'_>,
        flag: &str,
        context_json: &str,
        r#type: Option<&str>,
        default_json: &str,
        now: Millis,
    ) -> PyResult<String> {
        guarded(py, || {
            let expected = match r#type {
                None => None,
                Some(name) => args::flag_type(name).map_err(|error| raise(py, error))?,
            };
            let default: Value = serde_json::from_str(default_json)
                .map_err(|e| argument_error(py, format!("default_json is not JSON: {e}")))?;
            let Some(snapshot) = self.snapshot() else {
                return Ok(json::canonical(&Evaluation::not_ready().to_json(&default, None)));
            };
            let context = Context::from_json(context_json).map_err(|error| error.message);
            let evaluation = snapshot.evaluate_converted(flag, context.as_ref().map_err(String::as_str), now, expected);
            Ok(json::canonical(&evaluation.to_json(&default, snapshot.revision())))
        })
    }

    fn __repr__(&self) -> String {
        match self.snapshot() {
            Some(snapshot) => format!("<pennon._native.Engine revision={}>", snapshot.revision()),
            None => String::from("<pennon._native.Engine (no snapshot)>"),
        }
    }
}

/// `{code: exception class}` for every error code this binding maps (`docs/bindings.md`
/// § Errors); each class is the one raised for that code, read back from an instance
/// built the way every raise builds it.
#[pyfunction]
fn error_codes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let mapping = PyDict::new(py);
    for code in ErrorCode::ALL {
        let instance = errors::exception_instance(py, &Error::new(*code, "", "probe"))?;
        mapping.set_item(instance.getattr(pyo3::intern!(py, "code"))?, instance.get_type())?;
    }
    Ok(mapping)
}

/// Every error code core defines (`ErrorCode::ALL`), in order: what `error_codes()` must cover.
#[pyfunction]
fn core_error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|code| code.as_str()).collect()
}

/// Every evaluation reason core defines (`Reason::ALL`), in order: what `pennon.Reason` lists.
#[pyfunction]
fn core_reasons() -> Vec<&'static str> {
    pennon_core::Reason::ALL.iter().map(|reason| reason.as_str()).collect()
}

/// The exception this binding raises for `code` (test hook for the error mapping).
#[pyfunction]
#[pyo3(signature = (code, path = "", message = "test"))]
fn _error<'py>(py: Python<'py>, code: &str, path: &str, message: &str) -> PyResult<Bound<'py, PyAny>> {
    let Some(code) = ErrorCode::from_code(code) else {
        return Err(argument_error(py, format!("unknown error code {code:?}")));
    };
    errors::exception_instance(py, &Error::new(code, path, message))
}

/// Core's canonical JSON (`pennon_core::json::canonical`) of a JSON-like object, for
/// checking the differential runner's serialiser byte for byte (test hook).
#[pyfunction]
fn _canonical_json(py: Python<'_>, document: &Bound<'_, PyAny>) -> PyResult<String> {
    match convert::value(document, 1, Mode::Snapshot) {
        Ok(value) => Ok(json::canonical(&value)),
        Err(problem) => Err(argument_error(py, format!("{} at {}", problem.message(), problem.path()))),
    }
}

/// Panics inside a guarded call (test hook: a panic must arrive as `InternalError`).
#[pyfunction]
#[allow(clippy::panic)] // The point of this hook.
fn _panic(py: Python<'_>) -> PyResult<()> {
    guarded(py, || panic!("deliberate panic from pennon._native._panic"))
}

/// The module: `Engine`, the exception classes, `error_codes`, `core_error_codes`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add_class::<Engine>()?;
    let classes = errors::exceptions(py)?;
    module.add("PennonError", classes.base.bind(py))?;
    module.add("SnapshotError", classes.snapshot.bind(py))?;
    module.add("ContextError", classes.context.bind(py))?;
    module.add("ArgumentError", classes.argument.bind(py))?;
    module.add("InternalError", classes.internal.bind(py))?;
    module.add_function(wrap_pyfunction!(error_codes, module)?)?;
    module.add_function(wrap_pyfunction!(core_error_codes, module)?)?;
    module.add_function(wrap_pyfunction!(core_reasons, module)?)?;
    module.add_function(wrap_pyfunction!(_error, module)?)?;
    module.add_function(wrap_pyfunction!(_canonical_json, module)?)?;
    module.add_function(wrap_pyfunction!(_panic, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // `add` lists every name in `__all__`; the test hooks (`_error`, ...) stay out of it.
    let public: Vec<String> = module
        .index()?
        .iter()
        .map(|name| name.extract::<String>())
        .collect::<PyResult<Vec<_>>>()?
        .into_iter()
        .filter(|name| !name.starts_with('_'))
        .collect();
    module.setattr("__all__", public)?;
    Ok(())
}
