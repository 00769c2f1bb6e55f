//! Prometheus metrics (`GET /metrics`): requests and their latency by route, SSE
//! clients, publishes, each environment's snapshot size and revision, and outcome
//! batches received from SDKs.

use crate::publish::Published;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of request metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: String,
    /// The route's path pattern (`/api/v1/environments/{env}/flags/{key}`).
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of per-environment metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnvironmentLabels {
    /// The environment.
    pub environment: String,
}

/// Labels of outcome batches: `accepted`, `duplicate` (a batch id stored before) or
/// `refused` (a bad body).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BatchLabels {
    /// What became of the batch.
    pub result: &'static str,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RouteLabels, Counter>,
    /// Request latency by route.
    pub latency: Family<RouteLabels, Histogram>,
    /// SSE clients connected now.
    pub sse_clients: Gauge,
    /// Published revisions.
    pub publishes: Family<EnvironmentLabels, Counter>,
    /// Snapshot size in bytes.
    pub snapshot_bytes: Family<EnvironmentLabels, Gauge>,
    /// Snapshot revision.
    pub snapshot_revision: Family<EnvironmentLabels, Gauge>,
    /// Failed authentications.
    pub auth_failures: Counter,
    /// Outcome batches received from SDKs, by result.
    pub outcome_batches: Family<BatchLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pennon");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.5, 14))
        });
        let sse_clients = Gauge::default();
        let publishes = Family::default();
        let snapshot_bytes = Family::default();
        let snapshot_revision = Family::default();
        let auth_failures = Counter::default();
        let outcome_batches = Family::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        registry.register("sse_clients", "SDK stream clients connected", sse_clients.clone());
        registry.register("publishes", "Snapshot revisions published", publishes.clone());
        registry.register("snapshot_bytes", "Size of the newest snapshot", snapshot_bytes.clone());
        registry.register("snapshot_revision", "Revision of the newest snapshot", snapshot_revision.clone());
        registry.register("auth_failures", "Failed authentications", auth_failures.clone());
        registry.register("outcome_batches", "Outcome batches from SDKs, by result", outcome_batches.clone());
        Metrics {
            registry,
            requests,
            latency,
            sse_clients,
            publishes,
            snapshot_bytes,
            snapshot_revision,
            auth_failures,
            outcome_batches,
        }
    }
}

impl Metrics {
    /// Records a publish.
    pub fn observe_publish(&self, published: &Published) {
        let labels = EnvironmentLabels { environment: published.environment.clone() };
        self.publishes.get_or_create(&labels).inc();
        self.snapshot_bytes.get_or_create(&labels).set(i64::try_from(published.bytes.len()).unwrap_or(i64::MAX));
        self.snapshot_revision.get_or_create(&labels).set(published.revision);
    }

    /// Counts an outcome batch: `accepted`, `duplicate` or `refused`.
    pub fn count_batch(&self, result: &'static str) {
        self.outcome_batches.get_or_create(&BatchLabels { result }).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
