//! The C ABI: every exported function. This module is the only place with `unsafe`: it
//! turns the caller's pointers into references, slices and strings (each `unsafe` block
//! says why that is sound), calls the safe code in `engine.rs` inside
//! `pennon_host::guard::catch` (a panic becomes `PENNON_INTERNAL`), and
//! writes the results back.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};
use std::ptr;
use std::sync::Arc;

use pennon_core::{Context, FlagType, Snapshot, Value, bucket};

use crate::engine::{self, ContextArg, Engine, Failure};
use crate::last_error;
use crate::status::PennonStatus;

/// An engine: holds at most one compiled snapshot and evaluates flags against it.
///
/// Create it with `pennon_engine_new`, destroy it with `pennon_engine_free`. An engine is
/// thread-safe: every `pennon_engine_*` function except `pennon_engine_free` may be called
/// concurrently on the same engine from several threads; `pennon_engine_load` swaps the
/// snapshot atomically (an evaluation sees the old or the new snapshot, never a mix).
pub struct PennonEngine {
    engine: Engine,
}

/// A parsed, immutable evaluation context, for callers that evaluate several flags for the
/// same context: parsing the context JSON once instead of on every call is the largest
/// saving the C API offers (see `benches/c/README.md`).
///
/// Create it with `pennon_context_new_json`, destroy it with `pennon_context_free`. It is
/// independent of any engine and may be shared between threads.
pub struct PennonContext {
    context: Context,
}

/// Bytes owned by the Pennon library (a JSON document or a string value).
///
/// `data` points to `len` bytes followed by a NUL byte, so it can be used as a C string as
/// well (a string flag value may itself contain NUL bytes: trust `len`). An empty buffer
/// is `{NULL, 0}`. A buffer filled by a `pennon_*` function must be released exactly once
/// with `pennon_buffer_free`, which resets it to `{NULL, 0}`. Never `free()` `data`
/// yourself, and never change `len`.
#[repr(C)]
#[derive(Debug)]
pub struct PennonBuffer {
    /// The bytes, NUL-terminated; NULL when the buffer is empty.
    pub data: *mut c_char,
    /// Number of bytes before the terminating NUL.
    pub len: usize,
}

impl PennonBuffer {
    const EMPTY: PennonBuffer = PennonBuffer { data: ptr::null_mut(), len: 0 };

    /// Hands `text` over to C: its bytes plus a NUL, as an exactly sized boxed slice
    /// (so that `pennon_buffer_free` can rebuild the box from `data` and `len`).
    fn from_string(text: String) -> PennonBuffer {
        let mut bytes = text.into_bytes();
        let len = bytes.len();
        bytes.push(0);
        let data = Box::into_raw(bytes.into_boxed_slice()).cast::<c_char>();
        PennonBuffer { data, len }
    }
}

/// The library version, e.g. `0.1.0`.
const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(version) => version,
    Err(_) => c"unknown",
};

// --- the boundary: panics, errors and pointers ----------------------------------------

/// Runs the body of a status-returning export: clears this thread's last error, catches
/// panics (→ `PENNON_INTERNAL`) and records the failure, if any.
fn guard(body: impl FnOnce() -> Result<(), Failure>) -> PennonStatus {
    last_error::clear();
    let failure = match pennon_host::guard::catch(body) {
        Ok(Ok(())) => return PennonStatus::PENNON_OK,
        Ok(Err(failure)) => failure,
        Err(internal) => Failure::internal(internal),
    };
    last_error::set(&failure);
    failure.status
}

/// Runs the body of an export that returns a value: a panic gives `fallback`.
fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    pennon_host::guard::catch(body).unwrap_or(fallback)
}

/// Reads a `(pointer, length)` argument: `Ok(None)` for `NULL` with length 0.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes for the duration of the call.
unsafe fn bytes_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> Result<Option<&'a [u8]>, Failure> {
    if ptr.is_null() {
        return match len {
            0 => Ok(None),
            _ => Err(Failure::invalid_argument(format!("`{name}` is NULL but its length is {len}"))),
        };
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid_argument(format!("the length of `{name}` ({len}) is too large")));
    }
    // SAFETY: `ptr` is not NULL and the caller guarantees `len` readable bytes that
    // outlive the call; `len ≤ isize::MAX` was checked above.
    Ok(Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }))
}

