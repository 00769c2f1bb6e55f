//! Load and evaluation cost stay linear in the size of the snapshot for the inputs that
//! used to be exponential or cubic: prerequisite and `inSegment` DAGs reached along many
//! paths, prerequisite cycles, many rules. Work is counted (the per-evaluation memo's
//! counters, message bytes), never timed.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::error::{ErrorCode, EvaluationErrorCode};
use crate::memo::Memo;
use crate::memo::Work;
use crate::result::{Evaluation, Reason};
use crate::snapshot::Snapshot;

impl Snapshot {
    /// [`Snapshot::evaluate`] (no type check), with the work its memo counted.
    fn evaluate_counting(&self, key: &str, context: &Context) -> (Evaluation<'_>, Work) {
        let mut memo = Memo::default();
        let id = self.flag_id(key).expect("the flag exists");
        let entry = self.flag(key).expect("the flag exists");
        let evaluation = self.evaluate_entry(id, key, entry, context, 0, None, &mut memo);
        (evaluation, memo.work)
    }
}

fn boolean_flag(extra: Value) -> Value {
    let mut flag = json!({"type": "boolean", "state": "on", "variants": {"on": true, "off": false},
        "offVariant": "off", "fallthrough": {"variant": "on"}});
    if let (Value::Object(flag), Value::Object(extra)) = (&mut flag, extra) {
        flag.extend(extra);
    }
    flag
}

fn snapshot(flags: Map<String, Value>, segments: Map<String, Value>) -> Snapshot {
    let snapshot = json!({"schemaVersion": 1, "revision": 1, "flags": flags, "segments": segments});
    Snapshot::from_value(&snapshot).expect("the snapshot loads")
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:06}")
}

/// `n` flags each requiring every later flag (any variant satisfies, so every edge is
/// followed), and `n` segments each `any` of every later segment (none matches, so every
/// reference is followed); flag `i` has a rule on segment `i`.
fn complete_dags(n: usize) -> (Snapshot, usize) {
    let mut flags = Map::new();
    let mut segments = Map::new();
    for i in 0..n {
        let prerequisites: Vec<Value> =
            (i + 1..n).map(|j| json!({"flag": key("f", j), "variants": ["on", "off"]})).collect();
        let rule = json!({"id": "r", "when": {"inSegment": key("s", i)}, "serve": {"variant": "off"}});
        flags.insert(key("f", i), boolean_flag(json!({"prerequisites": prerequisites, "rules": [rule]})));
        let mut any: Vec<Value> = (i + 1..n).map(|j| json!({"inSegment": key("s", j)})).collect();
        any.push(json!({"attribute": "never", "op": "exists"}));
        segments.insert(key("s", i), json!({"when": {"any": any}}));
    }
    // Prerequisite edges, plus one `inSegment` per flag rule and per segment pair.
    let references = n * (n - 1) / 2 + n + n * (n - 1) / 2;
    (snapshot(flags, segments), references)
}

#[test]
fn complete_prerequisite_and_segment_dags_cost_one_step_per_reference() {
    // Naively 2^19 - 1 prerequisite evaluations for n = 20 (measured with the memo disabled);
    // with the memo, each flag and segment once.
    for n in [20, 33] {
        let (snapshot, references) = complete_dags(n);
        assert!(snapshot.warnings().is_empty(), "{:?}", snapshot.warnings());
        let context = Context::with_targeting_key("u-1");
        let (evaluation, work) = snapshot.evaluate_counting(&key("f", 0), &context);
        assert_eq!((evaluation.variant, evaluation.reason), (Some("on"), Reason::Default));
        assert_eq!(work.computed_flags, n - 1, "n = {n}");
        assert_eq!(work.computed_segments, n, "n = {n}");
        assert!(work.lookups <= references, "n = {n}: {} look-ups for {references} references", work.lookups);
        assert_eq!(snapshot.evaluate_all(&context, 0).filter(|(_, e)| e.variant == Some("on")).count(), n);
    }
}

