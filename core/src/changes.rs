//! Which flags may evaluate differently between two snapshots
//! ([`Snapshot::changed_flags`]): the keys of an SDK's `change` event, computed here so
//! that every language reports the same ones.
//!
//! Each flag and segment carries a *fingerprint* computed at load: XXH3-64 of an
//! encoding of its definition's JSON value ([`Fingerprinter`]), so formatting, key order
//! and `1.0` versus `1` do not count as changes and a document loaded as text or as a
//! tree fingerprints the same. A flag or segment *differs* when it was added or removed,
//! its fingerprint differs, or its load error differs (valid ↔ invalid, or another
//! error). Differences then spread to users along the references core compiled: a flag
//! uses its prerequisite flags and the segments its rules name, a segment the segments
//! its condition names. The spreading runs in both snapshots' graphs, so a reference
//! that resolves in only one of them (a prerequisite on a flag that was added or
//! removed) still counts.
//!
//! An invalid flag has no references: its evaluation is its load error, so it is
//! reported exactly when its definition or its error changed.

use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;
use serde_json::Value;
use twox_hash::XxHash3_64;

use crate::error::Error;
use crate::flag::Flag;
use crate::snapshot::Snapshot;

/// Fingerprints definitions, reusing one buffer for their encoding.
#[derive(Default)]
pub(crate) struct Fingerprinter {
    buffer: Vec<u8>,
}

impl Fingerprinter {
    /// XXH3-64 (seed 0) of a compact, unambiguous encoding of `value` that sees what its
    /// canonical JSON ([`crate::json::canonical`]) sees: object keys in byte order, numbers
    /// by value (`50` = `50.0`), no formatting. Strings are length-prefixed rather than
    /// escaped, so the encoding is a run of copies (escaping every character would make
    /// fingerprints a third of a load).
    pub(crate) fn fingerprint(&mut self, value: &Value) -> u64 {
        self.buffer.clear();
        encode(value, &mut self.buffer);
        XxHash3_64::oneshot(&self.buffer)
    }

    /// XXH3-64 (seed 0) of text that is not JSON.
    pub(crate) fn fingerprint_text(&mut self, text: &str) -> u64 {
        XxHash3_64::oneshot(text.as_bytes())
    }
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(b'n'),
        Value::Bool(false) => out.push(b'f'),
        Value::Bool(true) => out.push(b't'),
        Value::Number(number) => {
            // Integers as i64 when they fit, then u64; floats that are integers within
            // ±2^53 as those integers (the canonical JSON's rule), other floats by bits.
            let as_integer = number.as_i64().or_else(|| {
                let f = number.as_f64()?;
                let i = f as i64;
                (i as f64 == f && i.unsigned_abs() <= 1 << 53).then_some(i)
            });
            match (as_integer, number.as_u64()) {
                (Some(i), _) => {
                    out.push(b'i');
                    out.extend_from_slice(&i.to_le_bytes());
                }
                (None, Some(u)) => {
                    out.push(b'u');
                    out.extend_from_slice(&u.to_le_bytes());
                }
                (None, None) => {
                    out.push(b'd');
                    out.extend_from_slice(&number.as_f64().unwrap_or(0.0).to_bits().to_le_bytes());
                }
            }
        }
        Value::String(text) => encode_string(b's', text, out),
        Value::Array(items) => {
            out.push(b'[');
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            items.iter().for_each(|item| encode(item, out));
        }
        Value::Object(map) => {
            out.push(b'{');
            out.extend_from_slice(&(map.len() as u64).to_le_bytes());
            // `Map` is a `BTreeMap` (keys in byte order) unless serde_json's
            // `preserve_order` is on somewhere in the build: sort only then.
            if map.keys().zip(map.keys().skip(1)).all(|(a, b)| a.as_bytes() < b.as_bytes()) {
                map.iter().for_each(|(key, item)| encode_entry(key, item, out));
            } else {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                entries.into_iter().for_each(|(key, item)| encode_entry(key, item, out));
            }
        }
    }
}

