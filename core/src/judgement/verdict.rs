//! The verdict on a canary window: [`judge`].

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value, json};

use super::criteria::Criteria;
use super::latency::compare;
use super::proportions::{difference, rate};
use super::sequential::Mixture;
use super::srm::sample_ratio;
use super::{Arm, Window};

/// What a window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No evidence of harm after the minimum sample (not a proof that the canary is as
    /// good as the control).
    Healthy,
    /// A criterion failed.
    Unhealthy,
    /// Not enough requests (or latencies) yet to judge.
    NotEnoughData,
    /// Sample-ratio mismatch: the cohorts are not the sizes the split promised, so the
    /// comparison cannot be trusted; neither advance nor roll back.
    Hold,
}

impl Verdict {
    /// `healthy`, `unhealthy`, `not_enough_data` or `hold`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Unhealthy => "unhealthy",
            Verdict::NotEnoughData => "not_enough_data",
            Verdict::Hold => "hold",
        }
    }
}

/// A verdict, the criterion that decided it (`max_error_rate`, `error_rate`,
/// `latency_p95`…, `sample_ratio`; `None` for healthy and not-enough-data), and the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The criterion that made the verdict unhealthy or hold.
    pub criterion: Option<String>,
    /// Every number computed, for the audit trail (docs/judgement.md lists them).
    pub evidence: Value,
}

impl Judgement {
    /// `{"verdict": …, "criterion": …, "evidence": …}`.
    pub fn to_json(&self) -> Value {
        json!({ "verdict": self.verdict.as_str(), "criterion": self.criterion, "evidence": self.evidence })
    }
}

fn arm_json(arm: &Arm) -> Value {
    let quantile = |q| arm.latency.quantile(q);
    json!({
        "exposures": arm.exposures,
        "requests": arm.requests,
        "errors": arm.errors,
        "errorRate": arm.error_rate(),
        "latencies": arm.latency.count(),
        "p50": quantile(0.5),
        "p95": quantile(0.95),
        "p99": quantile(0.99),
    })
}

fn decide(mut evidence: Map<String, Value>, verdict: Verdict, criterion: Option<String>, reason: String) -> Judgement {
    evidence.insert("reason".into(), Value::String(reason));
    Judgement { verdict, criterion, evidence: Value::Object(evidence) }
}

fn percent(fraction: f64) -> String {
    format!("{:.2} %", fraction * 100.0)
}

/// The lines a canary is held to in this window, for charts: `errorRate`, the control's
/// error rate plus the tolerance (the level the error-rate test treats as harm; `null`
/// while the control has no request); `maxErrorRate`, the absolute guard; and per latency
/// criterion (keyed by quantile name, `p95`) the lowest canary latency that exceeds it:
/// the smaller of control + `maxIncreaseMs` and control × `maxRatio` (`null` while the
/// control has no latency or the criterion sets neither).
fn thresholds(control: &Arm, criteria: &Criteria, full: bool) -> Value {
    let mut lines = Map::new();
    let error_rate = (!full && control.requests > 0).then(|| control.error_rate() + criteria.error_rate_tolerance);
    lines.insert("errorRate".into(), json!(error_rate));
    lines.insert("maxErrorRate".into(), json!(criteria.max_error_rate));
    for criterion in &criteria.latency {
        let line = control.latency.quantile(criterion.quantile).filter(|_| !full).and_then(|control_ms| {
            let by_increase = criterion.max_increase_ms.map(|ms| control_ms + ms);
            let by_ratio = criterion.max_ratio.map(|ratio| control_ms * ratio);
            match (by_increase, by_ratio) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        });
        lines.insert(criterion.quantile_name(), json!(line));
    }
    Value::Object(lines)
}

