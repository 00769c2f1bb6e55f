//! Reusable segments: included and excluded keys plus an optional condition.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

use crate::changes::Fingerprinter;
use crate::condition::Condition;
use crate::context::Context;
use crate::decode::{self, Decoded, Obj, Path};
use crate::definition::Definition;
use crate::error::{Error, ErrorCode};
use crate::memo::Memo;
use crate::reads::Reads;
use crate::set::StringSet;

/// A compiled segment.
#[derive(Debug)]
pub(crate) struct Segment {
    included: StringSet,
    excluded: StringSet,
    when: Option<Condition>,
}

/// All segments of a snapshot, by name and by id.
#[derive(Debug, Default)]
pub(crate) struct SegmentTable {
    ids: BTreeMap<Box<str>, u32>,
    /// Indexed by id; sorted by key. Invalid segments keep their load error.
    entries: Vec<(Box<str>, Result<Segment, Error>)>,
    /// Indexed by id: a fingerprint of each definition (`Snapshot::changed_flags`).
    fingerprints: Vec<u64>,
}

impl SegmentTable {
    /// Decodes the `segments` entries (sorted by key); invalid segments are kept as errors.
    pub(crate) fn decode(entries: Vec<(String, Definition<'_>)>, fingerprinter: &mut Fingerprinter) -> SegmentTable {
        let mut table = SegmentTable::default();
        for (id, (key, _)) in entries.iter().enumerate() {
            table.ids.insert(key.as_str().into(), id as u32);
        }
        let root = Path::Root;
        let segments_path = root.key("segments");
        let mut fingerprints = Vec::with_capacity(entries.len());
        let decoded: Vec<_> = entries
            .into_iter()
            .map(|(key, definition)| {
                let path = segments_path.key(&key);
                let value = definition.into_fingerprinted_value(&path, fingerprinter, &mut fingerprints);
                let segment = if decode::is_valid_key(&key) {
                    value.and_then(|value| Segment::decode(&value, &path, &table))
                } else {
                    Err(decode::invalid_key(&path, &key))
                };
                (key.into_boxed_str(), segment)
            })
            .collect();
        table.entries = decoded;
        table.fingerprints = fingerprints;
        table.reject_cycles();
        table
    }

    /// Resolves a segment name used by `inSegment`.
    pub(crate) fn resolve(&self, name: &str, path: &Path<'_>) -> Decoded<u32> {
        let id = *self
            .ids
            .get(name)
            .ok_or_else(|| path.error(ErrorCode::UnknownSegment, format!("there is no segment `{name}`")))?;
        match self.entries.get(id as usize) {
            Some((_, Err(error))) => {
                Err(path.error(ErrorCode::InvalidSegment, format!("segment `{name}` is invalid: {error}")))
            }
            _ => Ok(id),
        }
    }

    /// Whether the context is in segment `id`, computed once per evaluation (`memo`).
    pub(crate) fn contains(&self, id: u32, context: &Context, memo: &mut Memo) -> bool {
        memo.segment(id, |memo| self.compute_membership(id, context, memo))
    }

    fn compute_membership(&self, id: u32, context: &Context, memo: &mut Memo) -> bool {
        let Some((_, Ok(segment))) = self.entries.get(id as usize) else { return false };
        let key = context.get("targetingKey").and_then(Value::as_str);
        if let Some(key) = key {
            if segment.included.contains(key) {
                return true;
            }
            if segment.excluded.contains(key) {
                return false;
            }
        }
        segment.when.as_ref().is_some_and(|when| when.matches(context, self, memo))
    }

    /// Records the attributes segment `id` can read, unless it was walked already: the
    /// targeting key (`included` / `excluded`) and its condition's attributes.
    pub(crate) fn reads<'s>(&'s self, id: u32, reads: &mut Reads<'s>) {
        if !reads.first_visit_of_segment(id) {
            return;
        }
        if let Some((_, Ok(segment))) = self.entries.get(id as usize) {
            reads.name("targetingKey");
            if let Some(when) = &segment.when {
                when.reads(self, reads);
            }
        }
    }