#[test]
fn a_wide_dag_of_2000_flags_costs_one_step_per_edge() {
    // 32 layers of 63 flags (the last one shorter); each flag requires every flag of the
    // next layer: 63^30 × 47 paths from a top flag, ~120,000 edges.
    const WIDTH: usize = 63;
    const COUNT: usize = 2000;
    let mut flags = Map::new();
    let mut edges = 0;
    for i in 0..COUNT {
        let next_layer = (i / WIDTH + 1) * WIDTH;
        let prerequisites: Vec<Value> = (next_layer..(next_layer + WIDTH).min(COUNT))
            .map(|j| json!({"flag": key("f", j), "variants": ["on"]}))
            .collect();
        edges += prerequisites.len();
        flags.insert(key("f", i), boolean_flag(json!({"prerequisites": prerequisites})));
    }
    let snapshot = snapshot(flags, Map::new());
    assert!(snapshot.warnings().is_empty());
    let (evaluation, work) = snapshot.evaluate_counting(&key("f", 0), &Context::new());
    assert_eq!(evaluation.variant, Some("on"));
    assert_eq!(work.computed_flags, COUNT - WIDTH);
    assert!(work.lookups <= edges, "{} look-ups for {edges} edges", work.lookups);
    assert!(snapshot.evaluate_all(&Context::new(), 0).all(|(_, e)| e.variant == Some("on")));
}

#[test]
fn a_100000_flag_cycle_is_named_once() {
    const COUNT: usize = 100_000;
    let mut text = String::from(r#"{"schemaVersion": 1, "revision": 1, "flags": {"#);
    for i in 0..COUNT {
        let next = key("c", (i + 1) % COUNT);
        text.push_str(&format!(
            r#""{}": {{"type": "boolean", "state": "on", "variants": {{"on": true, "off": false}}, "offVariant": "off",
              "fallthrough": {{"variant": "on"}}, "prerequisites": [{{"flag": "{next}", "variants": ["on"]}}]}},"#,
            key("c", i)
        ));
    }
    text.push_str(
        r#""depends": {"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
          "fallthrough": {"variant": "on"}, "prerequisites": [{"flag": "c050000", "variants": ["on"]}]}}}"#,
    );
    let snapshot = Snapshot::from_json(&text).expect("loads");
    let warnings = snapshot.warnings();
    assert_eq!(warnings.len(), COUNT);
    assert!(warnings.iter().all(|w| w.code == ErrorCode::PrerequisiteCycle));
    // The first flag spells the cycle out once; the others refer to it in a few words.
    let first = &warnings[0];
    let names: Vec<String> = (0..=COUNT).map(|i| key("c", i % COUNT)).collect();
    assert_eq!(first.message, format!("prerequisites form a cycle: {}", names.join(" → ")));
    assert!(warnings[1..].iter().all(|w| w.message.contains("`c000000`") && w.message.len() < 120));
    let warning_bytes: usize = warnings.iter().map(|w| w.message.len() + w.path.len()).sum();
    assert!(warning_bytes < 2 * text.len(), "{warning_bytes} bytes of warnings for {} bytes of snapshot", text.len());

    // Flags that require the cycle stay valid; evaluating everything stays linear too.
    let context = Context::new();
    let depends = snapshot.evaluate("depends", &context, 0, None);
    assert_eq!((depends.variant, depends.reason), (Some("off"), Reason::PrerequisiteFailed));
    let mut message_bytes = 0;
    for (_, evaluation) in snapshot.evaluate_all(&context, 0) {
        if let Some(error) = &evaluation.error {
            assert_eq!(error.code, EvaluationErrorCode::ParseError);
            message_bytes += error.message.len();
        }
    }
    assert!(message_bytes < 2 * text.len(), "{message_bytes} bytes of messages for {} bytes", text.len());
}

#[test]
fn members_of_a_cycle_refer_to_its_first_flag() {
    let mut flags = Map::new();
    for (name, requires) in [("b", "c"), ("c", "d"), ("d", "b"), ("a", "b")] {
        flags.insert(name.into(), boolean_flag(json!({"prerequisites": [{"flag": requires, "variants": ["on"]}]})));
    }
    let snapshot = snapshot(flags, Map::new());
    let messages: Vec<(&str, &str)> =
        snapshot.warnings().iter().map(|w| (w.path.as_str(), w.message.as_str())).collect();
    assert_eq!(
        messages,
        [
            ("/flags/b/prerequisites", "prerequisites form a cycle: b → c → d → b"),
            ("/flags/c/prerequisites", "prerequisites form a cycle through `b` (the error of `b` names the cycle)"),
            ("/flags/d/prerequisites", "prerequisites form a cycle through `b` (the error of `b` names the cycle)"),
        ]
    );
    assert_eq!(snapshot.evaluate("a", &Context::new(), 0, None).reason, Reason::PrerequisiteFailed);
}

