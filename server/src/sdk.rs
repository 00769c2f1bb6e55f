//! What SDKs use (`/sdk/v1`, DESIGN §7): the newest snapshot with ETag and signature,
//! immutable per-revision snapshots, the public key, server-sent events, evaluation
//! on the server for browsers, and the outcomes SDKs send ([`crate::outcomes`]).

use crate::api::context;
use crate::app::App;
use crate::auth::SdkKey;
use crate::body::Body;
use crate::change;
use crate::error::{ApiError, ApiResult};
use crate::outcomes;
use crate::publish::Published;
use crate::store::now_ms;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The SDK routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(snapshot))
        .routes(routes!(snapshot_revision))
        .routes(routes!(public_key))
        .routes(routes!(stream))
        .routes(routes!(evaluate))
        .merge(OpenApiRouter::new().routes(routes!(metrics)).layer(DefaultBodyLimit::max(outcomes::BODY_LIMIT)))
}

/// The published snapshot of an environment at a revision (default: the newest).
pub async fn published_at(app: &App, environment: &str, revision: Option<i64>) -> ApiResult<Arc<Published>> {
    let newest = app
        .environments
        .published(environment)
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    match revision {
        None => Ok(newest),
        Some(revision) if revision == newest.revision => Ok(newest),
        Some(revision) => {
            let document = change::document_at(app, environment, revision).await?;
            let bytes = document.snapshot_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let snapshot = pennon_core::Snapshot::from_json(&text)
                .map_err(|e| ApiError::internal(format!("stored revision {revision}: {e}")))?;
            Ok(Arc::new(Published::new(&document, bytes, snapshot, &app.signing_key)))
        }
    }
}

/// Whether `If-None-Match` names this ETag. The comparison is weak (RFC 9110 §13.1.2):
/// `W/"x"` matches `"x"`, as proxies that compress mark ETags weak.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()) else { return false };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    value.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag))
}

/// The snapshot's bytes with `ETag`, `Pennon-Revision` and `Pennon-Signature`, or `304`
/// when `If-None-Match` names its ETag.
pub fn snapshot_response(published: &Published, headers: &HeaderMap, immutable: bool) -> Response {
    let mut response = if none_match(headers, &published.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], published.bytes.clone()).into_response()
    };
    let out = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    set("etag", &published.etag);
    set("pennon-revision", &published.revision.to_string());
    set("pennon-signature", &published.signature);
    set("pennon-environment", &published.environment);
    set("cache-control", if immutable { "public, max-age=31536000, immutable" } else { "no-cache" });
    response
}

#[utoipa::path(get, path = "/sdk/v1/snapshot", tag = "sdk", security(("sdkKey" = [])),
    responses((status = 200, description = "The newest snapshot: exact bytes, ETag, Pennon-Revision, Pennon-Signature"), (status = 304, description = "Not modified")))]
async fn snapshot(State(app): State<App>, SdkKey(caller): SdkKey, headers: HeaderMap) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let published = published_at(&app, environment, None).await?;
    Ok(snapshot_response(&published, &headers, false))
}

#[utoipa::path(get, path = "/sdk/v1/snapshots/{revision}", tag = "sdk", security(("sdkKey" = [])),
    params(("revision" = i64, Path)), responses((status = 200, description = "One revision; cacheable forever")))]
async fn snapshot_revision(
    State(app): State<App>,
    SdkKey(caller): SdkKey,
    Path(revision): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let published = published_at(&app, environment, Some(revision)).await?;
    Ok(snapshot_response(&published, &headers, true))
}

#[utoipa::path(get, path = "/sdk/v1/public-key", tag = "sdk",
    responses((status = 200, description = "The Ed25519 key that signs every snapshot")))]
async fn public_key(State(app): State<App>) -> Json<Value> {
    use base64::Engine;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let key = app.signing_key.verifying_key();
    let pem = key.to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap_or_default();
    Json(json!({
        "algorithm": "ed25519",
        "publicKey": base64::engine::general_purpose::STANDARD.encode(key.to_bytes()),
        "pem": pem,
    }))
}

/// One client's stream: it ends when the server shuts down or the key is revoked.
struct Stream {
    receiver: tokio::sync::watch::Receiver<Arc<Published>>,
    first: Option<Bytes>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    revocations: tokio::sync::watch::Receiver<u64>,
    token_id: String,
    heartbeat: std::time::Duration,
    pick: Pick,
    connected: Connected,
}

