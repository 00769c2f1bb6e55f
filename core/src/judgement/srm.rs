//! Sample-ratio mismatch: are the observed cohort sizes what the split promised? Pearson's
//! χ² goodness-of-fit test, `χ² = Σ (observedᵢ − expectedᵢ)² / expectedᵢ` with
//! `expectedᵢ = N · weightᵢ / Σ weights`, and `k − 1` degrees of freedom.
//!
//! An SRM means the assignment or the counting is broken (a cohort loses exposures, a
//! redirect drops a variant, bots land in one arm), so no comparison between the cohorts
//! can be trusted until it is explained.

use super::stats::chi_square_sf;

/// The p-value below which a mismatch holds a rollout or warns about an experiment, unless
/// the criteria say otherwise: 0.001, strict because the check runs at every look.
pub const DEFAULT_THRESHOLD: f64 = 0.001;

/// The outcome of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleRatio {
    /// Pearson's statistic.
    pub chi_square: f64,
    /// k − 1.
    pub degrees_of_freedom: u32,
    /// P(χ²_{k−1} ≥ chi_square).
    pub p_value: f64,
}

/// Tests `observed` counts against the promised `weights` (any positive scale; normalised
/// here). `None` when there is nothing to test: fewer than two cohorts with a positive
/// weight, no observation at all, a weight that is negative or not finite, or lengths that
/// differ. Cohorts with weight 0 must be empty; any observation there is an infinite χ².
pub fn sample_ratio(observed: &[u64], weights: &[f64]) -> Option<SampleRatio> {
    if observed.len() != weights.len() || weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return None;
    }
    let total: f64 = observed.iter().map(|&n| n as f64).sum();
    let weight_sum: f64 = weights.iter().sum();
    let cohorts = weights.iter().filter(|&&w| w > 0.0).count();
    if total == 0.0 || cohorts < 2 {
        return None;
    }
    let mut chi_square = 0.0;
    for (&n, &weight) in observed.iter().zip(weights) {
        let expected = total * weight / weight_sum;
        if expected > 0.0 {
            let distance = n as f64 - expected;
            chi_square += distance * distance / expected;
        } else if n > 0 {
            chi_square = f64::INFINITY;
        }
    }
    let degrees_of_freedom = (cohorts - 1) as u32;
    Some(SampleRatio {
        chi_square,
        degrees_of_freedom,
        p_value: chi_square_sf(chi_square, f64::from(degrees_of_freedom)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_that_matches_passes_and_one_that_does_not_is_flagged() {
        // 1000 vs 9000 against 10 % / 90 %: exactly as promised.
        let exact = sample_ratio(&[1000, 9000], &[0.1, 0.9]).unwrap();
        assert_eq!(exact.chi_square, 0.0);
        assert_eq!(exact.p_value, 1.0);
        // 1000 vs 9000 against 20 % / 80 %: χ² = 1000²/2000 + 1000²/8000 = 625.
        let skewed = sample_ratio(&[1000, 9000], &[0.2, 0.8]).unwrap();
        assert!((skewed.chi_square - 625.0).abs() < 1e-9);
        assert!(skewed.p_value < 1e-100);
        assert_eq!(skewed.degrees_of_freedom, 1);
    }

    #[test]
    fn nothing_to_test() {
        assert_eq!(sample_ratio(&[0, 0], &[0.5, 0.5]), None);
        assert_eq!(sample_ratio(&[5, 5], &[1.0, 0.0]), None);
        assert_eq!(sample_ratio(&[5], &[1.0, 2.0]), None);
        assert_eq!(sample_ratio(&[5, 5], &[f64::NAN, 1.0]), None);
        let leak = sample_ratio(&[5, 5, 1], &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!((leak.chi_square, leak.p_value, leak.degrees_of_freedom), (f64::INFINITY, 0.0, 1));
    }
}
