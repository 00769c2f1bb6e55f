//! The admin API (`/api/v1`): flags, segments, environments, change requests, audit and
//! tokens. Handlers check access, convert, and call [`crate::change`] for every change.
//! The security requirement of each route names the least role it needs; the auth-matrix
//! test reads it from the OpenAPI document.

use crate::app::App;
use crate::audit::{self, Filter};
use crate::auth::{self, Admin, Caller, Reader, Role, Writer};
use crate::body::{Body, MaybeBody};
use crate::change::{self, Applied, Author, Mutation, Outcome};
use crate::edit::{Cohort, FlagEdit, Stage};
use crate::error::{ApiError, ApiResult, request_id};
use crate::publish::{Document, Entry, Kind, Published};
use crate::store::now_ms;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The admin routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(status))
        .routes(routes!(list_environments, create_environment))
        .routes(routes!(update_environment))
        .routes(routes!(list_flags))
        .routes(routes!(get_flag, put_flag, delete_flag))
        .routes(routes!(set_state))
        .routes(routes!(kill))
        .routes(routes!(rollback))
        .routes(routes!(set_rollout))
        .routes(routes!(set_override, remove_override))
        .routes(routes!(flag_history))
        .routes(routes!(evaluate_flag))
        .routes(routes!(list_segments))
        .routes(routes!(get_segment, put_segment, delete_segment))
        .routes(routes!(export_snapshot))
        .routes(routes!(import_snapshot))
        .routes(routes!(stale))
        .routes(routes!(list_change_requests))
        .routes(routes!(get_change_request))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(audit_list))
        .routes(routes!(audit_export))
        .routes(routes!(audit_verify))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .merge(crate::experiment::routes())
}

/// A flag or segment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    /// Key.
    pub key: String,
    /// The environment revision of its last change (`baseRevision` for the next one).
    pub revision: i64,
    /// When it last changed.
    pub updated_at: String,
    /// Who changed it.
    pub updated_by: String,
    /// The definition in snapshot format v1.
    pub definition: Value,
    /// Flags: where its canary gate and fallthrough rollout stand now, from core
    /// (`{canary, fallthrough}`, each `{percentage, stage, stages, paused, ramping}` or
    /// null; `Snapshot::standing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standing: Option<Value>,
}

fn view(key: &str, entry: &Entry, published: Option<&Published>, now: i64) -> EntryView {
    EntryView {
        key: key.to_string(),
        revision: entry.revision,
        updated_at: crate::time::rfc3339(entry.at),
        updated_by: entry.principal.clone(),
        definition: entry.definition.clone(),
        standing: published.and_then(|published| published.snapshot.standing(key, now)),
    }
}

/// The published snapshot flags are viewed with (none for segments).
fn published_for(app: &App, env: &str, kind: Kind) -> Option<Arc<Published>> {
    if kind == Kind::Flag { app.environments.published(env) } else { None }
}

fn document(app: &App, environment: &str) -> ApiResult<Arc<Document>> {
    app.environments
        .slot(environment)
        .map(|slot| slot.document.clone())
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))
}

fn author(caller: &Caller, reason: Option<String>) -> Author<'_> {
    Author { caller, request_id: request_id(), reason }
}

fn answer(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Applied(applied) => {
            let created = matches!(applied.action.as_str(), "create" | "segment_create");
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(applied)).into_response()
        }
        Outcome::Pending(request) => (StatusCode::ACCEPTED, Json(json!({ "changeRequest": request }))).into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "admin", security(("token" = ["viewer"])),
    responses((status = 200, description = "Who the token belongs to")))]
async fn me(Reader(caller): Reader) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "principal": caller.principal, "role": caller.role, "environment": caller.environment, "tokenId": caller.token_id }),
    ))
}

#[utoipa::path(get, path = "/api/v1/status", tag = "admin", security(("token" = ["viewer"])),
    responses((status = 200, description = "Server version, database, and each environment's revision")))]