fn encode_entry(key: &str, item: &Value, out: &mut Vec<u8>) {
    encode_string(b'k', key, out);
    encode(item, out);
}

fn encode_string(tag: u8, text: &str, out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Walks two key-sorted lists together: `(Some(i), Some(j))` for a key in both,
/// `(Some(i), None)` for one only in `new`, `(None, Some(j))` for one only in `old`.
fn join<'k>(
    new: impl Iterator<Item = &'k str>,
    old: impl Iterator<Item = &'k str>,
    mut each: impl FnMut(Option<usize>, Option<usize>),
) {
    let mut new = new.enumerate().peekable();
    let mut old = old.enumerate().peekable();
    loop {
        let order = match (new.peek(), old.peek()) {
            (Some((_, a)), Some((_, b))) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return,
        };
        match order {
            Ordering::Less => each(new.next().map(|(i, _)| i), None),
            Ordering::Greater => each(None, old.next().map(|(j, _)| j)),
            Ordering::Equal => each(new.next().map(|(i, _)| i), old.next().map(|(j, _)| j)),
        }
    }
}

/// A definition's fingerprint and load outcome.
type Entry<'s, T> = Option<(u64, &'s Result<T, Error>)>;

/// Whether two entries differ (an entry that cannot be found always does).
fn differs<T>(a: Entry<'_, T>, b: Entry<'_, T>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    a.0 != b.0
        || match (a.1, b.1) {
            (Ok(_), Ok(_)) => false,
            (Err(x), Err(y)) => x != y,
            _ => true,
        }
}

impl Snapshot {
    /// The keys of the flags whose evaluation may differ between `previous` and this
    /// snapshot, sorted and without duplicates: what an SDK reports in its `change` event
    /// after replacing `previous` with `self`.
    ///
    /// A flag is reported when
    /// - it was added or removed (a removed key is borrowed from `previous`);
    /// - its definition changed (compared by a fingerprint of its canonical JSON, so
    ///   reformatting or reordering keys is no change), or its load error changed
    ///   (including becoming valid or invalid);
    /// - it is valid and something it uses was reported or changed: a prerequisite flag
    ///   (transitively), or a segment its rules name, directly or through nested
    ///   `inSegment`, that was added, removed or changed.
    ///
    /// Nothing else counts: two snapshots that differ only in `revision`, `generatedAt`,
    /// `environment` or top-level `metadata` give an empty list. An invalid flag has no
    /// dependencies (its answer is its load error), so it is reported only when its
    /// definition or its error changed.
    ///
    /// Linear in the size of both snapshots' definitions and reference graphs; nothing is
    /// evaluated.
    ///
    /// ```
    /// use pennon_core::Snapshot;
    ///
    /// let flag = |variant: &str| format!(r#"{{ "type": "boolean", "state": "on",
    ///   "variants": {{ "on": true, "off": false }}, "offVariant": "off",
    ///   "fallthrough": {{ "variant": "{variant}" }} }}"#);
    /// let before = Snapshot::from_json(&format!(
    ///     r#"{{ "schemaVersion": 1, "revision": 1, "flags": {{ "a": {}, "b": {}, "gone": {} }} }}"#,
    ///     flag("on"), flag("on"), flag("on")))?;
    /// let after = Snapshot::from_json(&format!(
    ///     r#"{{ "schemaVersion": 1, "revision": 2, "flags": {{ "a": {}, "b": {}, "new": {} }} }}"#,
    ///     flag("on"), flag("off"), flag("on")))?;
    /// assert_eq!(after.changed_flags(&before), ["b", "gone", "new"]);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    pub fn changed_flags<'a>(&'a self, previous: &'a Snapshot) -> Vec<&'a str> {
        let (new, old) = (self, previous);
        let mut new_seeds = Marks::new(new);
        let mut old_seeds = Marks::new(old);
        join(new.flag_keys(), old.flag_keys(), |i, j| match (i, j) {
            (Some(i), Some(j)) => {
                if differs(new.flag_entry(i), old.flag_entry(j)) {
                    new_seeds.flag(i);
                    old_seeds.flag(j);
                }
            }
            (Some(i), None) => new_seeds.flag(i),
            (None, Some(j)) => old_seeds.flag(j),
            (None, None) => {}
        });
        join(new.segments.keys(), old.segments.keys(), |i, j| match (i, j) {
            (Some(i), Some(j)) => {
                if differs(new.segments.entry(i), old.segments.entry(j)) {
                    new_seeds.segment(i);
                    old_seeds.segment(j);
                }
            }
            (Some(i), None) => new_seeds.segment(i),
            (None, Some(j)) => old_seeds.segment(j),
            (None, None) => {}
        });
        let in_new = new_seeds.spread();
        let in_old = old_seeds.spread();

