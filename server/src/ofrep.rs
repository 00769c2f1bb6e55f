//! The OpenFeature Remote Evaluation Protocol (`/ofrep/v1`): single and bulk evaluation,
//! so every OFREP provider, in any language, works against Pennon. Evaluation is core's;
//! this module only maps results to the protocol's shapes.

use crate::api::context;
use crate::app::App;
use crate::auth::SdkKey;
use crate::body::Body;
use crate::error::ApiResult;
use crate::sdk::published_at;
use crate::store::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pennon_core::Evaluation;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The OFREP routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(evaluate_flag)).routes(routes!(evaluate_flags)).routes(routes!(events))
}

/// OFREP metadata values are booleans, strings and numbers: others are left out.
fn metadata(evaluation: &Evaluation<'_>, revision: i64) -> Value {
    let mut out: Map<String, Value> = evaluation
        .flag_metadata
        .map(|map| {
            map.iter()
                .filter(|(_, v)| v.is_string() || v.is_number() || v.is_boolean())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.insert("revision".into(), Value::from(revision));
    Value::Object(out)
}

/// One flag's result: success, or `{key, errorCode, errorDetails}`.
fn result(key: &str, evaluation: &Evaluation<'_>, revision: i64) -> (bool, Value) {
    match (&evaluation.error, evaluation.value) {
        (None, Some(value)) => {
            let mut out = json!({ "key": key, "value": value, "reason": evaluation.reason.as_str(), "metadata": metadata(evaluation, revision) });
            if let Some(variant) = evaluation.variant {
                crate::error::set(&mut out, "variant", Value::from(variant));
            }
            (true, out)
        }
        (error, _) => {
            let (code, details) = match error {
                Some(error) => (error.code.as_str(), error.message.clone()),
                None => ("GENERAL", "no value".to_string()),
            };
            (false, json!({ "key": key, "errorCode": code, "errorDetails": details }))
        }
    }
}

#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "ofrep", security(("sdkKey" = [])), request_body = crate::sdk::ContextBody,
    params(("key" = String, Path)), responses((status = 200, description = "Evaluated"), (status = 400, description = "Evaluation error"), (status = 404, description = "Flag not found")))]
async fn evaluate_flag(
    State(app): State<App>,
    SdkKey(caller): SdkKey,
    Path(key): Path<String>,
    Body(body): Body<crate::sdk::ContextBody>,
) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let published = published_at(&app, environment, None).await?;
    let context = context(&body.context)?;
    app.samples.offer(environment, &body.context);
    let evaluation = published.snapshot.evaluate(&key, &context, now_ms(), None);
    let (ok, out) = result(&key, &evaluation, published.revision);
    let status = match out.get("errorCode").and_then(Value::as_str) {
        _ if ok => StatusCode::OK,
        Some("FLAG_NOT_FOUND") => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    Ok((status, Json(out)).into_response())
}

#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags", tag = "ofrep", security(("sdkKey" = [])), request_body = crate::sdk::ContextBody,
    responses((status = 200, description = "Every flag, with an ETag"), (status = 304, description = "Not modified")))]
async fn evaluate_flags(
    State(app): State<App>,
    SdkKey(caller): SdkKey,
    headers: HeaderMap,
    Body(body): Body<crate::sdk::ContextBody>,
) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let published = published_at(&app, environment, None).await?;
    let context = context(&body.context)?;
    app.samples.offer(environment, &body.context);
    let flags: Vec<Value> = published
        .snapshot
        .evaluate_all(&context, now_ms())
        .map(|(key, evaluation)| result(key, &evaluation, published.revision).1)
        .collect();
    // Providers that speak OFREP's change notifications connect here instead of polling.
    // The stream URL carries the key because EventSource cannot send headers.
    let stream = match secret_of(&headers) {
        Some(key) => {
            json!([{ "type": "sse", "endpoint": { "requestUri": format!("{EVENTS_PATH}?key={key}") }, "inactivityDelaySec": 120 }])
        }
        None => json!([]),
    };
    let body =
        json!({ "flags": flags, "metadata": { "revision": published.revision }, "eventStreams": stream }).to_string();
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(body.as_bytes()))[..32]);
    let mut response = if crate::sdk::none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// The path of OFREP's change notification stream.
pub const EVENTS_PATH: &str = "/ofrep/v1/events";

/// The SDK key a request authenticated with (to hand it back in the stream's URL).
fn secret_of(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(header::AUTHORIZATION).or_else(|| headers.get("x-api-key"))?.to_str().ok()?;
    let key = text.strip_prefix("Bearer ").unwrap_or(text).trim();
    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-').then(|| key.to_string())
}

#[utoipa::path(get, path = "/ofrep/v1/events", tag = "ofrep", security(("sdkKey" = [])),
    params(("key" = Option<String>, Query, description = "The SDK key, for EventSource clients that cannot send headers")),
    responses((status = 200, description = "OFREP change notifications: `refetchEvaluation` per published revision", content_type = "text/event-stream")))]
async fn events(State(app): State<App>, SdkKey(caller): SdkKey, headers: HeaderMap) -> ApiResult<Response> {
    // A provider re-fetches right after connecting; only a resumed one that missed
    // revisions gets one notification at once.
    crate::sdk::event_stream(
        &app,
        &caller,
        &headers,
        |published| &published.ofrep_event,
        |last, current| last.is_some_and(|last| last != current),
    )
}