async fn status(State(app): State<App>, _: Reader) -> ApiResult<Json<Value>> {
    let environments: Vec<Value> = app
        .environments
        .keys()
        .iter()
        .filter_map(|key| app.environments.slot(key))
        .map(|slot| {
            let document = &slot.document;
            json!({
                "key": document.environment,
                "protected": document.protected,
                "revision": document.revision,
                "flags": document.flags.len(),
                "segments": document.segments.len(),
                "publishedAt": crate::time::rfc3339(document.generated_at),
            })
        })
        .collect();
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "database": app.store.backend.name(),
        "uptimeSeconds": app.started.elapsed().as_secs(),
        "environments": environments,
    })))
}

/// Create an environment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEnvironment {
    /// Its key.
    pub key: String,
    /// Whether changes need approval.
    #[serde(default)]
    pub protected: bool,
    /// Why.
    pub reason: Option<String>,
}

/// Change an environment (fields left out stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentUpdate {
    /// Whether changes need approval.
    pub protected: Option<bool>,
    /// Whether the server samples the contexts of SDK evaluate and OFREP calls (the
    /// context set `sampled`, kept in memory).
    pub sample_contexts: Option<bool>,
    /// Why.
    pub reason: Option<String>,
}

fn environment_json(app: &App, document: &Document) -> Value {
    json!({
        "key": document.environment,
        "protected": document.protected,
        "revision": document.revision,
        "sampleContexts": app.samples.enabled(&document.environment),
    })
}

#[utoipa::path(get, path = "/api/v1/environments", tag = "admin", security(("token" = ["viewer"])),
    responses((status = 200, description = "Every environment")))]
async fn list_environments(State(app): State<App>, _: Reader) -> ApiResult<Json<Vec<Value>>> {
    let keys = app.environments.keys();
    Ok(Json(
        keys.iter()
            .filter_map(|key| app.environments.slot(key))
            .map(|slot| environment_json(&app, &slot.document))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/environments", tag = "admin", security(("token" = ["admin"])), request_body = NewEnvironment,
    responses((status = 201, description = "Created"), (status = 409, description = "It exists")))]
async fn create_environment(
    State(app): State<App>,
    Admin(caller): Admin,
    Body(body): Body<NewEnvironment>,
) -> ApiResult<Response> {
    let settings = change::EnvironmentSettings { protected: Some(body.protected), sample_contexts: None };
    let document = change::put_environment(&app, author(&caller, body.reason), &body.key, settings, true).await?;
    Ok((StatusCode::CREATED, Json(environment_json(&app, &document))).into_response())
}

#[utoipa::path(patch, path = "/api/v1/environments/{env}", tag = "admin", security(("token" = ["admin"])), request_body = EnvironmentUpdate,
    params(("env" = String, Path, description = "Environment")), responses((status = 200, description = "Updated")))]
async fn update_environment(
    State(app): State<App>,
    Admin(caller): Admin,
    Path(env): Path<String>,
    Body(body): Body<EnvironmentUpdate>,
) -> ApiResult<Json<Value>> {
    let settings = change::EnvironmentSettings { protected: body.protected, sample_contexts: body.sample_contexts };
    let document = change::put_environment(&app, author(&caller, body.reason), &env, settings, false).await?;
    Ok(Json(environment_json(&app, &document)))
}

fn list(app: &App, env: &str, kind: Kind) -> ApiResult<Json<Value>> {
    let document = document(app, env)?;
    let (published, now) = (published_for(app, env, kind), now_ms());
    let entries: Vec<EntryView> =
        document.entries(kind).iter().map(|(key, entry)| view(key, entry, published.as_deref(), now)).collect();
    Ok(Json(json!({ "environment": env, "revision": document.revision, kind.field(): entries })))
}

