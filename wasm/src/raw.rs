//! The raw wasm ABI: C-like exports that exchange JSON through linear memory, for wasm
//! hosts without wasm-bindgen (wasmtime, wasmer, WAMR, Go, .NET…). Built with
//! `--no-default-features`, the module imports only the four `pennon_regex` functions through
//! which `matches` patterns reach the regex module ([`crate::regex_host`]). `wasm/README.md` ("Raw ABI") is
//! the reference: exports, statuses, ownership and the JSON shapes ([`crate::json_api`]).
//!
//! # Why no export can panic
//!
//! `wasm32-unknown-unknown` is `panic = "abort"`: a panic would trap, so `catch_unwind`
//! (which every export still goes through, for native builds of this module) cannot be
//! what protects the host. Instead, no code path here is allowed to panic:
//!
//! - the workspace denies `unwrap`, `expect`, `panic!` and slice indexing (clippy), in
//!   this crate and in `pennon-core`;
//! - every pointer and length the host passes is checked against the live allocations
//!   this module handed out (`pennon_alloc`), with checked arithmetic; input is read
//!   through `<[u8]>::get`, never by dereferencing a host-supplied address, so a bad
//!   pointer is a status, not a trap or an out-of-bounds read;
//! - handles are looked up in a map; unknown or freed handles are a status;
//! - the state lock is taken with `try_lock` (a re-entrant call, impossible without
//!   imports, would be a status, not the no-threads mutex's panic);
//! - `pennon_alloc` reserves with `try_reserve_exact` and returns 0 when memory is short.
//!
//! What remains is running out of memory inside the engine (the global allocator aborts)
//! and bugs in dependencies; a trap leaves the instance unusable, so a host should
//! discard an instance that trapped. The `wasm/host` tests drive every export with
//! hostile arguments and check that the instance keeps working.
//!
//! # Unsafe code
//!
//! The only `unsafe` is the `#[unsafe(no_mangle)]` attribute on each export: the symbol
//! names are prefixed `pennon_` and cannot collide with anything in the module. No raw
//! pointer is ever dereferenced: the host writes into buffers this module allocated, and
//! Rust reads them back as slices it owns.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, TryLockError};

use pennon_core::{Error, ErrorCode};

use crate::json_api::{self, JsonEngine};

/// The version of this ABI; it changes when an export or a JSON shape changes.
pub const ABI_VERSION: u32 = 1;

/// The status of success.
const OK: u32 = 0;

struct State {
    /// Buffers handed out by `pennon_alloc`, by start address.
    buffers: BTreeMap<usize, Box<[u8]>>,
    engines: BTreeMap<u32, JsonEngine>,
    next_handle: u32,
    /// The response of the last call, read by the host through `pennon_result_ptr/len`.
    result: Vec<u8>,
}

static STATE: Mutex<State> =
    Mutex::new(State { buffers: BTreeMap::new(), engines: BTreeMap::new(), next_handle: 1, result: Vec::new() });

/// Runs `f` on the state behind `catch_unwind`; `fallback` when the state is busy or `f`
/// panicked (only possible in native builds: wasm32 aborts).
fn guarded<R: Copy>(fallback: R, f: impl FnOnce(&mut State) -> R) -> R {
    catch_unwind(AssertUnwindSafe(|| match STATE.try_lock() {
        Ok(mut state) => f(&mut state),
        // A panic in a native build poisoned the lock; the state itself is consistent
        // (every mutation is a single insert/remove/assignment).
        Err(TryLockError::Poisoned(poisoned)) => f(&mut poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => fallback,
    }))
    .unwrap_or(fallback)
}

/// Stores a response and returns its status.
fn respond(state: &mut State, outcome: Result<String, Error>) -> u32 {
    match outcome {
        Ok(text) => {
            state.result = text.into_bytes();
            OK
        }
        Err(error) => {
            state.result = json_api::error_json(&error).into_bytes();
            error.code.status()
        }
    }
}

fn argument(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, path, message)
}

/// The bytes `[ptr, ptr + len)`, which must lie inside one live `pennon_alloc` buffer
/// (any pointer with `len == 0` is the empty input).
fn input(buffers: &BTreeMap<usize, Box<[u8]>>, ptr: u32, len: u32) -> Result<&[u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    let outside = || argument("", format!("[{ptr}, {ptr} + {len}) is not inside a buffer from pennon_alloc"));
    let (ptr, len) = (ptr as usize, len as usize);
    let (start, buffer) = buffers.range(..=ptr).next_back().ok_or_else(outside)?;
    let offset = ptr.checked_sub(*start).ok_or_else(outside)?;
    let end = offset.checked_add(len).ok_or_else(outside)?;
    buffer.get(offset..end).ok_or_else(outside)
}

fn engine(engines: &mut BTreeMap<u32, JsonEngine>, handle: u32) -> Result<&mut JsonEngine, Error> {
    engines.get_mut(&handle).ok_or_else(|| argument("handle", format!("no engine with handle {handle}")))
}

/// The ABI version ([`ABI_VERSION`]).
#[unsafe(no_mangle)]
pub extern "C" fn pennon_abi_version() -> u32 {
    ABI_VERSION
}

