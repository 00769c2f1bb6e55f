//! Safe rollouts, the pure part: a *plan* (stages, criteria, how to roll back), where a
//! rollout stands, and the decision the controller takes on each look at it. No IO and
//! no clock (`now` is passed in); [`crate::controller`] reads the database, asks core's
//! judgement and writes what is decided here.
//!
//! The controller sets *fixed* canary percentages, one revision per decision, so a
//! controller that stops leaves the flag exactly where it was (docs/control-plane.md,
//! "Safe rollouts").

use crate::edit::FlagEdit;
use pennon_core::judgement::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use utoipa::ToSchema;

/// The most stages a plan may have.
pub const MAX_STAGES: usize = 20;

/// One stage of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    /// Share of units in the canary cohort (0 < p ≤ 100), kept as written.
    #[schema(value_type = f64)]
    pub percentage: Number,
    /// The least time the stage lasts before it may advance (ISO 8601, e.g. `PT30M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<String>,
    /// Requests each arm (canary and control) must have made in the stage before it
    /// may advance (the canary arm alone at 100 %).
    #[serde(default)]
    pub min_requests: u64,
    /// A person must `promote` the rollout into this stage (by someone other than the
    /// one who started it, in a protected environment).
    #[serde(default, skip_serializing_if = "is_false")]
    pub approval: bool,
    /// An absolute guard for this stage: a canary error rate above it rolls back at once
    /// (overrides the criteria's `maxErrorRate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// What a rollback does to the flag (seed 002's three rollback types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RollbackKind {
    /// The canary's percentage goes to 0 (state stays `canary`).
    #[default]
    Gradual,
    /// State `off`.
    Immediate,
    /// The kill switch (state `kill`).
    Kill,
}

impl RollbackKind {
    /// Its name: `gradual`, `immediate` or `kill`.
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackKind::Gradual => "gradual",
            RollbackKind::Immediate => "immediate",
            RollbackKind::Kill => "kill",
        }
    }

    /// The flag edit that rolls back.
    pub fn edit(self) -> FlagEdit {
        match self {
            RollbackKind::Gradual => FlagEdit::State { state: "canary".into(), percentage: Some(Number::from(0)) },
            RollbackKind::Immediate => FlagEdit::State { state: "off".into(), percentage: None },
            RollbackKind::Kill => FlagEdit::Kill,
        }
    }
}

/// A rollout plan, as `POST …/rollouts/{flag}` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The stages, in order; percentages grow and the last is 100.
    pub stages: Vec<Stage>,
    /// Core's judgement criteria (`alpha`, `minRequests`, `errorRateTolerance`,
    /// `maxErrorRate`, `latency`, …); absent fields take core's defaults. Each stage is
    /// judged with `alpha / number of stages`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub criteria: Value,
    /// What an unhealthy verdict (or `abort`) does to the flag.
    #[serde(default)]
    pub rollback: RollbackKind,
    /// The variant of the canary cohort (default: what the flag's on path serves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_variant: Option<String>,
    /// The variant of the control cohort (default: the flag's `offVariant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_variant: Option<String>,
    /// How long after a stage begins its window opens (ISO 8601, default none): outcomes
    /// SDKs recorded before they had the stage's snapshot arrive in their next batch, with
    /// the old stage's cohort sizes. Set it to the SDKs' metrics interval (`PT10S`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A plan that cannot run, with the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// JSON Pointer into the plan.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn percent(number: &Number) -> f64 {
    number.as_f64().unwrap_or(f64::NAN)
}

impl Plan {
    /// Checks what core does not: stage order, durations and bounds.
    pub fn validate(&self) -> Result<(), PlanError> {
        let problem = |path: String, message: &str| Err(PlanError { path, message: message.to_string() });
        if self.stages.is_empty() || self.stages.len() > MAX_STAGES {
            return problem("/stages".into(), "a plan has 1 to 20 stages");
        }
        let mut previous = 0.0;
        for (index, stage) in self.stages.iter().enumerate() {
            let p = percent(&stage.percentage);
            if !(p > previous && p <= 100.0) {
                return problem(
                    format!("/stages/{index}/percentage"),
                    "percentages grow from stage to stage, above 0 and at most 100",
                );
            }
            previous = p;
            if let Some(duration) = &stage.min_duration
                && pennon_core::time::parse_duration(duration).is_none()
            {
                return problem(format!("/stages/{index}/minDuration"), "not an ISO 8601 duration such as PT30M");
            }
            if let Some(rate) = stage.max_error_rate
                && !(0.0..=1.0).contains(&rate)
            {
                return problem(format!("/stages/{index}/maxErrorRate"), "an error rate is from 0 to 1");
            }
        }
        if previous < 100.0 {
            return problem(format!("/stages/{}/percentage", self.stages.len() - 1), "the last stage is 100");
        }
        if let Some(settle) = &self.settle
            && pennon_core::time::parse_duration(settle).is_none()
        {
            return problem("/settle".into(), "not an ISO 8601 duration such as PT10S");
        }
        if !self.criteria.is_object() {
            return problem("/criteria".into(), "criteria are an object");
        }
        Ok(())
    }

