//! Errors thrown to JS: core's `ErrorCode` mapped once, by `ErrorCode::category()`, onto the
//! classes `index.js` defines (`SnapshotError`, `ContextError`, `ArgumentError`,
//! `InternalError`, all extending `PennonError`). Without registered classes (the `.node`
//! file loaded on its own) a plain `Error` with the same `code` and `path` is thrown.

use napi::Env;
use napi::sys::napi_value;
use pennon_core::{ErrorCategory, ErrorCode};

use crate::cache::{self, ErrorClass};
use crate::js::{Js, Key, NapiResult};

/// An error to throw: a core code, the path it concerns (empty when none), a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) path: String,
    pub(crate) message: String,
}

impl Failure {
    /// A programmer error in the arguments (`ArgumentError`, `invalid_argument`).
    pub(crate) fn argument(message: impl Into<String>) -> Self {
        Failure { code: ErrorCode::InvalidArgument, path: String::new(), message: message.into() }
    }

    /// A bug (`InternalError`, `internal`).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Failure { code: ErrorCode::Internal, path: String::new(), message: message.into() }
    }

    /// The message JS sees: `code at path: message`, as core's `Error` displays itself.
    fn text(&self) -> String {
        pennon_core::Error::new(self.code, self.path.as_str(), self.message.as_str()).to_string()
    }
}

impl From<pennon_core::Error> for Failure {
    fn from(error: pennon_core::Error) -> Self {
        Failure { code: error.code, path: error.path, message: error.message }
    }
}

/// The result type of the addon's internals.
pub(crate) type Outcome<T> = Result<T, Failure>;

/// The class a code's category maps to.
fn class_of(code: ErrorCode) -> ErrorClass {
    match code.category() {
        ErrorCategory::Snapshot => ErrorClass::Snapshot,
        ErrorCategory::Context => ErrorClass::Context,
        ErrorCategory::Argument => ErrorClass::Argument,
        ErrorCategory::Internal => ErrorClass::Internal,
    }
}

/// Builds the JS error object for `failure`.
fn error_object(js: Js<'_>, failure: &Failure) -> NapiResult<napi_value> {
    let message = js.str_value(&failure.text())?;
    let code = js.str_value(failure.code.as_str())?;
    let path = if failure.path.is_empty() { js.null()? } else { js.str_value(&failure.path)? };
    if let Some(class) = cache::error_class(js, class_of(failure.code)) {
        return js.construct(class, &[message, code, path]);
    }
    let error = js.error(code, message)?;
    js.define(error, &[(Key::Text(c"path"), path)])?;
    Ok(error)
}

/// Throws `failure` into JS and returns the napi-rs error that tells the generated glue an
/// exception is already pending.
pub(crate) fn throw(js: Js<'_>, failure: &Failure) -> napi::Error {
    let thrown = error_object(js, failure).and_then(|error| js.throw(error));
    match thrown {
        Ok(()) => napi::Error::new(napi::Status::PendingException, failure.text()),
        // Could not build or throw our error (an exception is already pending, or the
        // registered class misbehaved): let napi-rs throw a generic one.
        Err(_) => {
            let _ = js.take_exception();
            napi::Error::new(napi::Status::GenericFailure, failure.text())
        }
    }
}

/// Runs one export: a `Failure` is thrown as its class, a panic as an `InternalError`
/// (code `internal`, `pennon_host::guard`); neither crosses the boundary as an abort.
pub(crate) fn guard<T>(env: &Env, body: impl FnOnce(Js<'_>) -> Outcome<T>) -> napi::Result<T> {
    let js = Js::new(env);
    match pennon_host::guard::catch(|| body(js)).map_err(Failure::from).and_then(|outcome| outcome) {
        Ok(value) => Ok(value),
        Err(failure) => Err(throw(js, &failure)),
    }
}

/// Maps a failed Node-API call inside an export to a `Failure`: an exception thrown by JS
/// code it ran (a getter) propagates as an argument problem, anything else is internal.
pub(crate) fn napi_failure(js: Js<'_>, status: crate::js::NapiStatus, doing: &str) -> Failure {
    match js.take_exception() {
        Some(exception) => Failure::argument(format!("{doing} threw: {}", js.describe_exception(exception))),
        None => Failure::internal(format!("{doing} failed (Node-API status {})", status.0)),
    }
}