fn get_entry(app: &App, env: &str, kind: Kind, key: &str) -> ApiResult<Json<EntryView>> {
    let document = document(app, env)?;
    let entry = document
        .entries(kind)
        .get(key)
        .ok_or_else(|| ApiError::not_found(format!("no {} '{key}' in {env}", kind.as_str())))?;
    Ok(Json(view(key, entry, published_for(app, env, kind).as_deref(), now_ms())))
}

/// Create or replace a flag or segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutBody {
    /// The definition in snapshot format v1.
    pub definition: Value,
    /// The revision this is based on (required when it exists).
    pub base_revision: Option<i64>,
    /// Why (required in protected environments).
    pub reason: Option<String>,
}

/// `?baseRevision=N&reason=…` of deletes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    /// The revision this is based on.
    pub base_revision: Option<i64>,
    /// Why.
    pub reason: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/flags", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path, description = "Environment")), responses((status = 200, description = "Every flag")))]
async fn list_flags(State(app): State<App>, _: Reader, Path(env): Path<String>) -> ApiResult<Json<Value>> {
    list(&app, &env, Kind::Flag)
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/flags/{key}", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = EntryView), (status = 404, description = "No such flag")))]
async fn get_flag(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
) -> ApiResult<Json<EntryView>> {
    get_entry(&app, &env, Kind::Flag, &key)
}

#[utoipa::path(put, path = "/api/v1/environments/{env}/flags/{key}", tag = "admin", security(("token" = ["developer"])), request_body = PutBody,
    params(("env" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Applied), (status = 201, body = Applied), (status = 202, description = "A change request"), (status = 409, description = "Stale baseRevision"), (status = 422, description = "Refused by core"), (status = 428, description = "baseRevision missing")))]
async fn put_flag(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<PutBody>,
) -> ApiResult<Response> {
    let mutation = Mutation::Put { kind: Kind::Flag, key, definition: body.definition };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, mutation, body.base_revision).await?))
}

#[utoipa::path(delete, path = "/api/v1/environments/{env}/flags/{key}", tag = "admin", security(("token" = ["developer"])),
    params(("env" = String, Path), ("key" = String, Path), DeleteQuery), responses((status = 200, body = Applied)))]
async fn delete_flag(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult<Response> {
    let mutation = Mutation::Delete { kind: Kind::Flag, key };
    Ok(answer(change::apply(&app, author(&caller, query.reason), &env, mutation, query.base_revision).await?))
}

/// Set a flag's state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateBody {
    /// `off`, `shadow`, `canary`, `on` or `kill`.
    pub state: String,
    /// With `canary`: the canary's percentage; with `on`: the fallthrough rollout's.
    #[schema(value_type = Option<f64>)]
    pub percentage: Option<serde_json::Number>,
    /// Why.
    pub reason: Option<String>,
    /// Optional: fail with 409 when the flag changed since.
    pub base_revision: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/flags/{key}/state", tag = "admin", security(("token" = ["developer"])), request_body = StateBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = Applied), (status = 202, description = "A change request")))]
async fn set_state(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<StateBody>,
) -> ApiResult<Response> {
    let edit = if body.state == "kill" && body.percentage.is_none() {
        FlagEdit::Kill
    } else {
        FlagEdit::State { state: body.state, percentage: body.percentage }
    };
    let mutation = Mutation::Edit { key, edit };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, mutation, body.base_revision).await?))
}

/// A reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/flags/{key}/kill", tag = "admin", security(("token" = ["developer"])), request_body = ReasonBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = Applied)))]
async fn kill(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    MaybeBody(body): MaybeBody<ReasonBody>,
) -> ApiResult<Response> {
    let reason = body.reason;
    let mutation = Mutation::Edit { key, edit: FlagEdit::Kill };
    Ok(answer(change::apply(&app, author(&caller, reason), &env, mutation, None).await?))
}

/// Roll a flag back.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackBody {
    /// Restore the definition in force at this environment revision (default: the one
    /// before the flag's last change).
    pub to_revision: Option<i64>,
    /// Why.
    pub reason: Option<String>,
    /// Optional: fail with 409 when the flag changed since.
    pub base_revision: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/flags/{key}/rollback", tag = "admin", security(("token" = ["developer"])), request_body = RollbackBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = Applied)))]
