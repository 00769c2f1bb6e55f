//! Flags whose answer is the same for every context, and over which instants.
//!
//! Crossing from a host language into the engine costs more than evaluating a flag that
//! has no targeting. [`Snapshot::constancy`] tells a host that a flag's result at `now` is
//! the result for every context over a span of instants around `now`, and
//! [`Snapshot::constants`] lists every such flag with its result, so that a binding can
//! answer those flags from a table on its own side of the boundary, re-asking only when
//! the snapshot changes or the clock leaves the span.
//!
//! The analysis follows the evaluation order of `docs/snapshot-format.md` §4 and answers
//! "constant" only when it can prove it: a flag that fails to load, is `off` or `kill`, is
//! outside its window, has a prerequisite that fails for every context, or whose on path
//! (prerequisites that hold for every context, expired overrides only, no targets that
//! name anyone, no canary gate, rules whose conditions read nothing) ends in a fixed
//! variant. Every flag that [`Snapshot::attributes_read`] says reads nothing is one of
//! these. Time enters through windows, override expiries and the prerequisites' own spans;
//! rollouts, splits and canary cohorts always depend on the context (a context without the
//! bucketing attribute is an error), so they are never constant.

use alloc::vec;
use alloc::vec::Vec;

use crate::condition::Condition;
use crate::context::Context;
use crate::flag::{Flag, Serve, State};
use crate::result::{Evaluation, FlagType};
use crate::snapshot::Snapshot;
use crate::time::Millis;

/// The instants `[since, until)` over which a flag's result is the same for every
/// context, as [`Snapshot::constancy`] reports them; both ends are in ms since the Unix
/// epoch, and `None` is unbounded (`since` the beginning of time, `until` forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Constancy {
    /// The first instant of the span, inclusive; `None`: no lower bound.
    pub since: Option<Millis>,
    /// The first instant after the span, exclusive: the next instant at which the result
    /// may change (a window opening or closing, an override expiring…); `None`: never.
    pub until: Option<Millis>,
}

impl Constancy {
    /// All of time.
    pub const FOREVER: Constancy = Constancy { since: None, until: None };

    /// Whether `at` is in `[since, until)`.
    pub fn contains(&self, at: Millis) -> bool {
        self.since.is_none_or(|since| since <= at) && self.until.is_none_or(|until| at < until)
    }

