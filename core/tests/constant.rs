//! `Snapshot::constancy` and `Snapshot::constants`: a flag called constant at `now` over
//! `[since, until)` gives the identical canonical result for every context at every
//! instant of the span (checked on every conformance case file, with the file's contexts
//! and generated ones), and flags that depend on the context or the time are not called
//! constant beyond their boundary.

// Test harness code: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
mod suite;

use pennon_core::time::Millis;
use pennon_core::{Constancy, Context, FlagType, Map, Snapshot, Value};
use serde_json::json;
use suite::{case_files, read_json};

/// Every case file's snapshot (those that load), its instants and its contexts.
fn loaded_case_files() -> Vec<(String, Snapshot, Vec<Millis>, Vec<Value>)> {
    let mut files = Vec::new();
    for path in case_files() {
        let file = read_json(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = suite::load(&file, &name);
        let Ok(snapshot) = loaded else { continue };
        let cases = file.get("cases").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut instants: BTreeSet<Millis> = file.get("now").and_then(Value::as_i64).into_iter().collect();
        instants.extend(cases.iter().filter_map(|case| case.get("now").and_then(Value::as_i64)));
        let contexts = cases.iter().filter_map(|case| case.get("context").cloned()).collect();
        files.push((name, snapshot, instants.into_iter().collect(), contexts));
    }
    files
}

/// The file's contexts, plus generated ones: empty, a typical user, the union of every
/// attribute the file uses, and each file context with its values' types changed.
fn contexts(from_file: &[Value]) -> Vec<Context> {
    let mut values: Vec<Value> = from_file.iter().filter(|c| c.is_object()).cloned().collect();
    let mut union = Map::new();
    for context in &values {
        for (key, value) in context.as_object().unwrap() {
            union.insert(key.clone(), value.clone());
        }
    }
    let changed: Vec<Value> = values
        .iter()
        .map(|context| {
            let map = context.as_object().unwrap();
            Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        let other = match value {
                            Value::String(_) => json!(42),
                            Value::Number(_) => json!("42"),
                            Value::Bool(flag) => json!(!flag),
                            Value::Null => json!({"nested": [1, "x"]}),
                            Value::Array(_) => json!("beta"),
                            Value::Object(_) => Value::Null,
                        };
                        (key.clone(), other)
                    })
                    .collect(),
            )
        })
        .collect();
    values.extend(changed);
    values.push(Value::Object(union));
    values.push(json!({}));
    values.push(json!({
        "targetingKey": "user-7", "tenant": "acme", "groups": ["beta", "staff"], "country": "DE",
        "plan": "pro", "email": "ann@example.com", "age": 31, "appVersion": "2.4.1", "ip": "10.0.0.1"
    }));
    values.into_iter().map(|value| Context::from_value(value).unwrap()).collect()
}

/// Instants to try in `span` (which contains `now`): its ends, `now` and points between.
fn instants_in(span: Constancy, now: Millis) -> Vec<Millis> {
    let low = span.since.unwrap_or(now.saturating_sub(1_000_000_000_000).min(now));
    let high = span.until.map_or(now.saturating_add(1_000_000_000_000).max(now), |until| until - 1);
    let mut instants = vec![now, low, high, low + (now - low) / 2, now + (high - now) / 2, now + (high - now) / 3];
    if span.since.is_none() {
        instants.push(Millis::MIN);
    }
    if span.until.is_none() {
        instants.push(Millis::MAX);
    }
    instants.retain(|at| span.contains(*at));
    instants
}

/// The keys and results of a table.
fn listed<'s>(constants: &pennon_core::Constants<'s>) -> Vec<(&'s str, pennon_core::Evaluation<'s>)> {
    constants.flags.iter().map(|flag| (flag.key, flag.evaluation.clone())).collect()
}

const EXPECTED: [Option<FlagType>; 5] =
    [None, Some(FlagType::Boolean), Some(FlagType::String), Some(FlagType::Number), Some(FlagType::Object)];

