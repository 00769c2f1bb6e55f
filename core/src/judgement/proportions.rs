//! Estimates that compare two proportions (error rates, conversion rates): the difference
//! and the relative lift, each with its standard error.

use super::sequential::Estimate;

/// `successes / trials` (0 for no trials).
pub fn rate(successes: u64, trials: u64) -> f64 {
    if trials == 0 { 0.0 } else { successes as f64 / trials as f64 }
}

/// The variance of a rate's estimate, `p(1 − p)/n` (p clamped to 0…1, so a count that
/// exceeds its trials is not given a negative variance).
fn variance(successes: u64, trials: u64) -> f64 {
    let p = rate(successes, trials).clamp(0.0, 1.0);
    if trials == 0 { 0.0 } else { p * (1.0 - p) / trials as f64 }
}

/// `p₁ − p₀` with the unpooled standard error `√(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀)`.
pub fn difference(successes: u64, trials: u64, base_successes: u64, base_trials: u64) -> Estimate {
    Estimate {
        value: rate(successes, trials) - rate(base_successes, base_trials),
        standard_error: libm::sqrt(variance(successes, trials) + variance(base_successes, base_trials)),
    }
}

/// The relative lift `p₁/p₀ − 1` with the delta method's standard error
/// `√(Var p₁ / p₀² + p₁² Var p₀ / p₀⁴)`; `None` when `p₀` is 0.
pub fn lift(successes: u64, trials: u64, base_successes: u64, base_trials: u64) -> Option<Estimate> {
    let (p1, p0) = (rate(successes, trials), rate(base_successes, base_trials));
    if p0 <= 0.0 {
        return None;
    }
    let (v1, v0) = (variance(successes, trials), variance(base_successes, base_trials));
    let p0_squared = p0 * p0;
    Some(Estimate {
        value: p1 / p0 - 1.0,
        standard_error: libm::sqrt(v1 / p0_squared + p1 * p1 * v0 / (p0_squared * p0_squared)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_and_lift_of_known_counts() {
        let d = difference(30, 1000, 20, 1000);
        assert!((d.value - 0.01).abs() < 1e-15);
        assert!((d.standard_error - libm::sqrt(0.03 * 0.97 / 1000.0 + 0.02 * 0.98 / 1000.0)).abs() < 1e-15);
        let l = lift(30, 1000, 20, 1000).unwrap();
        assert!((l.value - 0.5).abs() < 1e-12);
        let expected = libm::sqrt(0.03 * 0.97 / 1000.0 / 0.0004 + 0.0009 * 0.02 * 0.98 / 1000.0 / 0.000_000_16);
        assert!((l.standard_error - expected).abs() < 1e-12);
        assert_eq!(lift(3, 10, 0, 10), None);
        assert_eq!(difference(0, 0, 0, 0), Estimate { value: 0.0, standard_error: 0.0 });
    }
}