/// A required `(pointer, length)` UTF-8 argument.
///
/// # Safety
///
/// As for [`bytes_arg`].
unsafe fn text_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from this function's contract.
    match unsafe { bytes_arg(ptr, len, name) }? {
        Some(bytes) => utf8(bytes, name),
        None => Err(Failure::invalid_argument(format!("`{name}` is NULL"))),
    }
}

fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| Failure::invalid_argument(format!("`{name}` is not valid UTF-8: {e}")))
}

/// The engine behind a handle.
///
/// # Safety
///
/// `engine` is NULL or a live handle from `pennon_engine_new`.
unsafe fn engine_arg<'a>(engine: *const PennonEngine) -> Result<&'a Engine, Failure> {
    // SAFETY: by this function's contract the pointer is NULL (→ None) or points to a live
    // `PennonEngine`, which is only read through shared references (it is `Sync`).
    let handle = unsafe { engine.as_ref() };
    handle.map(|h| &h.engine).ok_or_else(|| Failure::invalid_argument("`engine` is NULL"))
}

/// The optional NUL-terminated type name; NULL means no type check.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
unsafe fn type_arg(name: *const c_char) -> Result<Option<FlagType>, Failure> {
    if name.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and NUL-terminated by this function's contract.
    let name = unsafe { CStr::from_ptr(name) };
    let name = utf8(name.to_bytes(), "type")?;
    engine::parse_type(name)
}

/// The optional default value as JSON; NULL means `null`.
///
/// # Safety
///
/// As for [`bytes_arg`].
unsafe fn default_arg(ptr: *const c_char, len: usize) -> Result<Value, Failure> {
    // SAFETY: forwarded from this function's contract.
    match unsafe { bytes_arg(ptr, len, "default_json") }? {
        Some(bytes) => engine::parse_default(utf8(bytes, "default_json")?),
        None => Ok(Value::Null),
    }
}

/// Checks an output pointer and empties the buffer it points to, so that the caller may
/// always `pennon_buffer_free` it, whatever the status.
///
/// # Safety
///
/// `out` is NULL or valid for writing a `PennonBuffer`.
unsafe fn buffer_out(out: *mut PennonBuffer) -> Result<*mut PennonBuffer, Failure> {
    if out.is_null() {
        return Err(Failure::invalid_argument("`out` is NULL"));
    }
    // SAFETY: not NULL and writable by this function's contract; `write` does not read
    // (or drop) whatever the caller left there.
    unsafe { out.write(PennonBuffer::EMPTY) };
    Ok(out)
}

/// Checks a scalar output pointer.
fn scalar_out<T>(out: *mut T) -> Result<*mut T, Failure> {
    if out.is_null() { Err(Failure::invalid_argument("`out` is NULL")) } else { Ok(out) }
}

/// Where an evaluation's context comes from.
#[derive(Clone, Copy)]
enum ContextSource {
    /// JSON text (`NULL`, 0 = the empty context).
    Json(*const c_char, usize),
    /// A `PennonContext` handle.
    Handle(*const PennonContext),
}

enum ContextValue<'a> {
    Borrowed(&'a Context),
    Owned(Context),
    Invalid(String),
}

impl ContextValue<'_> {
    fn arg(&self) -> ContextArg<'_> {
        match self {
            ContextValue::Borrowed(context) => Ok(context),
            ContextValue::Owned(context) => Ok(context),
            ContextValue::Invalid(message) => Err(message),
        }
    }
}

/// The checked inputs every evaluation needs.
struct Inputs<'a> {
    snapshot: Option<Arc<Snapshot>>,
    flag: &'a str,
    context: ContextValue<'a>,
}

/// Converts an evaluation's engine, flag and context.
///
/// # Safety
///
/// `engine` as for [`engine_arg`]; `flag` as for [`bytes_arg`]; a JSON context as for
/// [`bytes_arg`], a context handle NULL or live.
unsafe fn inputs<'a>(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
) -> Result<Inputs<'a>, Failure> {
    // SAFETY: forwarded from this function's contract.
    let engine = unsafe { engine_arg(engine) }?;
    // SAFETY: forwarded from this function's contract.
    let flag = unsafe { text_arg(flag, flag_len, "flag") }?;
    let context = match context {
        // SAFETY: forwarded from this function's contract.
        ContextSource::Json(json, len) => match unsafe { bytes_arg(json, len, "context_json") }? {
            None => ContextValue::Owned(Context::new()),
            Some(bytes) => match engine::parse_context(utf8(bytes, "context_json")?) {
                Ok(context) => ContextValue::Owned(context),
                Err(error) => ContextValue::Invalid(error.message),
            },
        },
        ContextSource::Handle(handle) => {
            // SAFETY: NULL (→ None) or a live `PennonContext`, which is immutable.
            let handle = unsafe { handle.as_ref() };
            ContextValue::Borrowed(&handle.ok_or_else(|| Failure::invalid_argument("`context` is NULL"))?.context)
        }
    };
    Ok(Inputs { snapshot: engine.snapshot(), flag, context })
}