#[test]
fn constant_flags_answer_the_same_for_every_context_over_their_span() {
    let (mut checked, mut constant, mut bounded) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, snapshot, instants, file_contexts) in loaded_case_files() {
        let contexts = contexts(&file_contexts);
        for &now in &instants {
            let constants = snapshot.constants(now);
            assert!(constants.constancy.contains(now), "{name} at {now}: the table's span misses now");
            // The table itself is the same over its span.
            for at in instants_in(constants.constancy, now) {
                let later = snapshot.constants(at);

                assert_eq!(
                    listed(&later),
                    listed(&constants),
                    "{name}: the table at {at} differs from the one at {now}"
                );
            }
            let table = constants.flags;
            for key in snapshot.flag_keys() {
                let Some(span) = snapshot.constancy(key, now) else {
                    assert!(table.iter().all(|entry| entry.key != key), "{name} › {key}: in the table, not constant");
                    continue;
                };
                constant += 1;
                bounded += usize::from(span.since.is_some() || span.until.is_some());
                assert!(span.contains(now), "{name} › {key} at {now}: {span:?} does not contain now");
                let entry = table.iter().find(|entry| entry.key == key);
                let entry = entry.unwrap_or_else(|| panic!("{name} › {key}: constant but not in the table"));
                assert_eq!(entry.constancy, span, "{name} › {key}");
                assert_eq!(entry.flag_type, snapshot.flag_type(key), "{name} › {key}");
                assert_eq!(entry.evaluation, snapshot.evaluate(key, &Context::new(), now, None), "{name} › {key}");
                for expected in EXPECTED {
                    let default = json!("the default");
                    let want = snapshot.evaluate(key, &Context::new(), now, expected).to_json(&default, 1);
                    for at in instants_in(span, now) {
                        for context in &contexts {
                            checked += 1;
                            let got = snapshot.evaluate(key, context, at, expected).to_json(&default, 1);
                            if got != want {
                                failures.push(format!(
                                    "{name} › {key}: constant at {now} over {span:?}, but at {at} with {:?} \
                                     ({expected:?}) gives {got}, not {want}",
                                    context.attributes()
                                ));
                            }
                        }
                    }
                }
            }
            // The starting signal: a valid flag that reads no attribute is constant.
            for key in snapshot.flag_keys() {
                if snapshot.flag_type(key).is_some() && snapshot.attributes_read(key).is_empty() {
                    assert!(snapshot.constancy(key, now).is_some(), "{name} › {key}: reads nothing, not constant");
                }
            }
        }
    }
    println!("constancy: {constant} constant flags, {bounded} with a bounded span, {checked} evaluations compared");
    assert!(constant >= 50 && bounded >= 10, "too few constant flags exercised: {constant} ({bounded} bounded)");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

const DAY: Millis = 86_400_000;

fn flag(extra: Value) -> Value {
    let mut flag = json!({
        "type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
        "fallthrough": {"variant": "on"}
    });
    for (key, value) in extra.as_object().unwrap() {
        flag[key] = value.clone();
    }
    flag
}

fn at(day: Millis) -> String {
    pennon_core::time::format_timestamp(day * DAY).unwrap()
}

fn snapshot() -> Snapshot {
    Snapshot::from_value(&json!({"schemaVersion": 1, "revision": 3, "flags": {
        "static": flag(json!({})),
        "killed": flag(json!({"state": "kill", "rules": [{"id": "r", "serve": {"variant": "on"},
            "when": {"attribute": "country", "op": "equals", "value": "DE"}}]})),
        "windowed": flag(json!({"window": {"from": at(10), "until": at(20)}})),
        "targeted-later": flag(json!({"window": {"from": at(10)}, "targets": [{"variant": "off", "users": ["u-1"]}]})),
        "needs-windowed": flag(json!({"prerequisites": [{"flag": "windowed", "variants": ["on"]}],
            "window": {"until": at(30)}})),
        "needs-targeted": flag(json!({"prerequisites": [{"flag": "targeted-later", "variants": ["on"]}]})),
        "needs-missing": flag(json!({"prerequisites": [{"flag": "targeted-later", "variants": ["on"]},
            {"flag": "nowhere", "variants": ["on"]}]})),
        "override": flag(json!({"overrides": [{"tenant": "acme", "variant": "off", "expiresAt": at(5)},
            {"tenant": "initech", "variant": "off", "expiresAt": at(7)}]})),
        "rule-always": flag(json!({"rules": [{"id": "never", "serve": {"variant": "on"}, "when": {"any": []}},
            {"id": "always", "serve": {"variant": "off"}, "when": {"not": {"any": [{"all": []},
                {"attribute": "plan", "op": "equals", "value": "pro"}]}}},
            {"id": "last", "serve": {"variant": "off"}, "when": {"all": []}}]})),
        "rule-reads": flag(json!({"rules": [{"id": "pro", "serve": {"variant": "off"},
            "when": {"any": [{"any": []}, {"attribute": "plan", "op": "equals", "value": "pro"}]}}]})),
        "progressive": flag(json!({"fallthrough": {"rollout": {"variant": "on", "otherwise": "off",
            "progressive": {"start": at(10), "stages": [{"percentage": 0, "duration": "P1D"}, {"percentage": 100}]}}}})),
        "canary": flag(json!({"state": "canary", "canary": {"percentage": 100}})),
        "shadow-window": flag(json!({"state": "shadow", "window": {"until": at(3)}})),
        "broken": flag(json!({"fallthrough": {"variant": "nope"}}))
    }}))
    .unwrap()
}

