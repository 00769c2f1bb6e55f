//! Python objects ⇄ JSON values, without JSON text in between (DESIGN §2: hot paths carry
//! no JSON). Contexts and dict snapshots are walked directly into [`Value`]s; results are
//! built directly as Python objects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use pennon_core::{Context, ContextProblem, Map, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Containers nested deeper than this make a context invalid (`docs/bindings.md`). The
/// context object itself is level 1.
pub(crate) const MAX_CONTEXT_DEPTH: usize = pennon_core::MAX_CONTEXT_DEPTH;

/// The nesting limit for a snapshot given as a dict (a stack guard only: the converted
/// dict loads as its JSON text, `pennon_host::load_document`).
pub(crate) const MAX_SNAPSHOT_DEPTH: usize = pennon_host::limits::MAX_SNAPSHOT_DEPTH;

/// What is being converted; decides how integers beyond 64 bits are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An evaluation context: an integer beyond `i64`/`u64` is an error.
    Context,
    /// A snapshot document: an integer beyond `i64`/`u64` becomes a float, as it does
    /// when serde_json parses the same document as text.
    Snapshot,
}

/// One step of the path to an unconvertible value.
enum Step {
    Key(String),
    Index(usize),
}

/// Why a Python object is not a JSON value, and where it sits.
pub(crate) struct ConvertError {
    /// Innermost step first (pushed while unwinding).
    steps: Vec<Step>,
    message: String,
    /// Set for the problems every binding can meet with the same JSON data (too deep, not
    /// an object): their `INVALID_CONTEXT` message is core's, identical everywhere.
    shared: Option<ContextProblem>,
}

impl ConvertError {
    fn new(message: impl Into<String>) -> Self {
        ConvertError { steps: Vec::new(), message: message.into(), shared: None }
    }

    fn shared(problem: ContextProblem) -> Self {
        ConvertError { steps: Vec::new(), message: problem.message(), shared: Some(problem) }
    }

    /// Core's wording when the problem is one every binding shares.
    pub(crate) fn shared_problem(&self) -> Option<ContextProblem> {
        self.shared
    }

    fn at(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The JSON Pointer of the offending value below the converted value's root
    /// (`/user/tags/2`; empty at the root).
    pub(crate) fn path(&self) -> String {
        let mut path = String::new();
        for step in self.steps.iter().rev() {
            path.push('/');
            match step {
                Step::Key(key) => pennon_core::json::push_pointer_token(&mut path, key),
                Step::Index(index) => {
                    let _ = write!(path, "{index}");
                }
            }
        }
        path
    }

    /// What is wrong.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

type Converted<T> = Result<T, ConvertError>;

/// The type name of a Python object, for messages.
fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| String::from("?"))
}

/// A Python `str` as a Rust `String`. Unpaired surrogates cannot be UTF-8: an error.
pub(crate) fn string(text: &Bound<'_, PyString>) -> Converted<String> {
    text.to_cow().map(|cow| cow.into_owned()).map_err(|_| unpaired_surrogates())
}

fn unpaired_surrogates() -> ConvertError {
    ConvertError::new("a string with unpaired surrogates")
}

/// The most keys the per-thread key cache holds before it starts over.
const KEY_CACHE_LIMIT: usize = 4096;

/// The longest key (in UTF-8 bytes) the cache keeps: flag keys are at most 256 bytes, and
/// attribute names are short. Longer keys are converted every time, so the cache holds at
/// most about 4096 × 256 bytes of text per thread however large the keys callers pass.
const KEY_CACHE_MAX_BYTES: usize = 256;

/// Hashes an object address (a multiplicative hash; the low bits of addresses are zero).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(32);
    }
}

/// Recently seen key objects and their UTF-8 text, per thread, by the object's address.
/// Context keys and flag keys are nearly always the same (interned) `str` objects call
/// after call, and under the 3.9 limited API every conversion of a `str` goes through a
/// temporary `bytes` object, which a hit skips. Each entry holds a strong reference, so
/// its object cannot be freed and its address cannot be reused while cached: the same
/// address means the same (immutable) string.
type KeyCache = HashMap<usize, (Py<PyString>, Box<str>), BuildHasherDefault<AddressHasher>>;