// --- shared bodies of the JSON-context and handle-context variants ----------------------

/// # Safety
///
/// The pointer contracts of `pennon_engine_evaluate`.
#[allow(clippy::too_many_arguments)]
unsafe fn evaluate(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
    type_name: *const c_char,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract (`out` NULL or writable).
        let out = unsafe { buffer_out(out) }?;
        // SAFETY: forwarded from the export's contract.
        let inputs = unsafe { inputs(engine, flag, flag_len, context) }?;
        // SAFETY: forwarded from the export's contract (`type` NULL or NUL-terminated).
        let expected = unsafe { type_arg(type_name) }?;
        // SAFETY: forwarded from the export's contract.
        let default = unsafe { default_arg(default_json, default_len) }?;
        let json = engine::evaluate_json(
            inputs.snapshot.as_deref(),
            inputs.flag,
            inputs.context.arg(),
            expected,
            &default,
            now_ms,
        );
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(json)) };
        Ok(())
    })
}

/// # Safety
///
/// The pointer contracts of `pennon_engine_get_boolean`.
unsafe fn get_boolean(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
    default_value: bool,
    now_ms: i64,
    out: *mut bool,
) -> PennonStatus {
    guard(|| {
        let out = scalar_out(out)?;
        // SAFETY: forwarded from the export's contract.
        let inputs = unsafe { inputs(engine, flag, flag_len, context) }?;
        let value =
            engine::get_boolean(inputs.snapshot.as_deref(), inputs.flag, inputs.context.arg(), default_value, now_ms);
        // SAFETY: `out` is not NULL and writable by the export's contract.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// # Safety
///
/// The pointer contracts of `pennon_engine_get_number`.
unsafe fn get_number(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
    default_value: f64,
    now_ms: i64,
    out: *mut f64,
) -> PennonStatus {
    guard(|| {
        let out = scalar_out(out)?;
        // SAFETY: forwarded from the export's contract.
        let inputs = unsafe { inputs(engine, flag, flag_len, context) }?;
        let value =
            engine::get_number(inputs.snapshot.as_deref(), inputs.flag, inputs.context.arg(), default_value, now_ms);
        // SAFETY: `out` is not NULL and writable by the export's contract.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// # Safety
///
/// The pointer contracts of `pennon_engine_get_string`.
#[allow(clippy::too_many_arguments)]
unsafe fn get_string(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
    default_value: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let out = unsafe { buffer_out(out) }?;
        // SAFETY: forwarded from the export's contract.
        let inputs = unsafe { inputs(engine, flag, flag_len, context) }?;
        // SAFETY: forwarded from the export's contract.
        let default = match unsafe { bytes_arg(default_value, default_len, "default_value") }? {
            Some(bytes) => utf8(bytes, "default_value")?,
            None => "",
        };
        let value = engine::get_string(inputs.snapshot.as_deref(), inputs.flag, inputs.context.arg(), default, now_ms);
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(value.to_owned())) };
        Ok(())
    })
}

/// # Safety
///
/// The pointer contracts of `pennon_engine_get_object`.
#[allow(clippy::too_many_arguments)]
unsafe fn get_object(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: ContextSource,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let out = unsafe { buffer_out(out) }?;
        // SAFETY: forwarded from the export's contract.
        let inputs = unsafe { inputs(engine, flag, flag_len, context) }?;
        // SAFETY: forwarded from the export's contract.
        let default = unsafe { default_arg(default_json, default_len) }?;
        // An object getter's default is an object or null, as in every binding.
        pennon_host::args::check_default(FlagType::Object, pennon_host::args::kind_of(&default))?;
        let json = engine::get_object(inputs.snapshot.as_deref(), inputs.flag, inputs.context.arg(), &default, now_ms);
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(json)) };
        Ok(())
    })
}

