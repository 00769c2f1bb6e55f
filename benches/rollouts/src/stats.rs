//! The few statistics the report needs: an exact binomial interval for the share of
//! false rollbacks, and quantiles of measured times.

/// The Clopper–Pearson ("exact") two-sided interval for a binomial proportion: `x`
/// successes in `n` trials, confidence `1 - alpha`. Each bound is where the binomial tail
/// probability equals `alpha / 2` (Clopper & Pearson, Biometrika 1934), found by
/// bisection on the binomial CDF.
pub fn clopper_pearson(x: u64, n: u64, alpha: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let tail = alpha / 2.0;
    // Lower: the p at which P(X >= x) = tail, i.e. P(X <= x - 1) = 1 - tail.
    let lower = if x == 0 { 0.0 } else { bisect(|p| binomial_cdf(x - 1, n, p) - (1.0 - tail)) };
    // Upper: the p at which P(X <= x) = tail.
    let upper = if x >= n { 1.0 } else { bisect(|p| binomial_cdf(x, n, p) - tail) };
    (lower, upper)
}

/// The root of a function that decreases in p on (0, 1) (binomial CDFs do).
fn bisect(f: impl Fn(f64) -> f64) -> f64 {
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if f(middle) > 0.0 {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

/// P(X <= k) for X ~ Binomial(n, p), summing the probabilities in log space (so a large
/// `n` neither overflows the coefficients nor underflows the first term).
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (log_p, log_q) = (p.ln(), (-p).ln_1p());
    let mut log_term = n as f64 * log_q; // log P(X = 0)
    let mut sum = log_term.exp();
    for i in 0..k.min(n) {
        // P(X = i + 1) = P(X = i) · (n − i)/(i + 1) · p/q
        log_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + log_p - log_q;
        sum += log_term.exp();
    }
    sum.min(1.0)
}

/// The `q` quantile (0..=1) of `values` by the nearest-rank method (the smallest value
/// with at least `q · n` values at or below it); `None` for no values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn clopper_pearson_has_the_closed_forms_at_the_edges() {
        // x = 0: upper = 1 − (α/2)^(1/n); x = n: lower = (α/2)^(1/n).
        let (lower, upper) = clopper_pearson(0, 200, 0.05);
        assert_eq!(lower, 0.0);
        assert!(close(upper, 1.0 - 0.025_f64.powf(1.0 / 200.0), 1e-9), "{upper}");
        let (lower, upper) = clopper_pearson(40, 40, 0.05);
        assert!(close(lower, 0.025_f64.powf(1.0 / 40.0), 1e-9), "{lower}");
        assert_eq!(upper, 1.0);
    }

    #[test]
    fn clopper_pearson_matches_exact_reference_values() {
        // Reference values computed independently with exact rational arithmetic (Python's
        // `fractions` and `math.comb`, bisecting the same tail equations to 1e-15).
        let (lower, upper) = clopper_pearson(10, 200, 0.05);
        assert!(close(lower, 0.024_234_17, 1e-7) && close(upper, 0.090_027_54, 1e-7), "{lower} {upper}");
        let (lower, upper) = clopper_pearson(3, 40, 0.05);
        assert!(close(lower, 0.015_742_18, 1e-7) && close(upper, 0.203_864_75, 1e-7), "{lower} {upper}");
    }

    #[test]
    fn the_binomial_cdf_sums_the_probabilities() {
        // n = 4, p = 1/2: P(X <= 1) = (1 + 4) / 16.
        assert!(close(binomial_cdf(1, 4, 0.5), 5.0 / 16.0, 1e-12));
        assert!(close(binomial_cdf(4, 4, 0.3), 1.0, 1e-12));
        assert!(close(binomial_cdf(0, 10, 0.1), 0.9_f64.powi(10), 1e-12));
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), Some(50.0));
        assert_eq!(quantile(&values, 0.99), Some(99.0));
        assert_eq!(quantile(&values, 1.0), Some(100.0));
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
