//! The hot path's Node-API layer: JS values straight into `pennon_core` values and back,
//! with no JSON text in between.
//!
//! Every function here calls raw `napi_*` functions: a call converting a 7-attribute context
//! makes about 35 Node-API calls and they are most of its cost (`benches/node/README.md`),
//! so each one counts. napi-rs's typed wrappers read a string with two calls (length, then
//! copy) where one into a stack buffer suffices, and check types the caller already knows.
//!
//! # Safety model
//!
//! A [`Js`] is created only from the `Env` of the Node-API callback that is running
//! (`Js::new(&env)`), and lives no longer than that borrow. Every `napi_value` handled here
//! is a handle created during that same callback (an argument, or the result of a call
//! made through the same `Js`), so it is valid for the whole callback: Node-API keeps all
//! handles of a callback alive until it returns. Out-pointers always point to initialised
//! locals of the right type. That is the whole argument behind each `SAFETY:` comment.

#![allow(unsafe_code)]

use std::ffi::c_char;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr;

use napi::Env;
use napi::sys;
use napi::sys::{Status, ValueType, napi_value};
use pennon_core::{ContextProblem, Map, Value};
use pennon_host::limits::MAX_CONTEXT_DEPTH;

/// Size of the stack buffer strings are read into before they are copied out.
const STACK_BUFFER: usize = 256;

/// A failed Node-API call: its status. `napi_pending_exception` means JS code (a getter, a
/// proxy trap) threw; the exception is still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NapiStatus(pub(crate) sys::napi_status);

/// Shorthand for a Node-API call's outcome.
pub(crate) type NapiResult<T> = Result<T, NapiStatus>;

fn check(status: sys::napi_status) -> NapiResult<()> {
    if status == Status::napi_ok { Ok(()) } else { Err(NapiStatus(status)) }
}

/// A property key: a string handle, or a C string Node-API makes a key of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    /// A string handle of the current callback.
    Handle(napi_value),
    /// A NUL-terminated UTF-8 name.
    Text(&'static std::ffi::CStr),
}

/// The JS types the converters distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Symbol,
    Object,
    Function,
    External,
    BigInt,
}

impl Kind {
    fn from_raw(raw: sys::napi_valuetype) -> Kind {
        match raw {
            ValueType::napi_undefined => Kind::Undefined,
            ValueType::napi_null => Kind::Null,
            ValueType::napi_boolean => Kind::Boolean,
            ValueType::napi_number => Kind::Number,
            ValueType::napi_string => Kind::String,
            ValueType::napi_symbol => Kind::Symbol,
            ValueType::napi_object => Kind::Object,
            ValueType::napi_function => Kind::Function,
            ValueType::napi_bigint => Kind::BigInt,
            _ => Kind::External,
        }
    }

    /// How error messages name the type.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Undefined => "undefined",
            Kind::Null => "null",
            Kind::Boolean => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Symbol => "a symbol",
            Kind::Object => "an object",
            Kind::Function => "a function",
            Kind::External => "an external value",
            Kind::BigInt => "a BigInt",
        }
    }
}

/// The Node-API environment of the running callback.
#[derive(Clone, Copy)]
pub(crate) struct Js<'env> {
    env: sys::napi_env,
    _callback: PhantomData<&'env Env>,
}

impl<'env> Js<'env> {
    /// Wraps the environment of the running callback.
    pub(crate) fn new(env: &'env Env) -> Self {
        Js { env: env.raw(), _callback: PhantomData }
    }

    /// The raw environment.
    pub(crate) fn raw(self) -> sys::napi_env {
        self.env
    }

    /// `typeof value`, in the converters' terms.
    pub(crate) fn kind(self, value: napi_value) -> NapiResult<Kind> {
        let mut raw = ValueType::napi_undefined;
        // SAFETY: see the module docs: live env, handle of this callback, valid out-pointer.
        check(unsafe { sys::napi_typeof(self.env, value, &mut raw) })?;
        Ok(Kind::from_raw(raw))
    }

