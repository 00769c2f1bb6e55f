//! `pennon-rollouts drive`: one rollout against a server that is already running (a
//! dashboard to watch, a demo): starts the rollout of one flag with a plan, sends the
//! simulation's traffic through real SDK clients with the canary behaving as the
//! regression says, and follows the controller until it completes or rolls back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::model::Kind;
use crate::rollout::{self, Phase, Plan};
use crate::server::Api;
use crate::traffic::{Lane, Traffic, TrafficConfig};

/// One rollout to drive.
pub struct Drive {
    /// The server's admin API, for the rollout's environment.
    pub api: Api,
    /// An SDK key of that environment.
    pub sdk_key: String,
    /// The flag (created as the simulation's boolean flag when it does not exist).
    pub flag: String,
    /// How the canary behaves.
    pub kind: Kind,
    /// The rollout's plan.
    pub plan: Plan,
    /// The traffic.
    pub traffic: TrafficConfig,
    /// How long the controller has to end the rollout.
    pub deadline: Duration,
}

/// How the rollout ended: `Ok` when the controller (or a person) ended it, `Err` when the
/// deadline passed first (the rollout is then aborted); a one-line JSON summary in both.
pub fn run(drive: &Drive) -> Result<Result<Value, Value>, String> {
    let api = &drive.api;
    if api.find(&api.flag_path(&drive.flag))?.is_none() {
        api.put_flag(&drive.flag, &rollout::flag_definition())?;
    }
    let traffic = Traffic::start(&api.url, &drive.sdk_key, &drive.traffic)?;
    let lane = Arc::new(Lane::new(0, drive.flag.clone(), drive.kind));
    traffic.add(lane.clone());
    let began = Instant::now();
    let started = rollout::start(api, &drive.flag, &drive.plan);
    if started.is_ok() {
        lane.activate();
    }
    let status = started.and_then(|_| follow(api, &drive.flag, began + drive.deadline));
    traffic.stop();
    let status = status?;
    let ended = status.phase.is_final();
    if !ended {
        rollout::abort(api, &drive.flag)?;
    }
    let counts = lane.counts_at(i64::MAX);
    let rollback = status.first("rolled_back");
    let summary = json!({
        "flag": drive.flag,
        "environment": api.environment,
        "regression": drive.kind.label(),
        "outcome": match &status.phase {
            Phase::Completed => "completed".to_owned(),
            Phase::RolledBack => "rolled_back".to_owned(),
            Phase::Ended(how) => how.clone(),
            Phase::Running(_) => "deadline".to_owned(),
        },
        "stage": status.stage(),
        "criterion": rollback.and_then(|d| d.criterion.clone()),
        "decisions": status.decisions.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
        "seconds": (began.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "canary": { "requests": counts.canary_requests, "errors": counts.canary_errors },
        "control": { "requests": counts.control_requests, "errors": counts.control_errors },
    });
    Ok(if ended { Ok(summary) } else { Err(summary) })
}

/// Reads the rollout until it has ended or `deadline` has passed; its last state. Says on
/// stderr where the rollout stands whenever its stage or verdict changes.
fn follow(api: &Api, flag: &str, deadline: Instant) -> Result<rollout::Status, String> {
    let mut said = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let status = rollout::status(api, flag)?;
        if let Some(now) = &status.now {
            let stage_and_verdict = now.split(" with ").next().unwrap_or_default();
            if stage_and_verdict != said {
                eprintln!("  {flag}: {now}");
                said = stage_and_verdict.to_owned();
            }
        }
        if status.phase.is_final() || Instant::now() >= deadline {
            return Ok(status);
        }
    }
}