async fn rollback(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<RollbackBody>,
) -> ApiResult<Response> {
    let mutation = Mutation::Rollback { key, to_revision: body.to_revision };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, mutation, body.base_revision).await?))
}

/// Set a rollout's percentage or stages.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutBody {
    /// `canary` or `fallthrough`.
    pub cohort: Cohort,
    /// A fixed percentage…
    #[schema(value_type = Option<f64>)]
    pub percentage: Option<serde_json::Number>,
    /// …or progressive stages.
    pub stages: Option<Vec<Stage>>,
    /// When the stages start (default: now).
    pub start: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Optional: fail with 409 when the flag changed since.
    pub base_revision: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/environments/{env}/flags/{key}/rollout", tag = "admin", security(("token" = ["developer"])), request_body = RolloutBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = Applied)))]
async fn set_rollout(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<RolloutBody>,
) -> ApiResult<Response> {
    let edit =
        FlagEdit::Rollout { cohort: body.cohort, percentage: body.percentage, stages: body.stages, start: body.start };
    Ok(answer(
        change::apply(&app, author(&caller, body.reason), &env, Mutation::Edit { key, edit }, body.base_revision)
            .await?,
    ))
}

/// A tenant override.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverrideBody {
    /// The variant the tenant gets.
    pub variant: String,
    /// Until when (RFC 3339); it stops applying at that instant, in SDKs too.
    pub expires_at: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/environments/{env}/flags/{key}/overrides/{tenant}", tag = "admin", security(("token" = ["developer"])), request_body = OverrideBody,
    params(("env" = String, Path), ("key" = String, Path), ("tenant" = String, Path)), responses((status = 200, body = Applied)))]
async fn set_override(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key, tenant)): Path<(String, String, String)>,
    Body(body): Body<OverrideBody>,
) -> ApiResult<Response> {
    let edit = FlagEdit::OverrideSet { tenant, variant: body.variant, expires_at: body.expires_at, note: body.note };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, Mutation::Edit { key, edit }, None).await?))
}

#[utoipa::path(delete, path = "/api/v1/environments/{env}/flags/{key}/overrides/{tenant}", tag = "admin", security(("token" = ["developer"])),
    params(("env" = String, Path), ("key" = String, Path), ("tenant" = String, Path), DeleteQuery), responses((status = 200, body = Applied)))]
