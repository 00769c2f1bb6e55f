//! Judgement against simulated rollouts (seeded, deterministic): healthy canaries looked
//! at after every batch are rarely rolled back (within α), regressions are caught, and the
//! sample-ratio check tells a broken split from a correct one. The reference values from
//! scipy are checked in `reference` below.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use pennon_core::judgement::sketch::{BUCKETS, index_of};
use pennon_core::judgement::{Arm, Criteria, Judgement, Verdict, Window, judge};

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

/// How a cohort behaves: its error rate and its latency (log-normal, median 100 ms,
/// σ = 0.5, so p95 ≈ 227 ms, plus a shift).
#[derive(Clone, Copy)]
struct Behaviour {
    error_rate: f64,
    extra_ms: f64,
}

const HEALTHY: Behaviour = Behaviour { error_rate: 0.02, extra_ms: 0.0 };

/// Latencies are drawn from a pool of this many buckets, itself drawn from the log-normal
/// for each cohort of each rollout (drawing every latency afresh is 10× slower in a
/// debug build, and a pool this size has the distribution's p95 to within about 2 %).
const POOL: usize = 4096;

/// One cohort's counts, with the latencies counted per bucket until they go in the arm.
struct Cohort {
    behaviour: Behaviour,
    pool: Vec<usize>,
    arm: Arm,
    buckets: Vec<u64>,
}

impl Cohort {
    fn new(rng: &mut Rng, behaviour: Behaviour) -> Cohort {
        let pool = (0..POOL).map(|_| index_of(100.0 * (0.5 * rng.normal()).exp() + behaviour.extra_ms)).collect();
        Cohort { behaviour, pool, arm: Arm::default(), buckets: vec![0; BUCKETS] }
    }

    fn serve(&mut self, rng: &mut Rng) {
        self.arm.exposures += 1;
        self.arm.requests += 1;
        self.arm.errors += u64::from(rng.chance(self.behaviour.error_rate));
        self.buckets[self.pool[(rng.next() % POOL as u64) as usize]] += 1;
    }

    fn flush(&mut self) {
        for (index, count) in self.buckets.iter_mut().enumerate() {
            self.arm.latency.add_to_bucket(index, std::mem::take(count));
        }
    }
}

struct Rollout {
    canary: Behaviour,
    control: Behaviour,
    /// The share of traffic that really reaches the canary.
    share: f64,
    /// The share the snapshot promised.
    promised: f64,
    batch: u64,
    looks: usize,
}

/// What happened to one simulated rollout: the first unhealthy verdict with the requests
/// served when it came, and whether any look held it (a hold pauses, looking goes on).
struct Outcome {
    unhealthy: Option<(u64, Judgement)>,
    held: bool,
}

/// Looks after every batch of requests, `looks` times or until a verdict is unhealthy.
fn run(rng: &mut Rng, rollout: &Rollout, criteria: &Criteria) -> Outcome {
    let (mut canary, mut control) = (Cohort::new(rng, rollout.canary), Cohort::new(rng, rollout.control));
    let mut held = false;
    for look in 1..=rollout.looks {
        for _ in 0..rollout.batch {
            if rng.chance(rollout.share) {
                canary.serve(rng);
            } else {
                control.serve(rng);
            }
        }
        canary.flush();
        control.flush();
        let window = Window { canary: &canary.arm, control: &control.arm, canary_share: rollout.promised };
        let judgement = judge(&window, criteria);
        match judgement.verdict {
            Verdict::Unhealthy => return Outcome { unhealthy: Some((look as u64 * rollout.batch, judgement)), held },
            Verdict::Hold => held = true,
            Verdict::Healthy | Verdict::NotEnoughData => {}
        }
    }
    Outcome { unhealthy: None, held }
}

/// Over `runs` rollouts (seeded from `seed`): the share rolled back (an unhealthy
/// verdict), the criteria that did it, the median requests to it, and the share ever held.
struct Summary {
    unhealthy: f64,
    criteria: Vec<String>,
    median_requests: u64,
    held: f64,
}

