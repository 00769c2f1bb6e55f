//! Per-environment handles every call needs: two tiny JS helpers and the error classes
//! `index.js` registers.
//!
//! The helpers exist because two Node-API operations are far slower than the JS they stand
//! for (measured on this project's 2-core machines, `benches/node/README.md`):
//!
//! - `napi_get_all_property_names` always takes V8's generic key collector; `Object.keys`
//!   answers from the object's enum cache. Calling it costs less than half as much.
//! - Defining the ten fields of a result with `napi_define_properties` (or setting them one
//!   by one) costs more than a microsecond; one call of a function returning an object
//!   literal builds the same object in a small fraction of that, with a stable shape.
//!
//! Both helpers only move values: `keys(o)` is `Object.keys(o)` and `result(...)` puts its
//! ten arguments into an object literal. Everything else is Node-API calls from Rust.
//!
//! Node runs one Node-API environment per thread (the main thread and each worker), so the
//! cache is thread-local and remembers which environment it belongs to; a cleanup hook
//! forgets it when that environment is torn down.

#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::c_void;

use napi::sys::{self, napi_value};

use crate::js::{Js, NapiResult, NapiStatus};

/// `Object.keys`, taken when the environment is first used.
const KEYS_SOURCE: &str = "Object.keys";

/// Builds a result object; the field order is the canonical one of `docs/bindings.md`.
const RESULT_SOURCE: &str = "(function result(value, variant, reason, ruleId, stage, shadowVariant, errorCode, \
     errorMessage, revision, flagMetadata) { return { value, variant, reason, ruleId, stage, shadowVariant, \
     errorCode, errorMessage, revision, flagMetadata } })";

/// The error classes, by `ErrorCategory`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorClass {
    Snapshot = 0,
    Context = 1,
    Argument = 2,
    Internal = 3,
}

struct EnvCache {
    env: sys::napi_env,
    keys: sys::napi_ref,
    result: sys::napi_ref,
    classes: Option<[sys::napi_ref; 4]>,
}

thread_local! {
    static CACHE: RefCell<Option<EnvCache>> = const { RefCell::new(None) };
    /// Environments that already have our cleanup hook (Node aborts on a duplicate hook).
    static HOOKED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this environment's cache, creating it on first use.
fn with_cache<R>(js: Js<'_>, f: impl FnOnce(&mut EnvCache) -> NapiResult<R>) -> NapiResult<R> {
    CACHE.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(|_| NapiStatus(sys::Status::napi_generic_failure))?;
        if slot.as_ref().is_none_or(|cache| cache.env != js.raw()) {
            *slot = Some(create(js)?);
        }
        match slot.as_mut() {
            Some(cache) => f(cache),
            None => Err(NapiStatus(sys::Status::napi_generic_failure)),
        }
    })
}

fn create(js: Js<'_>) -> NapiResult<EnvCache> {
    let keys = js.reference(js.run_script(KEYS_SOURCE)?)?;
    let result = js.reference(js.run_script(RESULT_SOURCE)?)?;
    let env = js.raw();
    let hooked = HOOKED.with(|hooked| {
        let mut hooked = hooked.borrow_mut();
        let known = hooked.contains(&(env as usize));
        if !known {
            hooked.push(env as usize);
        }
        known
    });
    if !hooked {
        // SAFETY: `forget` only clears this thread's bookkeeping and makes no Node-API call;
        // Node runs it on this thread when the environment is torn down. The (hook, env)
        // pair is registered once per environment (tracked in `HOOKED`).
        unsafe {
            sys::napi_add_env_cleanup_hook(env, Some(forget), env.cast::<c_void>());
        }
    }
    Ok(EnvCache { env, keys, result, classes: None })
}

/// Environment cleanup hook: the references die with the environment, so forget them.
unsafe extern "C" fn forget(env: *mut c_void) {
    let _ = CACHE.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut()
            && slot.as_ref().is_some_and(|cache| cache.env.cast::<c_void>() == env)
        {
            *slot = None;
        }
    });
    let _ = HOOKED.try_with(|hooked| {
        if let Ok(mut hooked) = hooked.try_borrow_mut() {
            hooked.retain(|known| *known != env as usize);
        }
    });
}

/// Creates this environment's cache now (at module load, before user code can replace
/// `Object.keys`).
pub(crate) fn prepare(js: Js<'_>) -> NapiResult<()> {
    with_cache(js, |_| Ok(()))
}

/// `(value, variant, …, flagMetadata) => ({ value, variant, …, flagMetadata })`.
pub(crate) fn result_builder(js: Js<'_>) -> NapiResult<napi_value> {
    with_cache(js, |cache| js.reference_value(cache.result))
}

/// `Object.keys`.
pub(crate) fn object_keys(js: Js<'_>) -> NapiResult<napi_value> {
    with_cache(js, |cache| js.reference_value(cache.keys))
}

/// Remembers the error classes (`SnapshotError`, `ContextError`, `ArgumentError`,
/// `InternalError`) for this environment.
pub(crate) fn set_error_classes(js: Js<'_>, classes: [napi_value; 4]) -> NapiResult<()> {
    let mut references = [std::ptr::null_mut(); 4];
    for (reference, class) in references.iter_mut().zip(classes) {
        *reference = js.reference(class)?;
    }
    with_cache(js, |cache| {
        cache.classes = Some(references);
        Ok(())
    })
}

/// The registered constructor for `class`, if `index.js` registered the classes.
pub(crate) fn error_class(js: Js<'_>, class: ErrorClass) -> Option<napi_value> {
    with_cache(js, |cache| match cache.classes.and_then(|classes| classes.get(class as usize).copied()) {
        Some(reference) => js.reference_value(reference).map(Some),
        None => Ok(None),
    })
    .ok()
    .flatten()
}
