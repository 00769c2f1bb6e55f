//! A per-evaluation memo of prerequisite results and segment memberships.
//!
//! Prerequisites and `inSegment` references form DAGs (cycles are rejected at load), and
//! a DAG can reach one node along exponentially many paths: flags that each require every
//! later flag make a naive evaluation take 2^(n−1) steps. With the memo, one evaluation
//! computes each flag and each segment at most once, so its cost is linear in the size of
//! the snapshot.
//!
//! The memo allocates nothing until the first prerequisite or segment is computed, and
//! nothing for the first [`INLINE`] of them: the common flag (no prerequisites, a segment
//! or two) stays allocation-free.

use core::hash::BuildHasherDefault;
use hashbrown::HashMap;
use rustc_hash::FxHasher;

/// Entries kept on the stack before spilling into a hash map.
const INLINE: usize = 8;

/// What the memo remembers: flag ids and segment ids, tagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum Key {
    #[default]
    Vacant,
    Flag(u32),
    Segment(u32),
}

#[derive(Debug)]
struct Tables {
    inline: [(Key, u32); INLINE],
    len: usize,
    spill: HashMap<Key, u32, BuildHasherDefault<FxHasher>>,
}

/// The work one evaluation did (tests only): entries computed and memo look-ups (one
/// per prerequisite edge or `inSegment` reference followed).
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Work {
    pub(crate) computed_flags: usize,
    pub(crate) computed_segments: usize,
    pub(crate) lookups: usize,
}

/// Results already computed during one evaluation (or one `evaluate_all`).
#[derive(Debug, Default)]
pub(crate) struct Memo {
    tables: Option<Tables>,
    #[cfg(test)]
    pub(crate) work: Work,
}

/// A flag's served variant id, or none (the flag errored).
const NO_VARIANT: u32 = u32::MAX;

impl Memo {
    /// The variant flag `id` serves, computed by `compute` on first use.
    pub(crate) fn flag(&mut self, id: u32, compute: impl FnOnce(&mut Memo) -> Option<u32>) -> Option<u32> {
        #[cfg(test)]
        {
            self.work.lookups += 1;
        }
        let value = match self.get(Key::Flag(id)) {
            Some(value) => value,
            None => {
                #[cfg(test)]
                {
                    self.work.computed_flags += 1;
                }
                let value = compute(self).unwrap_or(NO_VARIANT);
                self.insert(Key::Flag(id), value);
                value
            }
        };
        (value != NO_VARIANT).then_some(value)
    }

    /// Whether the context is in segment `id`, computed by `compute` on first use.
    pub(crate) fn segment(&mut self, id: u32, compute: impl FnOnce(&mut Memo) -> bool) -> bool {
        #[cfg(test)]
        {
            self.work.lookups += 1;
        }
        match self.get(Key::Segment(id)) {
            Some(value) => value != 0,
            None => {
                #[cfg(test)]
                {
                    self.work.computed_segments += 1;
                }
                let value = compute(self);
                self.insert(Key::Segment(id), u32::from(value));
                value
            }
        }
    }

    fn get(&self, key: Key) -> Option<u32> {
        let tables = self.tables.as_ref()?;
        match tables.inline.iter().take(tables.len).find(|(k, _)| *k == key) {
            Some((_, value)) => Some(*value),
            None => tables.spill.get(&key).copied(),
        }
    }

    fn insert(&mut self, key: Key, value: u32) {
        let tables = self.tables.get_or_insert_with(|| Tables {
            inline: [(Key::Vacant, 0); INLINE],
            len: 0,
            spill: HashMap::default(),
        });
        match tables.inline.get_mut(tables.len) {
            Some(slot) => {
                *slot = (key, value);
                tables.len += 1;
            }
            None => {
                tables.spill.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_each_entry_once_past_the_inline_slots() {
        let mut memo = Memo::default();
        for round in 0..3 {
            for id in 0..(3 * INLINE as u32) {
                let served = memo.flag(id, |_| (id % 3 != 0).then_some(id * 2));
                assert_eq!(served, (id % 3 != 0).then_some(id * 2), "round {round}, flag {id}");
                assert_eq!(memo.segment(id, |_| id % 2 == 0), id % 2 == 0, "round {round}, segment {id}");
            }
        }
        let work = memo.work;
        assert_eq!((work.computed_flags, work.computed_segments), (3 * INLINE, 3 * INLINE));
        assert_eq!(work.lookups, 3 * 2 * 3 * INLINE);
    }

    #[test]
    fn nested_computations_see_each_other() {
        let mut memo = Memo::default();
        let outer = memo.flag(1, |memo| memo.flag(2, |_| Some(7)).map(|v| v + 1));
        assert_eq!(outer, Some(8));
        assert_eq!(memo.flag(2, |_| unreachable!("memoized")), Some(7));
    }
}
