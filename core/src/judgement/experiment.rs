//! Experiment results: per variant exposures, conversions and conversion rate; against the
//! control, the difference and the relative lift with always-valid confidence sequences
//! and p-values ([`super::sequential`]); and a sample-ratio check against the weights.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Value, json};

use super::proportions::{difference, lift, rate};
use super::sequential::{Estimate, two_sided};
use super::srm::{DEFAULT_THRESHOLD, sample_ratio};

/// What one variant of an experiment got.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantTally {
    /// The variant's name.
    pub variant: String,
    /// Evaluations that served it.
    pub exposures: u64,
    /// Conversions recorded by contexts that got it.
    pub conversions: u64,
    /// The share of traffic the snapshot promised it, 0…1.
    pub weight: f64,
}

fn comparison(estimate: Option<Estimate>, n: f64, alpha: f64) -> Value {
    match estimate {
        Some(estimate) => {
            let inference = two_sided(estimate, n, alpha);
            json!({
                "estimate": estimate.value,
                "standardError": estimate.standard_error,
                "interval": [inference.interval.0, inference.interval.1],
                "pValue": inference.p_value,
            })
        }
        None => Value::Null,
    }
}

/// The results of an experiment whose variants got `tallies`, each compared with the
/// variant named `control` at level `alpha` (docs/judgement.md, "Experiments").
///
/// ```
/// use pennon_core::judgement::{experiment, VariantTally};
///
/// let tally = |variant: &str, exposures, conversions| VariantTally { variant: variant.into(), exposures, conversions, weight: 0.5 };
/// let results = experiment(&[tally("off", 10_000, 500), tally("on", 10_000, 620)], "off", 0.05);
/// assert_eq!(results["variants"][1]["rate"], 0.062);
/// let lift = &results["variants"][1]["lift"];
/// assert!((lift["estimate"].as_f64().unwrap() - 0.24).abs() < 1e-12);
/// assert!(lift["pValue"].as_f64().unwrap() < 0.05);
/// assert_eq!(results["sampleRatio"]["mismatch"], false);
/// ```
pub fn experiment(tallies: &[VariantTally], control: &str, alpha: f64) -> Value {
    if !(alpha > 0.0 && alpha < 1.0) {
        return json!({ "error": "alpha must be between 0 and 1 (exclusive)" });
    }
    let mut warnings: Vec<String> = Vec::new();
    let base = tallies.iter().find(|tally| tally.variant == control);
    if base.is_none() {
        warnings.push(format!("no variant named {control:?}: nothing to compare with"));
    }
    for (i, tally) in tallies.iter().enumerate() {
        if tallies.iter().take(i).any(|earlier| earlier.variant == tally.variant) {
            warnings.push(format!("variant {:?} is listed twice; the first is the control", tally.variant));
        }
        if tally.conversions > tally.exposures {
            warnings.push(format!(
                "variant {:?} has more conversions than exposures: its rate is not a proportion",
                tally.variant
            ));
        }
    }
    let total_exposures: u64 = tallies.iter().map(|tally| tally.exposures).sum();

    let variants: Vec<Value> = tallies
        .iter()
        .map(|tally| {
            let mut entry = json!({
                "variant": tally.variant,
                "exposures": tally.exposures,
                "conversions": tally.conversions,
                "rate": rate(tally.conversions, tally.exposures),
                "weight": tally.weight,
                "observedShare": rate(tally.exposures, total_exposures),
                "control": tally.variant == control,
            });
            if let (Some(base), Some(object)) = (base.filter(|_| tally.variant != control), entry.as_object_mut()) {
                let n = (tally.exposures + base.exposures) as f64;
                let counts = (tally.conversions, tally.exposures, base.conversions, base.exposures);
                let estimate = (tally.exposures > 0 && base.exposures > 0)
                    .then(|| difference(counts.0, counts.1, counts.2, counts.3));
                object.insert("difference".into(), comparison(estimate, n, alpha));
                object.insert(
                    "lift".into(),
                    comparison(lift(counts.0, counts.1, counts.2, counts.3).filter(|_| tally.exposures > 0), n, alpha),
                );
            }
            entry
        })
        .collect();

    let observed: Vec<u64> = tallies.iter().map(|tally| tally.exposures).collect();
    let weights: Vec<f64> = tallies.iter().map(|tally| tally.weight).collect();
    let sample_ratio = match sample_ratio(&observed, &weights) {
        Some(srm) => {
            let mismatch = srm.p_value < DEFAULT_THRESHOLD;
            if mismatch {
                warnings.push(format!(
                    "sample ratio mismatch (χ² = {:.1}, p = {:.2e}): exposures do not follow the weights, so the comparison cannot be trusted",
                    srm.chi_square, srm.p_value
                ));
            }
            json!({
                "chi2": srm.chi_square,
                "degreesOfFreedom": srm.degrees_of_freedom,
                "pValue": srm.p_value,
                "threshold": DEFAULT_THRESHOLD,
                "mismatch": mismatch,
            })
        }
        None => Value::Null,
    };

    json!({
        "control": control,
        "alpha": alpha,
        "method": "always-valid (1 − α) confidence sequences and p-values (normal mixture, Waudby-Smith et al. 2024, tuned at 5000 exposures); lift by the delta method",
        "variants": variants,
        "sampleRatio": sample_ratio,
        "warnings": warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(variant: &str, exposures: u64, conversions: u64, weight: f64) -> VariantTally {
        VariantTally { variant: variant.into(), exposures, conversions, weight }
    }

    #[test]
    fn no_difference_is_no_evidence_and_a_skewed_split_is_a_warning() {
        let results = experiment(&[tally("a", 5000, 250, 0.5), tally("b", 5000, 250, 0.5)], "a", 0.05);
        let b = &results["variants"][1];
        assert_eq!(b["difference"]["estimate"], 0.0);
        assert_eq!(b["difference"]["pValue"], 1.0);
        assert_eq!(results["variants"][0]["control"], true);
        assert_eq!(results["variants"][0].get("lift"), None);
        assert_eq!(results["warnings"], json!([]));

        let skewed = experiment(&[tally("a", 5000, 250, 0.5), tally("b", 4000, 200, 0.5)], "a", 0.05);
        assert_eq!(skewed["sampleRatio"]["mismatch"], true);
        assert_eq!(skewed["sampleRatio"]["degreesOfFreedom"], 1);
        assert!(skewed["warnings"][0].as_str().unwrap().starts_with("sample ratio mismatch"));
    }

    #[test]
    fn three_variants_are_each_compared_with_the_control() {
        let results = experiment(
            &[
                tally("control", 3000, 300, 1.0 / 3.0),
                tally("red", 3000, 390, 1.0 / 3.0),
                tally("blue", 3000, 300, 1.0 / 3.0),
            ],
            "control",
            0.05,
        );
        let red = &results["variants"][1];
        assert!((red["lift"]["estimate"].as_f64().unwrap() - 0.3).abs() < 1e-12);
        let interval = &red["difference"]["interval"];
        assert!(interval[0].as_f64().unwrap() > 0.0 && interval[1].as_f64().unwrap() > 0.03);
        assert_eq!(results["sampleRatio"]["degreesOfFreedom"], 2);
        assert_eq!(results["variants"][2]["lift"]["estimate"], 0.0);
    }

    #[test]
    fn problems_are_warnings_or_an_error() {
        let results = experiment(&[tally("a", 10, 12, 0.5), tally("b", 0, 0, 0.5)], "z", 0.05);
        assert_eq!(results["warnings"].as_array().unwrap().len(), 2);
        let results = experiment(&[tally("a", 10, 1, 0.5), tally("b", 0, 0, 0.5)], "a", 0.05);
        assert_eq!(results["variants"][1]["difference"], Value::Null);
        assert_eq!(results["variants"][1]["lift"], Value::Null);
        let results = experiment(&[tally("a", 10, 0, 0.5), tally("b", 10, 1, 0.5)], "a", 0.05);
        assert_eq!(results["variants"][1]["lift"], Value::Null);
        assert!(results["variants"][1]["difference"]["estimate"].as_f64().is_some());
        assert!(experiment(&[], "a", 1.0)["error"].is_string());
    }
}
