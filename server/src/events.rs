//! What happened, as it happens: the admin event stream (`GET /api/v1/events`) that
//! dashboards follow. One broadcast channel ([`Hub`]) carries every event: a write
//! collects its events (audit entries, rollout events, change requests) and sends them
//! only once its transaction has committed ([`crate::store::Write::commit`]); a new
//! revision is sent when this process installs it, whether it published it or learnt of
//! it from another replica ([`crate::publish::Environments::install`]).

use crate::app::App;
use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Events a slow client may fall behind by before it skips ahead (and misses some).
const CAPACITY: usize = 1024;

/// One event: its type (`revision`, `audit`, `rollout`, `change_request`), the
/// environment it concerns, and its JSON object.
#[derive(Debug, Clone)]
pub struct Event {
    /// The `event:` line.
    pub kind: &'static str,
    /// For `?environment=` filters.
    pub environment: Option<String>,
    /// The `data:` line.
    pub data: Value,
}

impl Event {
    /// An event about `environment`.
    pub fn new(kind: &'static str, environment: Option<&str>, data: Value) -> Event {
        Event { kind, environment: environment.map(str::to_string), data }
    }

    fn render(&self) -> Bytes {
        Bytes::from(format!("event: {}\ndata: {}\n\n", self.kind, self.data))
    }
}

/// The broadcast channel every event goes through.
#[derive(Clone)]
pub struct Hub(broadcast::Sender<Arc<Event>>);

impl Default for Hub {
    fn default() -> Hub {
        Hub(broadcast::channel(CAPACITY).0)
    }
}

impl Hub {
    /// Sends an event to every connected stream (none connected: dropped).
    pub fn send(&self, event: Event) {
        let _ = self.0.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.subscribe()
    }
}

/// The routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(events))
}

/// `?environment=ENV`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Only events of this environment.
    pub environment: Option<String>,
}

/// One client's stream: it ends when the server shuts down or the token is revoked.
struct Stream {
    app: App,
    receiver: broadcast::Receiver<Arc<Event>>,
    environment: Option<String>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    revocations: tokio::sync::watch::Receiver<u64>,
    token_id: String,
    keepalive: tokio::time::Interval,
}

impl Stream {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if *self.shutdown.borrow() || self.app.authenticator.is_revoked(&self.token_id) {
                return None;
            }
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) => {
                        let wanted = self.environment.as_ref().is_none_or(|env| event.environment.as_ref() == Some(env));
                        if wanted && !self.app.authenticator.is_revoked(&self.token_id) {
                            self.keepalive.reset();
                            return Some(event.render());
                        }
                    }
                    // Fell behind: carry on with what comes next (the dashboard re-fetches).
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.shutdown.changed() => return None,
                _ = self.revocations.changed() => {}
                _ = self.keepalive.tick() => return Some(Bytes::from_static(b": keepalive\n\n")),
            }
        }
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "admin", security(("token" = ["viewer"])), params(EventsQuery),
    responses((status = 200, description = "Server-sent events: `revision`, `audit`, `rollout` and `change_request`, each one JSON object; `: keepalive` comments", content_type = "text/event-stream"),
        (status = 404, description = "No such environment")))]
async fn events(
    State(app): State<App>,
    Reader(caller): Reader,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Response> {
    if let Some(environment) = &query.environment
        && app.environments.slot(environment).is_none()
    {
        return Err(ApiError::not_found(format!("no environment '{environment}'")));
    }
    let stream = Stream {
        receiver: app.store.events.subscribe(),
        environment: query.environment,
        shutdown: app.shutdown.subscribe(),
        revocations: app.authenticator.revocations(),
        token_id: caller.token_id.clone(),
        keepalive: tokio::time::interval_at(
            tokio::time::Instant::now() + app.settings.heartbeat,
            app.settings.heartbeat,
        ),
        app: app.clone(),
    };
    // A first comment, so clients see the stream open before any event.
    let opened = futures_util::stream::once(async { Ok::<Bytes, Infallible>(Bytes::from_static(b": connected\n\n")) });
    let events = futures_util::stream::unfold(stream, |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok::<Bytes, Infallible>(event), stream))
    });
    let mut response = axum::body::Body::from_stream(futures_util::StreamExt::chain(opened, events)).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
