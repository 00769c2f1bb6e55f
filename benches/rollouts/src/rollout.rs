//! The server's rollout API as the simulation uses it: the flag a rollout starts from,
//! starting a rollout with a plan, and reading its state and decisions.

use serde_json::{Value, json};

use crate::server::Api;
use crate::traffic::{CANARY_VARIANT, CONTROL_VARIANT};

/// A rollout plan: the canary percentages in order, each stage's minimum duration, and
/// how an unhealthy canary is rolled back.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Canary percentages, e.g. `[10, 30, 50, 100]`.
    pub stages: Vec<u32>,
    /// Each stage's minimum duration (ISO 8601, e.g. `PT2S`).
    pub stage_duration: String,
    /// Minimum requests per cohort before each stage may advance (the last value
    /// repeats for stages beyond the list).
    pub min_requests: Vec<u64>,
    /// `gradual`, `immediate` or `kill`.
    pub rollback: String,
}

/// The flag every simulated rollout starts from: a boolean whose on path serves `on`
/// (the canary) and whose `offVariant` is `off` (the control), switched off. The
/// controller moves it to state `canary` at each stage's percentage, and `on` at the end.
pub fn flag_definition() -> Value {
    json!({
        "type": "boolean",
        "state": "off",
        "variants": { CANARY_VARIANT: true, CONTROL_VARIANT: false },
        "offVariant": CONTROL_VARIANT,
        "fallthrough": { "variant": CANARY_VARIANT },
        "metadata": { "description": "a simulated canary", "owner": "pennon-rollouts" }
    })
}

fn path(api: &Api, key: &str) -> String {
    format!("/api/v1/environments/{}/rollouts/{key}", api.environment)
}

/// Starts a rollout of `key` with `plan` (core's default criteria).
pub fn start(api: &Api, key: &str, plan: &Plan) -> Result<Value, String> {
    let stages: Vec<Value> = plan
        .stages
        .iter()
        .enumerate()
        .map(|(index, percentage)| {
            let min_requests = plan.min_requests.get(index).or(plan.min_requests.last()).copied().unwrap_or(0);
            json!({ "percentage": percentage, "minDuration": plan.stage_duration, "minRequests": min_requests })
        })
        .collect();
    let body = json!({
        "stages": stages,
        "canaryVariant": CANARY_VARIANT,
        "controlVariant": CONTROL_VARIANT,
        "rollback": plan.rollback,
        "reason": "simulation",
    });
    api.admin(reqwest::Method::POST, &path(api, key), Some(&body))
}

/// Aborts a rollout that did not finish in time.
pub fn abort(api: &Api, key: &str) -> Result<Value, String> {
    api.admin(
        reqwest::Method::POST,
        &format!("{}/abort", path(api, key)),
        Some(&json!({ "reason": "simulation deadline" })),
    )
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Still being judged (or waiting, holding, paused).
    Running(String),
    /// Reached its last stage.
    Completed,
    /// Rolled back by the controller.
    RolledBack,
    /// Ended another way (`aborted`, `interrupted`).
    Ended(String),
}

impl Phase {
    fn from_status(status: &str) -> Phase {
        match status {
            "completed" => Phase::Completed,
            "rolled_back" => Phase::RolledBack,
            "running" | "paused" | "awaiting_approval" => Phase::Running(status.to_owned()),
            other => Phase::Ended(other.to_owned()),
        }
    }

    /// Whether the controller is done with the rollout.
    pub fn is_final(&self) -> bool {
        !matches!(self, Phase::Running(_))
    }
}

/// One event of a rollout: a decision of the controller or an action of a person.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Its number, from 1 without gaps.
    pub seq: Option<u64>,
    /// When it was taken (ms since the epoch, the server's clock).
    pub at_ms: i64,
    /// `started`, `advanced`, `hold`, `completed`, `rolled_back`, …
    pub kind: String,
    /// The stage after it (from 1).
    pub stage: Option<u64>,
    /// The canary percentage after it (absent when the flag is on, off or killed).
    pub percentage: Option<f64>,
    /// The flag revision it made.
    pub revision: Option<u64>,
    /// Its audit entry.
    pub audit_seq: Option<u64>,
    /// The criterion that failed, for a rollback.
    pub criterion: Option<String>,
}