fn simulate(seed: u64, runs: usize, rollout: impl Fn(usize) -> Rollout, criteria: &Criteria) -> Summary {
    let mut rng = Rng(seed);
    let (mut criteria_seen, mut requests, mut held) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..runs {
        let outcome = run(&mut rng, &rollout(i), criteria);
        held += usize::from(outcome.held);
        if let Some((served, judgement)) = outcome.unhealthy {
            criteria_seen.push(judgement.criterion.unwrap_or_default());
            requests.push(served);
        }
    }
    requests.sort_unstable();
    Summary {
        unhealthy: requests.len() as f64 / runs as f64,
        median_requests: requests.get(requests.len() / 2).copied().unwrap_or(0),
        criteria: criteria_seen,
        held: held as f64 / runs as f64,
    }
}

const SHARES: [f64; 3] = [0.1, 0.3, 0.5];

/// Healthy canaries: both cohorts have the same error rate (1, 2 or 5 %) and latency, the
/// canary gets 10, 30 or 50 % of the traffic, and the judge looks after every 500 requests,
/// 30 times.
fn healthy(i: usize) -> Rollout {
    let behaviour = Behaviour { error_rate: [0.01, 0.02, 0.05][i % 3], extra_ms: 0.0 };
    let share = SHARES[(i / 3) % 3];
    Rollout { canary: behaviour, control: behaviour, share, promised: share, batch: 500, looks: 30 }
}

/// Simulates `runs` healthy rollouts and checks that at most α of them (plus three
/// binomial standard errors) are rolled back.
fn rolled_back_within_alpha(seed: u64, runs: usize, criteria: &Criteria) {
    let summary = simulate(seed, runs, healthy, criteria);
    eprintln!(
        "healthy, α = {}, tolerance {}: {} of {runs} rolled back ({:?}), {} held at some look",
        criteria.alpha, criteria.error_rate_tolerance, summary.unhealthy, summary.criteria, summary.held
    );
    let bound = criteria.alpha + 3.0 * (criteria.alpha * (1.0 - criteria.alpha) / runs as f64).sqrt();
    assert!(summary.unhealthy <= bound, "{}: {:?}", summary.unhealthy, summary.criteria);
}

#[test]
fn healthy_canaries_looked_at_after_every_batch_are_rolled_back_within_alpha() {
    // No tolerance, so that the test's α is all that stands between noise and a rollback.
    rolled_back_within_alpha(1, 300, &Criteria { error_rate_tolerance: 0.0, ..Criteria::default() });
}

#[test]
fn healthy_canaries_with_the_defaults_and_alpha_split_over_four_stages() {
    rolled_back_within_alpha(2, 150, &Criteria { alpha: 0.05 / 4.0, ..Criteria::default() });
}

#[test]
fn error_rate_regressions_are_caught() {
    let criteria = Criteria::default();
    let runs = 100;
    for (points, least_power) in [(0.02, 0.9), (0.05, 1.0)] {
        let regression = |i: usize| Rollout {
            canary: Behaviour { error_rate: HEALTHY.error_rate + points, extra_ms: 0.0 },
            control: HEALTHY,
            share: SHARES[i % 3],
            promised: SHARES[i % 3],
            batch: 500,
            looks: 80,
        };
        let summary = simulate(3, runs, regression, &criteria);
        eprintln!(
            "+{points} error rate: caught in {} of {runs}, median {} requests",
            summary.unhealthy, summary.median_requests
        );
        assert!(summary.unhealthy >= least_power, "+{points}: {}", summary.unhealthy);
        assert!(summary.criteria.iter().all(|criterion| criterion == "error_rate"), "{:?}", summary.criteria);
    }
}

#[test]
fn a_300_ms_latency_regression_is_caught_at_the_first_full_sample() {
    let runs = 60;
    let slower = |i: usize| Rollout {
        canary: Behaviour { error_rate: HEALTHY.error_rate, extra_ms: 300.0 },
        control: HEALTHY,
        share: SHARES[i % 3],
        promised: SHARES[i % 3],
        batch: 500,
        looks: 10,
    };
    let summary = simulate(4, runs, slower, &Criteria::default());
    eprintln!("+300 ms: caught in {} of {runs}, median {} requests", summary.unhealthy, summary.median_requests);
    assert_eq!(summary.unhealthy, 1.0);
    assert!(summary.criteria.iter().all(|criterion| criterion == "latency_p95"), "{:?}", summary.criteria);
    // Caught as soon as both arms have their 100 requests: within 1 500 requests for half the runs.
    assert!(summary.median_requests <= 1500, "{}", summary.median_requests);
}

