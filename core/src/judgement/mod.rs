//! Judgement: the statistics that decide whether a canary is healthy and what an
//! experiment shows. Pure functions of counts and sketches: no IO, no clock, and nothing
//! here sees a [`crate::Snapshot`]. The methods and their citations are in
//! docs/judgement.md.
//!
//! ```
//! use pennon_core::judgement::{judge, Arm, Criteria, Verdict, Window};
//!
//! let control = Arm { exposures: 9_000, requests: 9_000, errors: 90, ..Arm::default() };
//! let canary = Arm { exposures: 1_000, requests: 1_000, errors: 60, ..Arm::default() };
//! let judgement = judge(&Window { canary: &canary, control: &control, canary_share: 0.1 }, &Criteria::default());
//! assert_eq!(judgement.verdict, Verdict::Unhealthy);
//! assert_eq!(judgement.criterion.as_deref(), Some("error_rate"));
//! assert_eq!(judgement.evidence["canary"]["errorRate"], 0.06);
//! ```

mod criteria;
mod experiment;
mod latency;
pub mod proportions;
pub mod sequential;
pub mod sketch;
pub mod srm;
pub mod stats;
mod verdict;

pub use criteria::{Criteria, CriteriaError, LatencyCriterion};
pub use experiment::{VariantTally, experiment};
pub use latency::{LatencyComparison, compare as compare_latency};
pub use sketch::LatencySketch;
pub use verdict::{Judgement, Verdict, judge};

/// What one cohort did in a window: exposures (evaluations that served its variant), the
/// requests it recorded, how many of them failed, and their latencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arm {
    /// Evaluations that served this cohort's variant.
    pub exposures: u64,
    /// Requests recorded (`ok` or `error` outcomes).
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// The latencies recorded.
    pub latency: LatencySketch,
}

impl Arm {
    /// errors / requests (0 without requests; errors beyond the requests count as requests).
    pub fn error_rate(&self) -> f64 {
        proportions::rate(self.failed(), self.requests)
    }

    /// Adds another window's counts to this one.
    pub fn merge(&mut self, other: &Arm) {
        self.exposures = self.exposures.saturating_add(other.exposures);
        self.requests = self.requests.saturating_add(other.requests);
        self.errors = self.errors.saturating_add(other.errors);
        self.latency.merge(&other.latency);
    }

    /// The errors, at most one per request.
    fn failed(&self) -> u64 {
        self.errors.min(self.requests)
    }
}

/// A canary and its control over the same time window, and the share of exposures the
/// snapshot promised the canary (`canary / (canary + control)`, 0…1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window<'a> {
    /// The cohort that gets the new variant.
    pub canary: &'a Arm,
    /// The cohort that keeps the old one.
    pub control: &'a Arm,
    /// The canary's promised share of the two cohorts' exposures.
    pub canary_share: f64,
}
