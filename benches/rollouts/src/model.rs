//! The traffic model: what a request of each cohort costs (error probability and a
//! lognormal latency), and the kinds of rollout the simulation runs.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The standard normal's 95th percentile: a lognormal's p95 is `median · e^(σ · Z95)`.
const Z95: f64 = 1.644_853_626_951_472_2;

/// The baseline every cohort starts from: 1 % errors, latency median 80 ms, p95 200 ms.
pub const BASE_ERROR_RATE: f64 = 0.01;
/// Median latency of the baseline (ms).
pub const BASE_MEDIAN_MS: f64 = 80.0;
/// p95 latency of the baseline (ms).
pub const BASE_P95_MS: f64 = 200.0;

/// How the requests of one cohort behave.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// Probability that a request fails.
    pub error_rate: f64,
    /// ln(latency) ~ Normal(mu, sigma²).
    mu: f64,
    sigma: f64,
}

/// One simulated request's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Whether it failed.
    pub error: bool,
    /// How long it took (ms); drawn, never waited for.
    pub latency_ms: f64,
}

impl Cohort {
    /// A cohort with this error rate and a lognormal latency of this median and p95.
    pub fn new(error_rate: f64, median_ms: f64, p95_ms: f64) -> Cohort {
        Cohort { error_rate, mu: median_ms.ln(), sigma: (p95_ms / median_ms).ln() / Z95 }
    }

    /// The baseline cohort.
    pub fn baseline() -> Cohort {
        Cohort::new(BASE_ERROR_RATE, BASE_MEDIAN_MS, BASE_P95_MS)
    }

    /// One request.
    pub fn draw(&self, rng: &mut impl Rng) -> Draw {
        let z: f64 = StandardNormal.sample(rng);
        Draw { error: rng.gen_bool(self.error_rate), latency_ms: (self.mu + self.sigma * z).exp() }
    }
}

/// The kinds of simulated rollout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// The canary behaves exactly like the control: any rollback is a false one.
    Healthy,
    /// The canary's error rate is higher by this many points (0.02 = +2 points).
    Errors(f64),
    /// The canary's latency p95 is higher by this many ms (same shape, scaled).
    LatencyP95(f64),
    /// A gross anomaly (+20 points of errors): rolled back fast; measures how soon SDK
    /// clients see the rollback.
    Anomaly,
    /// A healthy rollout whose server is killed with SIGKILL and restarted midway.
    Restart,
}

impl Kind {
    /// The canary cohort's behaviour (the control is always [`Cohort::baseline`]).
    pub fn canary(self) -> Cohort {
        match self {
            Kind::Healthy | Kind::Restart => Cohort::baseline(),
            Kind::Errors(points) => Cohort::new(BASE_ERROR_RATE + points, BASE_MEDIAN_MS, BASE_P95_MS),
            Kind::LatencyP95(plus) => {
                let scale = (BASE_P95_MS + plus) / BASE_P95_MS;
                Cohort::new(BASE_ERROR_RATE, BASE_MEDIAN_MS * scale, BASE_P95_MS + plus)
            }
            Kind::Anomaly => Cohort::new(BASE_ERROR_RATE + 0.20, BASE_MEDIAN_MS, BASE_P95_MS),
        }
    }

    /// A name for tables and flag keys.
    pub fn label(self) -> String {
        match self {
            Kind::Healthy => "healthy".to_owned(),
            Kind::Errors(points) => format!("errors +{} points", points * 100.0),
            Kind::LatencyP95(plus) => format!("p95 +{plus} ms"),
            Kind::Anomaly => "anomaly (+20 points)".to_owned(),
            Kind::Restart => "healthy, server restarted".to_owned(),
        }
    }

    /// A short slug for flag keys.
    pub fn slug(self) -> String {
        match self {
            Kind::Healthy => "healthy".to_owned(),
            Kind::Errors(points) => format!("errors{}", (points * 100.0).round()),
            Kind::LatencyP95(plus) => format!("p95plus{}", plus.round()),
            Kind::Anomaly => "anomaly".to_owned(),
            Kind::Restart => "restart".to_owned(),
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    /// A regression as the command line names it: `none` (a healthy canary),
    /// `errors:+N` (N more points of errors) or `latency:+MS` (p95 MS ms higher).
    fn from_str(spec: &str) -> Result<Kind, String> {
        let amount = |text: &str| {
            text.strip_prefix('+')
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n > 0.0)
                .ok_or_else(|| format!("'{spec}': the amount must be +N with N > 0"))
        };
        match spec.split_once(':') {
            None if spec == "none" => Ok(Kind::Healthy),
            Some(("errors", points)) => {
                let points = amount(points)?;
                if BASE_ERROR_RATE + points / 100.0 > 1.0 {
                    return Err(format!("'{spec}': more than 100 % errors"));
                }
                Ok(Kind::Errors(points / 100.0))
            }
            Some(("latency", ms)) => Ok(Kind::LatencyP95(amount(ms)?)),
            _ => Err(format!("'{spec}': expected none, errors:+POINTS or latency:+MS")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::stats::quantile;
    use rand::SeedableRng;

    fn sample(cohort: &Cohort, n: usize) -> (f64, f64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<Draw> = (0..n).map(|_| cohort.draw(&mut rng)).collect();
        let errors = draws.iter().filter(|d| d.error).count() as f64 / n as f64;
        let latencies: Vec<f64> = draws.iter().map(|d| d.latency_ms).collect();
        (errors, quantile(&latencies, 0.95).unwrap())
    }

    #[test]
    fn the_baseline_has_its_error_rate_and_p95() {
        let (errors, p95) = sample(&Cohort::baseline(), 200_000);
        assert!((errors - 0.01).abs() < 0.001, "{errors}");
        assert!((p95 - 200.0).abs() < 5.0, "{p95}");
    }

    #[test]
    fn regressions_move_what_they_say() {
        let (errors, p95) = sample(&Kind::LatencyP95(300.0).canary(), 200_000);
        assert!((errors - 0.01).abs() < 0.001, "{errors}");
        assert!((p95 - 500.0).abs() < 12.0, "{p95}");
        let (errors, _) = sample(&Kind::Errors(0.02).canary(), 200_000);
        assert!((errors - 0.03).abs() < 0.002, "{errors}");
    }

    #[test]
    fn regressions_are_named_on_the_command_line() {
        assert_eq!("none".parse(), Ok(Kind::Healthy));
        assert_eq!("errors:+20".parse(), Ok(Kind::Errors(0.2)));
        assert_eq!("latency:+300".parse(), Ok(Kind::LatencyP95(300.0)));
        for wrong in ["errors:20", "errors:+0", "errors:+100", "latency:+x", "slow:+3", ""] {
            assert!(wrong.parse::<Kind>().is_err(), "{wrong}");
        }
    }
}