#[test]
fn duplicate_rule_ids_among_50000_rules_are_found() {
    const COUNT: usize = 50_000;
    let rule =
        |id: usize| json!({"id": key("r", id), "when": {"attribute": "a", "op": "exists"}, "serve": {"variant": "on"}});
    let mut rules: Vec<Value> = (0..COUNT).map(rule).collect();
    let mut flags = Map::new();
    flags.insert("unique".into(), boolean_flag(json!({"rules": rules.clone()})));
    rules.push(rule(COUNT / 2));
    rules.push(rule(1));
    flags.insert("twice".into(), boolean_flag(json!({"rules": rules})));
    let snapshot = snapshot(flags, Map::new());
    let warnings: Vec<(ErrorCode, &str)> = snapshot.warnings().iter().map(|w| (w.code, w.path.as_str())).collect();
    // The first rule whose id an earlier rule already has.
    assert_eq!(warnings, [(ErrorCode::DuplicateId, "/flags/twice/rules/50000/id")]);
    assert_eq!(snapshot.warnings()[0].message, "rule id `r025000` is used twice");
}

/// A generated snapshot: flags and segments whose references point only to later ones
/// (DAGs), with rules on segments and attributes.
#[derive(Debug, Clone)]
struct Model {
    flags: Vec<ModelFlag>,
    segments: Vec<ModelSegment>,
}

