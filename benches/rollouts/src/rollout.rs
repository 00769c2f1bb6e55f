//! The server's rollout API as the simulation uses it: the flag a rollout starts from,
//! starting a rollout with a plan, and reading its state and decisions.

use serde_json::{Value, json};

use crate::server::{ENVIRONMENT, Server};
use crate::traffic::{CANARY_VARIANT, CONTROL_VARIANT};

/// A rollout plan: the canary percentages in order, each stage's minimum duration, and
/// how an unhealthy canary is rolled back.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Canary percentages, e.g. `[10, 30, 50, 100]`.
    pub stages: Vec<u32>,
    /// Each stage's minimum duration (ISO 8601, e.g. `PT2S`).
    pub stage_duration: String,
    /// Minimum requests per cohort before a stage may be judged healthy.
    pub min_requests: u64,
    /// `gradual`, `immediate` or `kill`.
    pub rollback: String,
}

/// The flag every simulated rollout starts from: a boolean whose on path serves
/// `on` (the canary) and whose `offVariant` is `off` (the control), switched on with
/// nobody in the rollout yet.
pub fn flag_definition() -> Value {
    json!({
        "type": "boolean",
        "state": "on",
        "variants": { CANARY_VARIANT: true, CONTROL_VARIANT: false },
        "offVariant": CONTROL_VARIANT,
        "fallthrough": { "rollout": { "variant": CANARY_VARIANT, "otherwise": CONTROL_VARIANT, "percentage": 0 } },
        "metadata": { "description": "a simulated canary", "owner": "pennon-rollouts" }
    })
}

fn path(key: &str) -> String {
    format!("/api/v1/environments/{ENVIRONMENT}/rollouts/{key}")
}

/// Starts a rollout of `key` with `plan`.
pub fn start(server: &Server, key: &str, plan: &Plan) -> Result<Value, String> {
    let stages: Vec<Value> = plan
        .stages
        .iter()
        .map(|percentage| json!({ "percentage": percentage, "duration": plan.stage_duration, "minRequests": plan.min_requests }))
        .collect();
    let body = json!({
        "stages": stages,
        "canary": CANARY_VARIANT,
        "control": CONTROL_VARIANT,
        "rollback": plan.rollback,
        "reason": "simulation",
    });
    server.admin(reqwest::Method::POST, &path(key), Some(&body))
}

/// Aborts a rollout that did not finish in time.
pub fn abort(server: &Server, key: &str) -> Result<Value, String> {
    server.admin(
        reqwest::Method::POST,
        &format!("{}/abort", path(key)),
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
    /// Ended another way (aborted).
    Ended(String),
}

impl Phase {
    fn from_state(state: &str) -> Phase {
        match state {
            "completed" | "promoted" | "done" => Phase::Completed,
            "rolled_back" | "rolledBack" | "rolledback" => Phase::RolledBack,
            "aborted" => Phase::Ended(state.to_owned()),
            other => Phase::Running(other.to_owned()),
        }
    }

    /// Whether the controller is done with the rollout.
    pub fn is_final(&self) -> bool {
        !matches!(self, Phase::Running(_))
    }
}

/// One decision of the controller (a rollout event).
#[derive(Debug, Clone)]
pub struct Decision {
    /// When it was taken (ms since the epoch, the server's clock).
    pub at_ms: i64,
    /// `start`, `advance`, `rollback`, `complete`, …
    pub action: String,
    /// The stage index it put in force, if any.
    pub stage: Option<u64>,
    /// The canary percentage it set, if any.
    pub percentage: Option<f64>,
    /// The criterion that failed, for a rollback.
    pub criterion: Option<String>,
    /// The event as the server sent it.
    pub raw: Value,
}

/// A rollout's state and history.
#[derive(Debug, Clone)]
pub struct Status {
    /// Where it stands.
    pub phase: Phase,
    /// The decisions, oldest first.
    pub decisions: Vec<Decision>,
}

impl Status {
    /// The first decision of this action.
    pub fn first(&self, action: &str) -> Option<&Decision> {
        self.decisions.iter().find(|d| d.action == action)
    }

    /// The highest stage index in force so far.
    pub fn stage(&self) -> Option<u64> {
        self.decisions.iter().filter_map(|d| d.stage).max()
    }
}

fn timestamp(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => pennon_core::time::parse_timestamp(text),
        _ => None,
    }
}