    /// `Array.isArray(value)`.
    pub(crate) fn is_array(self, value: napi_value) -> NapiResult<bool> {
        let mut result = false;
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_is_array(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// `value instanceof Date`.
    fn is_date(self, value: napi_value) -> NapiResult<bool> {
        let mut result = false;
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_is_date(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// A Date's time value (ms since the epoch, NaN for an invalid date).
    fn date_value(self, value: napi_value) -> NapiResult<f64> {
        let mut result = 0.0;
        // SAFETY: see the module docs; `value` is a Date (checked by the caller).
        check(unsafe { sys::napi_get_date_value(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// A number's value.
    pub(crate) fn number(self, value: napi_value) -> NapiResult<f64> {
        let mut result = 0.0;
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_value_double(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// A boolean's value.
    pub(crate) fn boolean(self, value: napi_value) -> NapiResult<bool> {
        let mut result = false;
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_value_bool(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// Calls `f` with a string's UTF-8 text (lone surrogates become U+FFFD). Short strings
    /// are read with one call into a stack buffer; longer ones are measured and read into
    /// the heap. Fails with `napi_string_expected` for a non-string.
    pub(crate) fn with_str<R>(self, value: napi_value, f: impl FnOnce(&str) -> R) -> NapiResult<R> {
        let mut buffer = [MaybeUninit::<u8>::uninit(); STACK_BUFFER];
        let mut copied = 0usize;
        // SAFETY: see the module docs; `buffer` is writable for `STACK_BUFFER` bytes, and
        // Node-API writes at most that many (including its NUL terminator).
        check(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                value,
                buffer.as_mut_ptr().cast::<c_char>(),
                STACK_BUFFER,
                &mut copied,
            )
        })?;
        // V8 never splits a character, so a string that was cut short left fewer than 4
        // (the longest UTF-8 sequence) bytes unused besides the terminator.
        if copied + 4 < STACK_BUFFER {
            // SAFETY: Node-API initialised the first `copied` bytes (`copied` < the buffer
            // size) with UTF-8: V8 writes well-formed UTF-8, replacing lone surrogates.
            let text = unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), copied))
            };
            return Ok(f(text));
        }
        let text = self.string_heap(value)?;
        Ok(f(&text))
    }

    /// Whether a string holds an unpaired surrogate (which its UTF-8 text shows as U+FFFD):
    /// read as UTF-16, only when the UTF-8 text has a U+FFFD to explain.
    fn has_lone_surrogate(self, value: napi_value) -> NapiResult<bool> {
        let mut length = 0usize;
        // SAFETY: see the module docs; a null buffer asks for the length only.
        check(unsafe { sys::napi_get_value_string_utf16(self.env, value, ptr::null_mut(), 0, &mut length) })?;
        let mut units = vec![0u16; length + 1];
        let mut copied = 0usize;
        // SAFETY: see the module docs; `units` is writable for `length + 1` code units.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.env, value, units.as_mut_ptr(), units.len(), &mut copied)
        })?;
        units.truncate(copied);
        Ok(char::decode_utf16(units).any(|unit| unit.is_err()))
    }

    /// A string's value as an owned `String`.
    pub(crate) fn string(self, value: napi_value) -> NapiResult<String> {
        self.with_str(value, |text: &str| text.to_owned())
    }

    fn string_heap(self, value: napi_value) -> NapiResult<String> {
        let mut length = 0usize;
        // SAFETY: see the module docs; a null buffer asks for the length only.
        check(unsafe { sys::napi_get_value_string_utf8(self.env, value, ptr::null_mut(), 0, &mut length) })?;
        let mut bytes = vec![0u8; length + 1];
        let mut copied = 0usize;
        // SAFETY: see the module docs; `bytes` is writable for `length + 1` bytes.
        check(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                value,
                bytes.as_mut_ptr().cast::<c_char>(),
                bytes.len(),
                &mut copied,
            )
        })?;
        bytes.truncate(copied);
        // Node-API produces UTF-8 (invalid surrogates are replaced); the fallback never runs.
        Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// `object[key]` for a key handle.
    pub(crate) fn property(self, object: napi_value, key: napi_value) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_property(self.env, object, key, &mut result) })?;
        Ok(result)
    }

