//! What a change would do to real users before it is made ([`what_if`]): every context of
//! a set evaluated against the snapshot in force and the proposed one, and the answers
//! that differ. Only the flags [`Snapshot::changed_flags`] reports are evaluated (every
//! other flag answers the same in both), so a change to one flag costs one flag's
//! evaluations per context.

use alloc::vec::Vec;
use serde_json::{Value, json};

use crate::context::Context;
use crate::result::Evaluation;
use crate::snapshot::Snapshot;
use crate::time::Millis;

/// One context whose answer for one flag differs between the two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip<'a> {
    /// The context's position in the list given.
    pub index: usize,
    /// The flag.
    pub flag: &'a str,
    /// Its answer in the snapshot in force.
    pub before: Evaluation<'a>,
    /// Its answer in the proposed snapshot.
    pub after: Evaluation<'a>,
}

impl Flip<'_> {
    /// `{index, flag, before, after}`, each answer as
    /// `{value, variant, reason, ruleId, stage}`.
    pub fn to_json(&self) -> Value {
        json!({ "index": self.index, "flag": self.flag, "before": answer(&self.before), "after": answer(&self.after) })
    }
}

fn answer(evaluation: &Evaluation<'_>) -> Value {
    json!({
        "value": evaluation.value,
        "variant": evaluation.variant,
        "reason": evaluation.reason.as_str(),
        "ruleId": evaluation.rule_id,
        "stage": evaluation.stage,
    })
}

/// What [`what_if`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf<'a> {
    /// The flags whose answers may change (added, removed, changed, or using one that
    /// did), sorted.
    pub flags: Vec<&'a str>,
    /// How many contexts were evaluated.
    pub contexts: usize,
    /// Every (context, flag) whose value or variant differs, by context then flag.
    pub flips: Vec<Flip<'a>>,
}

/// How many contexts moved from one answer to another for one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement<'a> {
    /// The flag.
    pub flag: &'a str,
    /// The value and variant before (`None`: an error, such as a flag that did not exist).
    pub from: (Option<&'a Value>, Option<&'a str>),
    /// The value and variant after.
    pub to: (Option<&'a Value>, Option<&'a str>),
    /// How many contexts.
    pub count: usize,
}

impl Movement<'_> {
    /// `{flag, from: {value, variant}, to: {value, variant}, count}`.
    pub fn to_json(&self) -> Value {
        json!({
            "flag": self.flag,
            "from": { "value": self.from.0, "variant": self.from.1 },
            "to": { "value": self.to.0, "variant": self.to.1 },
            "count": self.count,
        })
    }
}

impl<'a> WhatIf<'a> {
    /// How many distinct contexts have at least one flip.
    pub fn flipped_contexts(&self) -> usize {
        let mut count = 0;
        let mut last = None;
        for flip in &self.flips {
            if last != Some(flip.index) {
                count += 1;
                last = Some(flip.index);
            }
        }
        count
    }

    /// The flips grouped by flag and by the answers moved between, largest group first
    /// (then by flag, in order of first appearance).
    pub fn summary(&self) -> Vec<Movement<'a>> {
        let mut movements: Vec<Movement<'a>> = Vec::new();
        for flip in &self.flips {
            let from = (flip.before.value, flip.before.variant);
            let to = (flip.after.value, flip.after.variant);
            match movements.iter_mut().find(|m| m.flag == flip.flag && m.from == from && m.to == to) {
                Some(movement) => movement.count += 1,
                None => movements.push(Movement { flag: flip.flag, from, to, count: 1 }),
            }
        }
        // Stable: equal counts keep their order of first appearance.
        movements.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.flag.cmp(b.flag)));
        movements
    }
}