        // Both lists are sorted by key (flag ids are): merge them.
        let reported = |snapshot: &'a Snapshot, marks: &[bool]| {
            snapshot
                .flag_keys()
                .zip(marks.iter().copied())
                .filter_map(|(key, marked)| marked.then_some(key))
                .collect::<Vec<&'a str>>()
        };
        let (a, b) = (reported(new, &in_new), reported(old, &in_old));
        let mut out = Vec::with_capacity(a.len().max(b.len()));
        join(a.iter().copied(), b.iter().copied(), |i, j| {
            if let Some(key) = i.and_then(|i| a.get(i)).or_else(|| j.and_then(|j| b.get(j))) {
                out.push(*key);
            }
        });
        out
    }

    /// A flag's fingerprint and load outcome.
    fn flag_entry(&self, id: usize) -> Entry<'_, Flag> {
        Some((*self.fingerprints.get(id)?, self.flags.get(id)?))
    }
}

/// Nodes of one snapshot's reference graph (flags, then segments) marked as changed.
struct Marks<'s> {
    snapshot: &'s Snapshot,
    flags: usize,
    marked: Vec<bool>,
}

impl<'s> Marks<'s> {
    fn new(snapshot: &'s Snapshot) -> Self {
        let flags = snapshot.flags.len();
        Marks { snapshot, flags, marked: vec![false; flags + snapshot.segments.len()] }
    }

    fn flag(&mut self, id: usize) {
        if let Some(slot) = self.marked.get_mut(id) {
            *slot = true;
        }
    }

    fn segment(&mut self, id: usize) {
        if let Some(slot) = self.marked.get_mut(self.flags + id) {
            *slot = true;
        }
    }