/// # Safety
///
/// The pointer contracts of `pennon_engine_evaluate_all_json`.
unsafe fn evaluate_all(
    engine: *const PennonEngine,
    context: ContextSource,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let out = unsafe { buffer_out(out) }?;
        // The flag argument is not used: pass a valid empty key.
        // SAFETY: forwarded from the export's contract; `c""` is a valid 0-byte string.
        let inputs = unsafe { inputs(engine, c"".as_ptr(), 0, context) }?;
        let json = engine::evaluate_all_json(inputs.snapshot.as_deref(), inputs.context.arg(), now_ms);
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(json)) };
        Ok(())
    })
}

// --- library-wide functions ---------------------------------------------------------------

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_version() -> *const c_char {
    guard_value(c"unknown".as_ptr(), || VERSION.as_ptr())
}

/// The current time in milliseconds since the Unix epoch, read from the system clock: the
/// `now_ms` to pass for "now". (Evaluation never reads a clock itself; tests pass fixed
/// times.)
#[unsafe(no_mangle)]
pub extern "C" fn pennon_now_ms() -> i64 {
    guard_value(0, pennon_host::clock::now)
}

/// The stable snake_case code of a status as a static NUL-terminated string: `"ok"`,
/// `"invalid_json"`, … (the same codes as `ErrorCode` in every Pennon binding), or
/// `"unknown"` for a value that is not a `PennonStatus`. Never NULL; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_status_code(status: i32) -> *const c_char {
    guard_value(c"unknown".as_ptr(), || {
        PennonStatus::from_i32(status).map_or(c"unknown".as_ptr(), |status| status.code().as_ptr())
    })
}

/// The message of the most recent failed call on the calling thread: a NUL-terminated
/// UTF-8 string such as `"invalid_json: the snapshot is not JSON: EOF while parsing an
/// object at line 1 column 1"` (it starts with the status code), or `""` when the most
/// recent call succeeded. Never NULL.
///
/// Thread-local: every function that returns a `PennonStatus`, and `pennon_engine_new`,
/// replaces it. The pointer is owned by the library and stays valid until the next such
/// call on the same thread; copy the text if you need it longer. Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), last_error::message_ptr)
}

/// The JSON Pointer the most recent failed call on the calling thread is about (e.g.
/// `"/schemaVersion"` for `PENNON_UNSUPPORTED_SCHEMA_VERSION`), or `""` when there is none.
/// Never NULL. Same lifetime rules as `pennon_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_last_error_path() -> *const c_char {
    guard_value(c"".as_ptr(), last_error::path_ptr)
}

/// Releases a buffer filled by a `pennon_*` function and resets it to `{NULL, 0}`.
/// NULL-tolerant: `buffer` may be NULL and the buffer may be empty (then nothing happens),
/// so freeing twice through the same `PennonBuffer` is harmless.
///
/// # Safety
///
/// `buffer` is NULL or points to a `PennonBuffer` that is empty or was filled by a
/// `pennon_*` function and not modified since.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_buffer_free(buffer: *mut PennonBuffer) {
    guard_value((), || {
        // SAFETY: NULL (→ None) or a valid, exclusively borrowed `PennonBuffer`.
        let Some(buffer) = (unsafe { buffer.as_mut() }) else { return };
        if buffer.data.is_null() {
            return;
        }
        let bytes = ptr::slice_from_raw_parts_mut(buffer.data.cast::<u8>(), buffer.len + 1);
        // SAFETY: `data` and `len` come from `PennonBuffer::from_string`, which leaked a
        // `Box<[u8]>` of exactly `len + 1` bytes; it has not been freed (freeing resets the
        // buffer to NULL), so rebuilding and dropping the box releases it once.
        drop(unsafe { Box::from_raw(bytes) });
        *buffer = PennonBuffer::EMPTY;
    });
}

