//! Canonical JSON: the byte-exact serialisation every binding uses when results are
//! compared across languages (the differential test) and returned by JSON interfaces.
//!
//! Object keys sorted by their UTF-8 bytes, no whitespace, non-ASCII written as is,
//! integral numbers within ±2^53 written without fraction or exponent (`3`, not `3.0`),
//! other numbers in their shortest round-trip form.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use serde_json::{Map, Value};

/// Serialises `value` canonically.
///
/// ```
/// use pennon_core::{json, Value};
/// let value: Value = serde_json::from_str(r#"{"b": 3.0, "a": [true, null, "ü"], "c": 0.5}"#).unwrap();
/// assert_eq!(json::canonical(&value), r#"{"a":[true,null,"ü"],"b":3,"c":0.5}"#);
/// ```
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

pub(crate) fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => {
            let integral =
                number.as_f64().map(|f| (f, f as i64)).filter(|(f, i)| *i as f64 == *f && i.unsigned_abs() <= 1 << 53);
            match (number.is_f64(), integral) {
                (true, Some((_, i))) => {
                    let _ = write!(out, "{i}");
                }
                _ => {
                    let _ = write!(out, "{number}");
                }
            }
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_map(map, out),
    }
}

pub(crate) fn write_map(map: &Map<String, Value>, out: &mut String) {
    // serde_json's `Map` is usually a `BTreeMap`, whose keys are in byte order already;
    // sort only when it keeps insertion order (its `preserve_order` feature).
    let sorted = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a.as_bytes() < b.as_bytes());
    if sorted {
        write_entries(map.iter(), out);
    } else {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        write_entries(entries.into_iter(), out);
    }
}

fn write_entries<'v>(entries: impl Iterator<Item = (&'v String, &'v Value)>, out: &mut String) {
    out.push('{');
    for (i, (key, item)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(item, out);
    }
    out.push('}');
}

/// JSON string escaping as JavaScript's `JSON.stringify` and Python's
/// `json.dumps(ensure_ascii=False)` do it.
pub fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `token` to `out` as one JSON Pointer reference token (RFC 6901 §3): `~` is
/// written `~0` and `/` is written `~1`. Error paths are JSON Pointers, so a key that
/// contains dots, brackets or slashes cannot be misread; bindings that report where in a
/// host value a problem lies build their paths with this too.
pub fn push_pointer_token(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical(&json!({"z": 1, "a": {"y": [1.5, -0.0, 1e300], "b": "\u{1}\n\"é"}})),
            r#"{"a":{"b":"\u0001\n\"é","y":[1.5,0,1e+300]},"z":1}"#
        );
        assert_eq!(canonical(&json!(9_007_199_254_740_993_u64)), "9007199254740993");
        assert_eq!(canonical(&json!(-12.0)), "-12");
    }

    #[test]
    fn results_write_the_same_bytes_directly() {
        use crate::{Context, Snapshot};
        let snapshot = Snapshot::from_value(&json!({"schemaVersion": 1, "revision": 9, "flags": {
            "f": {"type": "object", "state": "shadow", "variants": {"a": {"z": 1.0, "é": "\u{7}"}, "b": {}},
                  "offVariant": "a", "fallthrough": {"variant": "b"}, "metadata": {"owner": "ü", "tags": ["x"]}},
            "g": {"type": "number", "state": "on", "variants": {"n": 2.5}, "offVariant": "n",
                  "fallthrough": {"rollout": {"variant": "n", "otherwise": "n", "percentage": 5}}}}}))
        .unwrap();
        let context = Context::new();
        for (flag, expected) in [("f", None), ("g", None), ("missing", None), ("f", Some(crate::FlagType::Boolean))] {
            let evaluation = snapshot.evaluate(flag, &context, 0, expected);
            for revision in [Some(9), None] {
                let default = json!({"d": [1, "ä"]});
                assert_eq!(
                    evaluation.to_canonical_json(&default, revision),
                    canonical(&evaluation.to_json(&default, revision))
                );
            }
        }
    }
}
