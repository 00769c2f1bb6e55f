//! Reading the snapshot's JSON into typed values while tracking the JSON path, so that
//! every load error names exactly where the problem is.

use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::vec::Vec;
use core::fmt::Write as _;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode};
use crate::time::{self, Millis};

/// Result of decoding: a typed error names the path.
pub(crate) type Decoded<T> = Result<T, Error>;

/// A JSON path built on the stack as decoding descends; rendered only on error.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    /// The path as a JSON Pointer (RFC 6901): `/flags/checkout/rules/2/when`, with `~` and
    /// `/` inside keys written `~0` and `~1`, so that a key containing dots or slashes
    /// cannot be misread. The document root is the empty string.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render_into(out);
                out.push('/');
                crate::json::push_pointer_token(out, key);
            }
            Path::Index(parent, index) => {
                parent.render_into(out);
                let _ = write!(out, "/{index}");
            }
        }
    }

    /// An error at this path.
    pub(crate) fn error(&self, code: ErrorCode, message: impl Into<String>) -> Error {
        Error::new(code, self.render(), message)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An error for a value of the wrong JSON type.
pub(crate) fn wrong_type(path: &Path<'_>, expected: &str, found: &Value) -> Error {
    path.error(ErrorCode::InvalidType, format!("expected {expected}, found {}", type_name(found)))
}

/// A JSON object being decoded, with its path.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: Path<'a>,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(value: &'a Value, path: Path<'a>) -> Decoded<Self> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(wrong_type(&path, "an object", other)),
        }
    }

    pub(crate) fn path(&self) -> &Path<'a> {
        &self.path
    }

    /// Rejects fields outside `known`; `x-` extension fields are always allowed.
    pub(crate) fn only(&self, known: &[&str]) -> Decoded<()> {
        match self.map.keys().find(|key| !key.starts_with("x-") && !known.contains(&key.as_str())) {
            Some(key) => Err(self.path.key(key).error(
                ErrorCode::UnknownField,
                format!("unknown field `{key}`; expected one of: {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// Keys of fields outside `known` (for the places where they are only warnings).
    pub(crate) fn unknown_fields(&self, known: &[&str]) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str).filter(move |key| !key.starts_with("x-") && !known.contains(key))
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// An optional field; `null` counts as absent. Returns the value and its path.
    pub(crate) fn opt<'k>(&'k self, key: &'k str) -> Option<(&'a Value, Path<'k>)>
    where
        'a: 'k,
    {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some((value, self.path.key(key))),
        }
    }

    /// A required field.
    pub(crate) fn req<'k>(&'k self, key: &'k str) -> Decoded<(&'a Value, Path<'k>)>
    where
        'a: 'k,
    {
        self.opt(key).ok_or_else(|| self.path.key(key).error(ErrorCode::MissingField, format!("`{key}` is required")))
    }
}

pub(crate) fn string<'v>(value: &'v Value, path: &Path<'_>) -> Decoded<&'v str> {
    value.as_str().ok_or_else(|| wrong_type(path, "a string", value))
}

pub(crate) fn array<'v>(value: &'v Value, path: &Path<'_>) -> Decoded<&'v [Value]> {
    value.as_array().map(Vec::as_slice).ok_or_else(|| wrong_type(path, "an array", value))
}

pub(crate) fn boolean(value: &Value, path: &Path<'_>) -> Decoded<bool> {
    value.as_bool().ok_or_else(|| wrong_type(path, "a boolean", value))
}

/// A flag, segment, variant or rule key: `^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,255}$`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let Some((first, rest)) = bytes.split_first() else { return false };
    bytes.len() <= 256
        && (first.is_ascii_alphanumeric() || *first == b'_')
        && rest.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

pub(crate) fn key<'v>(value: &'v Value, path: &Path<'_>) -> Decoded<&'v str> {
    let text = string(value, path)?;
    if is_valid_key(text) { Ok(text) } else { Err(invalid_key(path, text)) }
}

pub(crate) fn invalid_key(path: &Path<'_>, key: &str) -> Error {
    path.error(
        ErrorCode::InvalidValue,
        format!("`{key}` is not a valid key (letters, digits, `_ . : -`, at most 256, not starting with `. : -`)"),
    )
}

/// An array of strings.
pub(crate) fn strings<'v>(value: &'v Value, path: &Path<'_>) -> Decoded<Vec<&'v str>> {
    array(value, path)?.iter().enumerate().map(|(i, item)| string(item, &path.index(i))).collect()
}

pub(crate) fn timestamp(value: &Value, path: &Path<'_>) -> Decoded<Millis> {
    let text = string(value, path)?;
    time::parse_timestamp(text).ok_or_else(|| {
        path.error(ErrorCode::InvalidDate, format!("`{text}` is not an RFC 3339 timestamp with an offset"))
    })
}

/// A strictly positive ISO 8601 duration.
pub(crate) fn duration(value: &Value, path: &Path<'_>) -> Decoded<Millis> {
    let text = string(value, path)?;
    match time::parse_duration(text) {
        Some(ms) if ms > 0 => Ok(ms),
        Some(_) => Err(path.error(ErrorCode::InvalidDuration, "the duration must be longer than zero")),
        None => Err(path.error(
            ErrorCode::InvalidDuration,
            format!("`{text}` is not an ISO 8601 duration in weeks, days, hours, minutes or seconds"),
        )),
    }
}

/// A percentage (0–100, at most three decimals) as a threshold in 0.001 % units.
pub(crate) fn percentage(value: &Value, path: &Path<'_>) -> Decoded<u32> {
    let Value::Number(number) = value else { return Err(wrong_type(path, "a number", value)) };
    let invalid = || {
        path.error(
            ErrorCode::InvalidPercentage,
            format!("{number} is not a percentage from 0 to 100 with at most 3 decimals"),
        )
    };
    if let Some(whole) = number.as_u64() {
        return if whole <= 100 { Ok(whole as u32 * 1000) } else { Err(invalid()) };
    }
    let percent = number.as_f64().ok_or_else(invalid)?;
    if !(0.0..=100.0).contains(&percent) {
        return Err(invalid());
    }
    let scaled = percent * 1000.0;
    // Round half up (non-negative), then require the value to have had ≤ 3 decimals.
    let units = (scaled + 0.5) as u32;
    let error = f64::from(units) - scaled;
    if !(-1e-6..=1e-6).contains(&error) { Err(invalid()) } else { Ok(units) }
}

/// Lists known alternatives in messages.
pub(crate) fn one_of(options: &[&str]) -> String {
    options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
}

/// `value.to_string()` for messages, shortened.
pub(crate) fn show(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > 80 {
        let mut cut = 77;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_render() {
        let root = Path::Root;
        let flags = root.key("flags");
        let flag = flags.key("checkout");
        let rules = flag.key("rules");
        let rule = rules.index(2);
        assert_eq!(rule.key("when").render(), "/flags/checkout/rules/2/when");
        assert_eq!(flags.key("a/b~c.d").render(), "/flags/a~1b~0c.d");
    }

    #[test]
    fn percentages() {
        let p = |v: Value| percentage(&v, &Path::Root).map_err(|e| e.code);
        assert_eq!(p(json!(10)), Ok(10_000));
        assert_eq!(p(json!(12.5)), Ok(12_500));
        assert_eq!(p(json!(33.333)), Ok(33_333));
        assert_eq!(p(json!(0.001)), Ok(1));
        assert_eq!(p(json!(100.0)), Ok(100_000));
        assert_eq!(p(json!(12.3456)), Err(ErrorCode::InvalidPercentage));
        assert_eq!(p(json!(101)), Err(ErrorCode::InvalidPercentage));
        assert_eq!(p(json!(-1)), Err(ErrorCode::InvalidPercentage));
        assert_eq!(p(json!("5")), Err(ErrorCode::InvalidType));
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("checkout.new-flow:v2_1"));
        assert!(is_valid_key("_x"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("-x"));
        assert!(!is_valid_key("a b"));
        assert!(!is_valid_key(&"a".repeat(257)));
    }

    #[test]
    fn unknown_fields_are_named() {
        let value = json!({"a": 1, "x-note": 2, "b": 3});
        let obj = Obj::new(&value, Path::Root).unwrap();
        let error = obj.only(&["a"]).unwrap_err();
        assert_eq!((error.code, error.path.as_str()), (ErrorCode::UnknownField, "/b"));
        assert!(obj.only(&["a", "b"]).is_ok());
        assert_eq!(obj.unknown_fields(&["a"]).collect::<Vec<_>>(), ["b"]);
    }
}
