//! `POST /api/v1/change-requests/{id}/what-if`: a pending change request's proposed
//! snapshot ([`crate::change::preview`]) against the one in force, over a context set or
//! contexts given inline, compared by core ([`pennon_core::what_if()`]): who would flip,
//! from what to what.

use crate::app::App;
use crate::auth::Reader;
use crate::context_sets;
use crate::error::{ApiError, ApiResult};
use crate::store::now_ms;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most flipped results listed (the counts cover them all).
pub const MAX_RESULTS: usize = 1_000;

/// The route.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(what_if)).layer(DefaultBodyLimit::max(context_sets::BODY_LIMIT))
}

/// Which contexts: a set of the request's environment, or the contexts themselves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfBody {
    /// A context set's name (`sampled` for the sampled one).
    pub context_set: Option<String>,
    /// Contexts (at most 10,000), instead of a set.
    #[schema(value_type = Option<Vec<Object>>)]
    pub contexts: Option<Vec<Value>>,
}

#[utoipa::path(post, path = "/api/v1/change-requests/{id}/what-if", tag = "admin", security(("token" = ["viewer"])),
    request_body = WhatIfBody, params(("id" = String, Path)),
    responses((status = 200, description = "`{changeRequest, environment, revision, flags, contexts, flipped, summary: [{flag, from, to, count}], results: [{index, targetingKey, flag, before, after}]}` (at most 1,000 results)"),
        (status = 400, description = "Neither or both of `contextSet` and `contexts`; a context core refuses (`path`: `/contexts/N`)"),
        (status = 404, description = "No such change request or context set"), (status = 409, description = "The request is decided, or stale"),
        (status = 413, description = "Body over 1 MiB")))]
async fn what_if(
    State(app): State<App>,
    _: Reader,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body: WhatIfBody = context_sets::body(bytes)?;
    let environment = crate::change::get_request(&app, &id).await?.environment;
    let contexts = match (body.context_set, body.contexts) {
        (Some(name), None) => context_sets::contexts_of(&app, &environment, &name).await?.1,
        (None, Some(contexts)) => contexts,
        _ => return Err(ApiError::bad_request("give either `contextSet` or `contexts`")),
    };
    let checked = context_sets::check(&contexts)?;
    let (request, current, proposed) = crate::change::preview(&app, &id).await?;
    let found = pennon_core::what_if(&current.snapshot, &proposed.snapshot, &checked, now_ms());
    let results: Vec<Value> = found
        .flips
        .iter()
        .take(MAX_RESULTS)
        .map(|flip| {
            let mut result = flip.to_json();
            let key = contexts.get(flip.index).and_then(|context| context.get("targetingKey")).cloned();
            crate::error::set(&mut result, "targetingKey", key.unwrap_or(Value::Null));
            result
        })
        .collect();
    let summary: Vec<Value> = found.summary().iter().map(pennon_core::what_if::Movement::to_json).collect();
    Ok(Json(json!({
        "changeRequest": request.id,
        "environment": request.environment,
        "revision": current.revision,
        "flags": found.flags,
        "contexts": found.contexts,
        "flipped": found.flipped_contexts(),
        "summary": summary,
        "results": results,
    })))
}
