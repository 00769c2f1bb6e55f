//! A rollout over time (`GET …/rollouts/{key}/series`): at each step from its start to
//! its end (or now), the verdict the controller's judgement gives on the window it judges
//! at that instant — the stage then in force, outcomes since that stage began, the plan's
//! criteria — with core's thresholds, for charts. Stages are replayed from the rollout's
//! events; judging is [`controller::judge_arms`], the controller's own, on the
//! outcomes read once per stage and summed second by second.

use crate::app::App;
use crate::auth::Reader;
use crate::controller::{self, Event};
use crate::error::{ApiError, ApiResult};
use crate::outcomes;
use crate::rollout::Status;
use crate::store::now_ms;
use axum::Json;
use axum::extract::{Path, Query, State};
use pennon_core::judgement::Arm;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Points the default step gives at most.
pub const DEFAULT_POINTS: i64 = 300;
/// Points any step may give.
pub const MAX_POINTS: i64 = 2000;

/// The route.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(series))
}

/// `?step=SECONDS`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SeriesQuery {
    /// Seconds between points (default: the smallest whole number of seconds that gives
    /// at most 300 points; at most 2,000 points in any case).
    pub step: Option<i64>,
}

/// One stage as it ran: its index in the plan (from 0) and when it began and ended.
#[derive(Debug, Clone, PartialEq)]
struct Ran {
    index: usize,
    started_at: i64,
    ended_at: Option<i64>,
}

/// The stages as the events show them, and when the rollout ended (if it did).
fn stages_run(events: &[Event]) -> (Vec<Ran>, Option<i64>) {
    let mut ran: Vec<Ran> = Vec::new();
    for event in events {
        let at = pennon_core::time::parse_timestamp(&event.at).unwrap_or(0);
        let active = Status::parse(&event.status).is_some_and(Status::is_active);
        if !active {
            if let Some(last) = ran.last_mut() {
                last.ended_at = Some(at);
            }
            return (ran, Some(at));
        }
        let index = usize::try_from(event.stage - 1).unwrap_or(0);
        if ran.last().is_none_or(|last| last.index != index) {
            if let Some(last) = ran.last_mut() {
                last.ended_at = Some(at);
            }
            ran.push(Ran { index, started_at: at, ended_at: None });
        }
    }
    (ran, None)
}

fn arm_json(arm: &Arm) -> Value {
    json!({
        "requests": arm.requests,
        "errors": arm.errors,
        "errorRate": (arm.requests > 0).then(|| arm.error_rate()),
        "p95": arm.latency.quantile(0.95),
    })
}

/// The instants from `from` to `to` every `step` ms, `to` included.
fn instants(from: i64, to: i64, step: i64) -> Vec<i64> {
    let mut out: Vec<i64> = (0_i64..)
        .map_while(|k| k.checked_mul(step).and_then(|offset| from.checked_add(offset)))
        .take_while(|t| *t < to)
        .collect();
    out.push(to);
    out
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/rollouts/{key}/series", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path), SeriesQuery),
    responses((status = 200, description = "`{flag, environment, id, state, startedAt, endedAt, stages: [{index, percentage, startedAt, endedAt}], points: [{at, stage, percentage, verdict, canary, control, thresholds}], events}`"),
        (status = 400, description = "A step that is not positive or gives more than 2,000 points"), (status = 404, description = "The flag has no rollout")))]