#[test]
fn a_broken_split_holds_and_a_correct_one_does_not() {
    let runs = 100;
    let split = |share: f64| {
        move |_| Rollout { canary: HEALTHY, control: HEALTHY, share, promised: 0.2, batch: 1000, looks: 10 }
    };
    let broken = simulate(5, runs, split(0.1), &Criteria::default());
    assert_eq!((broken.held, broken.unhealthy), (1.0, 0.0));
    // χ² is not a sequential test: over 10 looks at p < 0.001 a correct split is held at
    // some look in about 1 % of rollouts (a hold only pauses; the next look goes on).
    let correct = simulate(6, runs, split(0.2), &Criteria::default());
    eprintln!("correct split: held at some look in {} of {runs}", correct.held);
    assert!(correct.held <= 0.03, "{}", correct.held);
    assert_eq!(correct.unhealthy, 0.0);
}

/// The values of tests/judgement/reference.json, computed with scipy and statsmodels by
/// tests/judgement/generate.py (tests/judgement/check.sh regenerates and compares it).
mod reference {
    use pennon_core::judgement::proportions::{difference, lift};
    use pennon_core::judgement::sequential::{Mixture, rho_squared};
    use pennon_core::judgement::sketch::LatencySketch;
    use pennon_core::judgement::srm::sample_ratio;
    use pennon_core::judgement::stats::{chi_square_sf, ln_normal_cdf, normal_cdf};
    use pennon_core::judgement::{Arm, Criteria, VariantTally, Window, experiment, judge};
    use serde_json::Value;
    use std::sync::LazyLock;

    static REFERENCE: LazyLock<Value> =
        LazyLock::new(|| serde_json::from_str(include_str!("../../tests/judgement/reference.json")).unwrap());

    /// Agreement to 1e-9 relative.
    fn close(actual: f64, expected: f64) -> bool {
        actual == expected || (actual - expected).abs() <= 1e-9 * expected.abs()
    }

    fn assert_close(actual: f64, expected: &Value, what: &str) {
        let expected = expected.as_f64().unwrap();
        assert!(close(actual, expected), "{what}: {actual:e} vs scipy's {expected:e}");
    }

    /// Every number in `expected` is in `actual` at the same place, to 1e-9 relative; every
    /// other value is equal. `actual` may have more keys.
    fn assert_matches(actual: &Value, expected: &Value, path: &str) {
        match expected {
            Value::Number(number) => assert_close(
                actual.as_f64().unwrap_or_else(|| panic!("{path}: {actual} is not a number")),
                &Value::Number(number.clone()),
                path,
            ),
            Value::Array(items) => {
                let got = actual.as_array().unwrap_or_else(|| panic!("{path}: {actual} is not an array"));
                assert_eq!(got.len(), items.len(), "{path}");
                for (i, (a, e)) in got.iter().zip(items).enumerate() {
                    assert_matches(a, e, &format!("{path}[{i}]"));
                }
            }
            Value::Object(map) => {
                for (key, e) in map {
                    let a = actual.get(key).unwrap_or_else(|| panic!("{path}.{key} is missing from {actual}"));
                    assert_matches(a, e, &format!("{path}.{key}"));
                }
            }
            other => assert_eq!(actual, other, "{path}"),
        }
    }