fn decision(event: &Value) -> Decision {
    let text = |names: &[&str]| names.iter().find_map(|n| event.get(*n).and_then(Value::as_str)).map(str::to_owned);
    Decision {
        at_ms: ["at", "time", "timestamp"].iter().find_map(|n| event.get(*n).and_then(timestamp)).unwrap_or(0),
        action: text(&["action", "type", "kind", "event"]).unwrap_or_default(),
        stage: event.get("stage").and_then(Value::as_u64),
        percentage: event.get("percentage").and_then(Value::as_f64),
        criterion: text(&["criterion"]).or_else(|| {
            event.get("judgement").and_then(|j| j.get("criterion")).and_then(Value::as_str).map(str::to_owned)
        }),
        raw: event.clone(),
    }
}

/// `GET …/rollouts/{key}`.
pub fn status(server: &Server, key: &str) -> Result<Status, String> {
    let raw = server.admin(reqwest::Method::GET, &path(key), None)?;
    let phase = Phase::from_state(raw.get("state").and_then(Value::as_str).unwrap_or(""));
    let decisions = raw
        .get("events")
        .and_then(Value::as_array)
        .map(|events| events.iter().map(decision).collect())
        .unwrap_or_default();
    Ok(Status { phase, decisions })
}

/// `GET …/rollouts`: every rollout's phase by flag key.
pub fn phases(server: &Server) -> Result<Vec<(String, Phase)>, String> {
    let raw = server.admin(reqwest::Method::GET, &format!("/api/v1/environments/{ENVIRONMENT}/rollouts"), None)?;
    let list = raw.get("rollouts").unwrap_or(&raw).as_array().cloned().unwrap_or_default();
    Ok(list
        .iter()
        .filter_map(|r| {
            let key = r.get("flag").or_else(|| r.get("key")).and_then(Value::as_str)?;
            Some((key.to_owned(), Phase::from_state(r.get("state").and_then(Value::as_str).unwrap_or(""))))
        })
        .collect())
}

/// What is wrong with a rollout's history: a stage skipped or repeated, a percentage not
/// in the plan, a gap in the event sequence, a completed rollout that did not pass
/// through every stage. Empty when the history is whole.
pub fn gaps(status: &Status, plan: &Plan) -> Vec<String> {
    let mut problems = Vec::new();
    let set: Vec<f64> = status
        .decisions
        .iter()
        .filter(|d| matches!(d.action.as_str(), "start" | "advance" | "promote" | "complete"))
        .filter_map(|d| d.percentage)
        .collect();
    let mut expected = plan.stages.iter().map(|&p| f64::from(p));
    let mut previous: Option<f64> = None;
    for percentage in &set {
        if previous == Some(*percentage) {
            continue; // `complete` may repeat the last stage's percentage
        }
        match expected.next() {
            Some(want) if want == *percentage => {}
            want => problems.push(format!("set {percentage} % where the plan's next stage is {want:?}")),
        }
        previous = Some(*percentage);
    }
    if status.phase == Phase::Completed && expected.next().is_some() {
        problems.push(format!("completed after the percentages {set:?}, not every stage of {:?}", plan.stages));
    }
    let stages: Vec<u64> = status.decisions.iter().filter_map(|d| d.stage).collect();
    for pair in stages.windows(2) {
        if let [a, b] = pair
            && *b > *a + 1
        {
            problems.push(format!("stage {a} then stage {b}: a stage skipped"));
        }
    }
    let seqs: Vec<u64> = status.decisions.iter().filter_map(|d| d.raw.get("seq").and_then(Value::as_u64)).collect();
    for pair in seqs.windows(2) {
        if let [a, b] = pair
            && *b != *a + 1
        {
            problems.push(format!("event {a} then event {b}: a decision missing"));
        }
    }
    problems
}
