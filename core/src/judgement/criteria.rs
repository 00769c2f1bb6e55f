//! What a stage asks of its canary ([`Criteria`]) and its JSON form (camelCase keys; a
//! missing key takes its default, an unknown key is refused).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{Map, Value, json};

/// A latency criterion: the canary's `quantile` of latency against the control's. The
/// canary is unhealthy when its quantile exceeds the control's by more than
/// `max_increase_ms`, or is more than `max_ratio` times the control's (either that is set).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyCriterion {
    /// Which quantile, 0…1 (0.95 for p95).
    pub quantile: f64,
    /// The largest increase allowed, in milliseconds.
    pub max_increase_ms: Option<f64>,
    /// The largest ratio canary / control allowed (≥ 1).
    pub max_ratio: Option<f64>,
}

impl LatencyCriterion {
    /// The quantile's short name: `p95`, `p50`, `p99.9`.
    pub fn quantile_name(&self) -> String {
        let percent = format!("{:.3}", self.quantile * 100.0);
        let trimmed = percent.trim_end_matches('0').trim_end_matches('.');
        format!("p{trimmed}")
    }

    /// The criterion's name in a [`super::Judgement`]: `latency_p95`.
    pub fn name(&self) -> String {
        format!("latency_{}", self.quantile_name())
    }
}

/// A stage's criteria. [`Criteria::default`] is what a rollout gets when it names none.
#[derive(Debug, Clone, PartialEq)]
pub struct Criteria {
    /// The error level of the error-rate test in this window (0.05). A rollout of `k`
    /// stages passes `α / k` to each, so the whole rollout's false-rollback rate is ≤ α.
    pub alpha: f64,
    /// Requests each arm needs before any statistical verdict (100).
    pub min_requests: u64,
    /// How much higher the canary's error rate may be than the control's before it counts
    /// as harm, as a fraction (0.005: half a percentage point).
    pub error_rate_tolerance: f64,
    /// The absolute guard: a canary error rate above this is unhealthy at once, no
    /// statistics (None: no guard).
    pub max_error_rate: Option<f64>,
    /// Canary requests the guard needs before it can trip (20).
    pub guard_min_requests: u64,
    /// Latency criteria (p95: at most +500 ms and at most 1.5× the control).
    pub latency: Vec<LatencyCriterion>,
    /// A sample-ratio-mismatch p-value below this holds the rollout (0.001).
    pub srm_p_value: f64,
}

impl Default for Criteria {
    fn default() -> Criteria {
        Criteria {
            alpha: 0.05,
            min_requests: 100,
            error_rate_tolerance: 0.005,
            max_error_rate: None,
            guard_min_requests: 20,
            latency: vec![LatencyCriterion { quantile: 0.95, max_increase_ms: Some(500.0), max_ratio: Some(1.5) }],
            srm_p_value: super::srm::DEFAULT_THRESHOLD,
        }
    }
}

/// Why criteria were refused: the JSON path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriteriaError(pub String);

impl core::fmt::Display for CriteriaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for CriteriaError {}

const KEYS: [&str; 7] =
    ["alpha", "minRequests", "errorRateTolerance", "maxErrorRate", "guardMinRequests", "latency", "srmPValue"];
const LATENCY_KEYS: [&str; 3] = ["quantile", "maxIncreaseMs", "maxRatio"];

impl Criteria {
    /// The JSON form: every key, `null` for an unset option.
    pub fn to_json(&self) -> Value {
        json!({
            "alpha": self.alpha,
            "minRequests": self.min_requests,
            "errorRateTolerance": self.error_rate_tolerance,
            "maxErrorRate": self.max_error_rate,
            "guardMinRequests": self.guard_min_requests,
            "latency": self.latency.iter().map(|criterion| json!({
                "quantile": criterion.quantile,
                "maxIncreaseMs": criterion.max_increase_ms,
                "maxRatio": criterion.max_ratio,
            })).collect::<Vec<_>>(),
            "srmPValue": self.srm_p_value,
        })
    }

    /// Reads the JSON form; missing keys take their defaults, `null` unsets an option.
    pub fn from_json(value: &Value) -> Result<Criteria, CriteriaError> {
        let object = object_with(value, &KEYS, "criteria")?;
        let mut criteria = Criteria::default();
        if let Some(value) = object.get("alpha") {
            criteria.alpha = number(value, "alpha", |x| x > 0.0 && x < 1.0, "between 0 and 1 (exclusive)")?;
        }
        if let Some(value) = object.get("minRequests") {
            criteria.min_requests = count(value, "minRequests", 1)?;
        }
        if let Some(value) = object.get("errorRateTolerance") {
            criteria.error_rate_tolerance =
                number(value, "errorRateTolerance", |x| (0.0..1.0).contains(&x), "≥ 0 and < 1")?;
        }
        if let Some(value) = object.get("maxErrorRate") {
            criteria.max_error_rate =
                optional(value, |v| number(v, "maxErrorRate", |x| (0.0..=1.0).contains(&x), "from 0 to 1"))?;
        }
        if let Some(value) = object.get("guardMinRequests") {
            criteria.guard_min_requests = count(value, "guardMinRequests", 1)?;
        }
        if let Some(value) = object.get("latency") {
            let items = value.as_array().ok_or_else(|| CriteriaError("latency must be an array".into()))?;
            criteria.latency =
                items.iter().enumerate().map(|(i, item)| latency_criterion(item, i)).collect::<Result<_, _>>()?;
        }
        if let Some(value) = object.get("srmPValue") {
            criteria.srm_p_value = number(value, "srmPValue", |x| (0.0..1.0).contains(&x), "≥ 0 and < 1")?;
        }
        Ok(criteria)
    }
}

