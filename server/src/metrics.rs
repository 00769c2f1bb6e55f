//! Prometheus metrics (`GET /metrics`): requests and their latency by route, SSE
//! clients, publishes, each environment's snapshot size and revision, outcome batches
//! received from SDKs, and the canary gauges of the rollout controller (per environment
//! and flag, as of its last look).

use crate::controller::{Judged, Rollout};
use crate::publish::Published;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

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

/// Labels of per-flag metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlagLabels {
    /// The environment.
    pub environment: String,
    /// The flag.
    pub flag: String,
}

/// Labels of per-cohort metrics of a canary.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CohortLabels {
    /// The environment.
    pub environment: String,
    /// The flag.
    pub flag: String,
    /// `canary` or `control`.
    pub cohort: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The canary gauges (seed 001's `canary_active`, `_percentage`, `_error_rate`,
/// `_latency_p95`, `_requests`).
#[derive(Default)]
pub struct CanaryGauges {
    /// 1 while a rollout of the flag is active.
    pub active: Family<FlagLabels, Gauge>,
    /// The canary percentage the rollout set (100 once completed, 0 after a rollback).
    pub percentage: Family<FlagLabels, FloatGauge>,
    /// Error rate per cohort in the current stage's window.
    pub error_rate: Family<CohortLabels, FloatGauge>,
    /// p95 latency (ms) per cohort in the current stage's window.
    pub latency_p95: Family<CohortLabels, FloatGauge>,
    /// Requests per cohort in the current stage's window.
    pub requests: Family<CohortLabels, Gauge>,
    /// `(environment, flag)` of the rollouts shown active.
    watched: std::sync::Mutex<std::collections::BTreeSet<(String, String)>>,
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
    /// The rollout controller's canary gauges.
    pub canary: CanaryGauges,
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
        let canary = CanaryGauges::default();
        registry.register("canary_active", "1 while a rollout of the flag is active", canary.active.clone());
        registry.register("canary_percentage", "Canary percentage set by the rollout", canary.percentage.clone());
        registry.register("canary_error_rate", "Error rate per cohort in the current stage", canary.error_rate.clone());
        registry.register(
            "canary_latency_p95",
            "p95 latency (ms) per cohort in the current stage",
            canary.latency_p95.clone(),
        );
        registry.register("canary_requests", "Requests per cohort in the current stage", canary.requests.clone());
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
            canary,
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

    /// Records the controller's look at an active rollout.
    pub fn observe_canary(&self, rollout: &Rollout, judged: &Judged) {
        let flag = FlagLabels { environment: rollout.environment.clone(), flag: rollout.flag.clone() };
        self.canary.active.get_or_create(&flag).set(1);
        if let Ok(mut watched) = self.canary.watched.lock() {
            watched.insert((rollout.environment.clone(), rollout.flag.clone()));
        }
        let percentage = rollout.plan.stage(rollout.position.stage).percentage.as_f64().unwrap_or(0.0);
        self.canary.percentage.get_or_create(&flag).set(percentage);
        for (cohort, arm) in [("canary", &judged.canary), ("control", &judged.control)] {
            let labels = CohortLabels {
                environment: rollout.environment.clone(),
                flag: rollout.flag.clone(),
                cohort: cohort.to_string(),
            };
            self.canary.error_rate.get_or_create(&labels).set(arm.error_rate());
            self.canary.latency_p95.get_or_create(&labels).set(arm.latency.quantile(0.95).unwrap_or(0.0));
            self.canary.requests.get_or_create(&labels).set(i64::try_from(arm.requests).unwrap_or(i64::MAX));
        }
    }

    /// Records that a rollout ended: inactive, at the percentage it left.
    pub fn observe_canary_end(&self, rollout: &Rollout) {
        let flag = FlagLabels { environment: rollout.environment.clone(), flag: rollout.flag.clone() };
        self.canary.active.get_or_create(&flag).set(0);
        if let Ok(mut watched) = self.canary.watched.lock() {
            watched.remove(&(rollout.environment.clone(), rollout.flag.clone()));
        }
        let percentage = match rollout.position.status {
            crate::rollout::Status::Completed => 100.0,
            crate::rollout::Status::Interrupted => self.canary.percentage.get_or_create(&flag).get(),
            _ => 0.0,
        };
        self.canary.percentage.get_or_create(&flag).set(percentage);
    }

    /// The flags whose `pennon_canary_active` is 1: `(environment, flag)`.
    pub fn active_canaries(&self) -> Vec<(String, String)> {
        self.canary.watched.lock().map(|set| set.iter().cloned().collect()).unwrap_or_default()
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