async fn remove_override(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key, tenant)): Path<(String, String, String)>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult<Response> {
    let edit = FlagEdit::OverrideRm { tenant };
    Ok(answer(
        change::apply(&app, author(&caller, query.reason), &env, Mutation::Edit { key, edit }, query.base_revision)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/flags/{key}/history", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = [audit::Entry])))]
async fn flag_history(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
) -> ApiResult<Json<Vec<audit::Entry>>> {
    document(&app, &env)?;
    let entries = audit::history(&app.store, &env, &key).await?;
    if entries.is_empty() {
        return Err(ApiError::not_found(format!("flag '{key}' has no history in {env}")));
    }
    Ok(Json(entries))
}

/// Evaluate a flag for a context.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluateBody {
    /// The evaluation context.
    #[serde(default)]
    pub context: Value,
    /// The instant to evaluate at (RFC 3339; default now).
    pub now: Option<String>,
}

/// Converts a JSON context with core's rules; the error names the problem.
pub fn context(value: &Value) -> ApiResult<pennon_core::Context> {
    pennon_core::Context::from_value(value.clone()).map_err(|problem| {
        let mut error = ApiError::refused(&problem);
        error.status = StatusCode::BAD_REQUEST;
        error
    })
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/flags/{key}/evaluate", tag = "admin", security(("token" = ["viewer"])), request_body = EvaluateBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, description = "Core's evaluation result")))]
async fn evaluate_flag(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<EvaluateBody>,
) -> ApiResult<Json<Value>> {
    let published =
        app.environments.published(&env).ok_or_else(|| ApiError::not_found(format!("no environment '{env}'")))?;
    if published.snapshot.flag_type(&key).is_none() {
        return Err(ApiError::not_found(format!("no flag '{key}' in {env}")));
    }
    let now = match &body.now {
        Some(text) => crate::time::parse(text, "now")?,
        None => now_ms(),
    };
    let context = context(&body.context)?;
    let evaluation = published.snapshot.evaluate(&key, &context, now, None);
    let mut result = evaluation.to_json(&Value::Null, Some(u64::try_from(published.revision).unwrap_or(0)));
    crate::error::set(&mut result, "flag", Value::from(key));
    Ok(Json(result))
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/segments", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path)), responses((status = 200, description = "Every segment")))]
async fn list_segments(State(app): State<App>, _: Reader, Path(env): Path<String>) -> ApiResult<Json<Value>> {
    list(&app, &env, Kind::Segment)
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/segments/{key}", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = EntryView)))]
async fn get_segment(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
) -> ApiResult<Json<EntryView>> {
    get_entry(&app, &env, Kind::Segment, &key)
}

#[utoipa::path(put, path = "/api/v1/environments/{env}/segments/{key}", tag = "admin", security(("token" = ["developer"])), request_body = PutBody,
    params(("env" = String, Path), ("key" = String, Path)), responses((status = 200, body = Applied), (status = 201, body = Applied)))]
async fn put_segment(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Body(body): Body<PutBody>,
) -> ApiResult<Response> {
    let mutation = Mutation::Put { kind: Kind::Segment, key, definition: body.definition };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, mutation, body.base_revision).await?))
}

#[utoipa::path(delete, path = "/api/v1/environments/{env}/segments/{key}", tag = "admin", security(("token" = ["developer"])),
    params(("env" = String, Path), ("key" = String, Path), DeleteQuery), responses((status = 200, body = Applied)))]
async fn delete_segment(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, key)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult<Response> {
    let mutation = Mutation::Delete { kind: Kind::Segment, key };
    Ok(answer(change::apply(&app, author(&caller, query.reason), &env, mutation, query.base_revision).await?))
}

/// `?revision=N`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RevisionQuery {
    /// A revision (default: the newest).
    pub revision: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/snapshot", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), RevisionQuery), responses((status = 200, description = "The snapshot's exact bytes, with its signature and ETag")))]
async fn export_snapshot(
    State(app): State<App>,
    _: Reader,
    Path(env): Path<String>,
    Query(query): Query<RevisionQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let published = crate::sdk::published_at(&app, &env, query.revision).await?;
    Ok(crate::sdk::snapshot_response(&published, &headers, false))
}

/// Import a snapshot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportBody {
    /// A snapshot in format v1 (its revision and environment are ignored).
    pub snapshot: Value,
    /// Remove flags and segments the snapshot does not have.
    #[serde(default)]
    pub replace: bool,
    /// Why.
    pub reason: Option<String>,
    /// Optional: the environment revision this is based on.
    pub base_revision: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/environments/{env}/import", tag = "admin", security(("token" = ["developer"])), request_body = ImportBody,
    params(("env" = String, Path)), responses((status = 200, body = Applied)))]
async fn import_snapshot(
    State(app): State<App>,
    Writer(caller): Writer,
    Path(env): Path<String>,
    Body(body): Body<ImportBody>,
) -> ApiResult<Response> {
    let mutation = Mutation::Import { snapshot: body.snapshot, replace: body.replace };
    Ok(answer(change::apply(&app, author(&caller, body.reason), &env, mutation, body.base_revision).await?))
}

/// `?days=N`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StaleQuery {
    /// A flag fully rolled out (or killed) this many days ago is stale (default 30).
    pub days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/stale", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), StaleQuery), responses((status = 200, description = "Flags to clean up, with why")))]