fn latency_criterion(value: &Value, index: usize) -> Result<LatencyCriterion, CriteriaError> {
    let at = format!("latency[{index}]");
    let object = object_with(value, &LATENCY_KEYS, &at)?;
    let quantile = object
        .get("quantile")
        .ok_or_else(|| CriteriaError(format!("{at}.quantile is required")))
        .and_then(|v| number(v, &format!("{at}.quantile"), |x| x > 0.0 && x < 1.0, "between 0 and 1 (exclusive)"))?;
    let max_increase_ms = match object.get("maxIncreaseMs") {
        Some(v) => optional(v, |v| number(v, &format!("{at}.maxIncreaseMs"), |x| x >= 0.0, "≥ 0"))?,
        None => None,
    };
    let max_ratio = match object.get("maxRatio") {
        Some(v) => optional(v, |v| number(v, &format!("{at}.maxRatio"), |x| x >= 1.0, "≥ 1"))?,
        None => None,
    };
    if max_increase_ms.is_none() && max_ratio.is_none() {
        return Err(CriteriaError(format!("{at} needs maxIncreaseMs or maxRatio")));
    }
    Ok(LatencyCriterion { quantile, max_increase_ms, max_ratio })
}

fn object_with<'a>(value: &'a Value, keys: &[&str], at: &str) -> Result<&'a Map<String, Value>, CriteriaError> {
    let object = value.as_object().ok_or_else(|| CriteriaError(format!("{at} must be an object")))?;
    match object.keys().find(|key| !keys.contains(&key.as_str())) {
        Some(key) => Err(CriteriaError(format!("{at}: unknown key {key:?} (known: {})", keys.join(", ")))),
        None => Ok(object),
    }
}

fn number(value: &Value, at: &str, valid: impl Fn(f64) -> bool, what: &str) -> Result<f64, CriteriaError> {
    match value.as_f64() {
        Some(x) if x.is_finite() && valid(x) => Ok(x),
        _ => Err(CriteriaError(format!("{at} must be a number {what}"))),
    }
}

fn count(value: &Value, at: &str, min: u64) -> Result<u64, CriteriaError> {
    match value.as_u64() {
        Some(n) if n >= min => Ok(n),
        _ => Err(CriteriaError(format!("{at} must be an integer ≥ {min}"))),
    }
}

fn optional(value: &Value, read: impl Fn(&Value) -> Result<f64, CriteriaError>) -> Result<Option<f64>, CriteriaError> {
    if value.is_null() { Ok(None) } else { read(value).map(Some) }
}

impl core::str::FromStr for Criteria {
    type Err = CriteriaError;

    /// Parses the JSON text of [`Criteria::from_json`].
    fn from_str(text: &str) -> Result<Criteria, CriteriaError> {
        let value: Value = serde_json::from_str(text).map_err(|error| CriteriaError(error.to_string()))?;
        Criteria::from_json(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_an_empty_object_is_the_default() {
        let defaults = Criteria::default();
        assert_eq!(Criteria::from_json(&defaults.to_json()), Ok(defaults.clone()));
        assert_eq!(Criteria::from_json(&json!({})), Ok(defaults.clone()));
        assert_eq!(defaults.latency[0].name(), "latency_p95");
        assert_eq!(
            defaults.to_json(),
            json!({"alpha": 0.05, "minRequests": 100, "errorRateTolerance": 0.005, "maxErrorRate": null,
                   "guardMinRequests": 20, "latency": [{"quantile": 0.95, "maxIncreaseMs": 500.0, "maxRatio": 1.5}],
                   "srmPValue": 0.001})
        );
    }

    #[test]
    fn keys_override_their_defaults() {
        let criteria: Criteria = r#"{"alpha": 0.0125, "maxErrorRate": 0.2, "latency": [{"quantile": 0.999, "maxRatio": 2}]}"#
            .parse()
            .unwrap();
        assert_eq!(criteria.alpha, 0.0125);
        assert_eq!(criteria.max_error_rate, Some(0.2));
        assert_eq!(criteria.min_requests, 100);
        assert_eq!(
            criteria.latency,
            vec![LatencyCriterion { quantile: 0.999, max_increase_ms: None, max_ratio: Some(2.0) }]
        );
        assert_eq!(criteria.latency[0].name(), "latency_p99.9");
        assert_eq!(Criteria::from_json(&criteria.to_json()), Ok(criteria));
    }

    #[test]
    fn bad_criteria_name_what_is_wrong() {
        for (bad, says) in [
            (json!([]), "criteria must be an object"),
            (json!({"alfa": 0.1}), "unknown key \"alfa\""),
            (json!({"alpha": 1}), "alpha must be a number between 0 and 1"),
            (json!({"minRequests": 0}), "minRequests must be an integer ≥ 1"),
            (json!({"minRequests": 1.5}), "minRequests must be an integer"),
            (json!({"maxErrorRate": 2}), "maxErrorRate must be a number from 0 to 1"),
            (json!({"latency": {}}), "latency must be an array"),
            (json!({"latency": [{"quantile": 0.9}]}), "latency[0] needs maxIncreaseMs or maxRatio"),
            (json!({"latency": [{"maxRatio": 2}]}), "latency[0].quantile is required"),
            (json!({"latency": [{"quantile": 0.9, "maxRatio": 0.5}]}), "latency[0].maxRatio must be a number ≥ 1"),
            (json!({"srmPValue": -1}), "srmPValue must be"),
        ] {
            let error = Criteria::from_json(&bad).unwrap_err();
            assert!(error.0.contains(says), "{bad}: {error}");
        }
    }
}
