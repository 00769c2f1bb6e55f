#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod args;
pub mod clock;
pub mod guard;
mod holder;
pub mod limits;

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