    /// `object[name]`.
    pub(crate) fn named(self, object: napi_value, name: &std::ffi::CStr) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs; `name` is NUL-terminated.
        check(unsafe { sys::napi_get_named_property(self.env, object, name.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// `array[index]`.
    pub(crate) fn element(self, array: napi_value, index: u32) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_element(self.env, array, index, &mut result) })?;
        Ok(result)
    }

    /// `array.length`.
    pub(crate) fn array_length(self, array: napi_value) -> NapiResult<u32> {
        let mut result = 0u32;
        // SAFETY: see the module docs; `array` is an array (checked by the caller).
        check(unsafe { sys::napi_get_array_length(self.env, array, &mut result) })?;
        Ok(result)
    }

    /// `f.call(receiver, ...args)`.
    pub(crate) fn call(self, receiver: napi_value, f: napi_value, args: &[napi_value]) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs; `args` holds `args.len()` handles.
        check(unsafe { sys::napi_call_function(self.env, receiver, f, args.len(), args.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// Runs a script (constant source of this crate) and returns its completion value.
    pub(crate) fn run_script(self, source: &str) -> NapiResult<napi_value> {
        let script = self.str_value(source)?;
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_run_script(self.env, script, &mut result) })?;
        Ok(result)
    }

    /// `null`.
    pub(crate) fn null(self) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_null(self.env, &mut result) })?;
        Ok(result)
    }

    /// `undefined`.
    pub(crate) fn undefined(self) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_undefined(self.env, &mut result) })?;
        Ok(result)
    }

    /// `true` / `false`.
    pub(crate) fn bool_value(self, value: bool) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_get_boolean(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// A JS number.
    pub(crate) fn number_value(self, value: f64) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_create_double(self.env, value, &mut result) })?;
        Ok(result)
    }

    /// A JS string.
    pub(crate) fn str_value(self, text: &str) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        let length = isize::try_from(text.len()).map_err(|_| NapiStatus(Status::napi_invalid_arg))?;
        // SAFETY: see the module docs; `text` is valid UTF-8 for `length` bytes.
        check(unsafe { sys::napi_create_string_utf8(self.env, text.as_ptr().cast::<c_char>(), length, &mut result) })?;
        Ok(result)
    }

    /// A JS string, or `null` for `None`.
    pub(crate) fn opt_str_value(self, text: Option<&str>) -> NapiResult<napi_value> {
        match text {
            Some(text) => self.str_value(text),
            None => self.null(),
        }
    }

    /// `{}`.
    pub(crate) fn object(self) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_create_object(self.env, &mut result) })?;
        Ok(result)
    }

    /// `new Array(length)`.
    pub(crate) fn array(self, length: usize) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_create_array_with_length(self.env, length, &mut result) })?;
        Ok(result)
    }

    /// `array[index] = value`.
    pub(crate) fn set_element(self, array: napi_value, index: u32, value: napi_value) -> NapiResult<()> {
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_set_element(self.env, array, index, value) })
    }

    /// Defines own data properties (writable, enumerable, configurable) on a fresh object in
    /// one call. Defining, unlike assigning, never runs setters of `Object.prototype`.
    pub(crate) fn define(self, object: napi_value, fields: &[(Key, napi_value)]) -> NapiResult<()> {
        const FIELDS: usize = 16;
        let empty = sys::napi_property_descriptor {
            utf8name: ptr::null(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: ptr::null_mut(),
            attributes: sys::PropertyAttributes::writable
                | sys::PropertyAttributes::enumerable
                | sys::PropertyAttributes::configurable,
            data: ptr::null_mut(),
        };
        let mut descriptors = [empty; FIELDS];
        for chunk in fields.chunks(FIELDS) {
            for (descriptor, (key, value)) in descriptors.iter_mut().zip(chunk) {
                match key {
                    Key::Handle(name) => {
                        descriptor.name = *name;
                        descriptor.utf8name = ptr::null();
                    }
                    Key::Text(name) => {
                        descriptor.name = ptr::null_mut();
                        descriptor.utf8name = name.as_ptr();
                    }
                }
                descriptor.value = *value;
            }
            // SAFETY: see the module docs; the first `chunk.len()` descriptors are filled
            // with key and value handles of this callback.
            check(unsafe { sys::napi_define_properties(self.env, object, chunk.len(), descriptors.as_ptr()) })?;
        }
        Ok(())
    }

    /// The value of a persistent reference.
    pub(crate) fn reference_value(self, reference: sys::napi_ref) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs; `reference` was created in this environment and
        // never deleted (the caller checks the environment).
        check(unsafe { sys::napi_get_reference_value(self.env, reference, &mut result) })?;
        Ok(result)
    }

    /// A strong persistent reference to `value`, living until the environment is torn down.
    pub(crate) fn reference(self, value: napi_value) -> NapiResult<sys::napi_ref> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_create_reference(self.env, value, 1, &mut result) })?;
        Ok(result)
    }

    /// `new constructor(...args)`.
    pub(crate) fn construct(self, constructor: napi_value, args: &[napi_value]) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs; `args` holds `args.len()` handles.
        check(unsafe { sys::napi_new_instance(self.env, constructor, args.len(), args.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// `new Error(message)` with `error.code = code`.
    pub(crate) fn error(self, code: napi_value, message: napi_value) -> NapiResult<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_create_error(self.env, code, message, &mut result) })?;
        Ok(result)
    }

    /// `throw value`.
    pub(crate) fn throw(self, value: napi_value) -> NapiResult<()> {
        // SAFETY: see the module docs.
        check(unsafe { sys::napi_throw(self.env, value) })
    }

    /// Clears a pending exception (thrown by a getter or proxy trap during a conversion)
    /// and returns it.
    pub(crate) fn take_exception(self) -> Option<napi_value> {
        let mut pending = false;
        // SAFETY: see the module docs.
        let status = unsafe { sys::napi_is_exception_pending(self.env, &mut pending) };
        if status != Status::napi_ok || !pending {
            return None;
        }
        let mut exception = ptr::null_mut();
        // SAFETY: see the module docs.
        let status = unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut exception) };
        (status == Status::napi_ok).then_some(exception)
    }

    /// Best-effort `String(value)` of a caught exception, for messages.
    pub(crate) fn describe_exception(self, exception: napi_value) -> String {
        let message = self
            .kind(exception)
            .ok()
            .filter(|kind| *kind == Kind::Object)
            .and_then(|_| self.named(exception, c"message").ok())
            .unwrap_or(exception);
        match self.kind(message) {
            Ok(Kind::String) => self.string(message).unwrap_or_default(),
            Ok(kind) => kind.describe().to_owned(),
            Err(_) => String::new(),
        }
    }
}

