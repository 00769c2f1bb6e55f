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