    /// The stage at `index` (the last one past the end; a plan without stages, which
    /// [`Plan::validate`] refuses, has one at 0 %).
    pub fn stage(&self, index: usize) -> Stage {
        let last = self.stages.len().saturating_sub(1);
        self.stages.get(index.min(last)).cloned().unwrap_or(Stage {
            percentage: Number::from(0),
            min_duration: None,
            min_requests: 0,
            approval: false,
            max_error_rate: None,
        })
    }

    /// Its minimum duration in milliseconds (0 when none).
    pub fn min_duration_ms(&self, index: usize) -> i64 {
        self.stage(index).min_duration.as_deref().and_then(pennon_core::time::parse_duration).unwrap_or(0)
    }

    /// How long after a stage begins its window opens (ms).
    pub fn settle_ms(&self) -> i64 {
        self.settle.as_deref().and_then(pennon_core::time::parse_duration).unwrap_or(0)
    }

    /// The flag edit that sets stage `index`'s percentage.
    pub fn stage_edit(&self, index: usize) -> FlagEdit {
        FlagEdit::State { state: "canary".into(), percentage: Some(self.stage(index).percentage.clone()) }
    }
}

/// The flag edit that completes a rollout: everyone gets the on path.
pub fn complete_edit() -> FlagEdit {
    FlagEdit::State { state: "on".into(), percentage: None }
}

/// Where a rollout is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Judged every interval; advances when healthy.
    Running,
    /// Judged (and rolled back when unhealthy) but not advanced.
    Paused,
    /// The next stage asks for approval: judged, waits for `promote`.
    AwaitingApproval,
    /// The last stage passed: the flag is on.
    Completed,
    /// An unhealthy verdict rolled it back.
    RolledBack,
    /// A person rolled it back (`abort`).
    Aborted,
    /// Someone changed the flag's state or percentage outside the rollout; the
    /// controller leaves it alone.
    Interrupted,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Completed => "completed",
            Status::RolledBack => "rolled_back",
            Status::Aborted => "aborted",
            Status::Interrupted => "interrupted",
        }
    }
    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Running,
            Status::Paused,
            Status::AwaitingApproval,
            Status::Completed,
            Status::RolledBack,
            Status::Aborted,
            Status::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
    /// Running, paused or awaiting approval: the controller still watches it.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::AwaitingApproval)
    }
    /// The names of the active statuses, for SQL.
    pub const ACTIVE: [&'static str; 3] = ["running", "paused", "awaiting_approval"];
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Its status.
    pub status: Status,
    /// The current stage (from 0).
    pub stage: usize,
    /// When the current stage began (ms).
    pub stage_started_at: i64,
    /// A sample-ratio mismatch was already recorded in this stage.
    pub hold_recorded: bool,
}

/// What the current stage's window showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Core's verdict.
    pub verdict: Verdict,
    /// Requests of the canary arm in the window.
    pub canary_requests: u64,
    /// Requests of the control arm in the window.
    pub control_requests: u64,
}

/// What the controller does after a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing (not enough data, too early, paused, or waiting for approval).
    Wait,
    /// A sample-ratio mismatch: record it (once per stage), neither advance nor roll back.
    Hold,
    /// Go to the next stage.
    Advance,
    /// The next stage needs a person's approval: wait for `promote`.
    AwaitApproval,
    /// The last stage passed: turn the flag on.
    Complete,
    /// Unhealthy: roll back as the plan says.
    RollBack,
}

/// The decision after a look at the current stage. An unhealthy verdict rolls back in
/// every active status (pausing stops advancing, never guarding). At a 100 % stage there
/// is no control cohort left, so only the absolute guards (an unhealthy verdict) count.
pub fn decide(plan: &Plan, at: &Position, look: &Look, now: i64) -> Decision {
    if !at.status.is_active() {
        return Decision::Wait;
    }
    match look.verdict {
        Verdict::Unhealthy => return Decision::RollBack,
        Verdict::Hold if at.hold_recorded => return Decision::Wait,
        Verdict::Hold => return Decision::Hold,
        Verdict::Healthy | Verdict::NotEnoughData => {}
    }
    if at.status != Status::Running {
        return Decision::Wait;
    }
    let stage = plan.stage(at.stage);
    let full = percent(&stage.percentage) >= 100.0;
    if !(full || look.verdict == Verdict::Healthy) {
        return Decision::Wait;
    }
    if now - at.stage_started_at < plan.min_duration_ms(at.stage) {
        return Decision::Wait;
    }
    if look.canary_requests < stage.min_requests || (!full && look.control_requests < stage.min_requests) {
        return Decision::Wait;
    }
    match plan.stages.get(at.stage + 1) {
        None => Decision::Complete,
        Some(next) if next.approval => Decision::AwaitApproval,
        Some(_) => Decision::Advance,
    }
}

