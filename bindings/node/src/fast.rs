//! Raw Node-API entry points for the hot methods of `Engine`.
//!
//! napi-rs registers every `#[napi]` method of [`Engine`]; those definitions are the API
//! (they produce the TypeScript declarations and docs). For each call napi-rs 3 also runs
//! its native-borrow bookkeeping (a global registry, a scope object, an `Arc`), which
//! costs as much as converting a small context. At module load, [`install`] therefore
//! adds raw callbacks that run exactly the same Rust code (`Engine::evaluate_js`,
//! `Engine::typed`, `Engine::evaluate_all_js`) and differ only in how they obtain `this`
//! and the arguments: `napi_get_cb_info` and napi-rs's own `ClassInstance` (type-tag
//! checked, so a foreign receiver is rejected before any cast):
//!
//! - `evaluateAll` replaces the method on `Engine.prototype`;
//! - `evaluate`, the typed getters and `record` (see [`flat_record`]) are the *flattened* calls of the internal export
//!   `__fastPaths`, which `index.js`'s `Engine` subclass makes: the context arrives as
//!   `key, value` arguments (see [`flat`]);
//! - `__fastPaths` also carries two lists `index.js` caches: `attributesRead(flag)` and
//!   `constants(now)`, the flags it answers from a table without calling in at all.
//!
//! Soundness without the bookkeeping: these callbacks only take `&Engine`, every `Engine`
//! method takes `&self`, and the engine's state is an atomically swapped `Arc`
//! (`pennon_host::Holder`), so a re-entrant call (a context getter calling `engine.load`)
//! never aliases: the outer call keeps the snapshot it took.
//!
//! Setting `PENNON_NODE_NO_FAST_PATHS=1` leaves all of this out (the tests run the
//! conformance suite both ways).

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::ptr;

use napi::bindgen_prelude::{ClassInstance, Env, FromNapiValue};
use napi::sys::{self, napi_callback_info, napi_env, napi_value};
use pennon_core::FlagType;
use pennon_host::outcomes;

use crate::errors::{Failure, Outcome, guard, napi_failure};
use crate::js::{Js, Kind, NapiResult};
use crate::{ContextArg, Engine};

/// Room on the stack for the arguments of one call; calls with more (a flattened context
/// of many attributes) read them into a `Vec`.
const STACK_ARGS: usize = 24;

/// The arguments of a call.
struct Args<'a> {
    /// At least `STACK_ARGS` slots; those beyond the passed arguments hold `undefined`.
    slots: &'a [napi_value],
    passed: usize,
}

impl Args<'_> {
    /// The first `N` arguments, `undefined` for those not passed (`N` ≤ `STACK_ARGS`).
    fn fixed<const N: usize>(&self) -> [napi_value; N] {
        const { assert!(N <= STACK_ARGS) };
        std::array::from_fn(|index| self.slots.get(index).copied().unwrap_or(ptr::null_mut()))
    }

    /// The arguments passed from position `from` on.
    fn rest(&self, from: usize) -> &[napi_value] {
        self.slots.get(from..self.passed).unwrap_or_default()
    }
}

