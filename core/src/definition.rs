//! Flag and segment definitions awaiting decoding.

use alloc::format;
use alloc::vec::Vec;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::changes::Fingerprinter;
use crate::decode::Path;
use crate::error::{Error, ErrorCode};

/// A flag or segment definition awaiting decoding: raw JSON text (from
/// [`Snapshot::from_json`](crate::Snapshot::from_json), parsed one at a time) or a
/// borrowed tree (from [`Snapshot::from_value`](crate::Snapshot::from_value), copied one
/// at a time). Either way decoding owns the value, so variant values and metadata move
/// into the plan instead of being copied.
pub(crate) enum Definition<'a> {
    Raw(&'a RawValue),
    Tree(&'a Value),
}

impl Definition<'_> {
    pub(crate) fn into_value(self, path: &Path<'_>) -> Result<Value, Error> {
        match self {
            Definition::Raw(raw) => serde_json::from_str(raw.get())
                .map_err(|e| path.error(ErrorCode::InvalidJson, format!("not JSON: {e}"))),
            Definition::Tree(value) => Ok(value.clone()),
        }
    }
}

impl Definition<'_> {
    /// [`Definition::into_value`], first pushing the definition's fingerprint onto
    /// `fingerprints` (of its raw text when it is not JSON, which the load error then
    /// reports anyway).
    pub(crate) fn into_fingerprinted_value(
        self,
        path: &Path<'_>,
        fingerprinter: &mut Fingerprinter,
        fingerprints: &mut Vec<u64>,
    ) -> Result<Value, Error> {
        let raw = match self {
            Definition::Raw(raw) => raw.get(),
            Definition::Tree(_) => "",
        };
        let value = self.into_value(path);
        fingerprints.push(match &value {
            Ok(value) => fingerprinter.fingerprint(value),
            Err(_) => fingerprinter.fingerprint_text(raw),
        });
        value
    }
}