async fn stale(
    State(app): State<App>,
    _: Reader,
    Path(env): Path<String>,
    Query(query): Query<StaleQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let document = document(&app, &env)?;
    let published = crate::sdk::published_at(&app, &env, None).await?;
    let now = now_ms();
    let days = query.days.unwrap_or(30).max(0);
    let settled_before = now - days * 86_400_000;
    let mut out = Vec::new();
    for (key, entry) in &document.flags {
        let definition = &entry.definition;
        let mut reasons = Vec::new();
        let remove_by = definition
            .pointer("/metadata/removeBy")
            .and_then(Value::as_str)
            .and_then(pennon_core::time::parse_timestamp);
        if remove_by.is_some_and(|at| at <= now) {
            reasons.push("past_remove_by");
        }
        let state = definition.get("state").and_then(Value::as_str).unwrap_or("");
        // Fully rolled out: on, and core says every context gets the same answer now.
        let single = published.snapshot.constancy(key, now).is_some();
        if state == "on" && single && entry.at <= settled_before {
            reasons.push("fully_rolled_out");
        }
        if state == "kill" && entry.at <= settled_before {
            reasons.push("killed");
        }
        if !reasons.is_empty() {
            out.push(json!({
                "key": key,
                "state": state,
                "reasons": reasons,
                "since": crate::time::rfc3339(entry.at),
                "removeBy": definition.pointer("/metadata/removeBy"),
                "owner": definition.pointer("/metadata/owner"),
            }));
        }
    }
    Ok(Json(out))
}

/// `?environment=&status=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestsQuery {
    /// Only this environment.
    pub environment: Option<String>,
    /// `pending`, `applied` or `rejected`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/change-requests", tag = "admin", security(("token" = ["viewer"])),
    params(RequestsQuery), responses((status = 200, body = [change::ChangeRequest])))]
async fn list_change_requests(
    State(app): State<App>,
    _: Reader,
    Query(query): Query<RequestsQuery>,
) -> ApiResult<Json<Vec<change::ChangeRequest>>> {
    Ok(Json(change::list_requests(&app, query.environment.as_deref(), query.status.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/change-requests/{id}", tag = "admin", security(("token" = ["viewer"])),
    params(("id" = String, Path)), responses((status = 200, body = change::ChangeRequest)))]
async fn get_change_request(
    State(app): State<App>,
    _: Reader,
    Path(id): Path<String>,
) -> ApiResult<Json<change::ChangeRequest>> {
    Ok(Json(change::get_request(&app, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/change-requests/{id}/approve", tag = "admin", security(("token" = ["admin"])), request_body = ReasonBody,
    params(("id" = String, Path)), responses((status = 200, body = Applied), (status = 403, description = "The author cannot approve"), (status = 409, description = "Stale: propose again")))]
async fn approve(
    State(app): State<App>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    MaybeBody(body): MaybeBody<ReasonBody>,
) -> ApiResult<Json<Applied>> {
    let reason = body.reason;
    Ok(Json(change::approve(&app, &caller, request_id(), &id, reason).await?))
}

#[utoipa::path(post, path = "/api/v1/change-requests/{id}/reject", tag = "admin", security(("token" = ["viewer"])), request_body = ReasonBody,
    params(("id" = String, Path)), responses((status = 200, body = change::ChangeRequest)))]
async fn reject(
    State(app): State<App>,
    Reader(caller): Reader,
    Path(id): Path<String>,
    MaybeBody(body): MaybeBody<ReasonBody>,
) -> ApiResult<Json<change::ChangeRequest>> {
    let reason = body.reason;
    Ok(Json(change::reject(&app, &caller, request_id(), &id, reason).await?))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", security(("token" = ["viewer"])),
    params(Filter), responses((status = 200, body = [audit::Entry])))]
async fn audit_list(
    State(app): State<App>,
    _: Reader,
    Query(filter): Query<Filter>,
) -> ApiResult<Json<Vec<audit::Entry>>> {
    let limit = filter.limit.unwrap_or(100);
    Ok(Json(audit::query(&app.store, &filter, false, Some(limit)).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/export", tag = "admin", security(("token" = ["viewer"])),
    params(Filter), responses((status = 200, description = "JSON lines, oldest first", content_type = "application/x-ndjson")))]
async fn audit_export(State(app): State<App>, _: Reader, Query(filter): Query<Filter>) -> ApiResult<Response> {
    let entries = audit::query(&app.store, &filter, true, filter.limit).await?;
    let mut text = String::new();
    for entry in entries {
        text.push_str(&serde_json::to_string(&entry).map_err(|e| ApiError::internal(e.to_string()))?);
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], text).into_response())
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "admin", security(("token" = ["viewer"])),
    responses((status = 200, body = audit::Verification)))]