/// Why a JS value could not be converted: a message and the attribute path, innermost
/// key last (filled in while unwinding, so the success path pays nothing for it).
#[derive(Debug)]
pub(crate) struct Unconvertible {
    what: String,
    path: Vec<String>,
    /// Set for the problems every binding can meet with the same JSON data (too deep, not
    /// an object): a context's `INVALID_CONTEXT` message is then core's, identical everywhere.
    shared: Option<ContextProblem>,
}

impl Unconvertible {
    fn new(what: impl Into<String>) -> Self {
        Unconvertible { what: what.into(), path: Vec::new(), shared: None }
    }

    fn shared(problem: ContextProblem, what: impl Into<String>) -> Self {
        Unconvertible { what: what.into(), path: Vec::new(), shared: Some(problem) }
    }

    /// Core's problem, when this is one every binding shares.
    pub(crate) fn shared_problem(&self) -> Option<ContextProblem> {
        self.shared
    }

    fn within(mut self, key: impl Into<String>) -> Self {
        self.path.push(key.into());
        self
    }

    /// `"<path> is <what>"`, with `top` naming the converted value itself:
    /// `"/user/render is a function"`, `"the context is an array, not an object"`.
    pub(crate) fn message(&self, top: &str) -> String {
        if self.path.is_empty() {
            return format!("{top} is {}", self.what);
        }
        format!("{} is {}", self.path(), self.what)
    }

