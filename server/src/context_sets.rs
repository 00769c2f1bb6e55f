//! Context sets: evaluation contexts a change request's what-if runs against
//! ([`crate::what_if`]). A set is uploaded per environment and stored in the database
//! (each context checked by core), or — where the environment's `sampleContexts` is on —
//! sampled by the server from `POST /sdk/v1/evaluate` and OFREP calls: the most recent
//! 1,000 contexts, kept in memory only (lost on restart, per replica), listed as the set
//! `sampled`.

use crate::api::context;
use crate::app::App;
use crate::audit::{self, Record};
use crate::auth::{Reader, Writer};
use crate::error::{ApiError, ApiResult, request_id};
use crate::store::now_ms;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest body of an upload or a what-if.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Most contexts in one set.
pub const MAX_CONTEXTS: usize = 10_000;
/// Most contexts the sampled set keeps.
pub const SAMPLE_SIZE: usize = 1_000;
/// The name of the sampled set.
pub const SAMPLED: &str = "sampled";

/// The routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_sets))
        .routes(routes!(get_set, put_set, delete_set))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The most recent contexts of each environment that samples them.
#[derive(Default)]
pub struct Samples {
    environments: Mutex<HashMap<String, Sample>>,
}

#[derive(Default)]
struct Sample {
    enabled: bool,
    contexts: VecDeque<Value>,
    updated_at: i64,
}

impl Samples {
    /// Turns sampling on or off for an environment (off forgets what was sampled).
    pub fn set_enabled(&self, environment: &str, enabled: bool) {
        let Ok(mut environments) = self.environments.lock() else { return };
        let sample = environments.entry(environment.to_string()).or_default();
        if sample.enabled != enabled {
            sample.enabled = enabled;
            sample.contexts.clear();
        }
    }

    /// Whether an environment samples contexts.
    pub fn enabled(&self, environment: &str) -> bool {
        self.environments.lock().is_ok_and(|environments| environments.get(environment).is_some_and(|s| s.enabled))
    }

    /// Keeps `context` (an SDK's, already checked by core) if the environment samples;
    /// the empty context is not kept.
    pub fn offer(&self, environment: &str, context: &Value) {
        if context.as_object().is_none_or(serde_json::Map::is_empty) {
            return;
        }
        let Ok(mut environments) = self.environments.lock() else { return };
        let Some(sample) = environments.get_mut(environment).filter(|sample| sample.enabled) else { return };
        if sample.contexts.len() == SAMPLE_SIZE {
            sample.contexts.pop_front();
        }
        sample.contexts.push_back(context.clone());
        sample.updated_at = now_ms();
    }

    /// The sampled contexts, oldest first, and when the newest came.
    fn contents(&self, environment: &str) -> Option<(Vec<Value>, i64)> {
        let environments = self.environments.lock().ok()?;
        let sample = environments.get(environment).filter(|sample| sample.enabled)?;
        Some((sample.contexts.iter().cloned().collect(), sample.updated_at))
    }

    fn clear(&self, environment: &str) {
        if let Ok(mut environments) = self.environments.lock()
            && let Some(sample) = environments.get_mut(environment)
        {
            sample.contexts.clear();
        }
    }
}

/// A set of contexts.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetBody {
    /// The contexts (at most 10,000), each an object as SDKs send.
    #[schema(value_type = Vec<Object>)]
    pub contexts: Vec<Value>,
    /// What the set is.
    pub description: Option<String>,
}

/// Checks every context with core; the error names the first bad one's JSON Pointer
/// (`/contexts/3`).
pub fn check(contexts: &[Value]) -> ApiResult<Vec<pennon_core::Context>> {
    if contexts.len() > MAX_CONTEXTS {
        return Err(ApiError::bad_request(format!("{} contexts: a set holds at most {MAX_CONTEXTS}", contexts.len()))
            .with_path("/contexts"));
    }
    contexts
        .iter()
        .enumerate()
        .map(|(index, value)| context(value).map_err(|error| error.with_path(&format!("/contexts/{index}"))))
        .collect()
}

/// Reads a JSON body of at most [`BODY_LIMIT`] bytes.
pub fn body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let bytes = body.map_err(|rejection| crate::body::unreadable(&rejection, BODY_LIMIT))?;
    crate::body::parse(&bytes)
}

fn require_environment(app: &App, environment: &str) -> ApiResult<()> {
    app.environments
        .slot(environment)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))
}

fn summary(name: &str, source: &str, count: usize, updated_at: i64) -> Value {
    json!({ "name": name, "source": source, "count": count, "updatedAt": crate::time::rfc3339(updated_at) })
}