async fn series(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
    Query(query): Query<SeriesQuery>,
) -> ApiResult<Json<Value>> {
    let rollout = controller::newest(&app, &env, &key).await?;
    let events = controller::events(&app, &rollout.id).await?;
    let (ran, ended_at) = stages_run(&events);
    let start = ran.first().map_or(rollout.started_at, |first| first.started_at);
    let end = ended_at.unwrap_or_else(now_ms).max(start);
    let span = end - start;
    let step_ms = match query.step.map(|step| (step, step.checked_mul(1000))) {
        Some((_, None)) | Some((..=0, _)) => {
            return Err(ApiError::bad_request("step: give a positive number of seconds"));
        }
        Some((step, Some(step_ms))) if span / step_ms >= MAX_POINTS => {
            return Err(ApiError::bad_request(format!(
                "step: {step} s gives more than {MAX_POINTS} points over {} s",
                span / 1000
            )));
        }
        Some((_, Some(step_ms))) => step_ms,
        None => (span / 1000 / DEFAULT_POINTS + 1) * 1000,
    };
    let settle = rollout.plan.settle_ms();
    let at_all = instants(start, end, step_ms);
    let mut points = Vec::new();
    for (position, stage) in ran.iter().enumerate() {
        // The instants this stage was in force at (the last stage: up to the end).
        let until = ran.get(position + 1).map_or(i64::MAX, |next| next.started_at);
        let ats: Vec<i64> = at_all.iter().copied().filter(|at| *at >= stage.started_at && *at < until).collect();
        let (Some(&last), from) = (ats.last(), stage.started_at + settle) else { continue };
        // One read per stage; each point's window is the seconds before its end.
        let rows = if from < last {
            outcomes::window_seconds(&app.store, &rollout.environment, &rollout.flag, from, last).await?
        } else {
            Vec::new()
        };
        let mut rows = rows.into_iter().peekable();
        let mut arms: BTreeMap<String, Arm> = BTreeMap::new();
        for at in ats {
            if from < at {
                let end = outcomes::end_second(at);
                while let Some((_, variant, arm)) = rows.next_if(|(second, _, _)| *second < end) {
                    arms.entry(variant).or_default().merge(&arm);
                }
            }
            let judged = controller::judge_arms(&rollout, stage.index, &arms, from, at)?;
            points.push(json!({
                "at": crate::time::rfc3339(at),
                "stage": stage.index,
                "percentage": rollout.plan.stage(stage.index).percentage,
                "verdict": judged.look.verdict.as_str(),
                "canary": arm_json(&judged.canary),
                "control": arm_json(&judged.control),
                "thresholds": judged.json.pointer("/evidence/thresholds"),
            }));
        }
    }
    let stages: Vec<Value> = rollout
        .plan
        .stages
        .iter()
        .enumerate()
        .map(|(index, planned)| {
            let run = ran.iter().rev().find(|stage| stage.index == index);
            json!({
                "index": index,
                "percentage": planned.percentage,
                "startedAt": run.map(|stage| crate::time::rfc3339(stage.started_at)),
                "endedAt": run.and_then(|stage| stage.ended_at).map(crate::time::rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({
        "flag": rollout.flag,
        "environment": rollout.environment,
        "id": rollout.id,
        "state": rollout.position.status.as_str(),
        "startedAt": crate::time::rfc3339(rollout.started_at),
        "endedAt": ended_at.map(crate::time::rfc3339),
        "stages": stages,
        "points": points,
        "events": events,
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(at: i64, stage: i64, status: &str) -> Event {
        Event {
            seq: 0,
            at: crate::time::rfc3339(at),
            actor: String::new(),
            kind: String::new(),
            stage,
            percentage: None,
            status: status.into(),
            revision: None,
            audit_seq: 0,
            reason: None,
            judgement: None,
        }
    }

    #[test]
    fn stages_are_replayed_from_the_events() {
        let events = [
            event(1_000, 1, "running"),
            event(2_000, 1, "paused"),
            event(3_000, 1, "running"),
            event(5_000, 2, "running"),
            event(9_000, 2, "rolled_back"),
        ];
        let (ran, ended) = stages_run(&events);
        assert_eq!(
            ran,
            [
                Ran { index: 0, started_at: 1_000, ended_at: Some(5_000) },
                Ran { index: 1, started_at: 5_000, ended_at: Some(9_000) }
            ]
        );
        assert_eq!(ended, Some(9_000));
        let (ran, ended) = stages_run(&events[..4]);
        assert_eq!((ran.len(), ran[1].ended_at, ended), (2, None, None));
    }

    #[test]
    fn instants_end_at_the_end() {
        assert_eq!(instants(0, 2_500, 1_000), [0, 1_000, 2_000, 2_500]);
        assert_eq!(instants(0, 2_000, 1_000), [0, 1_000, 2_000]);
        assert_eq!(instants(5, 5, 1_000), [5]);
    }
}