/// A rollout's state and history.
#[derive(Debug, Clone)]
pub struct Status {
    /// Where it stands.
    pub phase: Phase,
    /// The decisions, oldest first.
    pub decisions: Vec<Decision>,
    /// While active: the stage, and why the current window's verdict is what it is.
    pub now: Option<String>,
}

impl Status {
    /// The first event of this kind.
    pub fn first(&self, kind: &str) -> Option<&Decision> {
        self.decisions.iter().find(|d| d.kind == kind)
    }

    /// The highest stage index in force so far.
    pub fn stage(&self) -> Option<u64> {
        self.decisions.iter().filter_map(|d| d.stage).max()
    }
}

fn decision(event: &Value) -> Decision {
    let number = |name: &str| event.get(name).and_then(Value::as_u64);
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    Decision {
        seq: number("seq"),
        at_ms: text(event.get("at")).and_then(|at| pennon_core::time::parse_timestamp(&at)).unwrap_or(0),
        kind: text(event.get("kind")).unwrap_or_default(),
        stage: number("stage"),
        percentage: event.get("percentage").and_then(Value::as_f64),
        revision: number("revision"),
        audit_seq: number("auditSeq"),
        criterion: text(event.get("judgement").and_then(|j| j.get("criterion"))),
    }
}

fn phase(rollout: &Value) -> Phase {
    Phase::from_status(rollout.get("status").and_then(Value::as_str).unwrap_or(""))
}

/// `GET …/rollouts/{key}`: the rollout with its events.
pub fn status(api: &Api, key: &str) -> Result<Status, String> {
    let raw = api.admin(reqwest::Method::GET, &path(api, key), None)?;
    let events = raw.get("events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let now = raw.get("current").map(|current| {
        let verdict = current.get("verdict").and_then(Value::as_str).unwrap_or("?");
        let reason = current.pointer("/evidence/reason").and_then(Value::as_str).unwrap_or("");
        let requests = |arm: &str| current.pointer(&format!("/{arm}/requests")).and_then(Value::as_u64).unwrap_or(0);
        format!(
            "stage {}: {verdict} with {} canary / {} control requests ({reason})",
            raw.get("stage").and_then(Value::as_u64).unwrap_or(0),
            requests("canary"),
            requests("control")
        )
    });
    Ok(Status { phase: phase(&raw), decisions: events.iter().map(decision).collect(), now })
}

/// `GET …/rollouts`: every rollout's phase by flag key (the newest rollout of a flag last).
pub fn phases(api: &Api) -> Result<Vec<(String, Phase)>, String> {
    let raw = api.admin(reqwest::Method::GET, &format!("/api/v1/environments/{}/rollouts", api.environment), None)?;
    let list = raw.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(list.iter().filter_map(|r| Some((r.get("flag").and_then(Value::as_str)?.to_owned(), phase(r)))).collect())
}

/// `GET …/flags/{key}/history`: the flag's audit entries as (audit seq, revision).
pub fn flag_history(api: &Api, key: &str) -> Result<Vec<(u64, Option<u64>)>, String> {
    let raw = api.admin(reqwest::Method::GET, &format!("{}/history", api.flag_path(key)), None)?;
    let entries = raw.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(entries
        .iter()
        .filter_map(|e| Some((e.get("seq")?.as_u64()?, e.get("revision").and_then(Value::as_u64))))
        .collect())
}

