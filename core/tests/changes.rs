//! `Snapshot::changed_flags`: the language-neutral cases of `tests/conformance/changes.json`
//! and a property (a flag that is not reported evaluates the same in both snapshots).

// Test harness code: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// Only `read_json` and `suite_dir` are needed here.
#[allow(dead_code)]
mod suite;

use pennon_core::{Context, Snapshot, Value};
use proptest::prelude::*;
use serde_json::json;
use suite::{read_json, suite_dir};

/// The changed keys, checked to be the same both ways round.
fn changed(after: &Snapshot, before: &Snapshot) -> Vec<String> {
    let forward: Vec<String> = after.changed_flags(before).into_iter().map(String::from).collect();
    let backward: Vec<String> = before.changed_flags(after).into_iter().map(String::from).collect();
    assert_eq!(forward, backward, "changed_flags is symmetric");
    forward
}

#[test]
fn conformance_changes() {
    let path = suite_dir().join("changes.json");
    let cases = read_json(&path);
    let cases = cases.as_array().expect("changes.json is an array");
    assert!(cases.len() >= 10, "changes.json has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("a case has a name");
        let expected: Vec<&str> =
            case["changed"].as_array().expect("`changed` is an array").iter().filter_map(Value::as_str).collect();
        // Loaded as a tree and as text: both give the same answer.
        let tree = |field: &str| Snapshot::from_value(&case[field]).unwrap_or_else(|e| panic!("{name}: {field}: {e}"));
        let text = |field: &str| {
            Snapshot::from_json(&serde_json::to_string_pretty(&case[field]).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {field}: {e}"))
        };
        let (before, after) = (tree("before"), tree("after"));
        for (what, got) in [
            ("tree", changed(&after, &before)),
            ("text", changed(&text("after"), &text("before"))),
            ("text after tree", changed(&text("after"), &before)),
        ] {
            if got != expected {
                failures.push(format!("{name} ({what}): got {got:?}, expected {expected:?}"));
            }
        }
        if !after.changed_flags(&after).is_empty() || !before.changed_flags(&before).is_empty() {
            failures.push(format!("{name}: a snapshot differs from itself"));
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n  {}", failures.len(), failures.join("\n  "));
}

// ------------------------------------------------------------------------------------------
// The property: small random snapshot pairs that share most of their definitions.
// ------------------------------------------------------------------------------------------

const FLAGS: usize = 5;
const SEGMENTS: usize = 3;
const USERS: [&str; 3] = ["u-0", "u-1", "u-2"];

#[derive(Debug, Clone)]
struct FlagSpec {
    on: bool,
    serves_on: bool,
    /// A prerequisite on flag `f<n>`; `f5` never exists.
    prerequisite: Option<usize>,
    segment: Option<usize>,
    /// An unknown operator in a rule: the flag is invalid.
    broken: bool,
}

#[derive(Debug, Clone)]
struct SegmentSpec {
    included: u8,
    nested: Option<usize>,
}

#[derive(Debug, Clone)]
struct Spec {
    flags: Vec<Option<FlagSpec>>,
    segments: Vec<Option<SegmentSpec>>,
}

fn flag_spec() -> impl Strategy<Value = Option<FlagSpec>> {
    proptest::option::weighted(
        0.85,
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0..=FLAGS),
            proptest::option::of(0..SEGMENTS),
            proptest::bool::weighted(0.1),
        )
            .prop_map(|(on, serves_on, prerequisite, segment, broken)| FlagSpec {
                on,
                serves_on,
                prerequisite,
                segment,
                broken,
            }),
    )
}

fn segment_spec() -> impl Strategy<Value = Option<SegmentSpec>> {
    proptest::option::weighted(
        0.85,
        (0u8..8, proptest::option::weighted(0.4, 0..SEGMENTS))
            .prop_map(|(included, nested)| SegmentSpec { included, nested }),
    )
}

fn spec() -> impl Strategy<Value = Spec> {
    (proptest::collection::vec(flag_spec(), FLAGS), proptest::collection::vec(segment_spec(), SEGMENTS))
        .prop_map(|(flags, segments)| Spec { flags, segments })
}

/// `base` with each entry replaced by `other`'s where `mask` says so.
fn mix(base: &Spec, other: &Spec, mask: u16) -> Spec {
    let bit = |i: usize| mask & (1 << i) != 0;
    Spec {
        flags: (0..FLAGS).map(|i| if bit(i) { other.flags[i].clone() } else { base.flags[i].clone() }).collect(),
        segments: (0..SEGMENTS)
            .map(|i| if bit(FLAGS + i) { other.segments[i].clone() } else { base.segments[i].clone() })
            .collect(),
    }
}

fn document(spec: &Spec, revision: u64) -> Value {
    let mut flags = serde_json::Map::new();
    for (i, flag) in spec.flags.iter().enumerate() {
        let Some(flag) = flag else { continue };
        let mut rules = Vec::new();
        if let Some(segment) = flag.segment {
            rules.push(json!({"id": "seg", "when": {"inSegment": format!("s{segment}")}, "serve": {"variant": "on"}}));
        }
        if flag.broken {
            rules.push(json!({"id": "bad", "when": {"attribute": "x", "op": "nope"}, "serve": {"variant": "on"}}));
        }
        let mut definition = json!({"type": "boolean", "state": if flag.on { "on" } else { "off" },
            "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"variant": if flag.serves_on { "on" } else { "off" }}, "rules": rules});
        if let Some(prerequisite) = flag.prerequisite {
            definition["prerequisites"] = json!([{"flag": format!("f{prerequisite}"), "variants": ["on"]}]);
        }
        flags.insert(format!("f{i}"), definition);
    }
    let mut segments = serde_json::Map::new();
    for (i, segment) in spec.segments.iter().enumerate() {
        let Some(segment) = segment else { continue };
        let included: Vec<&str> =
            USERS.iter().enumerate().filter(|(u, _)| segment.included & (1 << u) != 0).map(|(_, u)| *u).collect();
        let mut definition = json!({"included": included});
        if let Some(nested) = segment.nested {
            definition["when"] = json!({"inSegment": format!("s{nested}")});
        }
        segments.insert(format!("s{i}"), definition);
    }
    json!({"schemaVersion": 1, "revision": revision, "flags": flags, "segments": segments})
}

/// Everything an evaluation reports except the revision.
fn answers(snapshot: &Snapshot, key: &str) -> Vec<Value> {
    let mut contexts: Vec<Context> = USERS.iter().map(|u| Context::with_targeting_key(*u)).collect();
    contexts.push(Context::new());
    contexts.iter().map(|context| snapshot.evaluate(key, context, 0, None).to_json(&json!(null), None)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn unreported_flags_evaluate_the_same(base in spec(), other in spec(), mask in any::<u16>()) {
        // Mostly shared definitions: each entry is replaced with probability 1/4.
        let mask = mask & (mask >> 1) & 0xff;
        let next = mix(&base, &other, mask);
        let before = Snapshot::from_value(&document(&base, 1)).unwrap();
        let after = Snapshot::from_value(&document(&next, 2)).unwrap();
        let reported = changed(&after, &before);
        prop_assert!(reported.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates: {reported:?}");
        for i in 0..FLAGS {
            let key = format!("f{i}");
            let (was, is) = (before.flag_keys().any(|k| k == key), after.flag_keys().any(|k| k == key));
            if reported.contains(&key) {
                prop_assert!(was || is);
                continue;
            }
            prop_assert_eq!(was, is, "{} added or removed but not reported", key);
            if is {
                prop_assert_eq!(answers(&before, &key), answers(&after, &key), "{} not reported but answers differ", key);
            }
        }
        // The same definitions at another revision change nothing.
        let again = Snapshot::from_value(&document(&next, 3)).unwrap();
        prop_assert!(again.changed_flags(&after).is_empty());
        if mask == 0 {
            prop_assert!(reported.is_empty());
        }
    }
}