/// The bucketing rule of `docs/snapshot-format.md` §5.3: `*hash_out = XXH3_64(seed 0,
/// salt ++ ":" ++ unit)` and `*bucket_out = (hash × 100000) >> 64`, in `[0, 100000)`.
/// `salt` and `unit` are UTF-8 (`""` is valid; NULL is not). Either output may be NULL
/// when not wanted.
///
/// Returns `PENNON_OK`, or `PENNON_INVALID_ARGUMENT` for NULL or non-UTF-8 input.
///
/// # Safety
///
/// `salt` and `unit` are valid for reads of `salt_len` / `unit_len` bytes; `bucket_out`
/// and `hash_out` are NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_bucket(
    salt: *const c_char,
    salt_len: usize,
    unit: *const c_char,
    unit_len: usize,
    bucket_out: *mut u32,
    hash_out: *mut u64,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let salt = unsafe { text_arg(salt, salt_len, "salt") }?;
        // SAFETY: forwarded from this function's contract.
        let unit = unsafe { text_arg(unit, unit_len, "unit") }?;
        let hash = bucket::hash(salt, unit);
        if !bucket_out.is_null() {
            // SAFETY: not NULL, writable by this function's contract.
            unsafe { bucket_out.write(bucket::bucket_of_hash(hash)) };
        }
        if !hash_out.is_null() {
            // SAFETY: not NULL, writable by this function's contract.
            unsafe { hash_out.write(hash) };
        }
        Ok(())
    })
}

// --- engines ---------------------------------------------------------------------------

/// Creates an engine without a snapshot. Release it with `pennon_engine_free`. Returns
/// NULL only if the library failed internally (see `pennon_last_error_message`).
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_new() -> *mut PennonEngine {
    let mut handle = ptr::null_mut();
    let _ = guard(|| {
        handle = Box::into_raw(Box::new(PennonEngine { engine: Engine::new() }));
        Ok(())
    });
    handle
}

/// Destroys an engine and its snapshot. NULL-tolerant. No other call on this engine may
/// be running or follow.
///
/// # Safety
///
/// `engine` is NULL or a handle from `pennon_engine_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_free(engine: *mut PennonEngine) {
    guard_value((), || {
        if !engine.is_null() {
            // SAFETY: a live handle from `pennon_engine_new` (`Box::into_raw`), freed once.
            drop(unsafe { Box::from_raw(engine) });
        }
    });
}

/// Loads a snapshot: `len` bytes of UTF-8 JSON text (`docs/snapshot-format.md`), not
/// necessarily NUL-terminated. The text is copied; the caller keeps ownership of `json`.
///
/// Returns `PENNON_OK` when the snapshot loaded (it may have load warnings: see
/// `pennon_engine_warnings_json`), `PENNON_INVALID_JSON`, `PENNON_INVALID_SNAPSHOT` or
/// `PENNON_UNSUPPORTED_SCHEMA_VERSION` when it was rejected as a whole (text that is not
/// UTF-8 counts as `PENNON_INVALID_JSON`), `PENNON_INVALID_ARGUMENT` for a NULL `engine` or
/// `json`. On any failure the engine keeps the snapshot it had: a failed update never
/// replaces the last good one.
///
/// # Safety
///
/// `engine` is NULL or a live handle; `json` is NULL or valid for reads of `len` bytes.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_load(
    engine: *const PennonEngine,
    json: *const c_char,
    len: usize,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_arg(engine) }?;
        // SAFETY: forwarded from this function's contract.
        let bytes =
            unsafe { bytes_arg(json, len, "json") }?.ok_or_else(|| Failure::invalid_argument("`json` is NULL"))?;
        engine.load(bytes).map_err(Failure::from)
    })
}

/// Writes the loaded snapshot's revision to `*out`.
///
/// Returns `PENNON_OK`, `PENNON_NOT_LOADED` before the first successful load (`*out` is
/// not written), or `PENNON_INVALID_ARGUMENT` for NULL arguments.
///
/// # Safety
///
/// `engine` is NULL or a live handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_revision(engine: *const PennonEngine, out: *mut u64) -> PennonStatus {
    guard(|| {
        let out = scalar_out(out)?;
        // SAFETY: forwarded from this function's contract.
        let revision = unsafe { engine_arg(engine) }?.revision()?;
        // SAFETY: `out` is not NULL and writable by this function's contract.
        unsafe { out.write(revision) };
        Ok(())
    })
}

/// Writes the load warnings of the loaded snapshot to `*out` as a JSON array of
/// `{"code", "message", "path"}` objects (canonical JSON), in the order core reports them:
/// top level, then flags, then segments, each sorted by key. `[]` before the first load.
///
/// `*out` is always overwritten (with `{NULL, 0}` on failure) and must be released with
/// `pennon_buffer_free`.
///
/// # Safety
///
/// `engine` is NULL or a live handle; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_warnings_json(
    engine: *const PennonEngine,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { buffer_out(out) }?;
        // SAFETY: forwarded from this function's contract.
        let json = unsafe { engine_arg(engine) }?.warnings_json();
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(json)) };
        Ok(())
    })
}

