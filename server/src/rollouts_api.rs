//! The rollout routes of the admin API (`/api/v1/environments/{env}/rollouts…`): start
//! a guarded rollout, read its state and history with per-stage metrics, pause, resume,
//! promote (one stage, or `full`: instant deploy) and abort. The work is in
//! [`crate::controller`].

use crate::app::App;
use crate::auth::{Reader, Writer};
use crate::body::{Body, MaybeBody};
use crate::controller::{self, Command, Event, Rollout};
use crate::error::{ApiResult, request_id};
use crate::rollout::{Plan, RollbackKind, Status};
use crate::store::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The rollout routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_rollouts))
        .routes(routes!(get_rollout, start_rollout))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(promote))
        .routes(routes!(abort))
}

/// A rollout as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    /// Id.
    pub id: String,
    /// Environment.
    pub environment: String,
    /// Flag.
    pub flag: String,
    /// `running`, `paused`, `awaiting_approval`, `completed`, `rolled_back`, `aborted`
    /// or `interrupted`.
    pub status: Status,
    /// The current stage, from 1.
    pub stage: usize,
    /// How many stages the plan has.
    pub stages: usize,
    /// The canary percentage the rollout set last (100 once completed, 0 after a rollback).
    pub percentage: f64,
    /// The canary cohort's variant.
    pub canary_variant: String,
    /// The control cohort's variant.
    pub control_variant: String,
    /// The plan as started.
    pub plan: Plan,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: String,
    /// When the current stage began.
    pub stage_started_at: String,
    /// The earliest time the current stage may advance (its `minDuration` passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_advance_at: Option<String>,
    /// Last change.
    pub updated_at: String,
    /// Grows by one with every event.
    pub version: i64,
    /// While active: the judgement of the current stage's window now (verdict,
    /// criterion, requests, errors, error rate and p50/p95/p99 per cohort, evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Value>,
    /// The history, oldest first (one rollout's GET only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
}

async fn view(app: &App, rollout: Rollout, with_events: bool) -> ApiResult<RolloutView> {
    let at = rollout.position;
    let active = at.status.is_active();
    let current = if active {
        let judged = controller::judge(app, &rollout, now_ms()).await?;
        app.metrics.observe_canary(&rollout, &judged);
        Some(judged.json)
    } else {
        None
    };
    let events = if with_events { Some(controller::events(app, &rollout.id).await?) } else { None };
    let percentage = match at.status {
        Status::Completed => 100.0,
        Status::RolledBack | Status::Aborted => 0.0,
        _ => rollout.plan.stage(at.stage).percentage.as_f64().unwrap_or(0.0),
    };
    let earliest = (at.status == Status::Running)
        .then(|| crate::time::rfc3339(at.stage_started_at + rollout.plan.min_duration_ms(at.stage)));
    Ok(RolloutView {
        id: rollout.id,
        environment: rollout.environment,
        flag: rollout.flag,
        status: at.status,
        stage: at.stage + 1,
        stages: rollout.plan.stages.len(),
        percentage,
        canary_variant: rollout.canary_variant,
        control_variant: rollout.control_variant,
        started_by: rollout.started_by,
        started_at: crate::time::rfc3339(rollout.started_at),
        stage_started_at: crate::time::rfc3339(at.stage_started_at),
        earliest_advance_at: earliest,
        updated_at: crate::time::rfc3339(rollout.updated_at),
        version: rollout.version,
        plan: rollout.plan,
        current,
        events,
    })
}

/// Start a rollout: the plan, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartBody {
    /// The plan.
    #[serde(flatten)]
    pub plan: Plan,
    /// Why (required in protected environments).
    pub reason: Option<String>,
}

/// Pause, resume or a reason alone.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why.
    pub reason: Option<String>,
}

/// Promote.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PromoteBody {
    /// Skip every remaining stage: the flag goes on for everyone (instant deploy).
    #[serde(default)]
    pub full: bool,
    /// Why.
    pub reason: Option<String>,
}

/// Abort.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AbortBody {
    /// Roll back this way instead of as the plan says.
    pub rollback: Option<RollbackKind>,
    /// Why.
    pub reason: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/rollouts", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path)), responses((status = 200, body = [RolloutView])))]
async fn list_rollouts(
    State(app): State<App>,
    _: Reader,
    Path(env): Path<String>,
) -> ApiResult<Json<Vec<RolloutView>>> {
    if app.environments.slot(&env).is_none() {
        return Err(crate::error::ApiError::not_found(format!("no environment '{env}'")));
    }
    let mut out = Vec::new();
    for rollout in controller::list(&app, &env).await? {
        out.push(view(&app, rollout, false).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/rollouts/{key}", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = RolloutView), (status = 404, description = "The flag has no rollout")))]
async fn get_rollout(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
) -> ApiResult<Json<RolloutView>> {
    let rollout = controller::newest(&app, &env, &key).await?;
    Ok(Json(view(&app, rollout, true).await?))
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts/{key}", tag = "admin", security(("token" = ["developer"])),
    request_body = StartBody, params(("env" = String, Path), ("key" = String, Path)),
    responses((status = 201, body = RolloutView), (status = 409, description = "An active rollout exists"), (status = 422, description = "The plan cannot run")))]
async fn start_rollout(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<StartBody>,
) -> ApiResult<Response> {
    let rollout = controller::start(&app, &caller, request_id(), &env, &key, body.plan, body.reason).await?;
    Ok((StatusCode::CREATED, Json(view(&app, rollout, true).await?)).into_response())
}

async fn command(
    app: &App,
    caller: &crate::auth::Caller,
    env: &str,
    key: &str,
    command: Command,
    reason: Option<String>,
) -> ApiResult<Json<RolloutView>> {
    let rollout = controller::command(app, caller, request_id(), env, key, command, reason).await?;
    Ok(Json(view(app, rollout, true).await?))
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts/{key}/pause", tag = "admin", security(("token" = ["developer"])),
    request_body = ReasonBody, params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = RolloutView)))]
async fn pause(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    MaybeBody(body): MaybeBody<ReasonBody>,
) -> ApiResult<Json<RolloutView>> {
    command(&app, &caller, &env, &key, Command::Pause, body.reason).await
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts/{key}/resume", tag = "admin", security(("token" = ["developer"])),
    request_body = ReasonBody, params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = RolloutView)))]
async fn resume(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    MaybeBody(body): MaybeBody<ReasonBody>,
) -> ApiResult<Json<RolloutView>> {
    command(&app, &caller, &env, &key, Command::Resume, body.reason).await
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts/{key}/promote", tag = "admin", security(("token" = ["developer"])),
    request_body = PromoteBody, params(("env" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = RolloutView), (status = 403, description = "Approval by the starter in a protected environment")))]
async fn promote(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    MaybeBody(body): MaybeBody<PromoteBody>,
) -> ApiResult<Json<RolloutView>> {
    command(&app, &caller, &env, &key, Command::Promote { full: body.full }, body.reason).await
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts/{key}/abort", tag = "admin", security(("token" = ["developer"])),
    request_body = AbortBody, params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = RolloutView)))]
async fn abort(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    MaybeBody(body): MaybeBody<AbortBody>,
) -> ApiResult<Json<RolloutView>> {
    command(&app, &caller, &env, &key, Command::Abort { rollback: body.rollback }, body.reason).await
}