thread_local! {
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

/// A key (of a context object or a flag) as a `String`, through the per-thread cache
/// for exact `str` objects.
pub(crate) fn cached_key(key: &Bound<'_, PyString>) -> Converted<String> {
    if !key.is_exact_instance_of::<PyString>() {
        return string(key);
    }
    let address = key.as_ptr() as usize;
    let cached = KEYS.try_with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        if let Some((_, text)) = cache.get(&address) {
            return Some(Ok(String::from(&**text)));
        }
        if cache.len() >= KEY_CACHE_LIMIT {
            cache.clear();
        }
        Some(string(key).inspect(|text| {
            if text.len() <= KEY_CACHE_MAX_BYTES {
                cache.insert(address, (key.clone().unbind(), text.as_str().into()));
            }
        }))
    });
    match cached {
        Ok(Some(result)) => result,
        // The thread is exiting or the cache is in use further up the stack: no caching.
        _ => string(key),
    }
}

fn int(number: &Bound<'_, PyAny>, mode: Mode) -> Converted<Value> {
    if let Ok(small) = number.extract::<i64>() {
        return Ok(Value::from(small));
    }
    if let Ok(large) = number.extract::<u64>() {
        return Ok(Value::from(large));
    }
    match mode {
        Mode::Context => Err(ConvertError::new("an integer outside the 64-bit range")),
        Mode::Snapshot => {
            // `float(n)` fails only with an OverflowError (beyond ~1.8e308), where
            // serde_json's parser fails too.
            let too_large = || ConvertError::new("an integer too large for a JSON number");
            let float = number.extract::<f64>().map_err(|_| too_large())?;
            serde_json::Number::from_f64(float).map(Value::Number).ok_or_else(too_large)
        }
    }
}

fn float(value: f64) -> Converted<Value> {
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| ConvertError::new(format!("{value} is not a JSON number")))
}

fn object(dict: &Bound<'_, PyDict>, depth: usize, mode: Mode) -> Converted<Map<String, Value>> {
    let mut map = Map::new();
    for (key, item) in dict.iter() {
        let key = key_text(&key)?;
        match value(&item, depth + 1, mode) {
            Ok(converted) => {
                map.insert(key, converted);
            }
            Err(error) => return Err(error.at(Step::Key(key))),
        }
    }
    Ok(map)
}

/// A dict key's text: keys must be `str`.
fn key_text(key: &Bound<'_, PyAny>) -> Converted<String> {
    match key.cast::<PyString>() {
        Ok(key) => cached_key(key),
        Err(_) => Err(ConvertError::new(format!("a key of type {} (keys must be str)", type_name(key)))),
    }
}

fn array<'py>(items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>, depth: usize, mode: Mode) -> Converted<Value> {
    if mode == Mode::Context && items.len() > pennon_core::MAX_CONTEXT_ARRAY_LEN {
        return Err(ConvertError::shared(ContextProblem::ArrayTooLong));
    }
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.enumerate() {
        out.push(value(&item, depth + 1, mode).map_err(|e| e.at(Step::Index(index)))?);
    }
    Ok(Value::Array(out))
}

fn check_depth(depth: usize, mode: Mode) -> Converted<()> {
    let limit = match mode {
        Mode::Context => MAX_CONTEXT_DEPTH,
        Mode::Snapshot => MAX_SNAPSHOT_DEPTH,
    };
    match mode {
        _ if depth <= limit => Ok(()),
        Mode::Context => Err(ConvertError::shared(ContextProblem::TooDeep)),
        Mode::Snapshot => Err(ConvertError::new(format!("nesting deeper than {limit} levels"))),
    }
}