/// Whether a flag definition is what the rollout left it at (state `canary` with the
/// stage's percentage); anything else means someone changed it outside the rollout.
pub fn flag_matches(plan: &Plan, stage: usize, definition: &Value) -> bool {
    let state = definition.get("state").and_then(Value::as_str);
    let percentage = definition.pointer("/canary/percentage").and_then(Value::as_f64);
    state == Some("canary") && percentage == Some(percent(&plan.stage(stage).percentage))
}

/// The cohorts of a canary: `(canary variant, control variant)`. The canary is what the
/// on path serves (the fallthrough's variant, or its rollout's), the control the flag's
/// `offVariant`; named variants must exist. `Err` says why they cannot be told.
pub fn cohorts(plan: &Plan, definition: &Value) -> Result<(String, String), PlanError> {
    let problem = |path: &str, message: String| PlanError { path: path.to_string(), message };
    let variants = definition.get("variants").and_then(Value::as_object);
    let known = |name: &str| variants.is_some_and(|variants| variants.contains_key(name));
    let fallthrough = definition.get("fallthrough");
    let on_path = fallthrough
        .and_then(|serve| serve.get("variant").or_else(|| serve.pointer("/rollout/variant")))
        .and_then(Value::as_str);
    let canary = match (&plan.canary_variant, on_path) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name.to_string(),
        (None, None) => {
            return Err(problem(
                "/canaryVariant",
                "the flag's fallthrough is a split: name the canary's variant (canaryVariant)".into(),
            ));
        }
    };
    let control = match (&plan.control_variant, definition.get("offVariant").and_then(Value::as_str)) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name.to_string(),
        (None, None) => return Err(problem("/controlVariant", "the flag has no offVariant: name one".into())),
    };
    for (path, name) in [("/canaryVariant", &canary), ("/controlVariant", &control)] {
        if !known(name) {
            return Err(problem(path, format!("the flag has no variant '{name}'")));
        }
    }
    if canary == control {
        return Err(problem(
            "/canaryVariant",
            format!("canary and control are both '{canary}': name different variants"),
        ));
    }
    Ok((canary, control))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    fn plan() -> Plan {
        serde_json::from_value(json!({
            "stages": [
                {"percentage": 10, "minDuration": "PT10S", "minRequests": 100},
                {"percentage": 50, "minDuration": "PT10S", "minRequests": 100, "approval": true},
                {"percentage": 100, "minDuration": "PT10S", "minRequests": 100}
            ],
            "rollback": "kill"
        }))
        .unwrap()
    }

    fn at(status: Status, stage: usize) -> Position {
        Position { status, stage, stage_started_at: 0, hold_recorded: false }
    }

    fn look(verdict: Verdict, canary: u64, control: u64) -> Look {
        Look { verdict, canary_requests: canary, control_requests: control }
    }

    const LATER: i64 = 10_000;

    #[test]
    fn a_plan_reads_with_defaults_and_validates() {
        let plan = plan();
        assert_eq!(plan.rollback, RollbackKind::Kill);
        assert_eq!(plan.criteria, json!({}));
        assert!(plan.validate().is_ok());
        let mut bad = plan.clone();
        bad.stages[1].percentage = Number::from(5);
        assert_eq!(bad.validate().unwrap_err().path, "/stages/1/percentage");
        let mut bad = plan.clone();
        bad.stages.pop();
        assert_eq!(bad.validate().unwrap_err().path, "/stages/1/percentage");
        let mut bad = plan.clone();
        bad.stages[0].min_duration = Some("10s".into());
        assert_eq!(bad.validate().unwrap_err().path, "/stages/0/minDuration");
        let mut bad = plan.clone();
        bad.settle = Some("soon".into());
        assert_eq!(bad.validate().unwrap_err().path, "/settle");
        let mut bad = plan;
        bad.stages.clear();
        assert!(bad.validate().is_err());
        assert!(serde_json::from_value::<Plan>(json!({"stages": [{"percentage": 100, "typo": 1}]})).is_err());
    }

    #[test]
    fn healthy_advances_only_after_its_duration_and_requests() {
        let plan = plan();
        let running = at(Status::Running, 0);
        assert_eq!(decide(&plan, &running, &look(Verdict::Healthy, 500, 500), LATER - 1), Decision::Wait);
        assert_eq!(decide(&plan, &running, &look(Verdict::Healthy, 99, 500), LATER), Decision::Wait);
        assert_eq!(decide(&plan, &running, &look(Verdict::Healthy, 500, 99), LATER), Decision::Wait);
        assert_eq!(decide(&plan, &running, &look(Verdict::NotEnoughData, 500, 500), LATER), Decision::Wait);
        // The next stage (50 %) asks for approval.
        assert_eq!(decide(&plan, &running, &look(Verdict::Healthy, 100, 100), LATER), Decision::AwaitApproval);
        let mut no_approval = plan.clone();
        no_approval.stages[1].approval = false;
        assert_eq!(decide(&no_approval, &running, &look(Verdict::Healthy, 100, 100), LATER), Decision::Advance);
    }

    #[test]
    fn the_full_stage_completes_on_guards_alone() {
        let plan = plan();
        let full = at(Status::Running, 2);
        assert_eq!(decide(&plan, &full, &look(Verdict::NotEnoughData, 100, 0), LATER), Decision::Complete);
        assert_eq!(decide(&plan, &full, &look(Verdict::NotEnoughData, 99, 0), LATER), Decision::Wait);
        assert_eq!(decide(&plan, &full, &look(Verdict::Unhealthy, 100, 0), LATER), Decision::RollBack);
    }

    #[test]
    fn unhealthy_rolls_back_whatever_the_active_status_and_hold_is_recorded_once() {
        let plan = plan();
        for status in [Status::Running, Status::Paused, Status::AwaitingApproval] {
            assert_eq!(decide(&plan, &at(status, 1), &look(Verdict::Unhealthy, 5, 5), 0), Decision::RollBack);
            assert_eq!(decide(&plan, &at(status, 1), &look(Verdict::Hold, 500, 500), LATER), Decision::Hold);
        }
        let held = Position { hold_recorded: true, ..at(Status::Running, 0) };
        assert_eq!(decide(&plan, &held, &look(Verdict::Hold, 500, 500), LATER), Decision::Wait);
        for status in [Status::Completed, Status::RolledBack, Status::Aborted, Status::Interrupted] {
            assert_eq!(decide(&plan, &at(status, 0), &look(Verdict::Unhealthy, 5, 5), 0), Decision::Wait);
        }
    }

    #[test]
    fn paused_and_awaiting_approval_never_advance() {
        let plan = plan();
        for status in [Status::Paused, Status::AwaitingApproval] {
            assert_eq!(decide(&plan, &at(status, 0), &look(Verdict::Healthy, 500, 500), LATER), Decision::Wait);
        }
    }

    #[test]
    fn rollback_kinds_edit_the_flag_as_seed_002_says() {
        let flag = json!({"type": "boolean", "state": "canary", "variants": {"on": true, "off": false},
            "offVariant": "off", "fallthrough": {"variant": "on"}, "canary": {"percentage": 50}});
        let now = "2026-12-06T00:00:00Z";
        let gradual = crate::edit::apply(&flag, &RollbackKind::Gradual.edit(), now).unwrap();
        assert_eq!((gradual["state"].clone(), gradual["canary"]["percentage"].clone()), (json!("canary"), json!(0)));
        let immediate = crate::edit::apply(&flag, &RollbackKind::Immediate.edit(), now).unwrap();
        assert_eq!(immediate["state"], "off");
        assert_eq!(crate::edit::apply(&flag, &RollbackKind::Kill.edit(), now).unwrap()["state"], "kill");
        assert!(flag_matches(&plan(), 1, &flag));
        assert!(!flag_matches(&plan(), 0, &flag));
        assert!(!flag_matches(&plan(), 1, &immediate));
    }

    #[test]
    fn cohorts_default_to_the_on_path_and_the_off_variant() {
        let mut flag = json!({"type": "string", "state": "off", "variants": {"a": "a", "b": "b", "c": "c"},
            "offVariant": "a", "fallthrough": {"variant": "b"}});
        let plan = plan();
        assert_eq!(cohorts(&plan, &flag).unwrap(), ("b".into(), "a".into()));
        flag["fallthrough"] = json!({"rollout": {"variant": "c", "otherwise": "a", "percentage": 20}});
        assert_eq!(cohorts(&plan, &flag).unwrap(), ("c".into(), "a".into()));
        flag["fallthrough"] = json!({"split": {"variants": [{"variant": "b", "weight": 1}]}});
        assert_eq!(cohorts(&plan, &flag).unwrap_err().path, "/canaryVariant");
        let named = Plan { canary_variant: Some("b".into()), ..plan.clone() };
        assert_eq!(cohorts(&named, &flag).unwrap(), ("b".into(), "a".into()));
        let same = Plan { canary_variant: Some("a".into()), ..plan.clone() };
        assert!(cohorts(&same, &flag).is_err());
        let unknown = Plan { control_variant: Some("z".into()), ..named };
        assert_eq!(cohorts(&unknown, &flag).unwrap_err().path, "/controlVariant");
    }
}