    /// The instants in both spans.
    fn meet(self, other: Constancy) -> Constancy {
        Constancy {
            since: match (self.since, other.since) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            until: match (self.until, other.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// The instants in either span (both contain the same `now`, so this is a span too).
    fn join(self, other: Constancy) -> Constancy {
        Constancy {
            since: self.since.zip(other.since).map(|(a, b)| a.min(b)),
            until: self.until.zip(other.until).map(|(a, b)| a.max(b)),
        }
    }
}

/// A flag whose result is the same for every context: one entry of
/// [`Snapshot::constants`].
#[derive(Debug, Clone, PartialEq)]
pub struct Constant<'s> {
    /// The flag key.
    pub key: &'s str,
    /// The flag's type; `None` for a flag that failed to load (its result is
    /// `PARSE_ERROR` whatever type is asked for).
    pub flag_type: Option<FlagType>,
    /// The result for every context at every instant of `constancy`, as
    /// [`Snapshot::evaluate`] gives it with no expected type. With an expected type, the
    /// result is this one when the type is the flag's (or the flag failed to load), and
    /// `TYPE_MISMATCH` otherwise — constant too.
    pub evaluation: Evaluation<'s>,
    /// The instants around `now` over which `evaluation` holds.
    pub constancy: Constancy,
}

impl Snapshot {
    /// Whether flag `key`'s result at `now` is the same for every context, and over which
    /// instants: `Some(span)` with `now` in `span` means that for every [`Context`], every
    /// instant `t` in `span` and every expected type,
    /// `evaluate(key, context, t, expected)` equals `evaluate(key, &Context::new(), now,
    /// expected)`. `None` when the result may depend on the context, or the flag is
    /// unknown. A binding still answers `INVALID_CONTEXT` for a host context that does not
    /// convert, whatever this says.
    ///
    /// ```
    /// use pennon_core::{Constancy, Snapshot};
    ///
    /// let snapshot = Snapshot::from_json(r#"{
    ///   "schemaVersion": 1, "revision": 1,
    ///   "flags": {
    ///     "banner": { "type": "boolean", "state": "on",
    ///       "variants": { "on": true, "off": false }, "offVariant": "off",
    ///       "window": { "until": "2026-12-24T00:00:00Z" },
    ///       "fallthrough": { "variant": "on" } },
    ///     "eu-only": { "type": "boolean", "state": "on",
    ///       "variants": { "on": true, "off": false }, "offVariant": "off",
    ///       "rules": [ { "id": "eu", "serve": { "variant": "on" },
    ///         "when": { "attribute": "country", "op": "in", "values": ["DE", "FR"] } } ],
    ///       "fallthrough": { "variant": "off" } } }
    /// }"#)?;
    /// let christmas_eve = 1_798_070_400_000;
    /// assert_eq!(
    ///     snapshot.constancy("banner", christmas_eve - 1),
    ///     Some(Constancy { since: None, until: Some(christmas_eve) })
    /// );
    /// assert_eq!(
    ///     snapshot.constancy("banner", christmas_eve),
    ///     Some(Constancy { since: Some(christmas_eve), until: None })
    /// );
    /// assert_eq!(snapshot.constancy("eu-only", 0), None);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    ///
    /// The analysis walks the flag and its prerequisites once each (linear in their size).
    pub fn constancy(&self, key: &str, now: Millis) -> Option<Constancy> {
        let id = self.flag_id(key)?;
        Analysis::new(self, now).flag(id).map(|(span, _)| span)
    }

    /// Every flag whose result at `now` is the same for every context, sorted by key, with
    /// that result and the span over which it holds ([`Snapshot::constancy`]): the table a
    /// binding answers those flags from without converting the context. Each prerequisite
    /// is analysed once, whatever number of flags require it.
    pub fn constants(&self, now: Millis) -> impl Iterator<Item = Constant<'_>> + '_ {
        let mut analysis = Analysis::new(self, now);
        let spans: Vec<Option<Constancy>> =
            (0..self.flags.len()).map(|id| analysis.flag(id as u32).map(|(span, _)| span)).collect();
        let empty = Context::new();
        self.keys.iter().zip(self.flags.iter()).zip(spans).filter_map(move |((key, entry), span)| {
            Some(Constant {
                key,
                flag_type: entry.as_ref().ok().map(|flag| flag.kind),
                evaluation: self.evaluate_entry(key, entry, &empty, now, None),
                constancy: span?,
            })
        })
    }
}

/// What is known of one flag so far.
#[derive(Clone, Copy)]
enum Memo {
    Unknown,
    /// Being analysed (a prerequisite cycle; load rejects those, so never seen in practice).
    Visiting,
    /// `Some((span, served variant))` when constant; the variant is `None` on error.
    Done(Option<(Constancy, Option<u32>)>),
}

/// The analysis of one snapshot at one instant, each flag analysed at most once.
struct Analysis<'s> {
    snapshot: &'s Snapshot,
    now: Millis,
    memo: Vec<Memo>,
}

impl<'s> Analysis<'s> {
    fn new(snapshot: &'s Snapshot, now: Millis) -> Self {
        Analysis { snapshot, now, memo: vec![Memo::Unknown; snapshot.flags.len()] }
    }

    /// Flag `id`'s span and served variant, when its result is the same for every context.
    fn flag(&mut self, id: u32) -> Option<(Constancy, Option<u32>)> {
        let slot = self.memo.get_mut(id as usize)?;
        match *slot {
            Memo::Done(known) => return known,
            Memo::Visiting => return None,
            Memo::Unknown => *slot = Memo::Visiting,
        }
        let snapshot = self.snapshot;
        let outcome = match snapshot.flags.get(id as usize)? {
            // `PARSE_ERROR` for every context, forever.
            Err(_) => Some((Constancy::FOREVER, None)),
            Ok(flag) => self.valid(flag),
        };
        if let Some(slot) = self.memo.get_mut(id as usize) {
            *slot = Memo::Done(outcome);
        }
        outcome
    }

