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
use crate::memo::Memo as EvaluationMemo;
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
/// [`Constants::flags`].
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

/// Every flag whose result is the same for every context at one instant: what
/// [`Snapshot::constants`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Constants<'s> {
    /// The constant flags, sorted by key.
    pub flags: Vec<Constant<'s>>,
    /// The instants around `now` over which this list is the same: no flag joins or leaves
    /// it and no listed result changes. A host keeping the list asks again once its clock
    /// reaches `until` (each flag's own span may reach further).
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
        Analysis::new(self, now).flag(id).constant()
    }

    /// Every flag whose result at `now` is the same for every context, with that result and
    /// the span over which it holds ([`Snapshot::constancy`]): the table a binding answers
    /// those flags from without converting the context, and until when the table itself
    /// stays the same. Each prerequisite is analysed once, whatever number of flags
    /// require it.
    pub fn constants(&self, now: Millis) -> Constants<'_> {
        let mut analysis = Analysis::new(self, now);
        let empty = Context::new();
        // One memo for the whole table, as `evaluate_all` does: prerequisites are decided once.
        let mut memo = EvaluationMemo::default();
        let mut constancy = Constancy::FOREVER;
        let mut flags = Vec::new();
        for (id, (key, entry)) in self.keys.iter().zip(self.flags.iter()).enumerate() {
            let verdict = analysis.flag(id as u32);
            constancy = constancy.meet(verdict.span);
            if let Some(span) = verdict.constant() {
                flags.push(Constant {
                    key,
                    flag_type: entry.as_ref().ok().map(|flag| flag.kind),
                    evaluation: self.evaluate_entry(id as u32, key, entry, &empty, now, None, &mut memo),
                    constancy: span,
                });
            }
        }
        Constants { flags, constancy }
    }
}

/// What the analysis says of a flag at `now`, and over which instants it says the same.
#[derive(Clone, Copy)]
struct Verdict {
    span: Constancy,
    /// `Some(served variant)` (`None` on error) when the result is the same for every
    /// context; `None` when it may vary.
    serves: Option<Option<u32>>,
}

impl Verdict {
    fn varies(span: Constancy) -> Verdict {
        Verdict { span, serves: None }
    }

    fn serves(span: Constancy, variant: Option<u32>) -> Verdict {
        Verdict { span, serves: Some(variant) }
    }

    fn constant(self) -> Option<Constancy> {
        self.serves.map(|_| self.span)
    }
}

/// What is known of one flag so far.
#[derive(Clone, Copy)]
enum Memo {
    Unknown,
    /// Being analysed (a prerequisite cycle; load rejects those, so never seen in practice).
    Visiting,
    Done(Verdict),
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

    /// The span over which an instant compares with `at` as `now` does.
    fn side_of(&self, at: Millis) -> Constancy {
        if self.now < at {
            Constancy { since: None, until: Some(at) }
        } else {
            Constancy { since: Some(at), until: None }
        }
    }

    /// Flag `id`'s verdict.
    fn flag(&mut self, id: u32) -> Verdict {
        let unknown = Verdict::varies(Constancy { since: Some(self.now), until: self.now.checked_add(1) });
        let Some(slot) = self.memo.get_mut(id as usize) else { return unknown };
        match *slot {
            Memo::Done(known) => return known,
            Memo::Visiting => return unknown,
            Memo::Unknown => *slot = Memo::Visiting,
        }
        let snapshot = self.snapshot;
        let verdict = match snapshot.flags.get(id as usize) {
            // `PARSE_ERROR` for every context, forever.
            Some(Err(_)) => Verdict::serves(Constancy::FOREVER, None),
            Some(Ok(flag)) => self.valid(flag),
            None => unknown,
        };
        if let Some(slot) = self.memo.get_mut(id as usize) {
            *slot = Memo::Done(verdict);
        }
        verdict
    }

    /// Steps 1–7 of the evaluation order: state, window, then the on path.
    fn valid(&mut self, flag: &Flag) -> Verdict {
        let off = Some(flag.off);
        if matches!(flag.state, State::Kill | State::Off) {
            return Verdict::serves(Constancy::FOREVER, off);
        }
        let mut span = Constancy::FOREVER;
        if let Some((from, until)) = flag.window {
            if let Some(from) = from.filter(|from| self.now < *from) {
                return Verdict::serves(self.side_of(from), off);
            }
            if let Some(until) = until.filter(|until| self.now >= *until) {
                return Verdict::serves(self.side_of(until), off);
            }
            span = Constancy { since: from, until };
        }
        let on_path = self.on_path(flag);
        // In state `shadow` the off variant is served; the on path's variant is reported
        // beside it, constant with it.
        let served = if flag.state == State::Shadow { on_path.serves.map(|_| off) } else { on_path.serves };
        Verdict { span: span.meet(on_path.span), serves: served }
    }

    /// Steps 8–12: prerequisites, overrides, targets, the canary gate, rules, fallthrough.
    fn on_path(&mut self, flag: &Flag) -> Verdict {
        let mut span = Constancy::FOREVER;
        let mut fails: Option<Constancy> = None;
        let mut varies = false;
        for prerequisite in flag.prerequisites.iter() {
            let Some(id) = prerequisite.flag else {
                fails = Some(Constancy::FOREVER);
                continue;
            };
            let verdict = self.flag(id);
            span = span.meet(verdict.span);
            let Some(variant) = verdict.serves else {
                varies = true;
                continue;
            };
            let required = self.snapshot.flags.get(id as usize).and_then(|entry| entry.as_ref().ok());
            let name = required.zip(variant).and_then(|(required, v)| required.variant(v)).map(|(name, _)| name);
            if !name.is_some_and(|name| prerequisite.variants.contains(name)) {
                // One failing prerequisite decides, whatever the others do.
                fails = Some(fails.map_or(verdict.span, |known| known.join(verdict.span)));
            }
        }
        if let Some(fails) = fails {
            return Verdict::serves(fails, Some(flag.off));
        }
        // An active override serves contexts of its tenant only; an expired one never again.
        for entry in flag.overrides.iter() {
            match entry.expires_at {
                Some(at) => {
                    span = span.meet(self.side_of(at));
                    varies |= self.now < at;
                }
                None => varies = true,
            }
        }
        varies |= flag.targets.iter().any(|t| !(t.users.is_empty() && t.groups.is_empty() && t.tenants.is_empty()))
            || (flag.state == State::Canary && flag.canary.is_some());
        if varies {
            return Verdict::varies(span);
        }
        for rule in flag.rules.iter() {
            match fixed(&rule.when) {
                Some(false) => {}
                Some(true) => return Verdict { span, serves: fixed_variant(&rule.serve).map(Some) },
                None => return Verdict::varies(span),
            }
        }
        Verdict { span, serves: fixed_variant(&flag.fallthrough).map(Some) }
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
