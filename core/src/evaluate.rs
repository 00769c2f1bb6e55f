//! Evaluation: the order of `docs/snapshot-format.md` §4, applied to a compiled flag.

use alloc::format;
use serde_json::Value;

use crate::context::Context;
use crate::error::{Error, EvaluationError, EvaluationErrorCode};
use crate::flag::{Flag, Override, Serve, State, Target};
use crate::memo::Memo;
use crate::result::{Evaluation, FlagType, Reason, Slot};
use crate::snapshot::Snapshot;
use crate::time::Millis;

/// A decision on the on path: which variant, why, and where it came from.
struct Decision<'s> {
    variant: u32,
    reason: Reason,
    rule_id: Option<&'s str>,
    stage: Option<u32>,
}

impl<'s> Decision<'s> {
    fn new(variant: u32, reason: Reason) -> Self {
        Decision { variant, reason, rule_id: None, stage: None }
    }
}

impl Snapshot {
    /// Evaluates one flag with full details. With `expected`, a flag of another type gives
    /// `TYPE_MISMATCH`. Never fails: errors come back in the result, whose `value` is then
    /// `None` (the caller's default).
    ///
    /// `now` is the time of evaluation in ms since the Unix epoch.
    pub fn evaluate(&self, key: &str, context: &Context, now: Millis, expected: Option<FlagType>) -> Evaluation<'_> {
        match self.flag_id(key).and_then(|id| Some((id, self.flags.get(id as usize)?))) {
            Some((id, entry)) => self.evaluate_entry(id, key, entry, context, now, expected, &mut Memo::default()),
            None => Evaluation::error(
                EvaluationError {
                    code: EvaluationErrorCode::FlagNotFound,
                    message: format!("no flag `{key}` in revision {}", self.revision),
                },
                None,
            ),
        }
    }

    /// Evaluates a flag already looked up (`evaluate_all` walks the entries directly):
    /// `id` is its index, `key` its key; `memo` holds the prerequisites and segments
    /// computed so far for this context and time.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn evaluate_entry<'s>(
        &'s self,
        id: u32,
        key: &str,
        entry: &'s Result<Flag, Error>,
        context: &Context,
        now: Millis,
        expected: Option<FlagType>,
        memo: &mut Memo,
    ) -> Evaluation<'s> {
        let flag = match entry {
            Ok(flag) => flag,
            Err(error) => {
                return Evaluation::error(
                    EvaluationError {
                        code: EvaluationErrorCode::ParseError,
                        message: format!("flag `{key}` failed to load: {error}"),
                    },
                    None,
                )
                .at(Slot { flag: id, variant: None });
            }
        };
        if let Some(expected) = expected.filter(|t| *t != flag.kind) {
            return Evaluation::error(
                EvaluationError {
                    code: EvaluationErrorCode::TypeMismatch,
                    message: format!("flag `{key}` is of type {}, not {}", flag.kind.as_str(), expected.as_str()),
                },
                flag.metadata.as_ref(),
            )
            .at(Slot { flag: id, variant: None });
        }
        self.evaluate_flag(id, flag, context, now, memo)
    }

    fn evaluate_flag<'s>(
        &'s self,
        id: u32,
        flag: &'s Flag,
        context: &Context,
        now: Millis,
        memo: &mut Memo,
    ) -> Evaluation<'s> {
        let served = |decision: Decision<'s>, shadow_variant: Option<&'s str>| {
            let (name, value) = flag.variant(decision.variant).unzip();
            let variant = name.map(|_| decision.variant);
            Evaluation {
                value,
                variant: name,
                reason: decision.reason,
                error: None,
                rule_id: decision.rule_id,
                stage: decision.stage,
                shadow_variant,
                flag_metadata: flag.metadata.as_ref(),
                slot: Some(Slot { flag: id, variant }),
            }
        };
        let off = |reason| served(Decision::new(flag.off, reason), None);
        match flag.state {
            State::Kill => return off(Reason::Killed),
            State::Off => return off(Reason::Disabled),
            _ => {}
        }
        if let Some((from, until)) = flag.window
            && (from.is_some_and(|from| now < from) || until.is_some_and(|until| now >= until))
        {
            return off(Reason::OutOfWindow);
        }
        let on_path = self.on_path(flag, context, now, memo);
        if flag.state == State::Shadow {
            let shadow = on_path.ok().and_then(|d| flag.variant(d.variant)).map(|(name, _)| name);
            return served(Decision::new(flag.off, Reason::Shadow), shadow);
        }
        match on_path {
            Ok(decision) => served(decision, None),
            Err(error) => Evaluation::error(error, flag.metadata.as_ref()).at(Slot { flag: id, variant: None }),
        }
    }

    /// Steps 8–12: prerequisites, overrides, targets, the canary gate, rules, fallthrough.
    fn on_path<'s>(
        &'s self,
        flag: &'s Flag,
        context: &Context,
        now: Millis,
        memo: &mut Memo,
    ) -> Result<Decision<'s>, EvaluationError> {
        if !flag.prerequisites.is_empty() && !self.prerequisites_hold(flag, context, now, memo) {
            return Ok(Decision::new(flag.off, Reason::PrerequisiteFailed));
        }
        let tenant = || context.get("tenant").and_then(Value::as_str);
        if !flag.overrides.is_empty()
            && let Some(tenant) = tenant()
        {
            let active = |o: &&Override| &*o.tenant == tenant && o.expires_at.is_none_or(|at| now < at);
            if let Some(found) = flag.overrides.iter().find(active) {
                return Ok(Decision::new(found.variant, Reason::Override));
            }
        }
        if !flag.targets.is_empty() {
            let key = context.get("targetingKey").and_then(Value::as_str);
            let groups = context.get("groups");
            let tenant = tenant();
            let in_groups = |target: &Target| match groups {
                Some(Value::String(group)) => target.groups.contains(group),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(|g| target.groups.contains(g)),
                _ => false,
            };
            let matched = flag.targets.iter().find(|target| {
                key.is_some_and(|k| target.users.contains(k))
                    || tenant.is_some_and(|t| target.tenants.contains(t))
                    || (!target.groups.is_empty() && in_groups(target))
            });
            if let Some(target) = matched {
                return Ok(Decision::new(target.variant, Reason::TargetingMatch));
            }
        }
        let mut canary_stage = None;
        if flag.state == State::Canary
            && let Some(canary) = &flag.canary
        {
            let (included, stage) = canary.includes(context, now)?;
            if !included {
                return Ok(Decision { stage, ..Decision::new(flag.off, Reason::CanaryExcluded) });
            }
            canary_stage = stage;
        }
        let mut decision = match flag.rules.iter().find(|rule| rule.when.matches(context, &self.segments, memo)) {
            Some(rule) => {
                let mut decision = serve(&rule.serve, context, now, Reason::TargetingMatch)?;
                decision.rule_id = Some(&rule.id);
                decision
            }
            None => {
                serve(&flag.fallthrough, context, now, if flag.is_static { Reason::Static } else { Reason::Default })?
            }
        };
        decision.stage = decision.stage.or(canary_stage);
        Ok(decision)
    }

    /// Whether every prerequisite serves one of its allowed variants. Each prerequisite
    /// flag is evaluated once per `memo`, however many paths lead to it.
    fn prerequisites_hold(&self, flag: &Flag, context: &Context, now: Millis, memo: &mut Memo) -> bool {
        flag.prerequisites.iter().all(|prerequisite| {
            let Some(id) = prerequisite.flag else { return false };
            let Some(Ok(required)) = self.flags.get(id as usize) else { return false };
            // Cycles and over-deep chains were rejected at load, so this recursion is bounded.
            let served = memo.flag(id, |memo| self.evaluate_flag(id, required, context, now, memo).slot?.variant);
            served.and_then(|v| required.variant(v)).is_some_and(|(name, _)| prerequisite.variants.contains(name))
        })
    }
}

/// What a serve gives; `fixed` is the reason for a fixed variant.
fn serve<'s>(serve: &Serve, context: &Context, now: Millis, fixed: Reason) -> Result<Decision<'s>, EvaluationError> {
    match serve {
        Serve::Variant(variant) => Ok(Decision::new(*variant, fixed)),
        Serve::Rollout { cohort, variant, otherwise } => {
            let (included, stage) = cohort.includes(context, now)?;
            let chosen = if included { *variant } else { *otherwise };
            Ok(Decision { stage, ..Decision::new(chosen, Reason::Split) })
        }
        Serve::Split(split) => Ok(Decision::new(split.choose(context)?, Reason::Split)),
    }
}
