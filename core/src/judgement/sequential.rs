//! Always-valid inference for a difference (or a lift) estimated from two growing samples:
//! confidence sequences and p-values that stay valid however often they are looked at.
//!
//! This is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and
//! Ramdas ("Time-uniform central limit theory and asymptotic confidence sequences",
//! Annals of Statistics, 2024; arXiv:2103.06476), in the form GrowthBook applies it to the
//! difference of two means (docs.growthbook.io/statistics/sequential): with `N` the total
//! sample of both arms, `σ̂` the standard error of the estimate `θ̂` and `a = N·ρ²`,
//!
//! ```text
//! θ̂ ± σ̂ · √( 2(a + 1)/a · ln(√(a + 1) / α) ),   ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*,
//! ```
//!
//! where `N*` ([`TUNING`]) is the total sample at which the sequence is narrowest.
//! Written with `z = (θ̂ − θ₀)/σ̂`, the sequence is Robbins' normal mixture martingale
//! (a Gaussian mixture over the drift, variance ρ²):
//!
//! ```text
//! M(z) = (a + 1)^(−1/2) · exp( a·z² / (2(a + 1)) )
//! ```
//!
//! and by Ville's inequality `P(∃N: M ≥ 1/α) ≤ α` under `θ = θ₀`, so `p = min(1, 1/M)` is an
//! always-valid p-value, and `θ₀` lies outside the sequence exactly when `p ≤ α`.
//!
//! The one-sided test (is `θ > θ₀`?) mixes over positive drifts only (a half-normal
//! mixture, Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric,
//! nonasymptotic confidence sequences", Annals of Statistics 2021, §3.2, one-sided normal
//! mixture):
//!
//! ```text
//! M⁺(z) = 2 (a + 1)^(−1/2) · exp( a·z² / (2(a + 1)) ) · Φ( z·√(a / (a + 1)) )
//! ```
//!
//! which is a supermartingale for every `θ ≤ θ₀`: `p⁺ = min(1, 1/M⁺)` tests the composite
//! null `θ ≤ θ₀`, and the lower confidence bound is `θ̂ − z*·σ̂` with `M⁺(z*) = 1/α`.

/// `N*`, the total sample (both arms) where the confidence sequence is tuned to be
/// narrowest: GrowthBook's default.
pub const TUNING: f64 = 5000.0;

/// An estimate and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate θ̂.
    pub value: f64,
    /// Its estimated standard error σ̂ (≥ 0).
    pub standard_error: f64,
}

impl Estimate {
    /// `(θ̂ − θ₀) / σ̂`; ±∞ when σ̂ is 0 and θ̂ ≠ θ₀, 0 when both are equal.
    pub fn z(&self, null: f64) -> f64 {
        let distance = self.value - null;
        if self.standard_error > 0.0 {
            distance / self.standard_error
        } else if distance > 0.0 {
            f64::INFINITY
        } else if distance < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        }
    }
}

/// ρ², the variance of the mixture, tuned as GrowthBook does for level `alpha` and
/// [`TUNING`].
pub fn rho_squared(alpha: f64) -> f64 {
    let log_alpha = libm::log(alpha);
    (-2.0 * log_alpha + libm::log(1.0 - 2.0 * log_alpha)) / TUNING
}

/// The normal mixture at level `alpha` after a total sample of `n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mixture {
    /// `a = n·ρ²`.
    a: f64,
    alpha: f64,
}

impl Mixture {
    /// The mixture after `n` observations (both arms together) at level `alpha`.
    pub fn new(n: f64, alpha: f64) -> Mixture {
        Mixture { a: n * rho_squared(alpha), alpha }
    }

    /// ln M(z), the two-sided mixture.
    fn ln_two_sided(&self, z: f64) -> f64 {
        let a = self.a;
        -0.5 * libm::log1p(a) + a * z * z / (2.0 * (a + 1.0))
    }

    /// ln M⁺(z), the one-sided (positive drift) mixture.
    fn ln_one_sided(&self, z: f64) -> f64 {
        if z == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        let scale = libm::sqrt(self.a / (self.a + 1.0));
        core::f64::consts::LN_2 + self.ln_two_sided(z) + super::stats::ln_normal_cdf(z * scale)
    }