/// Judges a canary window against its control (docs/judgement.md). In order: the
/// absolute guard, the minimum sample, the sample ratio, the error-rate test, the latency
/// criteria; healthy when none of them objects.
pub fn judge(window: &Window, criteria: &Criteria) -> Judgement {
    let (canary, control) = (window.canary, window.control);
    let mut evidence = Map::new();
    evidence.insert("canary".into(), arm_json(canary));
    evidence.insert("control".into(), arm_json(control));
    evidence.insert("canaryShare".into(), json!(window.canary_share));
    evidence.insert("criteria".into(), criteria.to_json());

    // Every number first, whatever decides: the audit shows all of them.
    let canary_rate = canary.error_rate();
    let guard_tripped =
        criteria.max_error_rate.is_some_and(|max| canary.requests >= criteria.guard_min_requests && canary_rate > max);

    let sample_ratio =
        (canary.exposures > 0 && control.exposures > 0 && window.canary_share > 0.0 && window.canary_share < 1.0)
            .then(|| {
                sample_ratio(&[canary.exposures, control.exposures], &[window.canary_share, 1.0 - window.canary_share])
            })
            .flatten();
    evidence.insert(
        "sampleRatio".into(),
        match sample_ratio {
            Some(srm) => json!({
                "observedShare": rate(canary.exposures, canary.exposures + control.exposures),
                "chi2": srm.chi_square,
                "pValue": srm.p_value,
            }),
            None => Value::Null,
        },
    );

    let error_test = (canary.requests > 0 && control.requests > 0).then(|| {
        let estimate = difference(canary.failed(), canary.requests, control.failed(), control.requests);
        let mixture = Mixture::new((canary.requests + control.requests) as f64, criteria.alpha);
        let half = mixture.two_sided_width() * estimate.standard_error;
        let lower_bound = estimate.value - mixture.one_sided_width() * estimate.standard_error;
        let p_value = mixture.one_sided_p(estimate.z(criteria.error_rate_tolerance));
        (estimate, half, lower_bound, p_value)
    });
    evidence.insert(
        "errorRate".into(),
        match error_test {
            Some((estimate, half, lower_bound, p_value)) => json!({
                "difference": estimate.value,
                "standardError": estimate.standard_error,
                "interval": [estimate.value - half, estimate.value + half],
                "lowerBound": lower_bound,
                "tolerance": criteria.error_rate_tolerance,
                "pValue": p_value,
            }),
            None => Value::Null,
        },
    );

    let latency: Vec<_> = criteria
        .latency
        .iter()
        .map(|criterion| (criterion, compare(criterion, &canary.latency, &control.latency)))
        .collect();
    evidence.insert(
        "latency".into(),
        latency
            .iter()
            .map(|(criterion, comparison)| {
                let mut entry = json!({
                    "criterion": criterion.name(),
                    "quantile": criterion.quantile,
                    "maxIncreaseMs": criterion.max_increase_ms,
                    "maxRatio": criterion.max_ratio,
                });
                if let (Some(c), Some(object)) = (comparison, entry.as_object_mut()) {
                    object.insert("canaryMs".into(), json!(c.canary_ms));
                    object.insert("controlMs".into(), json!(c.control_ms));
                    object.insert("increaseMs".into(), json!(c.increase_ms));
                    object.insert("ratio".into(), json!(c.ratio));
                    object.insert("exceeded".into(), json!(c.exceeded));
                }
                entry
            })
            .collect(),
    );

    // At a 100 % share there is no control cohort: whatever control outcomes the window
    // holds are stragglers of the stage before, so only the absolute guard judges.
    let full = window.canary_share >= 1.0;
    evidence.insert("thresholds".into(), thresholds(control, criteria, full));

    if guard_tripped {
        let max = criteria.max_error_rate.unwrap_or(0.0);
        return decide(
            evidence,
            Verdict::Unhealthy,
            Some("max_error_rate".into()),
            format!("canary error rate {} > {} after {} requests", percent(canary_rate), percent(max), canary.requests),
        );
    }

    if full {
        let canary_missing = criteria.min_requests.saturating_sub(canary.requests);
        if canary_missing > 0 {
            evidence.insert("missing".into(), json!({ "canaryRequests": canary_missing, "controlRequests": 0 }));
            return decide(
                evidence,
                Verdict::NotEnoughData,
                None,
                format!("{} canary requests needed: {} more", criteria.min_requests, canary_missing),
            );
        }
        return decide(
            evidence,
            Verdict::Healthy,
            None,
            String::from("the canary serves everyone: only the absolute guard judges, and it holds"),
        );
    }

    let missing = |arm: &Arm| criteria.min_requests.saturating_sub(arm.requests);
    if missing(canary) > 0 || missing(control) > 0 {
        let (canary_missing, control_missing) = (missing(canary), missing(control));
        evidence
            .insert("missing".into(), json!({ "canaryRequests": canary_missing, "controlRequests": control_missing }));
        return decide(
            evidence,
            Verdict::NotEnoughData,
            None,
            format!(
                "{} requests per arm needed: canary {} more, control {} more",
                criteria.min_requests, canary_missing, control_missing
            ),
        );
    }

    if let Some(srm) = sample_ratio.filter(|srm| srm.p_value < criteria.srm_p_value) {
        return decide(
            evidence,
            Verdict::Hold,
            Some("sample_ratio".into()),
            format!(
                "canary has {} of exposures, {} promised (χ² = {:.1}, p = {:.2e} < {})",
                percent(rate(canary.exposures, canary.exposures + control.exposures)),
                percent(window.canary_share),
                srm.chi_square,
                srm.p_value,
                criteria.srm_p_value
            ),
        );
    }

    if let Some((estimate, _, lower_bound, p_value)) = error_test.filter(|test| test.3 <= criteria.alpha) {
        return decide(
            evidence,
            Verdict::Unhealthy,
            Some("error_rate".into()),
            format!(
                "canary error rate {} vs control {}: +{:.2} points, at least +{:.2} (always-valid bound) > tolerance {:.2} (p = {:.2e} ≤ α = {})",
                percent(canary_rate),
                percent(control.error_rate()),
                estimate.value * 100.0,
                lower_bound * 100.0,
                criteria.error_rate_tolerance * 100.0,
                p_value,
                short(criteria.alpha)
            ),
        );
    }

    let mut short_of_latencies = Vec::new();
    for (criterion, comparison) in &latency {
        let recorded = (canary.latency.count(), control.latency.count());
        if recorded == (0, 0) {
            continue; // this app records no latencies: nothing to judge
        }
        if recorded.0 < criteria.min_requests || recorded.1 < criteria.min_requests {
            short_of_latencies.push(criterion.name());
            continue;
        }
        if let Some(c) = comparison.filter(|c| c.exceeded) {
            return decide(
                evidence,
                Verdict::Unhealthy,
                Some(criterion.name()),
                format!(
                    "canary {} {:.1} ms vs control {:.1} ms (+{:.1} ms, ×{:.2})",
                    criterion.quantile_name(),
                    c.canary_ms,
                    c.control_ms,
                    c.increase_ms,
                    c.ratio
                ),
            );
        }
    }
    if !short_of_latencies.is_empty() {
        let (canary_missing, control_missing) = (
            criteria.min_requests.saturating_sub(canary.latency.count()),
            criteria.min_requests.saturating_sub(control.latency.count()),
        );
        evidence.insert(
            "missing".into(),
            json!({ "canaryLatencies": canary_missing, "controlLatencies": control_missing, "criteria": short_of_latencies }),
        );
        return decide(
            evidence,
            Verdict::NotEnoughData,
            None,
            format!(
                "{} latencies per arm needed: canary {} more, control {} more",
                criteria.min_requests, canary_missing, control_missing
            ),
        );
    }

    decide(evidence, Verdict::Healthy, None, String::from("no criterion shows harm"))
}