/// Evaluates each context against `before` (the snapshot in force) and `after` (the
/// proposed one) at `now`, for the flags whose answers may change, and returns the
/// answers whose value or variant differ. A flag only one snapshot has answers with a
/// `FLAG_NOT_FOUND` error (no value, no variant) in the other.
///
/// ```
/// use pennon_core::{Context, Snapshot, what_if};
///
/// let snapshot = |variant: &str| Snapshot::from_json(&format!(r#"{{ "schemaVersion": 1, "revision": 1,
///   "flags": {{ "new-checkout": {{ "type": "boolean", "state": "on", "variants": {{ "on": true, "off": false }},
///   "offVariant": "off", "fallthrough": {{ "variant": "{variant}" }} }} }} }}"#));
/// let (before, after) = (snapshot("off")?, snapshot("on")?);
/// let contexts: Vec<Context> = (0..10).map(|i| Context::with_targeting_key(format!("user-{i}"))).collect();
/// let found = what_if(&before, &after, &contexts, 0);
/// assert_eq!(found.flags, ["new-checkout"]);
/// assert_eq!((found.contexts, found.flips.len()), (10, 10));
/// assert_eq!(found.summary()[0].count, 10);
/// # Ok::<(), pennon_core::Error>(())
/// ```
pub fn what_if<'a>(before: &'a Snapshot, after: &'a Snapshot, contexts: &[Context], now: Millis) -> WhatIf<'a> {
    let mut flags = after.changed_flags(before);
    flags.sort_unstable();
    let mut flips = Vec::new();
    for (index, context) in contexts.iter().enumerate() {
        for &flag in &flags {
            let old = before.evaluate(flag, context, now, None);
            let new = after.evaluate(flag, context, now, None);
            if old.value != new.value || old.variant != new.variant {
                flips.push(Flip { index, flag, before: old, after: new });
            }
        }
    }
    WhatIf { flags, contexts: contexts.len(), flips }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    fn snapshot(flags: &str) -> Snapshot {
        Snapshot::from_json(&format!(r#"{{ "schemaVersion": 1, "revision": 1, "flags": {{ {flags} }} }}"#)).unwrap()
    }

    fn plan_flag(rule_country: &str) -> String {
        format!(
            r#""plan": {{ "type": "string", "state": "on", "variants": {{ "free": "free", "pro": "pro" }},
                "offVariant": "free", "fallthrough": {{ "variant": "free" }},
                "rules": [{{ "id": "r1", "when": {{ "attribute": "country", "op": "in", "values": ["{rule_country}"] }},
                             "serve": {{ "variant": "pro" }} }}] }}"#
        )
    }

    const OTHER: &str = r#""other": { "type": "boolean", "state": "on", "variants": { "on": true, "off": false },
        "offVariant": "off", "fallthrough": { "variant": "on" } }"#;

    fn context(key: &str, country: &str) -> Context {
        let mut context = Context::with_targeting_key(key);
        context.insert("country", Value::from(country));
        context
    }

    #[test]
    fn only_contexts_whose_answer_changes_flip_with_both_answers() {
        let before = snapshot(&format!("{}, {OTHER}", plan_flag("DE")));
        let after = snapshot(&format!("{}, {OTHER}", plan_flag("FR")));
        let contexts = [context("a", "DE"), context("b", "FR"), context("c", "US"), context("d", "FR")];
        let found = what_if(&before, &after, &contexts, 0);
        assert_eq!(found.flags, ["plan"], "`other` did not change: not evaluated");
        assert_eq!(found.contexts, 4);
        let flipped: Vec<(usize, Option<&str>, Option<&str>)> =
            found.flips.iter().map(|f| (f.index, f.before.variant, f.after.variant)).collect();
        assert_eq!(
            flipped,
            [(0, Some("pro"), Some("free")), (1, Some("free"), Some("pro")), (3, Some("free"), Some("pro"))]
        );
        assert_eq!(found.flips[0].before.rule_id, Some("r1"));
        assert_eq!(found.flips[0].after.rule_id, None);
        assert_eq!(found.flipped_contexts(), 3);
        let summary: Vec<Value> = found.summary().iter().map(Movement::to_json).collect();
        assert_eq!(
            summary,
            [
                json!({ "flag": "plan", "from": { "value": "free", "variant": "free" }, "to": { "value": "pro", "variant": "pro" }, "count": 2 }),
                json!({ "flag": "plan", "from": { "value": "pro", "variant": "pro" }, "to": { "value": "free", "variant": "free" }, "count": 1 }),
            ]
        );
        let first = found.flips[0].to_json();
        assert_eq!(first["before"]["reason"], "TARGETING_MATCH");
        assert_eq!(first["after"]["reason"], "DEFAULT");
    }

    #[test]
    fn the_same_snapshot_flips_nothing_and_a_new_flag_flips_from_nothing() {
        let before = snapshot(OTHER);
        let contexts = [context("a", "DE"), context("b", "FR")];
        let same = what_if(&before, &before, &contexts, 0);
        assert!(same.flags.is_empty() && same.flips.is_empty());
        assert_eq!(same.flipped_contexts(), 0);
        let after = snapshot(&format!("{}, {OTHER}", plan_flag("DE")));
        let found = what_if(&before, &after, &contexts, 0);
        assert_eq!(found.flags, ["plan"]);
        assert_eq!(found.flips.len(), 2);
        assert_eq!(found.flips[0].before.value, None);
        assert_eq!(found.flips[0].before.reason.as_str(), "ERROR");
        let summary = found.summary();
        assert_eq!(summary.len(), 2);
        assert_eq!(summary[0].from, (None, None));
        // Removing it again flips the other way.
        let back = what_if(&after, &before, &contexts, 0);
        assert_eq!(back.flips.len(), 2);
        assert_eq!(back.flips[1].after.variant, None);
    }
}
