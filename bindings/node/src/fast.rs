//! Raw Node-API entry points for the hot methods of `Engine`.
//!
//! napi-rs registers every `#[napi]` method of [`Engine`]; those definitions are the API
//! (they produce the TypeScript declarations and docs). For each call napi-rs 3 also runs
//! its native-borrow bookkeeping (a global registry, a scope object, an `Arc`), which
//! costs as much as converting a small context. At module load, [`install`] therefore
//! replaces the hot methods on `Engine.prototype` with the raw callbacks below. They run
//! exactly the same Rust code (`Engine::evaluate_js`, `Engine::typed`,
//! `Engine::evaluate_all_js`) and differ only in how they obtain `this` and the arguments:
//! `napi_get_cb_info` and napi-rs's own `ClassInstance` (type-tag checked, so a foreign
//! receiver is rejected before any cast).
//!
//! Soundness without the bookkeeping: these callbacks only take `&Engine`, every `Engine`
//! method takes `&self`, and the engine's state sits in a `RefCell`, so a re-entrant call
//! (a context getter calling `engine.load`) is a checked shared borrow, never aliasing.
//!
//! Setting `PENNON_NODE_NAPI_RS_METHODS=1` keeps napi-rs's methods (the tests run the
//! conformance suite both ways).

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::ptr;

use napi::bindgen_prelude::{ClassInstance, Env, FromNapiValue};
use napi::sys::{self, napi_callback_info, napi_env, napi_value};
use pennon_core::FlagType;

use crate::Engine;
use crate::errors::{Failure, Outcome, guard};
use crate::js::{Js, NapiResult};

/// Runs one hot method: reads `this` and `N` arguments (missing ones are `undefined`),
/// checks that `this` is an `Engine`, and runs `body` under [`guard`].
fn run<const N: usize>(
    raw_env: napi_env,
    info: napi_callback_info,
    method: &str,
    body: impl FnOnce(&Engine, Js<'_>, [napi_value; N]) -> Outcome<napi_value>,
) -> napi_value {
    let env = Env::from_raw(raw_env);
    let outcome = guard(&env, |js| {
        let mut argc = N;
        let mut argv = [ptr::null_mut(); N];
        let mut this = ptr::null_mut();
        // SAFETY: `raw_env` and `info` are the arguments Node passed to this callback;
        // `argv` has room for `argc` handles and Node fills missing ones with `undefined`.
        let status =
            unsafe { sys::napi_get_cb_info(raw_env, info, &mut argc, argv.as_mut_ptr(), &mut this, ptr::null_mut()) };
        if status != sys::Status::napi_ok {
            return Err(Failure::internal(format!("napi_get_cb_info failed with status {status}")));
        }
        // SAFETY: `this` is a handle of this callback. `ClassInstance` checks Engine's
        // napi-rs type tag before it casts the wrapped pointer.
        let engine = unsafe { ClassInstance::<Engine>::from_napi_value(raw_env, this) }.map_err(|_| {
            Failure::argument(format!("Engine.prototype.{method} called on an object that is not an Engine"))
        })?;
        body(&engine, js, argv)
    });
    match outcome {
        Ok(value) => value,
        // `guard` threw the error, or left napi-rs's error to throw: throw it here, since
        // no napi-rs glue runs after a raw callback.
        Err(error) => {
            if error.status != napi::Status::PendingException {
                let message = std::ffi::CString::new(error.reason.replace('\0', " ")).unwrap_or_default();
                // SAFETY: live env of this callback; both strings are NUL-terminated.
                unsafe {
                    sys::napi_throw_error(raw_env, c"internal".as_ptr(), message.as_ptr());
                }
            }
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn evaluate(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<3>(env, info, "evaluate", |engine, js, args| engine.evaluate_js(js, args))
}

unsafe extern "C" fn get_boolean(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<4>(env, info, "getBoolean", |engine, js, args| engine.typed(js, FlagType::Boolean, args))
}

unsafe extern "C" fn get_string(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<4>(env, info, "getString", |engine, js, args| engine.typed(js, FlagType::String, args))
}

unsafe extern "C" fn get_number(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<4>(env, info, "getNumber", |engine, js, args| engine.typed(js, FlagType::Number, args))
}

unsafe extern "C" fn get_object(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<4>(env, info, "getObject", |engine, js, args| engine.typed(js, FlagType::Object, args))
}

unsafe extern "C" fn evaluate_all(env: napi_env, info: napi_callback_info) -> napi_value {
    run::<2>(env, info, "evaluateAll", |engine, js, args| engine.evaluate_all_js(js, args))
}

type Callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const METHODS: [(&CStr, Callback); 6] = [
    (c"evaluate", evaluate),
    (c"getBoolean", get_boolean),
    (c"getString", get_string),
    (c"getNumber", get_number),
    (c"getObject", get_object),
    (c"evaluateAll", evaluate_all),
];

/// Replaces the hot methods on `Engine.prototype` (non-enumerable, writable, configurable,
/// like class methods).
pub(crate) fn install(js: Js<'_>, exports: napi_value) -> NapiResult<()> {
    if std::env::var_os("PENNON_NODE_NAPI_RS_METHODS").is_some_and(|value| value == "1") {
        return Ok(());
    }
    let class = js.named(exports, c"Engine")?;
    let prototype = js.named(class, c"prototype")?;
    let mut descriptors = Vec::with_capacity(METHODS.len());
    for (name, callback) in METHODS {
        let mut function = ptr::null_mut();
        // SAFETY: live env of the module-initialisation callback; `name` is a static C
        // string (`NAPI_AUTO_LENGTH`) and `callback` an `extern "C"` function of this module.
        let status = unsafe {
            sys::napi_create_function(js.raw(), name.as_ptr(), -1, Some(callback), ptr::null_mut(), &mut function)
        };
        if status != sys::Status::napi_ok {
            return Err(crate::js::NapiStatus(status));
        }
        descriptors.push(sys::napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: function,
            attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
            data: ptr::null_mut(),
        });
    }
    // SAFETY: live env of the module-initialisation callback; `prototype` and the function
    // values are its handles; the names are static C strings.
    let status = unsafe { sys::napi_define_properties(js.raw(), prototype, descriptors.len(), descriptors.as_ptr()) };
    if status == sys::Status::napi_ok { Ok(()) } else { Err(crate::js::NapiStatus(status)) }
}
