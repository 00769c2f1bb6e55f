//! The server's shared state and its router: the admin API, the SDK routes, OFREP and
//! the operational routes, with the layers every request passes through.

use crate::auth::Authenticator;
use crate::error::REQUEST_ID;
use crate::metrics::{Metrics, RouteLabels};
use crate::publish::Environments;
use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// SSE heartbeat interval.
    pub heartbeat: Duration,
    /// Time limit of a non-streaming request.
    pub request_timeout: Duration,
    /// Failed authentications allowed per client address and minute.
    pub max_auth_failures: u32,
    /// How long outcomes from SDKs are kept.
    pub outcome_retention: Duration,
    /// Whether `/` serves the dashboard.
    pub dashboard: bool,
}

/// What every handler shares.
pub struct State {
    /// The database.
    pub store: Store,
    /// Every environment's document and published snapshot.
    pub environments: Environments,
    /// Signs snapshots.
    pub signing_key: SigningKey,
    /// Tokens and failed-auth limits.
    pub authenticator: Authenticator,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Settings.
    pub settings: Settings,
    /// When outcomes are pruned next.
    pub retention: crate::outcomes::Retention,
    /// When the server started.
    pub started: Instant,
    /// Becomes true once every environment is loaded.
    pub ready: std::sync::atomic::AtomicBool,
    /// The contexts sampled from SDK evaluate calls, per environment.
    pub samples: crate::context_sets::Samples,
    /// Becomes true when the server shuts down: open streams end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

/// The shared state, as handlers take it.
pub type App = Arc<State>;

/// The API description; paths are added by the routers below.
#[derive(OpenApi)]
#[openapi(
    info(title = "Pennon control plane", description = "Flags, segments, change requests, audit and tokens (`/api/v1`); snapshot distribution to SDKs (`/sdk/v1`); OFREP (`/ofrep/v1`). See docs/control-plane.md."),
    modifiers(&SecuritySchemes),
    tags((name = "admin", description = "The admin API"), (name = "sdk", description = "What SDKs use"), (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol"), (name = "operations", description = "Health and metrics"))
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = || SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        // The scope names the least role a route needs: `viewer`, `developer` or `admin`.
        components.add_security_scheme("token", bearer());
        components.add_security_scheme("sdkKey", bearer());
    }
}

fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::api::routes())
        .merge(crate::rollouts_api::routes())
        .merge(crate::events::routes())
        .merge(crate::series::routes())
        .merge(crate::context_sets::routes())
        .merge(crate::what_if::routes())
        .merge(crate::sdk::routes().layer(browser_cors()))
        .merge(crate::ofrep::routes().layer(browser_cors()))
        .merge(crate::ops::routes())
}

/// CORS for the routes a browser page calls with an SDK key (`pennon/browser`, OFREP web
/// providers): any origin, no cookies (the key travels in `Authorization` or
/// `X-API-Key`), the conditional and resume headers allowed, and the headers SDKs read
/// exposed. Preflights are answered here, before authentication. The admin API gets none:
/// its tokens must never be in a page.
fn browser_cors() -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            header::ETAG,
            HeaderName::from_static("pennon-revision"),
            HeaderName::from_static("pennon-signature"),
            HeaderName::from_static("pennon-environment"),
        ])
        .max_age(Duration::from_secs(86_400))
}

/// The OpenAPI document of every route (checked in as `server/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The router and the OpenAPI document, built from the same route list.
pub fn router(app: App) -> (Router, utoipa::openapi::OpenApi) {
    let (routes, openapi) = routes().split_for_parts();
    let document = openapi.clone();
    let timeout = app.settings.request_timeout;
    let routes = if app.settings.dashboard { routes.merge(crate::dashboard::routes()) } else { routes };
    let router = routes
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(document) }))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(app);
    (router, openapi)
}

/// Counts and times every request by route, and makes its id known to error bodies.
async fn observe(axum::extract::State(app): axum::extract::State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let response = REQUEST_ID.scope(id, next.run(request)).await;
    let labels = RouteLabels { method, route, status: response.status().as_u16() };
    app.metrics.requests.get_or_create(&labels).inc();
    app.metrics.latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}