/// Writes the keys of the flags whose evaluation may differ between the snapshot of
/// `previous` and the snapshot of `engine` to `*out`, as a JSON array of strings, sorted
/// (`docs/snapshot-format.md` §9: added, removed and changed flags, and flags whose
/// prerequisites or segments changed). Core computes them, so every binding reports the
/// same keys. An engine without a snapshot counts as an empty snapshot; `engine` and
/// `previous` may be the same handle (`[]`).
///
/// `*out` is always overwritten (with `{NULL, 0}` on failure) and must be released with
/// `pennon_buffer_free`. Returns `PENNON_OK`, or `PENNON_INVALID_ARGUMENT` for a NULL
/// argument.
///
/// # Safety
///
/// `engine` and `previous` are NULL or live handles; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_changed_flags_json(
    engine: *const PennonEngine,
    previous: *const PennonEngine,
    out: *mut PennonBuffer,
) -> PennonStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { buffer_out(out) }?;
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_arg(engine) }?;
        // SAFETY: forwarded from this function's contract.
        let previous = unsafe { engine_arg(previous) }.map_err(|_| Failure::invalid_argument("`previous` is NULL"))?;
        let json = engine.changed_flags_json(previous);
        // SAFETY: `out` was checked by `buffer_out`.
        unsafe { out.write(PennonBuffer::from_string(json)) };
        Ok(())
    })
}

/// Evaluates one flag and writes the canonical result object (`docs/snapshot-format.md`
/// §4) to `*out`: `{"errorCode":…,"errorMessage":…,"flagMetadata":…,"reason":…,
/// "revision":…,"ruleId":…,"shadowVariant":…,"stage":…,"value":…,"variant":…}` with keys
/// sorted, no whitespace, `null` included.
///
/// - `flag`, `flag_len`: the flag key, UTF-8.
/// - `context_json`, `context_len`: the context, a UTF-8 JSON object; `NULL`, 0 or `null`
///   is the empty context. Text that is not a JSON object (or nests deeper than 64 levels) is not
///   a failed call: the result has `"errorCode":"INVALID_CONTEXT"` and the default.
/// - `type`: NUL-terminated `"boolean"`, `"string"`, `"number"` or `"object"`: a flag of
///   another type gives `TYPE_MISMATCH`; NULL or `"any"`: no type check.
/// - `default_json`, `default_len`: the caller's default as JSON, returned as `value` on any
///   error; `NULL`, 0 means `null`.
/// - `now_ms`: the time of evaluation in ms since the Unix epoch (`pennon_now_ms()`).
///
/// Evaluation problems never fail the call: they come back as `"reason":"ERROR"` with an
/// `errorCode` (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PARSE_ERROR`, `INVALID_CONTEXT`, …;
/// `PROVIDER_NOT_READY` with `"revision":null` before the first load). Returns `PENNON_OK`,
/// or `PENNON_INVALID_ARGUMENT` for a NULL `engine`, `flag` or `out`, text that is not
/// UTF-8, an unknown type name or a default that is not JSON.
///
/// `*out` is always overwritten (with `{NULL, 0}` on failure) and must be released with
/// `pennon_buffer_free`.
///
/// # Safety
///
/// `engine` is NULL or a live handle; each `(pointer, length)` pair is NULL or readable
/// for `length` bytes; `type` is NULL or NUL-terminated; `out` is NULL or writable.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_evaluate(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context_json: *const c_char,
    context_len: usize,
    r#type: *const c_char,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Json(context_json, context_len);
    // SAFETY: this function's contract is `evaluate`'s.
    unsafe { evaluate(engine, flag, flag_len, context, r#type, default_json, default_len, now_ms, out) }
}

/// A boolean flag's value: writes the served value, or `default_value` on any evaluation
/// problem (unknown flag, `TYPE_MISMATCH`, invalid context, no snapshot…), to `*out`.
/// Arguments as for `pennon_engine_evaluate`. Returns `PENNON_OK`, or
/// `PENNON_INVALID_ARGUMENT` (then `*out` is not written).
///
/// # Safety
///
/// As for `pennon_engine_evaluate`; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_boolean(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context_json: *const c_char,
    context_len: usize,
    default_value: bool,
    now_ms: i64,
    out: *mut bool,
) -> PennonStatus {
    let context = ContextSource::Json(context_json, context_len);
    // SAFETY: this function's contract is `get_boolean`'s.
    unsafe { get_boolean(engine, flag, flag_len, context, default_value, now_ms, out) }
}