    fn cases(name: &str) -> &'static [Value] {
        let cases = REFERENCE[name].as_array().unwrap();
        assert!(!cases.is_empty(), "no {name} cases");
        cases
    }

    #[test]
    fn normal_distribution() {
        for case in cases("normal") {
            let x = case["x"].as_f64().unwrap();
            assert_close(normal_cdf(x), &case["cdf"], &format!("Φ({x})"));
            assert_close(ln_normal_cdf(x), &case["logCdf"], &format!("ln Φ({x})"));
        }
    }

    #[test]
    fn chi_square_survival() {
        for case in cases("chiSquare") {
            let (x, df) = (case["x"].as_f64().unwrap(), case["df"].as_f64().unwrap());
            assert_close(chi_square_sf(x, df), &case["sf"], &format!("chi2.sf({x}, {df})"));
        }
    }

    #[test]
    fn sample_ratio_against_scipy_chisquare() {
        for case in cases("sampleRatio") {
            let observed: Vec<u64> = serde_json::from_value(case["observed"].clone()).unwrap();
            let weights: Vec<f64> = serde_json::from_value(case["weights"].clone()).unwrap();
            let srm = sample_ratio(&observed, &weights).unwrap();
            assert_close(srm.chi_square, &case["chi2"], &format!("χ² of {observed:?}"));
            assert_close(f64::from(srm.degrees_of_freedom), &case["df"], "df");
            assert_close(srm.p_value, &case["pValue"], &format!("p of {observed:?}"));
        }
    }

    #[test]
    fn mixture_widths_and_p_values() {
        for case in cases("mixture") {
            let (n, alpha) = (case["n"].as_f64().unwrap(), case["alpha"].as_f64().unwrap());
            let mixture = Mixture::new(n, alpha);
            let at = format!("n = {n}, α = {alpha}");
            assert_close(rho_squared(alpha), &case["rho2"], &at);
            assert_close(mixture.two_sided_width(), &case["twoSidedWidth"], &at);
            assert_close(mixture.one_sided_width(), &case["oneSidedWidth"], &at);
            for (i, z) in case["z"].as_array().unwrap().iter().enumerate() {
                let z = z.as_f64().unwrap();
                assert_close(mixture.two_sided_p(z), &case["twoSidedP"][i], &format!("{at}, two-sided p at z = {z}"));
                assert_close(mixture.one_sided_p(z), &case["oneSidedP"][i], &format!("{at}, one-sided p at z = {z}"));
            }
        }
    }

    #[test]
    fn differences_and_lifts() {
        for case in cases("proportions") {
            let c: Vec<u64> = serde_json::from_value(case["counts"].clone()).unwrap();
            let d = difference(c[0], c[1], c[2], c[3]);
            assert_close(d.value, &case["difference"], &format!("difference {c:?}"));
            assert_close(d.standard_error, &case["differenceSe"], &format!("difference se {c:?}"));
            match lift(c[0], c[1], c[2], c[3]) {
                Some(l) => {
                    assert_close(l.value, &case["lift"], &format!("lift {c:?}"));
                    assert_close(l.standard_error, &case["liftSe"], &format!("lift se {c:?}"));
                }
                None => assert!(case["lift"].is_null(), "lift {c:?}"),
            }
        }
    }

    fn arm(value: &Value) -> Arm {
        Arm {
            exposures: value["exposures"].as_u64().unwrap(),
            requests: value["requests"].as_u64().unwrap(),
            errors: value["errors"].as_u64().unwrap(),
            latency: LatencySketch::from_json(&value["latency"]).unwrap(),
        }
    }

    #[test]
    fn judgements() {
        for case in cases("judge") {
            let name = case["name"].as_str().unwrap();
            let (canary, control) = (arm(&case["canary"]), arm(&case["control"]));
            let criteria = Criteria::from_json(&case["criteria"]).unwrap();
            let share = case["canaryShare"].as_f64().unwrap();
            let judgement = judge(&Window { canary: &canary, control: &control, canary_share: share }, &criteria);
            assert_eq!(judgement.verdict.as_str(), case["verdict"], "{name}");
            assert_eq!(judgement.criterion.as_deref(), case["criterion"].as_str(), "{name}");
            assert_matches(&judgement.evidence, &case["evidence"], name);
        }
    }

    #[test]
    fn experiments() {
        for case in cases("experiment") {
            let tallies: Vec<VariantTally> = case["tallies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| VariantTally {
                    variant: row["variant"].as_str().unwrap().into(),
                    exposures: row["exposures"].as_u64().unwrap(),
                    conversions: row["conversions"].as_u64().unwrap(),
                    weight: row["weight"].as_f64().unwrap(),
                })
                .collect();
            let control = case["control"].as_str().unwrap();
            let results = experiment(&tallies, control, case["alpha"].as_f64().unwrap());
            assert_matches(&results, &case["expected"], &format!("experiment against {control}"));
        }
    }
}
