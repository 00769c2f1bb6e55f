//! Statistical and algebraic properties of bucketing and evaluation: uniformity,
//! monotonic rollouts, independence across flags, determinism.

// Test harness code: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use pennon_core::{Context, Reason, Snapshot, Value, bucket};
use proptest::prelude::*;
use serde_json::json;

/// Pearson's chi-square statistic of observed counts against a uniform expectation.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
}

/// Critical value of chi-square with 99 degrees of freedom at p = 0.001.
const CHI2_99_P001: f64 = 148.23;

#[test]
fn buckets_are_uniform_over_100_000_units() {
    for (salt, unit_of) in [
        ("new-checkout", Box::new(|i: u32| format!("user-{i}")) as Box<dyn Fn(u32) -> String>),
        ("experiment:ü", Box::new(|i: u32| format!("Ünït-{i}-用户"))),
        ("sequential", Box::new(|i: u32| i.to_string())),
    ] {
        let mut counts = vec![0u64; 100];
        for i in 0..100_000 {
            counts[(bucket::bucket(salt, &unit_of(i)) / 1000) as usize] += 1;
        }
        let statistic = chi_square(&counts);
        assert!(statistic < CHI2_99_P001, "salt {salt}: chi-square {statistic:.1} ≥ {CHI2_99_P001} (100 bins)");
    }
}

#[test]
fn flags_bucket_independently() {
    // 2×2 contingency of "in flag A at 50 %" × "in flag B at 50 %" over 100,000 units.
    let mut cells = [[0u64; 2]; 2];
    for i in 0..100_000 {
        let unit = format!("user-{i}");
        let a = bucket::bucket("flag-a", &unit) < 50_000;
        let b = bucket::bucket("flag-b", &unit) < 50_000;
        cells[usize::from(a)][usize::from(b)] += 1;
    }
    let total = 100_000.0;
    let mut statistic = 0.0;
    for (row, counts) in cells.iter().enumerate() {
        for (column, &observed) in counts.iter().enumerate() {
            let row_total = (cells[row][0] + cells[row][1]) as f64;
            let column_total = (cells[0][column] + cells[1][column]) as f64;
            let expected = row_total * column_total / total;
            statistic += (observed as f64 - expected).powi(2) / expected;
        }
    }
    // Chi-square with 1 degree of freedom at p = 0.001.
    assert!(statistic < 10.83, "flags are correlated: chi-square {statistic:.2}, cells {cells:?}");
}

fn rollout_snapshot(percentage: f64) -> Snapshot {
    Snapshot::from_value(&json!({
        "schemaVersion": 1, "revision": 1,
        "flags": { "f": {
            "type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": percentage}}
        }}
    }))
    .expect("valid snapshot")
}

fn progressive_snapshot() -> Snapshot {
    Snapshot::from_value(&json!({
        "schemaVersion": 1, "revision": 1,
        "flags": { "f": {
            "type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "progressive": {
                "start": "2026-01-01T00:00:00Z",
                "stages": [{"percentage": 1, "duration": "PT1H"}, {"percentage": 10, "duration": "PT1H"},
                           {"percentage": 50, "duration": "P1D"}, {"percentage": 100}]}}}
        }, "g": {
            "type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off",
                "gradual": {"start": "2026-01-01T00:00:00Z", "duration": "P7D"}}}
        }}
    }))
    .expect("valid snapshot")
}

proptest! {
    #[test]
    fn raising_a_percentage_never_removes_anyone(
        unit in "\\PC{0,24}",
        low in 0u32..=100_000,
        high in 0u32..=100_000,
    ) {
        let (low, high) = (low.min(high), low.max(high));
        let context = Context::with_targeting_key(unit);
        let at = |threshold: u32| rollout_snapshot(f64::from(threshold) / 1000.0).boolean("f", &context, 0, false);
        prop_assert!(!at(low) || at(high), "in at {low} but not at {high}");
    }

    #[test]
    fn progressing_schedules_never_remove_anyone(
        unit in "[a-z0-9-]{1,16}",
        earlier in 1_767_225_600_000i64..1_768_000_000_000,
        later in 1_767_225_600_000i64..1_768_000_000_000,
    ) {
        let snapshot = progressive_snapshot();
        let (earlier, later) = (earlier.min(later), earlier.max(later));
        let context = Context::with_targeting_key(unit);
        for flag in ["f", "g"] {
            let before = snapshot.boolean(flag, &context, earlier, false);
            let after = snapshot.boolean(flag, &context, later, false);
            prop_assert!(!before || after, "{flag}: in at {earlier} but not at {later}");
        }
    }

    #[test]
    fn evaluation_is_deterministic(
        key in "\\PC{0,12}",
        country in prop::sample::select(vec!["DE", "US", "SE", "IN", "FR"]),
        plan in prop::sample::select(vec!["free", "plus", "enterprise"]),
        version in "[0-9]\\.[0-9]{1,2}(\\.[0-9])?",
        tenant in prop::option::of(prop::sample::select(vec!["kestrel", "globex", "initech", "acme"])),
        now in 1_795_000_000_000i64..1_797_000_000_000,
    ) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).expect("examples");
        let first = Snapshot::from_json(&text).expect("loads");
        // A second load from a re-serialised document (different key order and spacing).
        let reordered: Value = serde_json::from_str(&text).expect("json");
        let second = Snapshot::from_json(&serde_json::to_string_pretty(&reordered).expect("serialise")).expect("loads");
        let mut context = Context::with_targeting_key(key);
        context.insert("country", json!(country)).insert("plan", json!(plan)).insert("appVersion", json!(version));
        if let Some(tenant) = tenant {
            context.insert("tenant", json!(tenant));
        }
        let a: Vec<_> = first.evaluate_all(&context, now).map(|(k, e)| (k.to_owned(), e.to_json(&Value::Null, 0))).collect();
        let b: Vec<_> = second.evaluate_all(&context, now).map(|(k, e)| (k.to_owned(), e.to_json(&Value::Null, 0))).collect();
        let again: Vec<_> = first.evaluate_all(&context, now).map(|(k, e)| (k.to_owned(), e.to_json(&Value::Null, 0))).collect();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &again);
        prop_assert!(a.iter().all(|(_, r)| r["reason"] != Reason::Error.as_str()), "examples never error: {:?}", a);
    }
}
