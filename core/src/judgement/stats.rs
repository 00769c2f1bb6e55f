//! Distribution functions the judgement needs: the standard normal distribution and the
//! chi-square survival function (through the regularized incomplete gamma function).
//! `no_std` has no float maths, so everything goes through `libm`.

use core::f64::consts::{FRAC_1_SQRT_2, LN_2};

/// Φ(x), the standard normal cumulative distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// ln Φ(x), accurate in both tails: far into the lower one (−∞ once Φ underflows, below
/// x ≈ −38) and in the upper one, where it is `ln(1 − Φ(−x))`.
pub fn ln_normal_cdf(x: f64) -> f64 {
    if x > 0.0 {
        libm::log1p(-0.5 * libm::erfc(x * FRAC_1_SQRT_2))
    } else {
        libm::log(libm::erfc(-x * FRAC_1_SQRT_2)) - LN_2
    }
}

/// The probability that a chi-square variable with `df` degrees of freedom exceeds `x`
/// (scipy's `chi2.sf`): `Q(df / 2, x / 2)`, the regularized upper incomplete gamma
/// function. 1 for `x ≤ 0`; NaN for `df ≤ 0` or a NaN argument.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    upper_regularized_gamma(df / 2.0, x / 2.0)
}

/// Q(s, x) = Γ(s, x) / Γ(s) for s > 0, x > 0: the power series of P(s, x) below x = s + 1,
/// Lentz's continued fraction of Q above (Numerical Recipes, 3rd ed., §6.2).
fn upper_regularized_gamma(s: f64, x: f64) -> f64 {
    const EPSILON: f64 = 1e-16;
    const TINY: f64 = 1e-300;
    const ITERATIONS: usize = 10_000;
    // ln(x^s e^−x / Γ(s)), the factor both expansions share.
    let ln_prefix = s * libm::log(x) - x - libm::lgamma(s);
    if x < s + 1.0 {
        let (mut term, mut sum, mut a) = (1.0 / s, 1.0 / s, s);
        for _ in 0..ITERATIONS {
            a += 1.0;
            term *= x / a;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        return 1.0 - sum * libm::exp(ln_prefix);
    }
    let mut b = x + 1.0 - s;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..ITERATIONS {
        let an = -(i as f64) * (i as f64 - s);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPSILON {
            break;
        }
    }
    libm::exp(ln_prefix) * h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * b.abs()
    }

    #[test]
    fn normal_cdf_known_values() {
        // Φ(1.959963984540054) = 0.975; Φ(0) = 0.5; Φ(−5) = 2.866515718791933e-7 (scipy).
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-15));
        assert_eq!(normal_cdf(0.0), 0.5);
        assert!(close(normal_cdf(-5.0), 2.866_515_718_791_933e-7, 1e-12));
        assert!(close(ln_normal_cdf(-30.0), -454.321_243_956_343_27, 1e-12));
        assert_eq!(ln_normal_cdf(-40.0), f64::NEG_INFINITY);
    }

    #[test]
    fn chi_square_known_values() {
        // scipy.stats.chi2.sf: (3.841458820694124, 1) → 0.05; (10, 3) → 0.01856613546304325;
        // (0.5, 1) → 0.47950012218695337; (200, 1) → 2.0884875837625688e-45; (625, 1) → 6.113393412765105e-138.
        assert!(close(chi_square_sf(3.841_458_820_694_124, 1.0), 0.05, 1e-12));
        assert!(close(chi_square_sf(10.0, 3.0), 0.018_566_135_463_043_25, 1e-12));
        assert!(close(chi_square_sf(0.5, 1.0), 0.479_500_122_186_953_37, 1e-12));
        assert!(close(chi_square_sf(200.0, 1.0), 2.088_487_583_762_568_8e-45, 1e-12));
        assert!(close(chi_square_sf(625.0, 1.0), 6.113_393_412_765_105e-138, 1e-12));
        assert_eq!(chi_square_sf(0.0, 1.0), 1.0);
        assert!(chi_square_sf(1.0, 0.0).is_nan());
    }
}