/// A number flag's value, or `default_value` on any evaluation problem, written to `*out`.
/// As `pennon_engine_get_boolean`.
///
/// # Safety
///
/// As for `pennon_engine_evaluate`; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_number(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context_json: *const c_char,
    context_len: usize,
    default_value: f64,
    now_ms: i64,
    out: *mut f64,
) -> PennonStatus {
    let context = ContextSource::Json(context_json, context_len);
    // SAFETY: this function's contract is `get_number`'s.
    unsafe { get_number(engine, flag, flag_len, context, default_value, now_ms, out) }
}

/// A string flag's value, or the UTF-8 `default_value` (`default_len` bytes; `NULL`, 0 is
/// `""`) on any evaluation problem, copied into `*out` (release it with
/// `pennon_buffer_free`). As `pennon_engine_get_boolean`.
///
/// # Safety
///
/// As for `pennon_engine_evaluate`; `default_value` is NULL or readable for `default_len`
/// bytes; `out` is NULL or writable.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_string(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context_json: *const c_char,
    context_len: usize,
    default_value: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Json(context_json, context_len);
    // SAFETY: this function's contract is `get_string`'s.
    unsafe { get_string(engine, flag, flag_len, context, default_value, default_len, now_ms, out) }
}

/// An object flag's value as canonical JSON, or the default (`default_json`, any JSON;
/// `NULL`, 0 is `null`) re-serialised canonically on any evaluation problem, written to
/// `*out` (release it with `pennon_buffer_free`). As `pennon_engine_get_boolean`.
///
/// # Safety
///
/// As for `pennon_engine_evaluate`; `out` is NULL or writable.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_object(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context_json: *const c_char,
    context_len: usize,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Json(context_json, context_len);
    // SAFETY: this function's contract is `get_object`'s.
    unsafe { get_object(engine, flag, flag_len, context, default_json, default_len, now_ms, out) }
}

/// Evaluates every flag for one context (front-end bootstrap) and writes
/// `{"flagKey": result, …}` to `*out`: canonical JSON, keys sorted, each result as in
/// `pennon_engine_evaluate` with no type check and a `null` default; `{}` before the first
/// load. An invalid context gives every flag an `INVALID_CONTEXT` result.
///
/// # Safety
///
/// As for `pennon_engine_evaluate`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_evaluate_all_json(
    engine: *const PennonEngine,
    context_json: *const c_char,
    context_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    // SAFETY: this function's contract is `evaluate_all`'s.
    unsafe { evaluate_all(engine, ContextSource::Json(context_json, context_len), now_ms, out) }
}

// --- context handles ---------------------------------------------------------------------

