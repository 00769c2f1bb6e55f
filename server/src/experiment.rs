//! Experiment results (`GET /api/v1/environments/{env}/experiments/{key}`): per variant,
//! the exposures and conversions SDKs sent over a window, judged by core
//! (`pennon_core::judgement::experiment`: rate, lift with its interval, always-valid
//! p-value, sample-ratio mismatch against the shares the flag promised).

use crate::app::App;
use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::store::now_ms;
use axum::Json;
use axum::extract::{Path, Query, State};
use pennon_core::judgement::{VariantTally, experiment};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Significance level of experiment results.
pub const ALPHA: f64 = 0.05;

/// The experiment routes (admin API).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(results))
}

/// `?since=&until=&control=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResultsQuery {
    /// Start of the window (RFC 3339; default: the flag's last change).
    pub since: Option<String>,
    /// End of the window (RFC 3339; default: now).
    pub until: Option<String>,
    /// The variant the others are compared with (default: the flag's `offVariant`).
    pub control: Option<String>,
}

/// The share of exposures each variant was promised at `now`: core's
/// `Snapshot::fallthrough_shares` summed per variant, or `None` (then every variant
/// counts as equally likely) when the fallthrough serves one variant.
fn promised(app: &App, env: &str, key: &str, now: i64) -> Option<BTreeMap<String, f64>> {
    let published = app.environments.published(env)?;
    let mut shares = BTreeMap::new();
    for (variant, share) in published.snapshot.fallthrough_shares(key, now)? {
        *shares.entry(variant.to_string()).or_insert(0.0) += share;
    }
    Some(shares)
}

#[utoipa::path(get, path = "/api/v1/environments/{env}/experiments/{key}", tag = "admin", security(("token" = ["viewer"])),
    params(("env" = String, Path), ("key" = String, Path), ResultsQuery),
    responses((status = 200, description = "Core's experiment results (per variant: exposures, conversions, rate, lift with interval, p-value; sample-ratio check) plus `environment`, `flag`, `from`, `to`"),
        (status = 404, description = "No such flag"), (status = 422, description = "Unknown control variant, or an empty window")))]
async fn results(
    State(app): State<App>,
    _: Reader,
    Path((env, key)): Path<(String, String)>,
    Query(query): Query<ResultsQuery>,
) -> ApiResult<Json<Value>> {
    let slot = app.environments.slot(&env).ok_or_else(|| ApiError::not_found(format!("no environment '{env}'")))?;
    let entry =
        slot.document.flags.get(&key).ok_or_else(|| ApiError::not_found(format!("no flag '{key}' in {env}")))?;
    let definition = &entry.definition;
    let from = match &query.since {
        Some(text) => crate::time::parse(text, "since")?,
        None => entry.at,
    };
    let to = match &query.until {
        Some(text) => crate::time::parse(text, "until")?,
        None => now_ms(),
    };
    if from >= to {
        return Err(ApiError::unprocessable("the window is empty: `since` must be before `until`"));
    }
    let variants = definition.get("variants").and_then(Value::as_object);
    let control = match query.control {
        Some(control) => control,
        None => definition.get("offVariant").and_then(Value::as_str).unwrap_or_default().to_string(),
    };
    if !variants.is_some_and(|variants| variants.contains_key(&control)) {
        return Err(ApiError::unprocessable(format!("flag '{key}' has no variant '{control}' to compare with")));
    }
    let counts = crate::outcomes::tallies(&app.store, &env, &key, from, to).await?;
    let promised = promised(&app, &env, &key, to);
    let mut names: Vec<String> = counts.keys().cloned().collect();
    names.extend(promised.iter().flat_map(|shares| shares.keys().cloned()));
    names.push(control.clone());
    names.sort();
    names.dedup();
    let equal = 1.0 / names.len() as f64;
    let tallies: Vec<VariantTally> = names
        .into_iter()
        .map(|variant| {
            let tally = counts.get(&variant);
            VariantTally {
                exposures: tally.map_or(0, |t| t.exposures),
                conversions: tally.map_or(0, |t| t.conversions),
                weight: promised.as_ref().map_or(equal, |shares| shares.get(&variant).copied().unwrap_or(0.0)),
                variant,
            }
        })
        .collect();
    let mut answer = experiment(&tallies, &control, ALPHA);
    for (field, value) in [
        ("environment", Value::from(env)),
        ("flag", Value::from(key)),
        ("from", Value::from(crate::time::rfc3339(from))),
        ("to", Value::from(crate::time::rfc3339(to))),
    ] {
        crate::error::set(&mut answer, field, value);
    }
    Ok(Json(answer))
}