/// Allocates `len` zeroed bytes for the host to write a request or snapshot into.
/// Returns the address, or 0 when `len` is 0 or memory is short. Free with
/// [`pennon_free`] and the same length.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_alloc(len: u32) -> u32 {
    guarded(0, |state| {
        if len == 0 {
            return 0;
        }
        let size = len as usize;
        let mut buffer = Vec::new();
        if buffer.try_reserve_exact(size).is_err() {
            return 0;
        }
        buffer.resize(size, 0u8);
        let buffer = buffer.into_boxed_slice();
        let address = buffer.as_ptr() as usize;
        match u32::try_from(address) {
            Ok(ptr) if ptr != 0 => {
                state.buffers.insert(address, buffer);
                ptr
            }
            // Only in native builds, where addresses do not fit in 32 bits.
            _ => 0,
        }
    })
}

/// Frees a buffer from [`pennon_alloc`]; `ptr` and `len` must be exactly what was
/// allocated. `(0, 0)` is a no-op. Anything else is `invalid_argument` (and frees nothing).
#[unsafe(no_mangle)]
pub extern "C" fn pennon_free(ptr: u32, len: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        if ptr == 0 && len == 0 {
            return OK;
        }
        let key = ptr as usize;
        match state.buffers.get(&key) {
            Some(buffer) if buffer.len() == len as usize => {
                state.buffers.remove(&key);
                OK
            }
            _ => respond(state, Err(argument("", format!("({ptr}, {len}) is not a live buffer from pennon_alloc")))),
        }
    })
}

/// The address of the last response (JSON). Valid until the next call of any export
/// other than `pennon_result_ptr` / `pennon_result_len`.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_result_ptr() -> u32 {
    guarded(0, |state| u32::try_from(state.result.as_ptr() as usize).unwrap_or(0))
}

/// The length in bytes of the last response.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_result_len() -> u32 {
    guarded(0, |state| u32::try_from(state.result.len()).unwrap_or(0))
}

/// Creates an engine with no snapshot; returns its handle (never 0), or 0 if no more
/// handles can be issued. Handles are not reused.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_new() -> u32 {
    guarded(0, |state| {
        let handle = state.next_handle;
        let Some(next) = handle.checked_add(1) else { return 0 };
        state.next_handle = next;
        crate::regex_host::register();
        state.engines.insert(handle, JsonEngine::new());
        handle
    })
}

/// Frees an engine and its snapshot. Unknown handles are `invalid_argument`.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_free(handle: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let outcome = match state.engines.remove(&handle) {
            Some(_) => Ok(String::new()),
            None => Err(argument("handle", format!("no engine with handle {handle}"))),
        };
        respond(state, outcome)
    })
}

/// Loads snapshot JSON from `[ptr, ptr + len)`. Response: `{"revision","warnings"}`, or
/// the error (`invalid_json`, `invalid_snapshot`, `unsupported_schema_version`…), in
/// which case the engine keeps the snapshot it had.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_load(handle: u32, ptr: u32, len: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let State { buffers, engines, .. } = state;
        let outcome = input(buffers, ptr, len).and_then(|text| engine(engines, handle)?.load(text));
        respond(state, outcome)
    })
}

/// Response: `{"revision": n | null, "warnings": […]}` of the engine's snapshot.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_info(handle: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let outcome = engine(&mut state.engines, handle).map(|engine| engine.info());
        respond(state, outcome)
    })
}

/// Evaluates the request `{"flag","context"?,"type"?,"default"?,"now"}` at
/// `[ptr, ptr + len)`. Response: the canonical result object.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_evaluate(handle: u32, ptr: u32, len: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let State { buffers, engines, .. } = state;
        let outcome = input(buffers, ptr, len).and_then(|request| engine(engines, handle)?.evaluate(request));
        respond(state, outcome)
    })
}

/// Evaluates every flag for `{"context"?,"now"}`. Response: `{"flagKey": result…}`.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_evaluate_all(handle: u32, ptr: u32, len: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let State { buffers, engines, .. } = state;
        let outcome = input(buffers, ptr, len).and_then(|request| engine(engines, handle)?.evaluate_all(request));
        respond(state, outcome)
    })
}

/// Response: `["flagKey", …]`, the keys of the flags whose evaluation may differ between
/// engine `previous`'s snapshot and engine `handle`'s (core's `changed_flags`, sorted; an
/// engine without a snapshot counts as empty).
#[unsafe(no_mangle)]
pub extern "C" fn pennon_engine_changed_flags(handle: u32, previous: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let outcome = match (state.engines.get(&handle), state.engines.get(&previous)) {
            (Some(new), Some(old)) => Ok(new.changed_flags(old)),
            (None, _) => Err(argument("handle", format!("no engine with handle {handle}"))),
            (_, None) => Err(argument("previous", format!("no engine with handle {previous}"))),
        };
        respond(state, outcome)
    })
}

/// Buckets `{"salt","unit"}`. Response: `{"bucket": n, "hash": "decimal u64"}`.
#[unsafe(no_mangle)]
pub extern "C" fn pennon_bucket(ptr: u32, len: u32) -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| {
        let outcome = input(&state.buffers, ptr, len).and_then(json_api::bucket_json);
        respond(state, outcome)
    })
}

/// Response: every error code, in status order (`["invalid_json", …]`: status 1 is the
/// first).
#[unsafe(no_mangle)]
pub extern "C" fn pennon_error_codes() -> u32 {
    let internal = ErrorCode::Internal.status();
    guarded(internal, |state| respond(state, Ok(json_api::error_codes_json())))
}