/// A generated flag: `(state, prerequisites as (flag, accepted variants), rule, fallthrough is "on")`.
type ModelFlag = (&'static str, Vec<(usize, &'static [&'static str])>, Option<Test>, bool);

/// A generated segment: `(included u-1, excluded u-2, when: (all?, segments, attribute tests))`.
type ModelSegment = (bool, bool, Option<(bool, Vec<usize>, Vec<usize>)>);

/// A rule condition: a segment or a boolean attribute `a{i}`.
#[derive(Debug, Clone, Copy)]
enum Test {
    Segment(usize),
    Attribute(usize),
}

const ATTRIBUTES: usize = 3;
const ACCEPTED: [&[&str]; 3] = [&["on"], &["off"], &["on", "off"]];

fn model() -> impl Strategy<Value = Model> {
    (1..9usize, 0..7usize)
        .prop_flat_map(|(flag_count, segment_count)| {
            let later = |i: usize, count: usize| {
                proptest::sample::subsequence((i + 1..count).collect::<Vec<_>>(), 0..=count - i - 1)
            };
            let test = move || {
                let segment = if segment_count == 0 {
                    Just(Test::Attribute(0)).boxed()
                } else {
                    (0..segment_count).prop_map(Test::Segment).boxed()
                };
                prop_oneof![(0..ATTRIBUTES).prop_map(Test::Attribute), segment]
            };
            let flags: Vec<_> = (0..flag_count)
                .map(|i| {
                    let prerequisites = later(i, flag_count).prop_flat_map(|ids| {
                        let accepted = proptest::collection::vec(proptest::sample::select(&ACCEPTED[..]), ids.len());
                        (Just(ids), accepted).prop_map(|(ids, accepted)| ids.into_iter().zip(accepted).collect())
                    });
                    (
                        proptest::sample::select(&["on", "off", "shadow", "kill"][..]),
                        prerequisites,
                        proptest::option::of(test()),
                        any::<bool>(),
                    )
                })
                .collect();
            let segments: Vec<_> = (0..segment_count)
                .map(|i| {
                    let when = (
                        any::<bool>(),
                        later(i, segment_count),
                        proptest::sample::subsequence((0..ATTRIBUTES).collect::<Vec<_>>(), 0..=ATTRIBUTES),
                    );
                    (any::<bool>(), any::<bool>(), proptest::option::of(when))
                })
                .collect();
            (flags, segments)
        })
        .prop_map(|(flags, segments)| Model { flags, segments })
}

impl Model {
    fn snapshot(&self) -> Snapshot {
        let condition = |test: Test| match test {
            Test::Segment(s) => json!({"inSegment": key("s", s)}),
            Test::Attribute(a) => json!({"attribute": format!("a{a}"), "op": "equals", "value": true}),
        };
        let mut flags = Map::new();
        for (i, (state, prerequisites, rule, fallthrough_on)) in self.flags.iter().enumerate() {
            let prerequisites: Vec<Value> =
                prerequisites.iter().map(|(j, accepted)| json!({"flag": key("f", *j), "variants": accepted})).collect();
            let rules: Vec<Value> =
                rule.iter().map(|&t| json!({"id": "r", "when": condition(t), "serve": {"variant": "on"}})).collect();
            let fallthrough = if *fallthrough_on { "on" } else { "off" };
            flags.insert(
                key("f", i),
                boolean_flag(json!({"state": state, "prerequisites": prerequisites, "rules": rules,
                    "fallthrough": {"variant": fallthrough}})),
            );
        }
        let mut segments = Map::new();
        for (s, (included, excluded, when)) in self.segments.iter().enumerate() {
            let mut segment = json!({"included": if *included { vec!["u-1"] } else { vec![] },
                "excluded": if *excluded { vec!["u-2"] } else { vec![] }});
            if let Some((all, refs, attributes)) = when {
                let list: Vec<Value> = refs
                    .iter()
                    .map(|&r| condition(Test::Segment(r)))
                    .chain(attributes.iter().map(|&a| condition(Test::Attribute(a))))
                    .collect();
                segment["when"] = json!({ if *all { "all" } else { "any" }: list });
            }
            segments.insert(key("s", s), segment);
        }
        snapshot(flags, segments)
    }

    /// Every reference: prerequisite edges and `inSegment` uses.
    fn references(&self) -> usize {
        let flag_refs: usize = self.flags.iter().map(|(_, p, rule, _)| p.len() + usize::from(rule.is_some())).sum();
        let segment_refs: usize = self.segments.iter().map(|(_, _, w)| w.as_ref().map_or(0, |(_, r, _)| r.len())).sum();
        flag_refs + segment_refs
    }

    /// The naive reference: follows every path, straight from the format's rules.
    fn in_segment(&self, s: usize, key: &str, attributes: &[bool]) -> bool {
        let (included, excluded, when) = &self.segments[s];
        if *included && key == "u-1" {
            return true;
        }
        if *excluded && key == "u-2" {
            return false;
        }
        let Some((all, refs, tests)) = when else { return false };
        let mut results =
            refs.iter().map(|&r| self.in_segment(r, key, attributes)).chain(tests.iter().map(|&a| attributes[a]));
        if *all { results.all(|r| r) } else { results.any(|r| r) }
    }

    /// `(variant, reason, shadow variant)` of flag `i`.
    fn evaluate(&self, i: usize, key: &str, attributes: &[bool]) -> (&'static str, Reason, Option<&'static str>) {
        let (state, prerequisites, rule, fallthrough_on) = &self.flags[i];
        match *state {
            "kill" => return ("off", Reason::Killed, None),
            "off" => return ("off", Reason::Disabled, None),
            _ => {}
        }
        let on_path = if prerequisites
            .iter()
            .all(|(j, accepted)| accepted.contains(&self.evaluate(*j, key, attributes).0))
        {
            let matched = rule.is_some_and(|t| match t {
                Test::Segment(s) => self.in_segment(s, key, attributes),
                Test::Attribute(a) => attributes[a],
            });
            if matched {
                ("on", Reason::TargetingMatch)
            } else {
                let is_static = *state == "on" && prerequisites.is_empty() && rule.is_none();
                (if *fallthrough_on { "on" } else { "off" }, if is_static { Reason::Static } else { Reason::Default })
            }
        } else {
            ("off", Reason::PrerequisiteFailed)
        };
        if *state == "shadow" { ("off", Reason::Shadow, Some(on_path.0)) } else { (on_path.0, on_path.1, None) }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn memoized_evaluation_agrees_with_the_naive_reference(
        model in model(),
        key in proptest::sample::select(&["u-1", "u-2", "u-3"][..]),
        attributes in proptest::collection::vec(any::<bool>(), ATTRIBUTES),
    ) {
        let snapshot = model.snapshot();
        prop_assert!(snapshot.warnings().is_empty(), "{:?}", snapshot.warnings());
        let mut context = Context::with_targeting_key(key);
        for (a, value) in attributes.iter().enumerate() {
            context.insert(format!("a{a}"), Value::Bool(*value));
        }
        let all: Vec<(&str, Evaluation<'_>)> = snapshot.evaluate_all(&context, 0).collect();
        prop_assert_eq!(all.len(), model.flags.len());
        for (i, (_, from_all)) in all.iter().enumerate() {
            let (evaluation, work) = snapshot.evaluate_counting(&self::key("f", i), &context);
            let expected = model.evaluate(i, key, &attributes);
            prop_assert_eq!((evaluation.variant, evaluation.reason, evaluation.shadow_variant),
                (Some(expected.0), expected.1, expected.2), "flag {}", i);
            prop_assert_eq!(from_all, &evaluation);
            prop_assert!(work.computed_flags < model.flags.len());
            prop_assert!(work.computed_segments <= model.segments.len());
            prop_assert!(work.lookups <= model.references());
        }
    }
}
