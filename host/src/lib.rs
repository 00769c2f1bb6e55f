#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod args;
pub mod clock;
pub mod counters;
pub mod guard;
mod holder;
pub mod limits;
pub mod outcomes;
mod series;

pub use counters::Counters;
pub use holder::{Holder, Loaded, Replaced};

use pennon_core::{Error, ErrorCode, Snapshot, Value};

/// Loads a document a host handed over already parsed (a JS object, a Python dict) exactly
/// as its JSON text would load: one document, one answer, whatever its form (nesting
/// limits counted per flag, numbers as text reads them). Loading objects is a cold path;
/// the text round trip costs less than the compile that follows.
pub fn load_document(document: &Value) -> Result<Snapshot, Error> {
    // serde_json writes numbers as JSON text carries them (`100.0` stays a float).
    let text = serde_json::to_string(document)
        .map_err(|e| Error::new(ErrorCode::Internal, "", format!("the document could not be written as JSON: {e}")))?;
    Snapshot::from_json(&text)
}

/// The flags whose evaluation may differ between two engines' snapshots (core's
/// [`Snapshot::changed_flags`]), where an engine without a snapshot counts as an empty
/// one: every flag of the other is then added or removed. Sorted keys.
pub fn changed_flags(new: Option<&Snapshot>, previous: Option<&Snapshot>) -> Vec<String> {
    match (new, previous) {
        (Some(new), Some(previous)) => new.changed_flags(previous).into_iter().map(str::to_owned).collect(),
        (Some(only), None) | (None, Some(only)) => only.flag_keys().map(str::to_owned).collect(),
        (None, None) => Vec::new(),
    }
}

#[cfg(test)]
mod changed_flags_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snapshot(flags: &str) -> Snapshot {
        Snapshot::from_json(&format!(r#"{{"schemaVersion": 1, "revision": 1, "flags": {{{flags}}}}}"#)).unwrap()
    }

    #[test]
    fn an_engine_without_a_snapshot_counts_as_empty() {
        let flag = r#""a": {"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off", "fallthrough": {"variant": "on"}}"#;
        let one = snapshot(flag);
        assert_eq!(changed_flags(Some(&one), None), ["a"]);
        assert_eq!(changed_flags(None, Some(&one)), ["a"]);
        assert!(changed_flags(None, None).is_empty());
        assert!(changed_flags(Some(&one), Some(&snapshot(flag))).is_empty());
    }
}
