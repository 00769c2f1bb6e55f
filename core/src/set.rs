//! A set of strings for target lists and `in` operands, with a fixed hasher so that
//! nothing depends on per-process randomness.

use alloc::boxed::Box;
use core::hash::BuildHasherDefault;
use hashbrown::HashSet;
use rustc_hash::FxHasher;

/// Immutable set of strings.
#[derive(Debug, Default, Clone)]
pub(crate) struct StringSet(HashSet<Box<str>, BuildHasherDefault<FxHasher>>);

impl StringSet {
    pub(crate) fn new<'a>(items: impl IntoIterator<Item = &'a str>) -> Self {
        StringSet(items.into_iter().map(Box::from).collect())
    }

    pub(crate) fn contains(&self, item: &str) -> bool {
        self.0.contains(item)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