    /// The JSON Pointer of the offending value (empty at the top).
    pub(crate) fn path(&self) -> String {
        let mut path = String::new();
        for key in self.path.iter().rev() {
            path.push('/');
            pennon_core::json::push_pointer_token(&mut path, key);
        }
        path
    }
}

/// Converts JS values into `serde_json` values under the contract's rules
/// (`docs/bindings.md`): objects (their own enumerable string keys, as `Object.keys` lists
/// them), arrays, strings, finite numbers, booleans and `null` convert; `undefined`
/// properties are left out (as `JSON.stringify` does) and `undefined` array items become
/// `null`; a `Date` becomes its `toISOString()` text; functions, symbols, BigInts, NaN, ±Infinity and
/// nesting deeper than `max_depth` are unconvertible. Symbol-keyed properties are not
/// attributes (JS keys are strings; `Object.keys` and `JSON.stringify` skip symbols).
#[derive(Clone, Copy)]
pub(crate) struct Converter<'env> {
    js: Js<'env>,
    max_depth: usize,
    /// Strings of earlier contexts to copy text into instead of allocating.
    spare: Option<&'env Spare>,
}

impl<'env> Converter<'env> {
    /// A converter nesting at most `max_depth` objects and arrays (the top one counts);
    /// `keys` is `Object.keys` ([`crate::cache::Helpers`]).
    pub(crate) fn new(js: Js<'env>, max_depth: usize) -> Self {
        Converter { js, max_depth, spare: None }
    }

    /// The same converter, taking its strings from `spare` while it has some.
    pub(crate) fn with_spare(self, spare: &'env Spare) -> Self {
        Converter { spare: Some(spare), ..self }
    }

    /// A string's text as an owned `String`, reusing a spare one when there is one. A
    /// string with an unpaired surrogate has no UTF-8 (nor JSON) form core could read: it
    /// is unconvertible, as in every binding, rather than silently changed to U+FFFD.
    fn text(self, value: napi_value) -> Result<String, Unconvertible> {
        let text = self.raw_text(value).map_err(|status| self.failed(status))?;
        self.well_formed(value, text)
    }

    /// [`Converter::text`] without the surrogate check ([`Converter::well_formed`]).
    fn raw_text(self, value: napi_value) -> NapiResult<String> {
        self.js.with_str(value, |text| match self.spare.and_then(Spare::take) {
            Some(mut reused) => {
                reused.push_str(text);
                reused
            }
            None => text.to_owned(),
        })
    }

    /// `text` (read from `value`), unless `value` holds an unpaired surrogate.
    fn well_formed(self, value: napi_value, text: String) -> Result<String, Unconvertible> {
        if text.contains('\u{FFFD}') && self.js.has_lone_surrogate(value).map_err(|status| self.failed(status))? {
            return Err(Unconvertible::new("a string with unpaired surrogates"));
        }
        Ok(text)
    }

    /// Converts a JS object into a map of attributes.
    pub(crate) fn object(self, value: napi_value) -> Result<Map<String, Value>, Unconvertible> {
        let js = self.js;
        match js.kind(value).map_err(|status| self.failed(status))? {
            Kind::Object if !js.is_array(value).map_err(|status| self.failed(status))? => {}
            Kind::Object => return Err(Unconvertible::shared(ContextProblem::NotAnObject, "an array, not an object")),
            kind => {
                return Err(Unconvertible::shared(
                    ContextProblem::NotAnObject,
                    format!("{}, not an object", kind.describe()),
                ));
            }
        }
        self.map(value, 1)
    }

    /// Converts any JS value; `Ok(None)` for `undefined`.
    pub(crate) fn value(self, value: napi_value) -> Result<Option<Value>, Unconvertible> {
        self.convert(value, 1)
    }

    fn failed(self, status: NapiStatus) -> Unconvertible {
        match self.js.take_exception() {
            Some(exception) => {
                Unconvertible::new(format!("unreadable: reading it threw {}", self.js.describe_exception(exception)))
            }
            None => Unconvertible::new(format!("unreadable (Node-API status {})", status.0)),
        }
    }

