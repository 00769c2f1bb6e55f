//! Stand-in for `pennon_core::judgement` (branch `judge`) until it is merged: the same
//! shapes, so that the server compiles against them.

use pennon_core::judgement::sketch::LatencySketch;

/// One cohort's numbers in a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arm {
    /// Evaluations that served the cohort's variant.
    pub exposures: u64,
    /// Requests recorded.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Their latencies.
    pub latency: LatencySketch,
}

/// One variant of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantTally {
    /// The variant.
    pub variant: String,
    /// Exposures.
    pub exposures: u64,
    /// Conversions.
    pub conversions: u64,
    /// Promised share, 0..1.
    pub weight: f64,
}

/// Placeholder.
pub fn experiment(tallies: &[VariantTally], control: &str, alpha: f64) -> serde_json::Value {
    let variants: Vec<serde_json::Value> = tallies
        .iter()
        .map(|t| serde_json::json!({ "variant": t.variant, "exposures": t.exposures, "conversions": t.conversions, "weight": t.weight }))
        .collect();
    serde_json::json!({ "control": control, "alpha": alpha, "variants": variants })
}
