//! The benchmarks measure what they claim: the generated snapshots load cleanly, and the
//! benchmarked evaluations take the intended path (all targeting conditions match, the
//! split really splits, nothing errors in `evaluate_all`).
// Test code: a failed unwrap is a failed test (helpers outside `#[test]` fns included).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use pennon_benches::{
    EVALUATION_FLAG_COUNT, LOAD_FLAG_COUNT, NOW, SPLIT_FLAG, STATIC_FLAG, TARGETING_FLAG, TARGETING_RULE,
    matching_context, rfc3339, snapshot_json,
};
use pennon_core::{Context, FlagType, Reason, Snapshot, Value};

fn load(flag_count: usize) -> Snapshot {
    let snapshot = Snapshot::from_json(&snapshot_json(flag_count)).unwrap();
    let warnings: Vec<String> = snapshot.warnings().iter().map(ToString::to_string).collect();
    assert!(warnings.is_empty(), "{} warnings, first: {:?}", warnings.len(), warnings.first());
    assert_eq!(snapshot.flag_keys().len(), flag_count);
    snapshot
}

#[test]
fn generated_snapshots_load_without_warnings() {
    load(EVALUATION_FLAG_COUNT);
    load(LOAD_FLAG_COUNT);
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(snapshot_json(200), snapshot_json(200));
}

#[test]
fn timestamps_round_trip() {
    assert_eq!(rfc3339(NOW), "2026-11-22T09:00:00.000Z");
    for offset in [-400 * 86_400_000_i64, -3_600_000, 0, 90 * 86_400_000, 1_000 * 86_400_000] {
        assert_eq!(pennon_core::time::parse_timestamp(&rfc3339(NOW + offset)), Some(NOW + offset));
    }
}

#[test]
fn static_flag_is_static() {
    let snapshot = load(EVALUATION_FLAG_COUNT);
    let context = matching_context();
    let result = snapshot.evaluate(STATIC_FLAG, &context, NOW, Some(FlagType::Boolean));
    assert_eq!(result.reason, Reason::Static);
    assert_eq!(result.value, Some(&Value::Bool(true)));
    assert!(snapshot.boolean(STATIC_FLAG, &context, NOW, false));
}

#[test]
fn targeting_flag_matches_every_condition() {
    let snapshot = load(EVALUATION_FLAG_COUNT);
    let context = matching_context();
    let result = snapshot.evaluate(TARGETING_FLAG, &context, NOW, Some(FlagType::String));
    assert_eq!(result.reason, Reason::TargetingMatch, "{result:?}");
    assert_eq!(result.rule_id, Some(TARGETING_RULE));
    assert_eq!(result.variant, Some("treatment"));

    // `all` is true only when each part is: taking away any one attribute the rule (or
    // its segment) reads makes it fall through, so none of the six is vacuous.
    for attribute in ["country", "plan", "appVersion", "email", "age", "betaOptIn"] {
        let mut attributes = context.attributes().clone();
        attributes.remove(attribute);
        let reduced = Context::from_map(attributes);
        let result = snapshot.evaluate(TARGETING_FLAG, &reduced, NOW, Some(FlagType::String));
        assert_eq!(result.reason, Reason::Default, "without `{attribute}`: {result:?}");
    }
}

#[test]
fn split_flag_splits_by_targeting_key() {
    let snapshot = load(EVALUATION_FLAG_COUNT);
    let result = snapshot.evaluate(SPLIT_FLAG, &matching_context(), NOW, Some(FlagType::String));
    assert_eq!(result.reason, Reason::Split, "{result:?}");
    assert!(result.variant.is_some());

    let mut seen = std::collections::BTreeSet::new();
    for user in 0..200 {
        let context = Context::with_targeting_key(format!("user-{user}"));
        let result = snapshot.evaluate(SPLIT_FLAG, &context, NOW, Some(FlagType::String));
        assert_eq!(result.reason, Reason::Split);
        seen.insert(result.variant.unwrap());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
}

#[test]
fn evaluate_all_covers_every_path_without_errors() {
    let snapshot = load(EVALUATION_FLAG_COUNT);
    let context = matching_context();
    let mut reasons = std::collections::BTreeMap::new();
    for (key, result) in snapshot.evaluate_all(&context, NOW) {
        assert_ne!(result.reason, Reason::Error, "{key}: {result:?}");
        *reasons.entry(result.reason.as_str()).or_insert(0_usize) += 1;
    }
    assert_eq!(reasons.values().sum::<usize>(), EVALUATION_FLAG_COUNT);
    for reason in [
        Reason::Static,
        Reason::Default,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::Killed,
        Reason::Shadow,
    ] {
        assert!(reasons.contains_key(reason.as_str()), "no {reason:?} in {reasons:?}");
    }
}