    fn convert(self, value: napi_value, depth: usize) -> Result<Option<Value>, Unconvertible> {
        let js = self.js;
        let fail = |status| self.failed(status);
        // Most attributes are strings: try reading one first, which saves the `typeof`
        // call for them (a non-string fails fast with `napi_string_expected`).
        match self.raw_text(value) {
            Ok(text) => return self.well_formed(value, text).map(|text| Some(Value::String(text))),
            Err(NapiStatus(Status::napi_string_expected)) => {}
            Err(status) => return Err(fail(status)),
        }
        let converted = match js.kind(value).map_err(fail)? {
            Kind::Undefined => return Ok(None),
            Kind::Null => Value::Null,
            Kind::Boolean => Value::Bool(js.boolean(value).map_err(fail)?),
            Kind::Number => number(js.number(value).map_err(fail)?)?,
            Kind::String => Value::String(self.text(value)?),
            Kind::Object if js.is_array(value).map_err(fail)? => self.array(value, depth)?,
            Kind::Object if js.is_date(value).map_err(fail)? => {
                // As `JSON.stringify` (and the wasm build) do: the `toISOString()` text.
                let time = js.date_value(value).map_err(fail)?;
                let text = (time.is_finite() && time.fract() == 0.0)
                    .then(|| pennon_core::time::format_timestamp(time as i64))
                    .flatten()
                    .ok_or_else(|| Unconvertible::new("an invalid Date, or one outside the years 0–9999"))?;
                Value::String(text)
            }
            Kind::Object => Value::Object(self.map(value, depth)?),
            kind => return Err(Unconvertible::new(kind.describe())),
        };
        Ok(Some(converted))
    }

    fn map(self, object: napi_value, depth: usize) -> Result<Map<String, Value>, Unconvertible> {
        if depth > self.max_depth {
            return Err(Unconvertible::shared(
                ContextProblem::TooDeep,
                format!("nested deeper than {} levels", self.max_depth),
            ));
        }
        let js = self.js;
        let fail = |status| self.failed(status);
        let object_keys = crate::cache::object_keys(js).map_err(fail)?;
        let keys = js.call(object, object_keys, &[object]).map_err(fail)?;
        let count = js.array_length(keys).map_err(fail)?;
        let mut map = Map::new();
        for index in 0..count {
            let key = js.element(keys, index).map_err(fail)?;
            let name = self.text(key)?;
            let item = js.property(object, key).map_err(|status| fail(status).within(name.clone()))?;
            self.entry(&mut map, name, item, depth)?;
        }
        Ok(map)
    }

    /// Converts the attributes of a context that `index.js` flattened into `key, value`
    /// pairs (keys are the strings `Object.keys` listed, values already read), exactly as
    /// [`Converter::object`] converts those properties.
    pub(crate) fn pairs(self, pairs: &[napi_value]) -> Result<Map<String, Value>, Unconvertible> {
        let mut map = Map::new();
        for pair in pairs.chunks(2) {
            let [key, item] = *pair else { return Err(Unconvertible::new("a key without a value (internal)")) };
            let name = self.text(key)?;
            self.entry(&mut map, name, item, 1)?;
        }
        Ok(map)
    }