    /// The number of segments (valid or not).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every segment key, sorted; positions are segment ids.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| &**key)
    }

    /// A segment's fingerprint and load outcome (`Snapshot::changed_flags`).
    pub(crate) fn entry(&self, id: usize) -> Option<(u64, &Result<Segment, Error>)> {
        Some((*self.fingerprints.get(id)?, &self.entries.get(id)?.1))
    }

    /// The segments a valid segment's condition names directly.
    pub(crate) fn references(&self, id: usize, out: &mut Vec<u32>) {
        if let Some((_, Ok(Segment { when: Some(when), .. }))) = self.entries.get(id) {
            when.segments(out);
        }
    }

    /// Invalid segments, sorted by key (for load warnings).
    pub(crate) fn errors(&self) -> impl Iterator<Item = &Error> {
        self.entries.iter().filter_map(|(_, entry)| entry.as_ref().err())
    }

    /// Marks segments on a reference cycle, nested too deeply, or referencing an invalid
    /// segment as invalid.
    fn reject_cycles(&mut self) {
        let edges: Vec<Vec<u32>> = self
            .entries
            .iter()
            .map(|(_, entry)| {
                let mut out = Vec::new();
                if let Ok(Segment { when: Some(when), .. }) = entry {
                    when.segments(&mut out);
                }
                out
            })
            .collect();
        let analysis = crate::graph::analyze(&edges);
        let invalid = crate::graph::propagate_invalid(&edges, |id| {
            matches!(self.entries.get(id), Some((_, Err(_))))
                || analysis.on_cycle.get(id).copied().unwrap_or(false)
                || analysis.depth.get(id).copied().unwrap_or(0) > crate::graph::MAX_DEPTH
        });
        let root = Path::Root;
        let segments_path = root.key("segments");
        for id in 0..self.entries.len() {
            let Some((key, entry)) = self.entries.get(id) else { continue };
            if entry.is_err() || !invalid.get(id).copied().unwrap_or(false) {
                continue;
            }
            let path = segments_path.key(key);
            let error = if analysis.on_cycle.get(id).copied().unwrap_or(false) {
                path.error(ErrorCode::SegmentCycle, format!("segment `{key}` references itself through `inSegment`"))
            } else if analysis.depth.get(id).copied().unwrap_or(0) > crate::graph::MAX_DEPTH {
                path.error(
                    ErrorCode::DepthExceeded,
                    format!("segments nest more than {} deep", crate::graph::MAX_DEPTH),
                )
            } else {
                path.error(ErrorCode::InvalidSegment, format!("segment `{key}` uses an invalid segment"))
            };
            if let Some((_, slot)) = self.entries.get_mut(id) {
                *slot = Err(error);
            }
        }
    }
}

impl Segment {
    fn decode(value: &Value, path: &Path<'_>, table: &SegmentTable) -> Decoded<Segment> {
        let obj = Obj::new(value, *path)?;
        obj.only(&["included", "excluded", "when", "description"])?;
        let keys = |field: &str| -> Decoded<StringSet> {
            match obj.opt(field) {
                Some((value, path)) => Ok(StringSet::new(decode::strings(value, &path)?)),
                None => Ok(StringSet::default()),
            }
        };
        let included = keys("included")?;
        let excluded = keys("excluded")?;
        let when = match obj.opt("when") {
            // Names resolve against `ids` only here: `entries` is still being built, so
            // references to invalid segments are caught by `reject_cycles`.
            Some((condition, path)) => Some(Condition::decode(condition, &path, table)?),
            None => None,
        };
        if let Some((description, path)) = obj.opt("description") {
            decode::string(description, &path)?;
        }
        Ok(Segment { included, excluded, when })
    }
}