    /// Marks every user of a marked node, to a fixpoint; returns the flags' marks.
    fn spread(self) -> Vec<bool> {
        let Marks { snapshot, flags, mut marked } = self;
        // Users of each node: flags of their prerequisites and segments, segments of the
        // segments their condition names. Only valid entries have references.
        let mut users: Vec<Vec<u32>> = vec![Vec::new(); marked.len()];
        let mut referenced = Vec::new();
        for (id, flag) in snapshot.flags.iter().enumerate() {
            let Ok(flag) = flag else { continue };
            referenced.clear();
            flag.segments(&mut referenced);
            let targets = flag
                .prerequisites
                .iter()
                .filter_map(|p| p.flag.map(|f| f as usize))
                .chain(referenced.iter().map(|&s| flags + s as usize));
            for target in targets {
                if let Some(list) = users.get_mut(target) {
                    list.push(id as u32);
                }
            }
        }
        for id in 0..snapshot.segments.len() {
            referenced.clear();
            snapshot.segments.references(id, &mut referenced);
            for &target in &referenced {
                if let Some(list) = users.get_mut(flags + target as usize) {
                    list.push((flags + id) as u32);
                }
            }
        }
        let mut work: Vec<usize> = (0..marked.len()).filter(|&n| marked.get(n).copied().unwrap_or(false)).collect();
        while let Some(node) = work.pop() {
            for &user in users.get(node).map_or(&[][..], Vec::as_slice) {
                if let Some(slot) = marked.get_mut(user as usize)
                    && !*slot
                {
                    *slot = true;
                    work.push(user as usize);
                }
            }
        }
        marked.truncate(flags);
        marked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use serde_json::json;

    fn flag(fallthrough: &str) -> Value {
        json!({"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
               "fallthrough": {"variant": fallthrough}})
    }

    fn needs(prerequisite: &str) -> Value {
        let mut flag = flag("on");
        flag["prerequisites"] = json!([{"flag": prerequisite, "variants": ["on"]}]);
        flag
    }

    fn uses(segment: &str) -> Value {
        let mut flag = flag("off");
        flag["rules"] = json!([{"id": "r", "when": {"inSegment": segment}, "serve": {"variant": "on"}}]);
        flag
    }

    fn snapshot(revision: u64, flags: Value, segments: Value) -> Snapshot {
        Snapshot::from_value(&json!({"schemaVersion": 1, "revision": revision, "generatedAt": format_time(revision),
            "flags": flags, "segments": segments}))
        .unwrap()
    }

    fn format_time(revision: u64) -> String {
        alloc::format!("2026-01-01T00:00:{:02}Z", revision % 60)
    }

    fn changed(after: &Snapshot, before: &Snapshot) -> Vec<String> {
        let keys: Vec<String> = after.changed_flags(before).into_iter().map(ToString::to_string).collect();
        let mut reverse: Vec<String> = before.changed_flags(after).into_iter().map(ToString::to_string).collect();
        reverse.sort();
        assert_eq!(keys, reverse, "the relation is symmetric");
        keys
    }

    #[test]
    fn identical_definitions_at_another_revision_are_no_change() {
        let flags = json!({"a": flag("on"), "b": needs("a"), "c": uses("s")});
        let segments = json!({"s": {"included": ["u-1"]}});
        let before = snapshot(1, flags.clone(), segments.clone());
        let after = snapshot(2, flags, segments);
        assert!(after.changed_flags(&before).is_empty());
        assert!(before.changed_flags(&before).is_empty());
    }

    #[test]
    fn formatting_and_key_order_are_no_change() {
        let before = Snapshot::from_json(
            r#"{"schemaVersion":1,"revision":1,"flags":{"a":{"type":"number","state":"on",
               "variants":{"x":1.0,"y":2},"offVariant":"x","fallthrough":{"variant":"y"}}}}"#,
        )
        .unwrap();
        let after = Snapshot::from_json(
            "{ \"revision\": 2, \"schemaVersion\": 1,\n \"flags\": { \"a\": { \"fallthrough\": { \"variant\": \"y\" },\n \
             \"offVariant\": \"x\", \"variants\": { \"y\": 2, \"x\": 1 }, \"state\": \"on\", \"type\": \"number\" } } }",
        )
        .unwrap();
        assert!(after.changed_flags(&before).is_empty());
        let tree = Snapshot::from_value(
            &serde_json::from_str(
                r#"{"schemaVersion":1,"revision":3,"flags":{"a":{"type":"number","state":"on",
               "variants":{"x":1,"y":2},"offVariant":"x","fallthrough":{"variant":"y"}}}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert!(tree.changed_flags(&before).is_empty(), "text and tree loads fingerprint alike");
    }

    #[test]
    fn added_removed_and_changed_flags() {
        let before = snapshot(1, json!({"same": flag("on"), "edited": flag("on"), "removed": flag("on")}), json!({}));
        let after = snapshot(2, json!({"same": flag("on"), "edited": flag("off"), "added": flag("on")}), json!({}));
        assert_eq!(changed(&after, &before), ["added", "edited", "removed"]);
        // A removed key borrows from `previous`.
        assert_eq!(after.changed_flags(&before), ["added", "edited", "removed"]);
    }

    #[test]
    fn prerequisites_spread_changes_transitively() {
        let flags =
            |leaf: &str| json!({"leaf": flag(leaf), "mid": needs("leaf"), "top": needs("mid"), "other": flag("on")});
        let before = snapshot(1, flags("on"), json!({}));
        let after = snapshot(2, flags("off"), json!({}));
        assert_eq!(changed(&after, &before), ["leaf", "mid", "top"]);
    }

    #[test]
    fn prerequisites_on_added_or_removed_flags() {
        // `a` needs `b`, which is not in the snapshot at first (never satisfied), then is.
        let before = snapshot(1, json!({"a": needs("b"), "c": flag("on")}), json!({}));
        let after = snapshot(2, json!({"a": needs("b"), "b": flag("on"), "c": flag("on")}), json!({}));
        assert_eq!(before.warnings().len(), 1);
        assert_eq!(changed(&after, &before), ["a", "b"]);
    }

    #[test]
    fn segments_spread_changes_through_two_levels() {
        let segments = |users: Value| {
            json!({"inner": {"included": users}, "middle": {"when": {"inSegment": "inner"}},
                   "outer": {"when": {"not": {"inSegment": "middle"}}}, "unrelated": {"included": ["u-1"]}})
        };
        let flags = json!({"direct": uses("inner"), "nested": uses("outer"), "through": needs("nested"),
                           "elsewhere": uses("unrelated"), "plain": flag("on")});
        let before = snapshot(1, flags.clone(), segments(json!(["u-1"])));
        let after = snapshot(2, flags, segments(json!(["u-2"])));
        assert_eq!(changed(&after, &before), ["direct", "nested", "through"]);
    }

    #[test]
    fn segments_added_or_removed() {
        // `a` uses `s`, which does not exist at first: `a` is invalid, then valid.
        let before = snapshot(1, json!({"a": uses("s"), "b": flag("on")}), json!({}));
        let after = snapshot(2, json!({"a": uses("s"), "b": flag("on")}), json!({"s": {"included": ["u-1"]}}));
        assert_eq!(changed(&after, &before), ["a"]);
        // A segment nobody uses changes nothing.
        let later = snapshot(3, json!({"a": uses("s"), "b": flag("on")}), json!({"s": {"included": ["u-1"]}, "t": {}}));
        assert!(changed(&later, &after).is_empty());
    }

    #[test]
    fn invalid_flags_change_with_their_error() {
        let bad = |op: &str| {
            let mut flag = flag("on");
            flag["rules"] =
                json!([{"id": "r", "when": {"attribute": "x", "op": op, "value": 1}, "serve": {"variant": "on"}}]);
            flag
        };
        let before = snapshot(1, json!({"a": bad("nope"), "b": bad("nope"), "c": needs("a")}), json!({}));
        let same = snapshot(2, json!({"a": bad("nope"), "b": bad("nope"), "c": needs("a")}), json!({}));
        assert!(changed(&same, &before).is_empty());
        let after = snapshot(3, json!({"a": bad("nope2"), "b": bad("nope"), "c": needs("a")}), json!({}));
        assert_eq!(changed(&after, &before), ["a", "c"]);
        // Fixing a flag is a change too.
        let fixed = snapshot(4, json!({"a": bad("nope"), "b": bad("gt"), "c": needs("a")}), json!({}));
        assert_eq!(changed(&fixed, &before), ["b"]);
    }

    #[test]
    fn an_invalid_segment_changes_the_flags_that_name_it() {
        let segments = |op: &str| json!({"s": {"when": {"attribute": "x", "op": op, "value": 1}}});
        let flags = json!({"a": uses("s"), "b": flag("on")});
        let before = snapshot(1, flags.clone(), segments("gt"));
        let after = snapshot(2, flags, segments("bad-op"));
        assert_eq!(changed(&after, &before), ["a"]);
    }

    #[test]
    fn cycles_terminate() {
        let before =
            snapshot(1, json!({"a": needs("b"), "b": needs("a"), "c": needs("a"), "d": flag("on")}), json!({}));
        let after = snapshot(2, json!({"a": needs("b"), "b": needs("d"), "c": needs("a"), "d": flag("on")}), json!({}));
        assert_eq!(changed(&after, &before), ["a", "b", "c"]);
    }
}
