//! Where a flag's cohorts stand and what its fallthrough promises each variant, at an
//! instant: `Snapshot::standing` and `Snapshot::fallthrough_shares`, the answers the
//! control plane shows and checks experiments against (nobody else works out stages).
#![allow(clippy::unwrap_used)]

use pennon_core::Snapshot;
use pennon_core::time::parse_timestamp;
use serde_json::json;

fn snapshot() -> Snapshot {
    let serve = |fallthrough: serde_json::Value| {
        json!({"type": "string", "state": "on", "offVariant": "a", "variants": {"a": "A", "b": "B", "c": "C"},
               "fallthrough": fallthrough})
    };
    let progressive = json!({"start": "2026-01-01T00:00:00Z", "stages": [
        {"percentage": 10, "duration": "PT1H"}, {"percentage": 40, "duration": "PT1H"}, {"percentage": 100}]});
    let document = json!({"schemaVersion": 1, "revision": 1, "flags": {
        "plain": serve(json!({"variant": "b"})),
        "split": serve(json!({"split": {"variants": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 30},
            {"variant": "c", "weight": 12.5}, {"variant": "b", "weight": 7.5}]}})),
        "fixed": serve(json!({"rollout": {"variant": "b", "otherwise": "a", "percentage": 12.5}})),
        "staged": serve(json!({"rollout": {"variant": "c", "otherwise": "a", "progressive": progressive}})),
        "ramp": serve(json!({"rollout": {"variant": "b", "otherwise": "a",
            "gradual": {"start": "2026-01-01T00:00:00Z", "duration": "PT10H", "to": 50}}})),
    }});
    Snapshot::from_value(&document).unwrap()
}

#[test]
fn the_fallthrough_promises_its_split_or_its_cohort_at_that_instant() {
    let snapshot = snapshot();
    let at = |text: &str| parse_timestamp(text).unwrap();
    let noon = at("2026-01-01T01:30:00Z");
    assert_eq!(snapshot.fallthrough_shares("plain", noon), None);
    assert_eq!(
        snapshot.fallthrough_shares("split", noon),
        Some(vec![("a", 0.5), ("b", 0.3), ("c", 0.125), ("b", 0.075)])
    );
    assert_eq!(snapshot.fallthrough_shares("fixed", noon), Some(vec![("b", 0.125), ("a", 0.875)]));
    // The stage in force: 40 % in the second hour, whatever the stages' own percentages say.
    assert_eq!(snapshot.fallthrough_shares("staged", noon), Some(vec![("c", 0.4), ("a", 0.6)]));
    assert_eq!(snapshot.fallthrough_shares("ramp", at("2026-01-01T05:00:00Z")), Some(vec![("b", 0.25), ("a", 0.75)]));
    assert_eq!(snapshot.fallthrough_shares("unknown", noon), None);
}

#[test]
fn standing_names_the_stage_and_the_ramp() {
    let snapshot = snapshot();
    let noon = parse_timestamp("2026-01-01T01:30:00Z").unwrap();
    let staged = snapshot.standing("staged", noon).unwrap();
    assert_eq!(staged["canary"], serde_json::Value::Null);
    assert_eq!(
        staged["fallthrough"],
        json!({"percentage": 40.0, "stage": 1, "stages": 3, "paused": false, "ramping": false})
    );
    assert_eq!(snapshot.standing("ramp", noon).unwrap()["fallthrough"]["ramping"], true);
    assert_eq!(snapshot.standing("plain", noon).unwrap(), json!({"canary": null, "fallthrough": null}));
    assert_eq!(snapshot.standing("unknown", noon), None);
}
