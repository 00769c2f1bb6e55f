//! Which context attributes an evaluation can read.
//!
//! Converting a host object into a [`Context`](crate::Context) is most of the cost of a call
//! in bindings whose hosts are dynamic languages (every attribute is several Node-API or
//! CPython calls). [`Snapshot::attributes_read`] names the top-level attributes one flag's
//! evaluation can look at, so such a binding converts only those, plus whatever it must
//! convert to check that the rest of the context is valid. Evaluating with the context
//! restricted to these attributes gives the same result as with the whole context (the
//! conformance runner checks this on every case).

use alloc::boxed::Box;
use alloc::collections::BTreeSet;

use crate::snapshot::Snapshot;

/// Sorted top-level attribute names.
pub(crate) type AttributeNames = Box<[Box<str>]>;

/// The attribute names found so far, and the flags and segments already walked.
pub(crate) struct Reads<'s> {
    names: BTreeSet<&'s str>,
    flags_seen: BTreeSet<u32>,
    segments_seen: BTreeSet<u32>,
}

impl<'s> Reads<'s> {
    /// Records a top-level attribute name.
    pub(crate) fn name(&mut self, name: &'s str) {
        self.names.insert(name);
    }

    /// Walks segment `id` unless it was walked already.
    pub(crate) fn segment(&mut self, snapshot: &'s Snapshot, id: u32) {
        if self.segments_seen.insert(id) {
            snapshot.segments.reads(id, snapshot, self);
        }
    }

    /// Walks flag `id` unless it was walked already.
    pub(crate) fn flag(&mut self, snapshot: &'s Snapshot, id: u32) {
        if self.flags_seen.insert(id)
            && let Some(Ok(flag)) = snapshot.flags.get(id as usize)
        {
            flag.reads(snapshot, self);
        }
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
    /// assert_eq!(snapshot.attributes_read("eu-only"), [Box::from("country")]);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    ///
    /// Each flag's list is computed on first use and kept with the snapshot.
    pub fn attributes_read(&self, key: &str) -> &[Box<str>] {
        let Some(id) = self.flag_id(key) else { return &[] };
        let Some(cell) = self.reads.get(id as usize) else { return &[] };
        cell.get_or_init(|| {
            let mut reads =
                Reads { names: BTreeSet::new(), flags_seen: BTreeSet::new(), segments_seen: BTreeSet::new() };
            reads.flag(self, id);
            Box::new(reads.names.into_iter().map(Box::from).collect())
        })
    }
}