async fn audit_verify(State(app): State<App>, _: Reader) -> ApiResult<Json<audit::Verification>> {
    Ok(Json(audit::verify(&app.store).await?))
}

/// Create a token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// Its name: the principal in the audit trail (a person or a service).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For SDK keys: the environment it reads.
    pub environment: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", security(("token" = ["admin"])),
    responses((status = 200, body = [auth::TokenInfo])))]
async fn list_tokens(State(app): State<App>, _: Admin) -> ApiResult<Json<Vec<auth::TokenInfo>>> {
    Ok(Json(auth::list(&app.store).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", security(("token" = ["admin"])), request_body = NewToken,
    responses((status = 201, description = "The token, shown only in this answer")))]
async fn create_token(State(app): State<App>, Admin(caller): Admin, Body(body): Body<NewToken>) -> ApiResult<Response> {
    if body.name.trim().is_empty() {
        return Err(ApiError::unprocessable("a token needs a name"));
    }
    match (body.role, &body.environment) {
        (Role::Sdk, None) => {
            return Err(ApiError::unprocessable("an SDK key is bound to one environment: give `environment`"));
        }
        (Role::Sdk, Some(env)) => {
            document(&app, env)?;
        }
        (_, Some(_)) => return Err(ApiError::unprocessable("only SDK keys are bound to an environment")),
        _ => {}
    }
    let secret = auth::new_secret();
    let mut write = app.store.begin_write().await?;
    let id =
        auth::insert(&mut write.tx, &body.name, body.role, body.environment.as_deref(), &secret, &caller.principal)
            .await?;
    let record = audit::Record {
        principal: caller.principal.clone(),
        request_id: request_id(),
        environment: body.environment.clone(),
        action: "token_create".into(),
        detail: Some(json!({ "id": id, "name": body.name, "role": body.role })),
        ..audit::Record::default()
    };
    audit::append(&mut write, record).await?;
    write.commit().await?;
    let info = auth::get(&app.store, &id).await?;
    let mut out = serde_json::to_value(info).map_err(|e| ApiError::internal(e.to_string()))?;
    crate::error::set(&mut out, "token", Value::from(secret));
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", security(("token" = ["admin"])),
    params(("id" = String, Path)), responses((status = 200, body = auth::TokenInfo)))]
async fn revoke_token(
    State(app): State<App>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<auth::TokenInfo>> {
    let token = auth::get(&app.store, &id).await?;
    if token.revoked_at.is_some() {
        return Ok(Json(token));
    }
    let mut write = app.store.begin_write().await?;
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(id.clone())
        .execute(&mut *write.tx)
        .await?;
    let record = audit::Record {
        principal: caller.principal.clone(),
        request_id: request_id(),
        action: "token_revoke".into(),
        detail: Some(json!({ "id": id, "name": token.name })),
        ..audit::Record::default()
    };
    audit::append(&mut write, record).await?;
    write.commit().await?;
    app.authenticator.revoke([id.clone()]);
    Ok(Json(auth::get(&app.store, &id).await?))
}