impl Stream {
    /// The next bytes to send, or `None` to end the stream.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(event) = self.first.take() {
            return Some(event);
        }
        loop {
            if *self.shutdown.borrow() || self.connected.0.authenticator.is_revoked(&self.token_id) {
                return None;
            }
            tokio::select! {
                changed = self.receiver.changed() => {
                    changed.ok()?;
                    if self.connected.0.authenticator.is_revoked(&self.token_id) {
                        return None;
                    }
                    return Some((self.pick)(&self.receiver.borrow_and_update()).clone());
                }
                _ = self.shutdown.changed() => return None,
                _ = self.revocations.changed() => continue,
                () = tokio::time::sleep(self.heartbeat) => return Some(Bytes::from_static(b": heartbeat\n\n")),
            }
        }
    }
}

/// Counts a connected stream client while it lives.
struct Connected(App);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.metrics.sse_clients.dec();
    }
}

#[utoipa::path(get, path = "/sdk/v1/stream", tag = "sdk", security(("sdkKey" = [])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "The revision the client has")),
    responses((status = 200, description = "Server-sent events: one `snapshot` event per revision, heartbeats", content_type = "text/event-stream")))]
async fn stream(State(app): State<App>, SdkKey(caller): SdkKey, headers: HeaderMap) -> ApiResult<Response> {
    // Anything but exactly the newest revision gets the newest at once.
    event_stream(&app, &caller, &headers, |published| &published.event, |last, current| last != Some(current))
}

/// Which event of a publish a stream sends.
pub type Pick = fn(&Published) -> &Bytes;

/// A server-sent event stream of an environment's publishes: `pick` chooses the
/// pre-rendered event, `first` decides from the client's `Last-Event-ID` and the newest
/// revision whether to send the newest at once. A client that falls behind skips to the
/// newest (the watch channel only ever holds that); heartbeats keep proxies open.
pub fn event_stream(
    app: &App,
    caller: &crate::auth::Caller,
    headers: &HeaderMap,
    pick: Pick,
    first: fn(Option<i64>, i64) -> bool,
) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let slot = app
        .environments
        .slot(environment)
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    let mut receiver = slot.published.subscribe();
    let current = receiver.borrow_and_update().clone();
    let last: Option<i64> =
        headers.get("last-event-id").and_then(|value| value.to_str().ok()).and_then(|text| text.trim().parse().ok());
    let first = first(last, current.revision).then(|| pick(&current).clone());
    app.metrics.sse_clients.inc();
    let stream = Stream {
        receiver,
        first,
        shutdown: app.shutdown.subscribe(),
        revocations: app.authenticator.revocations(),
        token_id: caller.token_id.clone(),
        heartbeat: app.settings.heartbeat,
        pick,
        connected: Connected(app.clone()),
    };
    let events = futures_util::stream::unfold(stream, |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok::<Bytes, Infallible>(event), stream))
    });
    let mut response = axum::body::Body::from_stream(events).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Every flag for one context.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ContextBody {
    /// The evaluation context.
    #[serde(default)]
    pub context: Value,
}

#[utoipa::path(post, path = "/sdk/v1/evaluate", tag = "sdk", security(("sdkKey" = [])), request_body = ContextBody,
    responses((status = 200, description = "`{environment, revision, generatedAt (RFC 3339), flags: {key: result}}`")))]
async fn evaluate(
    State(app): State<App>,
    SdkKey(caller): SdkKey,
    Body(body): Body<ContextBody>,
) -> ApiResult<Json<Value>> {
    let environment = caller.require_sdk()?;
    let published = published_at(&app, environment, None).await?;
    let context = context(&body.context)?;
    app.samples.offer(environment, &body.context);
    let revision = u64::try_from(published.revision).unwrap_or(0);
    let flags: serde_json::Map<String, Value> = published
        .snapshot
        .evaluate_all(&context, now_ms())
        .map(|(key, evaluation)| (key.to_string(), evaluation.to_json(&Value::Null, Some(revision))))
        .collect();
    Ok(Json(json!({
        "environment": environment,
        "revision": published.revision,
        "generatedAt": crate::time::rfc3339(published.generated_at),
        "flags": flags,
    })))
}

#[utoipa::path(post, path = "/sdk/v1/metrics", tag = "sdk", security(("sdkKey" = [])), request_body = outcomes::BatchBody,
    responses((status = 202, description = "`{accepted: true}`, or `{accepted: false}` when the batch id was stored before (nothing added)"),
        (status = 400, description = "`invalid_json`, or `invalid_request` with the JSON path; nothing stored"), (status = 413, description = "Body over 1 MiB")))]
async fn metrics(
    State(app): State<App>,
    SdkKey(caller): SdkKey,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let environment = caller.require_sdk()?;
    let body = body.map_err(|rejection| crate::body::unreadable(&rejection, outcomes::BODY_LIMIT));
    outcomes::receive(&app, environment, body).await
}
