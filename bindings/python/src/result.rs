//! Evaluation results built straight as Python `dict`s with the ten canonical keys
//! (`docs/snapshot-format.md` §4).

use pennon_core::{Evaluation, EvaluationErrorCode, Reason};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};

use crate::convert::{map_to_python, to_python};

/// The reason and error-code strings, made once: a result then only takes references.
struct Names {
    reasons: Vec<Py<PyString>>,
    error_codes: Vec<Py<PyString>>,
    /// `{key: None}` for the ten result keys, in canonical order. Every result starts as a
    /// copy of it (`PyDict_Copy` clones the small key table at once) and then only
    /// replaces values: no hashing of new keys, no resize on the way to ten entries.
    template: Py<PyDict>,
}

/// The result keys, in the order of `docs/snapshot-format.md` §4.
const KEYS: [&str; 10] = [
    "value",
    "variant",
    "reason",
    "ruleId",
    "stage",
    "shadowVariant",
    "errorCode",
    "errorMessage",
    "revision",
    "flagMetadata",
];

static NAMES: PyOnceLock<Names> = PyOnceLock::new();

fn names(py: Python<'_>) -> PyResult<&Names> {
    NAMES.get_or_try_init(py, || {
        let template = PyDict::new(py);
        for key in KEYS {
            template.set_item(PyString::intern(py, key), py.None())?;
        }
        Ok(Names {
            reasons: Reason::ALL.iter().map(|reason| PyString::intern(py, reason.as_str()).unbind()).collect(),
            error_codes: EvaluationErrorCode::ALL
                .iter()
                .map(|code| PyString::intern(py, code.as_str()).unbind())
                .collect(),
            template: template.unbind(),
        })
    })
}

fn reason_name<'py>(py: Python<'py>, names: &Names, reason: Reason) -> Bound<'py, PyString> {
    let cached = Reason::ALL.iter().position(|r| *r == reason).and_then(|i| names.reasons.get(i));
    match cached {
        Some(name) => name.bind(py).clone(),
        None => PyString::new(py, reason.as_str()),
    }
}

fn error_code_name<'py>(py: Python<'py>, names: &Names, code: EvaluationErrorCode) -> Bound<'py, PyString> {
    let cached = EvaluationErrorCode::ALL.iter().position(|c| *c == code).and_then(|i| names.error_codes.get(i));
    match cached {
        Some(name) => name.bind(py).clone(),
        None => PyString::new(py, code.as_str()),
    }
}

/// The served value as a Python object, or the caller's `default` itself on error.
pub(crate) fn value<'py>(
    py: Python<'py>,
    evaluation: &Evaluation<'_>,
    default: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    match evaluation.value {
        Some(value) => to_python(py, value),
        None => Ok(default.clone()),
    }
}

/// The canonical result as a new `dict`: `value, variant, reason, ruleId, stage,
/// shadowVariant, errorCode, errorMessage, revision, flagMetadata`. `revision` is `None`
/// before the first load.
pub(crate) fn to_dict<'py>(
    py: Python<'py>,
    evaluation: &Evaluation<'_>,
    default: &Bound<'py, PyAny>,
    revision: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let names = names(py)?;
    // Starts as `{key: None}` for all ten keys: only the fields that are set are written.
    let dict = names.template.bind(py).copy()?;
    dict.set_item(intern!(py, "value"), value(py, evaluation, default)?)?;
    if let Some(variant) = evaluation.variant {
        dict.set_item(intern!(py, "variant"), PyString::new(py, variant))?;
    }
    dict.set_item(intern!(py, "reason"), reason_name(py, names, evaluation.reason))?;
    if let Some(rule_id) = evaluation.rule_id {
        dict.set_item(intern!(py, "ruleId"), PyString::new(py, rule_id))?;
    }
    if let Some(stage) = evaluation.stage {
        dict.set_item(intern!(py, "stage"), stage)?;
    }
    if let Some(shadow) = evaluation.shadow_variant {
        dict.set_item(intern!(py, "shadowVariant"), PyString::new(py, shadow))?;
    }
    if let Some(error) = &evaluation.error {
        dict.set_item(intern!(py, "errorCode"), error_code_name(py, names, error.code))?;
        dict.set_item(intern!(py, "errorMessage"), PyString::new(py, &error.message))?;
    }
    if let Some(revision) = revision {
        dict.set_item(intern!(py, "revision"), revision)?;
    }
    if let Some(metadata) = evaluation.flag_metadata {
        dict.set_item(intern!(py, "flagMetadata"), map_to_python(py, metadata)?)?;
    }
    Ok(dict)
}
