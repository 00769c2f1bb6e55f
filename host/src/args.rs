//! The calling convention every binding follows, and the exact `invalid_argument` errors
//! it gives. The language-neutral cases in `tests/conformance/arguments.json` check each
//! binding against these rules.
//!
//! Bindings classify a host value as a [`Kind`] (its JSON form: what `JSON.stringify` or
//! `json.dumps` would make of it) and ask the rules here; they never word an argument
//! error themselves.

use std::borrow::Cow;

use pennon_core::time::Millis;
use pennon_core::{Error, ErrorCode, FlagType};

/// What a host value is, in JSON's words (plus `undefined`, for an omitted JS argument,
/// and the host's own name for anything JSON has no word for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An omitted argument or JS `undefined`.
    Undefined,
    /// `null` / `None`.
    Null,
    /// `true` / `false`.
    Boolean,
    /// A number (JS number, Python `int` or `float`).
    Number,
    /// A string.
    String,
    /// An array / list.
    Array,
    /// An object / dict.
    Object,
    /// Anything else, described by the host (`"a function"`, `"a bigint"`, `"a set"`).
    Other(Cow<'static, str>),
}

impl Kind {
    /// `"a string"`, `"null"`, `"an object"`…: how messages name a value of this kind.
    pub fn describe(&self) -> &str {
        match self {
            Kind::Undefined => "undefined",
            Kind::Null => "null",
            Kind::Boolean => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
            Kind::Other(description) => description,
        }
    }
}

/// The kind of a JSON value (for hosts whose arguments arrive as JSON: C, the raw wasm ABI).
pub fn kind_of(value: &pennon_core::Value) -> Kind {
    use pennon_core::Value;
    match value {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Boolean,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// The error object of a thrown error as every host shows it, and as the differential
/// test compares it: `{"code", "message", "path"}`, where `message` is core's display
/// (`code at path: message`, what `error.message`, `str(error)` and
/// `pennon_last_error_message()` give) and `path` is `null` when the error has none.
pub fn thrown_json(error: &Error) -> pennon_core::Value {
    use pennon_core::{Map, Value};
    let mut object = Map::new();
    object.insert("code".into(), Value::from(error.code.as_str()));
    object.insert("message".into(), Value::from(error.to_string()));
    let path = if error.path.is_empty() { Value::Null } else { Value::from(error.path.as_str()) };
    object.insert("path".into(), path);
    Value::Object(object)
}

/// An `invalid_argument` error (no path): a programmer error in a call.
pub fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, "", message)
}

/// The flag key must be a string.
pub fn flag_key_error(found: Kind) -> Error {
    invalid(format!("the flag key must be a string, not {}", found.describe()))
}

/// `load` takes JSON text or an already parsed document (an object; an array is a parsed
/// document too, and fails as a snapshot does).
pub fn snapshot_kind_error(found: Kind) -> Error {
    invalid(format!("load() takes the snapshot as JSON text or an object, not {}", found.describe()))
}

/// The type names a call may pass: a flag type, or `any` for no type check (as does an
/// absent type).
pub const TYPE_NAMES: [&str; 5] = ["boolean", "string", "number", "object", "any"];

/// A type name: `Some(type)` to check the flag's type, `None` (`any`) for no check.
pub fn flag_type(name: &str) -> Result<Option<FlagType>, Error> {
    if name == "any" {
        return Ok(None);
    }
    FlagType::parse(name)
        .map(Some)
        .ok_or_else(|| invalid(format!("unknown type `{name}`: expected boolean, string, number, object or any")))
}

/// The type argument was present but not a string.
pub fn flag_type_kind_error(found: Kind) -> Error {
    invalid(format!("the type must be a string, not {}", found.describe()))
}

/// `now` given as a number of ms since the Unix epoch: a fraction is floored; it must be
/// finite and within the 64-bit range.
pub fn now_from_number(now: f64) -> Result<Millis, Error> {
    // i64::MIN and i64::MAX + 1 are exact powers of two in f64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let floored = now.floor();
    if floored.is_finite() && (-LIMIT..LIMIT).contains(&floored) {
        // In range, so the conversion is exact.
        Ok(floored as Millis)
    } else {
        Err(now_range_error(&format_number(now)))
    }
}

/// `now` given as an integer too large for 64 bits (Python ints), shown as `text`.
pub fn now_range_error(text: &str) -> Error {
    invalid(format!("now must be a finite number of ms since the Unix epoch within 64 bits, not {text}"))
}

/// `now` was neither absent nor a number.
pub fn now_kind_error(found: Kind) -> Error {
    invalid(format!("now must be a number of ms since the Unix epoch, not {}", found.describe()))
}

/// How messages write a number: integral values without a fraction, others as Rust
/// formats them (the same in every binding because this crate does it).
pub(crate) fn format_number(number: f64) -> String {
    if number.is_nan() {
        "NaN".into()
    } else if number.is_infinite() {
        if number > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        format!("{number}")
    }
}

/// A typed getter's default must have the getter's type (`null` is a valid object
/// default, as JSON's `null` is no object but "no object").
pub fn check_default(expected: FlagType, found: Kind) -> Result<(), Error> {
    let (fits, wanted) = match expected {
        FlagType::Boolean => (found == Kind::Boolean, "a boolean"),
        FlagType::String => (found == Kind::String, "a string"),
        FlagType::Number => (found == Kind::Number, "a number"),
        FlagType::Object => (matches!(found, Kind::Object | Kind::Null), "an object or null"),
    };
    if fits {
        Ok(())
    } else {
        Err(invalid(format!(
            "the default of a {} getter must be {wanted}, not {}",
            expected.as_str(),
            found.describe()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(flag_type("boolean"), Ok(Some(FlagType::Boolean)));
        assert_eq!(flag_type("object"), Ok(Some(FlagType::Object)));
        assert_eq!(flag_type("any"), Ok(None));
        let error = flag_type("Boolean").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidArgument);
        assert_eq!(error.message, "unknown type `Boolean`: expected boolean, string, number, object or any");
        for name in TYPE_NAMES {
            assert!(flag_type(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn now_forms() {
        assert_eq!(now_from_number(1_795_000_000_000.0), Ok(1_795_000_000_000));
        assert_eq!(now_from_number(1.9), Ok(1));
        assert_eq!(now_from_number(-1.5), Ok(-2));
        assert_eq!(now_from_number(-9_223_372_036_854_775_808.0), Ok(i64::MIN));
        assert!(now_from_number(9_223_372_036_854_775_808.0).is_err());
        assert_eq!(
            now_from_number(f64::NAN).unwrap_err().message,
            "now must be a finite number of ms since the Unix epoch within 64 bits, not NaN"
        );
        assert!(now_from_number(f64::NEG_INFINITY).unwrap_err().message.ends_with("not -Infinity"));
        assert_eq!(
            now_kind_error(Kind::String).message,
            "now must be a number of ms since the Unix epoch, not a string"
        );
    }

    #[test]
    fn defaults() {
        assert!(check_default(FlagType::Boolean, Kind::Boolean).is_ok());
        assert!(check_default(FlagType::Object, Kind::Null).is_ok());
        assert!(check_default(FlagType::Object, Kind::Array).is_err());
        assert_eq!(
            check_default(FlagType::Number, Kind::String).unwrap_err().message,
            "the default of a number getter must be a number, not a string"
        );
        assert_eq!(
            flag_key_error(Kind::Other("a function".into())).message,
            "the flag key must be a string, not a function"
        );
    }
}
