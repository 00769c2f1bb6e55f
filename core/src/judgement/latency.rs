//! Latency criteria: a quantile of the canary's latency sketch against the control's.

use super::criteria::LatencyCriterion;
use super::sketch::LatencySketch;

/// One latency criterion applied to both arms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyComparison {
    /// The canary's quantile, in milliseconds.
    pub canary_ms: f64,
    /// The control's quantile, in milliseconds.
    pub control_ms: f64,
    /// canary − control.
    pub increase_ms: f64,
    /// canary / control (∞ when the control's quantile is 0 and the canary's is not).
    pub ratio: f64,
    /// Whether the increase exceeds `max_increase_ms` or the ratio `max_ratio`.
    pub exceeded: bool,
}

/// Applies `criterion` to the two sketches; `None` when either is empty.
pub fn compare(
    criterion: &LatencyCriterion,
    canary: &LatencySketch,
    control: &LatencySketch,
) -> Option<LatencyComparison> {
    let canary_ms = canary.quantile(criterion.quantile)?;
    let control_ms = control.quantile(criterion.quantile)?;
    let increase_ms = canary_ms - control_ms;
    let ratio = if control_ms > 0.0 { canary_ms / control_ms } else { f64::INFINITY };
    let exceeded = criterion.max_increase_ms.is_some_and(|max| increase_ms > max)
        || criterion.max_ratio.is_some_and(|max| canary_ms > max * control_ms);
    Some(LatencyComparison { canary_ms, control_ms, increase_ms, ratio, exceeded })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(latencies: impl IntoIterator<Item = f64>) -> LatencySketch {
        let mut sketch = LatencySketch::new();
        latencies.into_iter().for_each(|ms| sketch.record(ms));
        sketch
    }

    #[test]
    fn either_tolerance_trips_the_criterion() {
        let control = sketch((1..=100).map(|i| f64::from(i) * 4.0)); // p95 ≈ 380 ms
        let slower = sketch((1..=100).map(|i| f64::from(i) * 4.0 + 300.0)); // p95 ≈ 680 ms
        let both = LatencyCriterion { quantile: 0.95, max_increase_ms: Some(500.0), max_ratio: Some(1.5) };
        let compared = compare(&both, &slower, &control).unwrap();
        assert!(compared.exceeded && compared.ratio > 1.5 && compared.increase_ms < 500.0, "{compared:?}");
        let increase_only = LatencyCriterion { max_ratio: None, ..both.clone() };
        assert!(!compare(&increase_only, &slower, &control).unwrap().exceeded);
        let ratio_only = LatencyCriterion { max_increase_ms: None, max_ratio: Some(2.0), ..both.clone() };
        assert!(!compare(&ratio_only, &slower, &control).unwrap().exceeded);
        assert!(!compare(&both, &control, &control).unwrap().exceeded);
        assert_eq!(compare(&both, &LatencySketch::new(), &control), None);
    }
}