fn span(since: Option<Millis>, until: Option<Millis>) -> Option<Constancy> {
    Some(Constancy { since: since.map(|d| d * DAY), until: until.map(|d| d * DAY) })
}

#[test]
fn spans_end_at_the_next_boundary() {
    let snapshot = snapshot();
    let constancy = |key: &str, day: Millis| snapshot.constancy(key, day * DAY);
    assert_eq!(constancy("static", 0), span(None, None));
    assert_eq!(constancy("killed", 0), span(None, None));
    assert_eq!(constancy("broken", 15), span(None, None));
    assert_eq!(constancy("nowhere", 0), None);
    // A window: before, inside, after.
    assert_eq!(constancy("windowed", 9), span(None, Some(10)));
    assert_eq!(constancy("windowed", 10), span(Some(10), Some(20)));
    assert_eq!(constancy("windowed", 20), span(Some(20), None));
    // Targeting matters only once the window opens.
    assert_eq!(constancy("targeted-later", 9), span(None, Some(10)));
    assert_eq!(constancy("targeted-later", 10), None);
    // A prerequisite's span bounds the flag's; the flag's own window too.
    assert_eq!(constancy("needs-windowed", 0), span(None, Some(10)));
    assert_eq!(constancy("needs-windowed", 12), span(Some(10), Some(20)));
    assert_eq!(constancy("needs-windowed", 25), span(Some(20), Some(30)));
    assert_eq!(constancy("needs-windowed", 30), span(Some(30), None));
    assert_eq!(constancy("needs-targeted", 9), span(None, Some(10)));
    assert_eq!(constancy("needs-targeted", 10), None);
    // A prerequisite that fails for everyone decides, whatever the other one does.
    assert_eq!(constancy("needs-missing", 10), span(None, None));
    // Overrides depend on the tenant until the last one expires.
    assert_eq!(constancy("override", 4), None);
    assert_eq!(constancy("override", 6), None);
    assert_eq!(constancy("override", 7), span(Some(7), None));
    // Rules whose conditions read nothing; one that reads decides nothing.
    assert_eq!(constancy("rule-always", 0), span(None, None));
    assert_eq!(snapshot.evaluate("rule-always", &Context::new(), 0, None).rule_id, Some("last"));
    assert_eq!(constancy("rule-reads", 0), None);
    // Cohorts always bucket the context; the shadow state follows its on path.
    assert_eq!(constancy("progressive", 0), None);
    assert_eq!(constancy("progressive", 100), None);
    assert_eq!(constancy("canary", 0), None);
    assert_eq!(constancy("shadow-window", 0), span(None, Some(3)));
    assert_eq!(constancy("shadow-window", 3), span(Some(3), None));

    // What the boundaries mean: the answer does change there.
    let user = Context::with_targeting_key("u-1");
    let variant = |key: &str, context: &Context, day: Millis| snapshot.evaluate(key, context, day * DAY, None).variant;
    assert_ne!(
        snapshot.evaluate("windowed", &user, 10 * DAY - 1, None),
        snapshot.evaluate("windowed", &user, 10 * DAY, None)
    );
    assert_ne!(variant("targeted-later", &user, 10), variant("targeted-later", &Context::new(), 10));
    assert_ne!(
        snapshot.evaluate("needs-windowed", &user, 20 * DAY, None).variant,
        snapshot.evaluate("needs-windowed", &user, 20 * DAY - 1, None).variant
    );
    let tenant = Context::from_value(json!({"tenant": "initech"})).unwrap();
    assert_ne!(variant("override", &tenant, 6), variant("override", &Context::new(), 6));
    let pro = Context::from_value(json!({"plan": "pro"})).unwrap();
    assert_ne!(variant("rule-reads", &pro, 0), variant("rule-reads", &Context::new(), 0));
    assert_ne!(
        snapshot.evaluate("shadow-window", &user, 3 * DAY - 1, None),
        snapshot.evaluate("shadow-window", &user, 3 * DAY, None)
    );

    // The table lists exactly the constant flags, each with its result at `now`.
    let constants = snapshot.constants(12 * DAY);
    let table: Vec<_> = constants.flags.iter().map(|entry| entry.key).collect();
    assert_eq!(
        table,
        [
            "broken",
            "killed",
            "needs-missing",
            "needs-windowed",
            "override",
            "rule-always",
            "shadow-window",
            "static",
            "windowed"
        ]
    );
}