/// Runs one hot method: reads `this` and the arguments, checks that `this` is an
/// `Engine`, and runs `body` under [`guard`].
fn run(
    raw_env: napi_env,
    info: napi_callback_info,
    method: &str,
    body: impl FnOnce(&Engine, Js<'_>, Args<'_>) -> Outcome<napi_value>,
) -> napi_value {
    let env = Env::from_raw(raw_env);
    let outcome = guard(&env, |js| {
        let mut argc = STACK_ARGS;
        let mut argv = [ptr::null_mut(); STACK_ARGS];
        let mut this = ptr::null_mut();
        // SAFETY: `raw_env` and `info` are the arguments Node passed to this callback;
        // `argv` has room for `argc` handles; Node sets `argc` to the number passed and
        // fills the slots beyond them with `undefined`.
        let status =
            unsafe { sys::napi_get_cb_info(raw_env, info, &mut argc, argv.as_mut_ptr(), &mut this, ptr::null_mut()) };
        if status != sys::Status::napi_ok {
            return Err(Failure::internal(format!("napi_get_cb_info failed with status {status}")));
        }
        let passed = argc;
        let mut heap = Vec::new();
        let slots: &[napi_value] = if argc <= STACK_ARGS {
            &argv
        } else {
            heap.resize(argc, ptr::null_mut());
            // SAFETY: as above, with `heap` holding room for all `argc` arguments.
            let status = unsafe {
                sys::napi_get_cb_info(raw_env, info, &mut argc, heap.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
            };
            if status != sys::Status::napi_ok {
                return Err(Failure::internal(format!("napi_get_cb_info failed with status {status}")));
            }
            &heap
        };
        // SAFETY: `this` is a handle of this callback. `ClassInstance` checks Engine's
        // napi-rs type tag before it casts the wrapped pointer.
        let engine = unsafe { ClassInstance::<Engine>::from_napi_value(raw_env, this) }.map_err(|_| {
            Failure::argument(format!("Engine.prototype.{method} called on an object that is not an Engine"))
        })?;
        body(&engine, js, Args { slots, passed })
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

unsafe extern "C" fn evaluate_all(env: napi_env, info: napi_callback_info) -> napi_value {
    run(env, info, "evaluateAll", |engine, js, args| engine.evaluate_all_js(js, args.fixed()))
}

type Callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const METHODS: [(&CStr, Callback); 1] = [(c"evaluateAll", evaluate_all)];

/// Runs a flattened call, as `index.js` makes them: `(flag, context, x, y, generation,
/// ...pairs)` with `this` the engine, where `x, y` are `defaultValue, now` (typed getters)
/// or `options` (evaluate). `generation` -1 means "not flattened: convert `context`
/// whole"; otherwise `pairs` are the context's `key, value` pairs that need converting
/// (`docs/bindings.md`), valid for that generation of the engine's snapshot. When the
/// snapshot has changed since, the call returns `undefined` and `index.js` asks for the
/// attribute lists again.
fn flat(
    env: napi_env,
    info: napi_callback_info,
    method: &str,
    body: impl FnOnce(&Engine, Js<'_>, [napi_value; 3], ContextArg<'_>) -> Outcome<napi_value>,
) -> napi_value {
    run(env, info, method, |engine, js, args| {
        let [flag, context, x, y, generation] = args.fixed();
        let reading = |status| napi_failure(js, status, "reading the generation");
        let generation = js.number(generation).map_err(reading)?;
        let context = if generation < 0.0 {
            ContextArg::Object(context)
        } else {
            ContextArg::Pairs { pairs: args.rest(5), generation }
        };
        body(engine, js, [flag, x, y], context)
    })
}

unsafe extern "C" fn flat_evaluate(env: napi_env, info: napi_callback_info) -> napi_value {
    flat(env, info, "evaluate", |engine, js, [flag, options, _], context| {
        engine.evaluate_js(js, [flag, options], context)
    })
}

fn flat_typed(env: napi_env, info: napi_callback_info, method: &str, expected: FlagType) -> napi_value {
    flat(env, info, method, |engine, js, [flag, default, now], context| {
        engine.typed(js, expected, [flag, default, now], context)
    })
}

unsafe extern "C" fn flat_get_boolean(env: napi_env, info: napi_callback_info) -> napi_value {
    flat_typed(env, info, "getBoolean", FlagType::Boolean)
}

unsafe extern "C" fn flat_get_string(env: napi_env, info: napi_callback_info) -> napi_value {
    flat_typed(env, info, "getString", FlagType::String)
}

unsafe extern "C" fn flat_get_number(env: napi_env, info: napi_callback_info) -> napi_value {
    flat_typed(env, info, "getNumber", FlagType::Number)
}

unsafe extern "C" fn flat_get_object(env: napi_env, info: napi_callback_info) -> napi_value {
    flat_typed(env, info, "getObject", FlagType::Object)
}

/// `record`, flattened: `(flag, context, outcome, latencyMs, now, generation, ...pairs)`.
/// `index.js` passes an outcome whose keys are all known and whose values have their types
/// as bits (`ok` 1, `error` 2, `converted` 4) with its latency (`undefined` when none),
/// so that reading it costs no Node-API call; any other outcome as the object itself (read
/// and judged as `record` does). Answers whether it recorded, or `undefined` as [`flat`].
unsafe extern "C" fn flat_record(env: napi_env, info: napi_callback_info) -> napi_value {
    run(env, info, "record", |engine, js, args| {
        let [flag, context, outcome, latency, now, generation] = args.fixed();
        let reading = |status| napi_failure(js, status, "reading the arguments of record");
        let outcome = match js.kind(outcome).map_err(reading)? {
            Kind::Number => {
                let bits = js.number(outcome).map_err(reading)? as u32;
                let latency_ms = match js.kind(latency).map_err(reading)? {
                    Kind::Number => Some(js.number(latency).map_err(reading)?),
                    _ => None,
                };
                let outcome =
                    outcomes::Outcome { ok: bits & 1 != 0, error: bits & 2 != 0, converted: bits & 4 != 0, latency_ms };
                outcome.check(outcomes::LATENCY_KEY)?;
                outcome
            }
            _ => crate::outcome_arg(js, outcome)?,
        };
        let generation = js.number(generation).map_err(reading)?;
        let context = if generation < 0.0 {
            ContextArg::Object(context)
        } else {
            ContextArg::Pairs { pairs: args.rest(6), generation }
        };
        let building = |status| napi_failure(js, status, "answering record");
        match engine.record_js(js, [flag, now], outcome, context)? {
            Some(recorded) => js.bool_value(recorded).map_err(building),
            None => js.undefined().map_err(building),
        }
    })
}

unsafe extern "C" fn attributes_read(env: napi_env, info: napi_callback_info) -> napi_value {
    run(env, info, "attributesRead", |engine, js, args| engine.attributes_read_js(js, args.fixed()))
}

unsafe extern "C" fn constants(env: napi_env, info: napi_callback_info) -> napi_value {
    run(env, info, "constants", |engine, js, args| engine.constants_js(js, args.fixed()))
}

const FLAT: [(&CStr, Callback); 8] = [
    (c"evaluate", flat_evaluate),
    (c"record", flat_record),
    (c"getBoolean", flat_get_boolean),
    (c"getString", flat_get_string),
    (c"getNumber", flat_get_number),
    (c"getObject", flat_get_object),
    (c"attributesRead", attributes_read),
    (c"constants", constants),
];

/// Replaces `evaluateAll` on `Engine.prototype` and adds the flattened calls as the
/// internal, non-enumerable export `__fastPaths`. `PENNON_NODE_NO_FAST_PATHS=1` leaves both
/// out: napi-rs's methods then convert every context whole (the tests run the conformance
/// suite both ways).
pub(crate) fn install(js: Js<'_>, exports: napi_value) -> NapiResult<()> {
    if std::env::var_os("PENNON_NODE_NO_FAST_PATHS").is_some_and(|value| value == "1") {
        return Ok(());
    }
    let class = js.named(exports, c"Engine")?;
    let prototype = js.named(class, c"prototype")?;
    define(js, prototype, &METHODS, sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable)?;
    let fast_paths = js.object()?;
    define(js, fast_paths, &FLAT, sys::PropertyAttributes::enumerable)?;
    define_values(js, exports, &[(c"__fastPaths", fast_paths)], sys::PropertyAttributes::default)
}

/// Defines `functions` on `object` with `attributes`.
fn define(
    js: Js<'_>,
    object: napi_value,
    functions: &[(&'static CStr, Callback)],
    attributes: sys::napi_property_attributes,
) -> NapiResult<()> {
    let mut values = Vec::with_capacity(functions.len());
    for &(name, callback) in functions {
        let mut function = ptr::null_mut();
        // SAFETY: live env of the module-initialisation callback; `name` is a static C
        // string (`NAPI_AUTO_LENGTH`) and `callback` an `extern "C"` function of this module.
        let status = unsafe {
            sys::napi_create_function(js.raw(), name.as_ptr(), -1, Some(callback), ptr::null_mut(), &mut function)
        };
        if status != sys::Status::napi_ok {
            return Err(crate::js::NapiStatus(status));
        }
        values.push((name, function));
    }
    define_values(js, object, &values, attributes)
}

/// Defines the named `values` on `object` with `attributes`.
fn define_values(
    js: Js<'_>,
    object: napi_value,
    values: &[(&'static CStr, napi_value)],
    attributes: sys::napi_property_attributes,
) -> NapiResult<()> {
    let descriptors: Vec<sys::napi_property_descriptor> = values
        .iter()
        .map(|&(name, value)| sys::napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value,
            attributes,
            data: ptr::null_mut(),
        })
        .collect();
    // SAFETY: live env of the module-initialisation callback; `object` and the values are
    // its handles; the names are static C strings.
    let status = unsafe { sys::napi_define_properties(js.raw(), object, descriptors.len(), descriptors.as_ptr()) };
    if status == sys::Status::napi_ok { Ok(()) } else { Err(crate::js::NapiStatus(status)) }
}