    /// Converts property `name` of an object at `depth` into `map` (left out when `undefined`).
    fn entry(
        self,
        map: &mut Map<String, Value>,
        name: String,
        item: napi_value,
        depth: usize,
    ) -> Result<(), Unconvertible> {
        match self.convert(item, depth + 1) {
            Ok(Some(converted)) => {
                map.insert(name, converted);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => Err(error.within(name)),
        }
    }

    fn array(self, array: napi_value, depth: usize) -> Result<Value, Unconvertible> {
        if depth > self.max_depth {
            return Err(Unconvertible::shared(
                ContextProblem::TooDeep,
                format!("nested deeper than {} levels", self.max_depth),
            ));
        }
        let js = self.js;
        let fail = |status| self.failed(status);
        let length = js.array_length(array).map_err(fail)?;
        // Only contexts limit arrays (a sparse array of length 2^32 − 1 would otherwise be
        // expanded element by element); snapshot objects are bounded by their nesting.
        if self.max_depth == MAX_CONTEXT_DEPTH && length as usize > pennon_core::MAX_CONTEXT_ARRAY_LEN {
            return Err(Unconvertible::shared(
                ContextProblem::ArrayTooLong,
                format!("an array of {length} elements (more than {})", pennon_core::MAX_CONTEXT_ARRAY_LEN),
            ));
        }
        let mut items = Vec::with_capacity(length.min(1024) as usize);
        for index in 0..length {
            let item = js.element(array, index).map_err(|status| fail(status).within(index.to_string()))?;
            match self.convert(item, depth + 1) {
                Ok(converted) => items.push(converted.unwrap_or(Value::Null)),
                Err(error) => return Err(error.within(index.to_string())),
            }
        }
        Ok(Value::Array(items))
    }
}

/// A finite JS number as a JSON number: integral values within ±2^53 become integers (as
/// JSON text `34` parses), others stay floating point. NaN and ±Infinity have no JSON form.
fn number(value: f64) -> Result<Value, Unconvertible> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if !value.is_finite() {
        return Err(Unconvertible::new(format!("{value}, which has no JSON form")));
    }
    if value.fract() == 0.0 && value.abs() <= EXACT {
        // Exact: the value is integral and within i64's range.
        #[allow(clippy::cast_possible_truncation)]
        let integer = value as i64;
        return Ok(Value::from(integer));
    }
    Ok(serde_json::Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null))
}

/// Builds JS values from `serde_json` values.
pub(crate) fn to_js(js: Js<'_>, value: &Value) -> NapiResult<napi_value> {
    match value {
        Value::Null => js.null(),
        Value::Bool(flag) => js.bool_value(*flag),
        Value::Number(number) => js.number_value(number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => js.str_value(text),
        Value::Array(items) => {
            let array = js.array(items.len())?;
            for (index, item) in items.iter().enumerate() {
                let index = u32::try_from(index).map_err(|_| NapiStatus(Status::napi_invalid_arg))?;
                js.set_element(array, index, to_js(js, item)?)?;
            }
            Ok(array)
        }
        Value::Object(map) => map_to_js(js, map),
    }
}

/// Builds a JS object from a JSON object.
pub(crate) fn map_to_js(js: Js<'_>, map: &Map<String, Value>) -> NapiResult<napi_value> {
    let object = js.object()?;
    let mut fields = Vec::with_capacity(map.len());
    for (key, item) in map {
        fields.push((Key::Handle(js.str_value(key)?), to_js(js, item)?));
    }
    js.define(object, &fields)?;
    Ok(object)
}

/// Strings of converted contexts kept for the next conversion: a context's keys and string
/// values are copied out of V8 on every call, and reusing the previous call's allocations
/// saves a `malloc` and a `free` for each of them.
#[derive(Default)]
pub(crate) struct Spare(std::cell::RefCell<Vec<String>>);

impl Spare {
    /// Strings kept at most, and the largest capacity worth keeping.
    const MAX_STRINGS: usize = 64;
    const MAX_CAPACITY: usize = 256;

    /// An empty spare string, if one is kept (none while the pool is in use further up).
    fn take(&self) -> Option<String> {
        let mut reused = self.0.try_borrow_mut().ok()?.pop()?;
        reused.clear();
        Some(reused)
    }

    /// Keeps the strings of a context that is no longer needed.
    pub(crate) fn recycle(&self, context: pennon_core::Context) {
        let Ok(mut strings) = self.0.try_borrow_mut() else { return };
        for (key, value) in context.into_map() {
            for text in
                [Some(key), if let Value::String(text) = value { Some(text) } else { None }].into_iter().flatten()
            {
                if strings.len() < Self::MAX_STRINGS && text.capacity() <= Self::MAX_CAPACITY {
                    strings.push(text);
                }
            }
        }
    }
}
