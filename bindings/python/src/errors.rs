//! The exception classes of `pennon._native` and the one mapping from core's
//! [`ErrorCode`] to them (by [`ErrorCode::category`], `docs/bindings.md` § Errors).

use pennon_core::{Error, ErrorCategory, ErrorCode};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The five exception classes, created once per process when the module is imported.
pub(crate) struct Exceptions {
    /// `PennonError(Exception)`: the base of every Pennon exception.
    pub(crate) base: Py<PyType>,
    /// `SnapshotError(PennonError)`: loading a snapshot failed.
    pub(crate) snapshot: Py<PyType>,
    /// `ContextError(PennonError)`: a context could not be used.
    pub(crate) context: Py<PyType>,
    /// `ArgumentError(PennonError, ValueError)`: a programmer error in an argument.
    pub(crate) argument: Py<PyType>,
    /// `InternalError(PennonError)`: a bug inside Pennon (a caught panic).
    pub(crate) internal: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

const BASE_DOC: &std::ffi::CStr = c"Base class of every Pennon exception.\n\n\
`code` is the stable snake_case error code (`invalid_json`, `invalid_argument`, ...), \
`path` the JSON Pointer of the value the error concerns (`None` when none).";

/// The exception classes, created on first use.
pub(crate) fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || {
        let base = PyErr::new_type(
            py,
            c"pennon._native.PennonError",
            Some(BASE_DOC),
            Some(&py.get_type::<PyException>()),
            None,
        )?;
        let sub = |name: &std::ffi::CStr, doc: &std::ffi::CStr| {
            PyErr::new_type(py, name, Some(doc), Some(base.bind(py)), None)
        };
        let snapshot =
            sub(c"pennon._native.SnapshotError", c"Loading a snapshot failed; the engine keeps the snapshot it had.")?;
        let context = sub(c"pennon._native.ContextError", c"A context could not be used.")?;
        let internal = sub(c"pennon._native.InternalError", c"A bug inside Pennon (code `internal`).")?;
        // Two bases (`PennonError`, `ValueError`): `PyErr_NewException` takes only one, so
        // this class is made the way a `class` statement makes it, with `type(...)`.
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "pennon._native")?;
        namespace.set_item(
            "__doc__",
            "An invalid argument: a flag key that is not a string, an unknown type name, a bad `now` \
             (code `invalid_argument`).",
        )?;
        let bases = PyTuple::new(py, [base.bind(py).as_any(), py.get_type::<PyValueError>().as_any()])?;
        let argument =
            py.get_type::<PyType>().call1(("ArgumentError", bases, namespace))?.cast_into::<PyType>()?.unbind();
        Ok(Exceptions { base, snapshot, context, argument, internal })
    })
}

/// The class raised for `code`, chosen by its category.
pub(crate) fn class_for<'py>(py: Python<'py>, code: ErrorCode) -> PyResult<Bound<'py, PyType>> {
    let all = exceptions(py)?;
    let class = match code.category() {
        ErrorCategory::Snapshot => &all.snapshot,
        ErrorCategory::Context => &all.context,
        ErrorCategory::Argument => &all.argument,
        ErrorCategory::Internal => &all.internal,
    };
    Ok(class.bind(py).clone())
}

/// Builds the exception instance for an error: its class by category, `str()` the core
/// error's display (`code at path: message`), and the `code` / `path` attributes.
pub(crate) fn exception_instance<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let instance = class_for(py, error.code)?.call1((error.to_string(),))?;
    instance.setattr(pyo3::intern!(py, "code"), error.code.as_str())?;
    // A JSON Pointer, or `None` when the error concerns no particular value.
    let path = (!error.path.is_empty()).then_some(error.path.as_str());
    instance.setattr(pyo3::intern!(py, "path"), path)?;
    Ok(instance)
}

/// The Python exception for a core error. Never fails: if building the instance itself
/// fails, that failure is what is raised.
pub(crate) fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    match exception_instance(py, error) {
        Ok(instance) => PyErr::from_value(instance),
        Err(failure) => failure,
    }
}

/// An `ArgumentError` (code `invalid_argument`).
pub(crate) fn argument_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py_err(py, &Error::new(ErrorCode::InvalidArgument, "", message))
}