/// Parses a context once, for evaluating many flags (or many times) with it. `json` is a
/// UTF-8 JSON object of `len` bytes (`NULL`, 0 is the empty context); it is copied.
///
/// Writes a new handle to `*out` (release it with `pennon_context_free`), or NULL on
/// failure. Returns `PENNON_OK`, `PENNON_INVALID_CONTEXT` when the text is not a JSON
/// object or nests deeper than 64 levels, or `PENNON_INVALID_ARGUMENT` (NULL `out`,
/// not UTF-8).
///
/// # Safety
///
/// `json` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_context_new_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut PennonContext,
) -> PennonStatus {
    guard(|| {
        let out = scalar_out(out)?;
        // SAFETY: not NULL and writable by this function's contract.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: forwarded from this function's contract.
        let context = match unsafe { bytes_arg(json, len, "json") }? {
            Some(bytes) => engine::parse_context(utf8(bytes, "json")?)?,
            None => Context::new(),
        };
        let handle = Box::into_raw(Box::new(PennonContext { context }));
        // SAFETY: as above.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Destroys a context handle. NULL-tolerant.
///
/// # Safety
///
/// `context` is NULL or a handle from `pennon_context_new_json` not yet freed and not in
/// use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_context_free(context: *mut PennonContext) {
    guard_value((), || {
        if !context.is_null() {
            // SAFETY: a live handle from `pennon_context_new_json` (`Box::into_raw`), freed once.
            drop(unsafe { Box::from_raw(context) });
        }
    });
}

/// `pennon_engine_evaluate` with a context handle instead of context JSON (no parsing per
/// call). A NULL `context` is `PENNON_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As for `pennon_engine_evaluate`; `context` is NULL or a live context handle.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_evaluate_ctx(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: *const PennonContext,
    r#type: *const c_char,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Handle(context);
    // SAFETY: this function's contract is `evaluate`'s.
    unsafe { evaluate(engine, flag, flag_len, context, r#type, default_json, default_len, now_ms, out) }
}

/// `pennon_engine_get_boolean` with a context handle.
///
/// # Safety
///
/// As for `pennon_engine_get_boolean`; `context` is NULL or a live context handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_boolean_ctx(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: *const PennonContext,
    default_value: bool,
    now_ms: i64,
    out: *mut bool,
) -> PennonStatus {
    // SAFETY: this function's contract is `get_boolean`'s.
    unsafe { get_boolean(engine, flag, flag_len, ContextSource::Handle(context), default_value, now_ms, out) }
}

/// `pennon_engine_get_number` with a context handle.
///
/// # Safety
///
/// As for `pennon_engine_get_number`; `context` is NULL or a live context handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_number_ctx(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: *const PennonContext,
    default_value: f64,
    now_ms: i64,
    out: *mut f64,
) -> PennonStatus {
    // SAFETY: this function's contract is `get_number`'s.
    unsafe { get_number(engine, flag, flag_len, ContextSource::Handle(context), default_value, now_ms, out) }
}

/// `pennon_engine_get_string` with a context handle.
///
/// # Safety
///
/// As for `pennon_engine_get_string`; `context` is NULL or a live context handle.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_string_ctx(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: *const PennonContext,
    default_value: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Handle(context);
    // SAFETY: this function's contract is `get_string`'s.
    unsafe { get_string(engine, flag, flag_len, context, default_value, default_len, now_ms, out) }
}

/// `pennon_engine_get_object` with a context handle.
///
/// # Safety
///
/// As for `pennon_engine_get_object`; `context` is NULL or a live context handle.
#[must_use]
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_get_object_ctx(
    engine: *const PennonEngine,
    flag: *const c_char,
    flag_len: usize,
    context: *const PennonContext,
    default_json: *const c_char,
    default_len: usize,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    let context = ContextSource::Handle(context);
    // SAFETY: this function's contract is `get_object`'s.
    unsafe { get_object(engine, flag, flag_len, context, default_json, default_len, now_ms, out) }
}

/// `pennon_engine_evaluate_all_json` with a context handle.
///
/// # Safety
///
/// As for `pennon_engine_evaluate_all_json`; `context` is NULL or a live context handle.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pennon_engine_evaluate_all_ctx(
    engine: *const PennonEngine,
    context: *const PennonContext,
    now_ms: i64,
    out: *mut PennonBuffer,
) -> PennonStatus {
    // SAFETY: this function's contract is `evaluate_all`'s.
    unsafe { evaluate_all(engine, ContextSource::Handle(context), now_ms, out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, PennonStatus::PENNON_INTERNAL);
        // SAFETY: the pointer is NUL-terminated and valid until the next call on this thread.
        let message = unsafe { CStr::from_ptr(pennon_last_error_message()) }.to_str().unwrap().to_owned();
        assert_eq!(message, "internal: a bug in Pennon: boom");
        assert_eq!(guard(|| Ok(())), PennonStatus::PENNON_OK);
        // SAFETY: as above.
        assert_eq!(unsafe { CStr::from_ptr(pennon_last_error_message()) }.to_bytes(), b"");
        assert_eq!(guard_value(7, || panic!("boom")), 7);
    }

    #[test]
    fn buffers_round_trip_and_free_twice_safely() {
        let mut buffer = PennonBuffer::from_string("héllo".into());
        assert_eq!(buffer.len, 6);
        // SAFETY: `data` holds `len + 1` bytes.
        assert_eq!(unsafe { CStr::from_ptr(buffer.data) }.to_str().unwrap(), "héllo");
        // SAFETY: a buffer from `from_string`, then an empty one, then NULL.
        unsafe {
            pennon_buffer_free(&mut buffer);
            assert!(buffer.data.is_null() && buffer.len == 0);
            pennon_buffer_free(&mut buffer);
            pennon_buffer_free(ptr::null_mut());
        }
    }
}
