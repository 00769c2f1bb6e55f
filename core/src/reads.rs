//! Which context attributes an evaluation can read.
//!
//! Converting a host object into a [`Context`](crate::Context) is most of the cost of a call
//! in bindings whose hosts are dynamic languages (every attribute is several Node-API or
//! CPython calls). [`Snapshot::attributes_read`](crate::Snapshot::attributes_read) names the
//! top-level attributes one flag's evaluation can look at, so such a binding converts only
//! those, plus whatever it must convert to check that the rest of the context is valid.
//! Evaluating with the context restricted to these attributes gives the same result as
//! with the whole context (the conformance runner checks this on every case).
//!
//! This module only collects: flags, conditions and segments walk themselves, each
//! given the tables it needs, and ask here whether a flag or segment was walked already.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;

/// Sorted top-level attribute names.
pub(crate) type AttributeNames = Box<[Box<str>]>;

/// The attribute names found so far, and the flags and segments already walked.
#[derive(Default)]
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

    /// True the first time it is asked about segment `id`: walk it then.
    pub(crate) fn first_visit_of_segment(&mut self, id: u32) -> bool {
        self.segments_seen.insert(id)
    }

    /// True the first time it is asked about flag `id`: walk it then.
    pub(crate) fn first_visit_of_flag(&mut self, id: u32) -> bool {
        self.flags_seen.insert(id)
    }

    /// The names found, sorted.
    pub(crate) fn into_names(self) -> AttributeNames {
        self.names.into_iter().map(Box::from).collect()
    }
}