    /// The half-width of the two-sided confidence sequence in standard errors.
    pub fn two_sided_width(&self) -> f64 {
        let a = self.a;
        libm::sqrt(2.0 * (a + 1.0) / a * libm::log(libm::sqrt(a + 1.0) / self.alpha))
    }

    /// z*, where M⁺(z*) = 1/α: the one-sided bound is `θ̂ − z*·σ̂`. Found by bisection (M⁺
    /// increases with z, and M⁺(0) < 1 < 1/α).
    pub fn one_sided_width(&self) -> f64 {
        let target = -libm::log(self.alpha);
        let (mut low, mut high) = (0.0_f64, 1.0_f64);
        while self.ln_one_sided(high) < target && high < 1.0e6 {
            low = high;
            high *= 2.0;
        }
        while high - low > 1e-13 * high {
            let middle = 0.5 * (low + high);
            if self.ln_one_sided(middle) < target {
                low = middle;
            } else {
                high = middle;
            }
        }
        0.5 * (low + high)
    }

    /// The always-valid two-sided p-value of `θ = θ₀` for `z = (θ̂ − θ₀)/σ̂`.
    pub fn two_sided_p(&self, z: f64) -> f64 {
        p_value(self.ln_two_sided(z))
    }

    /// The always-valid one-sided p-value of `θ ≤ θ₀` for `z = (θ̂ − θ₀)/σ̂`.
    pub fn one_sided_p(&self, z: f64) -> f64 {
        p_value(self.ln_one_sided(z))
    }
}

/// `min(1, 1/M)` from ln M.
fn p_value(ln_mixture: f64) -> f64 {
    if ln_mixture.is_nan() { 1.0 } else { libm::exp(-ln_mixture).min(1.0) }
}

/// A two-sided always-valid interval and p-value, and the one-sided ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inference {
    /// The two-sided (1 − α) confidence sequence.
    pub interval: (f64, f64),
    /// The two-sided p-value of θ = 0.
    pub p_value: f64,
}

/// The two-sided confidence sequence of `estimate` and its p-value against 0.
pub fn two_sided(estimate: Estimate, n: f64, alpha: f64) -> Inference {
    let mixture = Mixture::new(n, alpha);
    let half = mixture.two_sided_width() * estimate.standard_error;
    Inference {
        interval: (estimate.value - half, estimate.value + half),
        p_value: mixture.two_sided_p(estimate.z(0.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_contains_exactly_the_values_whose_p_value_exceeds_alpha() {
        let mixture = Mixture::new(2000.0, 0.05);
        let width = mixture.two_sided_width();
        assert!((mixture.two_sided_p(width) - 0.05).abs() < 1e-12);
        assert!(mixture.two_sided_p(width * 0.99) > 0.05 && mixture.two_sided_p(width * 1.01) < 0.05);
        let one = mixture.one_sided_width();
        assert!((mixture.one_sided_p(one) - 0.05).abs() < 1e-12);
        // One-sided is narrower than two-sided at the same level, wider than two-sided at 2α.
        assert!(one < width && one > Mixture::new(2000.0, 0.10).two_sided_width() * 0.9);
    }

    #[test]
    fn p_values_are_one_without_evidence_and_zero_with_certainty() {
        let mixture = Mixture::new(500.0, 0.05);
        assert_eq!(mixture.one_sided_p(0.0), 1.0);
        assert_eq!(mixture.one_sided_p(f64::NEG_INFINITY), 1.0);
        assert_eq!(mixture.one_sided_p(f64::INFINITY), 0.0);
        assert_eq!(mixture.two_sided_p(f64::INFINITY), 0.0);
        assert_eq!(Estimate { value: 0.1, standard_error: 0.0 }.z(0.1), 0.0);
    }

    #[test]
    fn a_wider_sample_is_stricter_early_and_converges_to_the_fixed_horizon_width() {
        // Few observations: far wider than the fixed-horizon 1.96; the width shrinks to a
        // minimum near N* and then grows slowly (like √(ln N)), never below 1.96.
        let early = Mixture::new(100.0, 0.05).two_sided_width();
        let tuned = Mixture::new(TUNING, 0.05).two_sided_width();
        assert!(early > tuned && tuned > 1.96, "{early} {tuned}");
    }
}