/// What is wrong with a rollout's history: an event number missing, a stage skipped or
/// repeated, a percentage that is not the plan's next stage, a completed rollout that did
/// not pass through every stage, or (given the flag's audit history) a change of the flag
/// without its event or an event whose change is not in the flag's history. Empty when
/// the history is whole.
pub fn gaps(status: &Status, plan: &Plan, history: Option<&[(u64, Option<u64>)]>) -> Vec<String> {
    let mut problems = Vec::new();
    for (expected, event) in (1..).zip(&status.decisions) {
        if event.seq != Some(expected) {
            problems.push(format!("event {expected} is numbered {:?}: a decision missing", event.seq));
            break;
        }
    }
    let moves: Vec<&Decision> =
        status.decisions.iter().filter(|d| matches!(d.kind.as_str(), "started" | "advanced")).collect();
    for ((index, event), want) in
        moves.iter().enumerate().zip(plan.stages.iter().map(|&p| f64::from(p)).chain(std::iter::repeat(f64::NAN)))
    {
        if event.stage != Some(index as u64 + 1) || event.percentage != Some(want) {
            problems.push(format!(
                "{} #{}: stage {:?} at {:?} %, where the plan's stage {} is {want} %",
                event.kind,
                event.seq.unwrap_or(0),
                event.stage,
                event.percentage,
                index + 1
            ));
        }
    }
    if status.phase == Phase::Completed && moves.len() != plan.stages.len() {
        problems.push(format!("completed after {} of the plan's {} stages", moves.len(), plan.stages.len()));
    }
    if let Some(history) = history {
        let events: Vec<u64> =
            status.decisions.iter().filter(|d| d.revision.is_some()).filter_map(|d| d.audit_seq).collect();
        let mut changes: Vec<u64> =
            history.iter().filter(|(_, revision)| revision.is_some()).map(|(seq, _)| *seq).collect();
        changes.sort_unstable();
        // The flag's first change is its creation, before the rollout.
        for seq in changes.iter().skip(1).filter(|seq| !events.contains(seq)) {
            problems.push(format!("the flag's change (audit entry {seq}) has no rollout event: a decision lost"));
        }
        for seq in events.iter().filter(|seq| !changes.contains(seq)) {
            problems.push(format!("a rollout event's change (audit entry {seq}) is not in the flag's history"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn plan() -> Plan {
        Plan {
            stages: vec![10, 50, 100],
            stage_duration: "PT2S".to_owned(),
            min_requests: vec![100],
            rollback: "gradual".to_owned(),
        }
    }

    /// Events as the server sends them: (kind, stage, percentage, audit seq of a flag change).
    fn status(phase: Phase, events: &[(&str, u64, Option<f64>, Option<u64>)]) -> Status {
        let decisions = (1..)
            .zip(events)
            .map(|(seq, (kind, stage, percentage, audit))| {
                decision(&json!({
                    "seq": seq, "at": "2026-12-06T09:00:00.000Z", "kind": kind, "stage": stage,
                    "percentage": percentage, "revision": audit.map(|a| a + 100), "auditSeq": audit.unwrap_or(0),
                }))
            })
            .collect();
        Status { phase, decisions, now: None }
    }

    fn whole() -> Status {
        status(
            Phase::Completed,
            &[
                ("started", 1, Some(10.0), Some(2)),
                ("hold", 1, Some(10.0), None),
                ("advanced", 2, Some(50.0), Some(3)),
                ("advanced", 3, Some(100.0), Some(4)),
                ("completed", 3, None, Some(5)),
            ],
        )
    }

    fn history() -> Vec<(u64, Option<u64>)> {
        // Newest first, as the server lists it; entry 1 creates the flag.
        vec![(5, Some(105)), (4, Some(104)), (3, Some(103)), (2, Some(102)), (1, Some(1))]
    }

    #[test]
    fn a_whole_history_has_no_gaps() {
        assert_eq!(gaps(&whole(), &plan(), Some(&history())), Vec::<String>::new());
        let at = whole().first("started").unwrap().at_ms;
        assert_eq!(pennon_core::time::format_timestamp(at).as_deref(), Some("2026-12-06T09:00:00.000Z"));
    }

    #[test]
    fn a_skipped_stage_is_a_gap() {
        let skipped = status(
            Phase::Completed,
            &[
                ("started", 1, Some(10.0), Some(2)),
                ("advanced", 3, Some(100.0), Some(3)),
                ("completed", 3, None, Some(4)),
            ],
        );
        let problems = gaps(&skipped, &plan(), None);
        assert!(problems.iter().any(|p| p.contains("stage Some(3) at Some(100.0) %")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("completed after 2 of the plan's 3 stages")), "{problems:?}");
    }

    #[test]
    fn a_missing_event_number_is_a_gap() {
        let mut status = whole();
        status.decisions.remove(1);
        let problems = gaps(&status, &plan(), None);
        assert_eq!(problems, vec!["event 2 is numbered Some(3): a decision missing".to_owned()]);
    }

    #[test]
    fn a_flag_change_without_its_event_is_a_lost_decision() {
        let mut history = history();
        history.insert(0, (6, Some(106)));
        assert_eq!(
            gaps(&whole(), &plan(), Some(&history)),
            vec!["the flag's change (audit entry 6) has no rollout event: a decision lost".to_owned()]
        );
        let mut history = self::history();
        history.retain(|(seq, _)| *seq != 3);
        assert_eq!(
            gaps(&whole(), &plan(), Some(&history)),
            vec!["a rollout event's change (audit entry 3) is not in the flag's history".to_owned()]
        );
    }
}