/// Converts a JSON-like Python object: `None`, `bool`, `int`, `float`, `str`, `dict` with
/// `str` keys, `list`, `tuple` (and their subclasses). `depth` is the nesting level of
/// `object` if it is a container (the top-level object is 1).
pub(crate) fn value(object: &Bound<'_, PyAny>, depth: usize, mode: Mode) -> Converted<Value> {
    // The common exact types first; `bool` before `int`, since `bool` subclasses `int`.
    if let Ok(text) = object.cast_exact::<PyString>() {
        return string(text).map(Value::String);
    }
    if let Ok(flag) = object.cast_exact::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if object.is_exact_instance_of::<PyInt>() {
        return int(object, mode);
    }
    if let Ok(number) = object.cast_exact::<PyFloat>() {
        return float(number.value());
    }
    if object.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(dict) = object.cast::<PyDict>() {
        check_depth(depth, mode)?;
        return object_value(dict, depth, mode);
    }
    if let Ok(list) = object.cast::<PyList>() {
        check_depth(depth, mode)?;
        return array(list.iter(), depth, mode);
    }
    if let Ok(tuple) = object.cast::<PyTuple>() {
        check_depth(depth, mode)?;
        return array(tuple.iter(), depth, mode);
    }
    // Subclasses (`enum.StrEnum`, `enum.IntEnum`, float subclasses), as `json.dumps`
    // accepts them.
    if let Ok(text) = object.cast::<PyString>() {
        return string(text).map(Value::String);
    }
    if object.is_instance_of::<PyInt>() {
        return int(object, mode);
    }
    if let Ok(number) = object.cast::<PyFloat>() {
        return float(number.value());
    }
    Err(ConvertError::new(format!("a value of type {}, which is not JSON", type_name(object))))
}

fn object_value(dict: &Bound<'_, PyDict>, depth: usize, mode: Mode) -> Converted<Value> {
    object(dict, depth, mode).map(Value::Object)
}

/// Converts an evaluation context: a `dict` with `str` keys and JSON-like values.
pub(crate) fn context(object: &Bound<'_, PyAny>) -> Converted<Context> {
    let Ok(dict) = object.cast::<PyDict>() else {
        return Err(ConvertError::shared(ContextProblem::NotAnObject));
    };
    object_of(dict, 1, Mode::Context).map(Context::from_map)
}

/// Converts a context dict for evaluating one flag: only the attributes in `read` (core's
/// `Snapshot::attributes_read`) are kept, every other one is checked as [`context`] would
/// convert it, without building its value. The outcome, errors included, is that of
/// converting the whole dict and dropping the attributes the flag does not read, which
/// core guarantees do not change the answer (`docs/bindings.md`).
pub(crate) fn context_reading(object: &Bound<'_, PyAny>, read: &[Box<str>]) -> Converted<Context> {
    let Ok(dict) = object.cast::<PyDict>() else {
        return Err(ConvertError::shared(ContextProblem::NotAnObject));
    };
    let mut map = Map::new();
    for (key, item) in dict.iter() {
        let name = key_text(&key)?;
        if read.iter().any(|attribute| **attribute == *name) {
            match value(&item, 2, Mode::Context) {
                Ok(converted) => {
                    map.insert(name, converted);
                }
                Err(error) => return Err(error.at(Step::Key(name))),
            }
        } else if let Err(error) = check(&item) {
            return Err(error.at(Step::Key(name)));
        }
    }
    Ok(Context::from_map(map))
}

/// Checks that a context attribute converts, building as little as possible.
fn check(item: &Bound<'_, PyAny>) -> Converted<()> {
    if let Ok(text) = item.cast_exact::<PyString>() {
        return text.encode_utf8().map(drop).map_err(|_| unpaired_surrogates());
    }
    if item.is_none() || item.is_exact_instance_of::<PyBool>() {
        return Ok(());
    }
    value(item, 2, Mode::Context).map(drop)
}

fn object_of(dict: &Bound<'_, PyDict>, depth: usize, mode: Mode) -> Converted<Map<String, Value>> {
    check_depth(depth, mode)?;
    object(dict, depth, mode)
}

/// Builds the Python object for a JSON value: `None`, `bool`, `int`, `float`, `str`,
/// `list`, `dict`. Every call builds new containers, so callers may mutate what they get.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            if let Some(signed) = number.as_i64() {
                signed.into_pyobject(py)?.into_any()
            } else if let Some(unsigned) = number.as_u64() {
                unsigned.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, number.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_python(py, map)?.into_any(),
    })
}

/// A JSON object as a new Python `dict`.
pub(crate) fn map_to_python<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, item) in map {
        dict.set_item(PyString::new(py, key), to_python(py, item)?)?;
    }
    Ok(dict)
}