/// α as people write it: at most four decimals, no trailing zeros (`0.05`, `0.0167` for
/// 0.05 / 3).
fn short(alpha: f64) -> String {
    let text = format!("{alpha:.4}");
    String::from(text.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judgement::LatencySketch;

    fn arm(requests: u64, errors: u64, latency_ms: f64) -> Arm {
        let mut latency = LatencySketch::new();
        latency.add_to_bucket(crate::judgement::sketch::index_of(latency_ms), requests);
        Arm { exposures: requests, requests, errors, latency }
    }

    fn judged(canary: &Arm, control: &Arm, share: f64, criteria: &Criteria) -> Judgement {
        judge(&Window { canary, control, canary_share: share }, criteria)
    }

    #[test]
    fn a_canary_like_its_control_is_healthy_with_every_number_in_the_evidence() {
        let (canary, control) = (arm(1000, 20, 120.0), arm(9000, 180, 120.0));
        let judgement = judged(&canary, &control, 0.1, &Criteria::default());
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Healthy, None));
        let evidence = &judgement.evidence;
        assert_eq!(evidence["canary"]["requests"], 1000);
        assert_eq!(evidence["control"]["errorRate"], 0.02);
        assert!(evidence["canary"]["p95"].as_f64().is_some_and(|p95| (p95 - 120.0).abs() < 3.0));
        assert_eq!(evidence["sampleRatio"]["pValue"], 1.0);
        assert_eq!(evidence["errorRate"]["difference"], 0.0);
        assert!(evidence["errorRate"]["pValue"].as_f64().is_some_and(|p| p > 0.05));
        assert_eq!(evidence["latency"][0]["exceeded"], false);
        assert_eq!(judgement.to_json()["verdict"], "healthy");
        // The lines: control rate + tolerance; p95 of 120 ms: min(120 + 500, 120 × 1.5).
        assert!((evidence["thresholds"]["errorRate"].as_f64().unwrap() - 0.025).abs() < 1e-12);
        assert_eq!(evidence["thresholds"]["maxErrorRate"], Value::Null);
        let p95 = evidence["control"]["p95"].as_f64().unwrap();
        assert!((evidence["thresholds"]["p95"].as_f64().unwrap() - p95 * 1.5).abs() < 1e-9);
    }

    #[test]
    fn at_a_full_share_only_the_guard_judges_and_only_its_line_is_drawn() {
        // Stragglers of the stage before, far better than the canary: not compared.
        let (canary, control) = (arm(1000, 60, 900.0), arm(300, 3, 100.0));
        let criteria = Criteria { max_error_rate: Some(0.2), ..Criteria::default() };
        let judgement = judged(&canary, &control, 1.0, &criteria);
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Healthy, None));
        let lines = &judgement.evidence["thresholds"];
        assert_eq!(
            (&lines["errorRate"], &lines["p95"], &lines["maxErrorRate"]),
            (&Value::Null, &Value::Null, &json!(0.2))
        );
        // The guard still trips, and a share below 100 % compares as before.
        assert_eq!(judged(&arm(1000, 300, 100.0), &control, 1.0, &criteria).verdict, Verdict::Unhealthy);
        assert_eq!(judged(&canary, &control, 0.77, &criteria).verdict, Verdict::Unhealthy);
    }

    #[test]
    fn thresholds_are_the_lowest_values_that_trip_each_criterion() {
        let criteria = Criteria {
            max_error_rate: Some(0.3),
            latency: alloc::vec![crate::judgement::LatencyCriterion {
                quantile: 0.95,
                max_increase_ms: Some(50.0),
                max_ratio: Some(3.0),
            }],
            ..Criteria::default()
        };
        let (canary, control) = (arm(10, 0, 100.0), arm(0, 0, 100.0));
        let lines = &judged(&canary, &control, 0.1, &criteria).evidence["thresholds"];
        // No control requests: no error-rate line; the guard is there regardless.
        assert_eq!(lines["errorRate"], Value::Null);
        assert_eq!(lines["maxErrorRate"], 0.3);
        assert_eq!(lines["p95"], Value::Null);
        let control = arm(1000, 10, 100.0);
        let lines = &judged(&canary, &control, 0.1, &criteria).evidence["thresholds"];
        let p95 = control.latency.quantile(0.95).unwrap();
        // +50 ms is stricter than ×3 here.
        assert!((lines["p95"].as_f64().unwrap() - (p95 + 50.0)).abs() < 1e-9);
        assert!((lines["errorRate"].as_f64().unwrap() - 0.015).abs() < 1e-12);
    }

    #[test]
    fn the_guard_trips_first_even_before_the_minimum_sample() {
        let criteria = Criteria { max_error_rate: Some(0.2), ..Criteria::default() };
        let (canary, control) = (arm(30, 9, 100.0), arm(300, 3, 100.0));
        let judgement = judged(&canary, &control, 0.1, &criteria);
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Unhealthy, Some("max_error_rate")));
        // Below guard_min_requests the guard waits; below min_requests the rest waits.
        let judgement = judged(&arm(19, 19, 100.0), &control, 0.1, &criteria);
        assert_eq!(judgement.verdict, Verdict::NotEnoughData);
        assert_eq!(judgement.evidence["missing"]["canaryRequests"], 81);
        assert_eq!(judgement.evidence["missing"]["controlRequests"], 0);
    }

    #[test]
    fn a_sample_ratio_mismatch_holds_before_any_comparison() {
        // The canary got 10 % of the exposures where 20 % were promised, and errs more.
        let (canary, control) = (arm(1000, 100, 100.0), arm(9000, 90, 100.0));
        let judgement = judged(&canary, &control, 0.2, &Criteria::default());
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Hold, Some("sample_ratio")));
        assert!((judgement.evidence["sampleRatio"]["chi2"].as_f64().unwrap() - 625.0).abs() < 1e-9);
        // As promised: the error rate decides.
        let judgement = judged(&canary, &control, 0.1, &Criteria::default());
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Unhealthy, Some("error_rate")));
        let error_rate = &judgement.evidence["errorRate"];
        assert!(error_rate["lowerBound"].as_f64().unwrap() > 0.005);
        assert!(error_rate["interval"][0].as_f64().unwrap() < error_rate["lowerBound"].as_f64().unwrap());
    }

    #[test]
    fn an_increase_within_the_tolerance_is_not_harm() {
        // +0.4 points on a large sample: real but within the 0.5-point tolerance.
        let (canary, control) = (arm(200_000, 4_800, 100.0), arm(200_000, 4_000, 100.0));
        let judgement = judged(&canary, &control, 0.5, &Criteria::default());
        assert_eq!(judgement.verdict, Verdict::Healthy);
        let strict = Criteria { error_rate_tolerance: 0.0, ..Criteria::default() };
        assert_eq!(judged(&canary, &control, 0.5, &strict).criterion.as_deref(), Some("error_rate"));
    }

    #[test]
    fn latency_is_judged_when_both_arms_have_enough_latencies() {
        let (canary, control) = (arm(1000, 10, 700.0), arm(1000, 10, 150.0));
        let judgement = judged(&canary, &control, 0.5, &Criteria::default());
        assert_eq!((judgement.verdict, judgement.criterion.as_deref()), (Verdict::Unhealthy, Some("latency_p95")));
        assert_eq!(judgement.evidence["latency"][0]["exceeded"], true);
        // No latencies recorded at all: latency is not judged.
        let bare = |requests| Arm { exposures: requests, requests, errors: 10, latency: LatencySketch::new() };
        let judgement = judged(&bare(1000), &bare(1000), 0.5, &Criteria::default());
        assert_eq!(judgement.verdict, Verdict::Healthy);
        // Some, but too few: wait.
        let mut few = bare(1000);
        few.latency.record(900.0);
        let judgement = judged(&few, &control, 0.5, &Criteria::default());
        assert_eq!(judgement.verdict, Verdict::NotEnoughData);
        assert_eq!(judgement.evidence["missing"]["canaryLatencies"], 99);
    }

    #[test]
    fn arms_merge_and_errors_beyond_requests_count_once() {
        let mut total = arm(10, 2, 5.0);
        total.merge(&arm(30, 40, 5.0));
        assert_eq!((total.requests, total.errors, total.latency.count()), (40, 42, 40));
        assert_eq!(total.error_rate(), 1.0);
    }
}