    /// Steps 1–7 of the evaluation order: state, window, then the on path.
    fn valid(&mut self, flag: &Flag) -> Option<(Constancy, Option<u32>)> {
        let off = Some(flag.off);
        if matches!(flag.state, State::Kill | State::Off) {
            return Some((Constancy::FOREVER, off));
        }
        let mut span = Constancy::FOREVER;
        if let Some((from, until)) = flag.window {
            if let Some(from) = from.filter(|from| self.now < *from) {
                return Some((Constancy { since: None, until: Some(from) }, off));
            }
            if let Some(until) = until.filter(|until| self.now >= *until) {
                return Some((Constancy { since: Some(until), until: None }, off));
            }
            span = Constancy { since: from, until };
        }
        let (on_span, variant) = self.on_path(flag)?;
        // In state `shadow` the off variant is served; the on path's variant is reported
        // beside it, constant with it.
        let served = if flag.state == State::Shadow { flag.off } else { variant };
        Some((span.meet(on_span), Some(served)))
    }

    /// Steps 8–12: prerequisites, overrides, targets, the canary gate, rules, fallthrough.
    fn on_path(&mut self, flag: &Flag) -> Option<(Constancy, u32)> {
        let mut holds = Constancy::FOREVER;
        let mut fails: Option<Constancy> = None;
        let mut unknown = false;
        for prerequisite in flag.prerequisites.iter() {
            let outcome = match prerequisite.flag {
                None => Some((Constancy::FOREVER, false)),
                Some(id) => self.flag(id).map(|(span, variant)| {
                    let required = self.snapshot.flags.get(id as usize).and_then(|entry| entry.as_ref().ok());
                    let name = required.zip(variant).and_then(|(required, v)| required.variant(v)).map(|(n, _)| n);
                    (span, name.is_some_and(|name| prerequisite.variants.contains(name)))
                }),
            };
            match outcome {
                // One failing prerequisite decides, whatever the others do.
                Some((span, false)) => fails = Some(fails.map_or(span, |known| known.join(span))),
                Some((span, true)) => holds = holds.meet(span),
                None => unknown = true,
            }
        }
        if let Some(span) = fails {
            return Some((span, flag.off));
        }
        if unknown {
            return None;
        }
        let mut span = holds;
        // An active override serves contexts of its tenant only; expired ones never again.
        for entry in flag.overrides.iter() {
            let expired = entry.expires_at.filter(|at| self.now >= *at)?;
            span = span.meet(Constancy { since: Some(expired), until: None });
        }
        if flag.targets.iter().any(|t| !(t.users.is_empty() && t.groups.is_empty() && t.tenants.is_empty())) {
            return None;
        }
        if flag.state == State::Canary && flag.canary.is_some() {
            return None;
        }
        for rule in flag.rules.iter() {
            if fixed(&rule.when)? {
                return fixed_variant(&rule.serve).map(|variant| (span, variant));
            }
        }
        fixed_variant(&flag.fallthrough).map(|variant| (span, variant))
    }
}

/// The outcome of a condition that reads no attribute (`all` / `any` / `not` over such
/// conditions, down to empty lists); `None` when it may depend on the context.
fn fixed(condition: &Condition) -> Option<bool> {
    match condition {
        Condition::All(list) => combine(list, false),
        Condition::Any(list) => combine(list, true),
        Condition::Not(inner) => fixed(inner).map(|outcome| !outcome),
        Condition::InSegment(_) | Condition::Test { .. } => None,
    }
}

/// `all` (`decisive` false) or `any` (`decisive` true): one member with the decisive
/// outcome settles it, whatever the others.
fn combine(list: &[Condition], decisive: bool) -> Option<bool> {
    let mut settled = true;
    for member in list {
        match fixed(member) {
            Some(outcome) if outcome == decisive => return Some(decisive),
            Some(_) => {}
            None => settled = false,
        }
    }
    settled.then_some(!decisive)
}

/// The variant a serve gives for every context: only a fixed `variant` (rollouts and
/// splits bucket the context, and fail without their attribute).
fn fixed_variant(serve: &Serve) -> Option<u32> {
    match serve {
        Serve::Variant(variant) => Some(*variant),
        Serve::Rollout { .. } | Serve::Split(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_meet_and_join() {
        let a = Constancy { since: Some(1), until: Some(10) };
        let b = Constancy { since: None, until: Some(5) };
        assert_eq!(a.meet(b), Constancy { since: Some(1), until: Some(5) });
        assert_eq!(a.join(b), Constancy { since: None, until: Some(10) });
        assert_eq!(Constancy::FOREVER.meet(a), a);
        assert!(a.contains(1) && a.contains(9) && !a.contains(10) && !a.contains(0));
        assert!(Constancy::FOREVER.contains(Millis::MIN) && Constancy::FOREVER.contains(Millis::MAX));
    }
}
