//! Which context attributes an evaluation can read.
//!
//! Converting a host object into a [`Context`](crate::Context) is most of the cost of a call
//! in bindings whose hosts are dynamic languages (every attribute is several Node-API or
//! CPython calls). [`Snapshot::attributes_read`] names the top-level attributes one flag's
//! evaluation can look at, so such a binding converts only those, plus whatever it must
//! convert to check that the rest of the context is valid. Evaluating with the context
//! restricted to these attributes gives the same result as with the whole context (the
//! conformance runner checks this on every case).

use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;

use crate::snapshot::Snapshot;

/// The attribute names found so far, and the flags and segments already walked.
pub(crate) struct Reads<'s> {
    names: BTreeSet<&'s str>,
    flags_seen: Vec<bool>,
    segments_seen: Vec<bool>,
}

impl<'s> Reads<'s> {
    /// Records a top-level attribute name.
    pub(crate) fn name(&mut self, name: &'s str) {
        self.names.insert(name);
    }

    /// Walks segment `id` unless it was walked already.
    pub(crate) fn segment(&mut self, snapshot: &'s Snapshot, id: u32) {
        if mark(&mut self.segments_seen, id) {
            snapshot.segments.reads(id, snapshot, self);
        }
    }

    /// Walks flag `id` unless it was walked already.
    pub(crate) fn flag(&mut self, snapshot: &'s Snapshot, id: u32) {
        if mark(&mut self.flags_seen, id)
            && let Some(Ok(flag)) = snapshot.flags.get(id as usize)
        {
            flag.reads(snapshot, self);
        }
    }
}

/// Sets `seen[id]`; whether it was unset (out-of-range ids count as seen).
fn mark(seen: &mut [bool], id: u32) -> bool {
    match seen.get_mut(id as usize) {
        Some(slot) if !*slot => {
            *slot = true;
            true
        }
        _ => false,
    }
}

impl Snapshot {
    /// The top-level context attributes that evaluating flag `key` can read, sorted: those
    /// its rules, targets, overrides, canary and rollouts look at, and those of its
    /// segments and prerequisites. Empty for a flag that reads none (a static flag) and
    /// for unknown or invalid flags.
    ///
    /// Evaluating `key` with a context restricted to these attributes gives the same
    /// result as with the whole context, so a binding may convert only them (after
    /// checking that the rest of the host's context is valid: an invalid context is
    /// `INVALID_CONTEXT` whatever the flag reads).
    ///
    /// ```
    /// use pennon_core::Snapshot;
    ///
    /// let snapshot = Snapshot::from_json(r#"{
    ///   "schemaVersion": 1, "revision": 1,
    ///   "flags": { "eu-only": { "type": "boolean", "state": "on",
    ///     "variants": { "on": true, "off": false }, "offVariant": "off",
    ///     "rules": [ { "id": "eu", "serve": { "variant": "on" },
    ///       "when": { "attribute": "country", "op": "in", "values": ["DE", "FR"] } } ],
    ///     "fallthrough": { "variant": "off" } } }
    /// }"#)?;
    /// assert_eq!(snapshot.attributes_read("eu-only"), ["country"]);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    pub fn attributes_read(&self, key: &str) -> Vec<&str> {
        let Some(id) = self.flag_id(key) else { return Vec::new() };
        let mut reads = Reads {
            names: BTreeSet::new(),
            flags_seen: vec![false; self.flags.len()],
            segments_seen: vec![false; self.segments.len()],
        };
        reads.flag(self, id);
        reads.names.into_iter().collect()
    }
}