/// The contexts of a set (stored or sampled).
pub async fn contexts_of(app: &App, environment: &str, name: &str) -> ApiResult<(Value, Vec<Value>)> {
    require_environment(app, environment)?;
    if name == SAMPLED {
        let (contexts, at) = app.samples.contents(environment).ok_or_else(|| {
            ApiError::not_found(format!("{environment} does not sample contexts (sampleContexts is off)"))
        })?;
        return Ok((summary(SAMPLED, "sampled", contexts.len(), at), contexts));
    }
    let row = sqlx::query(
        "SELECT contexts, count, updated_at, description FROM context_sets WHERE environment = $1 AND name = $2",
    )
    .bind(environment.to_string())
    .bind(name.to_string())
    .fetch_optional(&app.store.pool)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no context set '{name}' in {environment}")))?;
    let text: String = row.try_get("contexts")?;
    let contexts: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| ApiError::internal(format!("stored context set: {e}")))?;
    let mut out = summary(name, "uploaded", contexts.len(), row.try_get("updated_at")?);
    crate::error::set(&mut out, "description", Value::from(row.try_get::<Option<String>, _>("description")?));
    Ok((out, contexts))
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/context-sets", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path)), responses((status = 200, description = "`[{name, source: uploaded|sampled, count, updatedAt}]`")))]
async fn list_sets(State(app): State<App>, _: Reader, Path(env): Path<String>) -> ApiResult<Json<Vec<Value>>> {
    require_environment(&app, &env)?;
    let rows = sqlx::query("SELECT name, count, updated_at FROM context_sets WHERE environment = $1 ORDER BY name")
        .bind(env.clone())
        .fetch_all(&app.store.pool)
        .await?;
    let mut out = Vec::new();
    if let Some((contexts, at)) = app.samples.contents(&env) {
        out.push(summary(SAMPLED, "sampled", contexts.len(), at));
    }
    for row in rows {
        let count = usize::try_from(row.try_get::<i64, _>("count")?).unwrap_or(0);
        out.push(summary(&row.try_get::<String, _>("name")?, "uploaded", count, row.try_get("updated_at")?));
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/context-sets/{name}", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "`{name, source, count, updatedAt, contexts}`"), (status = 404, description = "No such set")))]
async fn get_set(
    State(app): State<App>,
    _: Reader,
    Path((env, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (mut out, contexts) = contexts_of(&app, &env, &name).await?;
    crate::error::set(&mut out, "contexts", Value::Array(contexts));
    Ok(Json(out))
}

#[utoipa::path(put, path = "/api/v1/environments/{env}/context-sets/{name}", tag = "admin", security(("token" = ["developer"])),
    request_body = SetBody, params(("env" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "The set's summary"), (status = 400, description = "A context core refuses (`path`: `/contexts/N`), or more than 10,000"),
        (status = 409, description = "`sampled` is the server's"), (status = 413, description = "Body over 1 MiB")))]
async fn put_set(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, name)): Path<(String, String)>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    require_environment(&app, &env)?;
    if name == SAMPLED {
        return Err(ApiError::new(StatusCode::CONFLICT, "reserved", "the set `sampled` is kept by the server"));
    }
    if !crate::change::valid_key(&name) {
        return Err(ApiError::unprocessable(format!("'{name}' is not a valid set name (letters, digits, _ . : -)")));
    }
    let body: SetBody = body(bytes)?;
    check(&body.contexts)?;
    let at = now_ms();
    let count = i64::try_from(body.contexts.len()).unwrap_or(0);
    let text = Value::Array(body.contexts).to_string();
    let mut write = app.store.begin_write().await?;
    sqlx::query(
        "INSERT INTO context_sets (environment, name, description, contexts, count, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (environment, name) DO UPDATE SET \
         description = excluded.description, contexts = excluded.contexts, count = excluded.count, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(env.clone())
    .bind(name.clone())
    .bind(body.description.clone())
    .bind(text)
    .bind(count)
    .bind(at)
    .bind(caller.principal.clone())
    .execute(&mut *write.tx)
    .await?;
    audit_set(&mut write, &caller.principal, &env, json!({ "name": name, "count": count, "op": "put" })).await?;
    write.commit().await?;
    Ok(Json(summary(&name, "uploaded", usize::try_from(count).unwrap_or(0), at)))
}

async fn audit_set(write: &mut crate::store::Write, principal: &str, env: &str, detail: Value) -> ApiResult<i64> {
    let record = Record {
        principal: principal.to_string(),
        request_id: request_id(),
        environment: Some(env.to_string()),
        action: "context_set".into(),
        detail: Some(detail),
        ..Record::default()
    };
    audit::append(write, record).await
}

#[utoipa::path(delete, path = "/api/v1/environments/{env}/context-sets/{name}", tag = "admin", security(("token" = ["developer"])),
    params(("env" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "`{name, deleted: true}` (`sampled`: emptied)"), (status = 404, description = "No such set")))]
async fn delete_set(
    State(app): State<App>,
    Writer(caller): Writer,
    Path((env, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    require_environment(&app, &env)?;
    let mut write = app.store.begin_write().await?;
    if name == SAMPLED {
        app.samples.clear(&env);
    } else {
        let deleted = sqlx::query("DELETE FROM context_sets WHERE environment = $1 AND name = $2")
            .bind(env.clone())
            .bind(name.clone())
            .execute(&mut *write.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(ApiError::not_found(format!("no context set '{name}' in {env}")));
        }
    }
    audit_set(&mut write, &caller.principal, &env, json!({ "name": name, "op": "delete" })).await?;
    write.commit().await?;
    Ok(Json(json!({ "name": name, "deleted": true })))
}

/// Reads every environment's `sampleContexts` (at start, and as other replicas change it).
pub async fn load_settings(app: &App) -> ApiResult<()> {
    let rows = sqlx::query("SELECT key, sample_contexts FROM environments").fetch_all(&app.store.pool).await?;
    for row in rows {
        let key: String = row.try_get("key")?;
        app.samples.set_enabled(&key, row.try_get::<i64, _>("sample_contexts")? != 0);
    }
    Ok(())
}
