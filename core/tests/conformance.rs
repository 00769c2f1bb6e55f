//! The Rust runner of the conformance suite in `tests/conformance/` (format:
//! `tests/conformance/README.md`). Every failing case is reported, not just the first.

// Test harness code: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod suite;

use std::path::Path;

use pennon_core::{Context, FlagType, Snapshot, Value, bucket};
use suite::{case_files, read_json, suite_dir};

/// JSON equality where numbers compare numerically (`1` = `1.0`).
fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => expected == actual,
    }
}

const COMPARED: [&str; 7] = ["value", "variant", "reason", "ruleId", "stage", "shadowVariant", "errorCode"];

/// Compares one canonical result with a case's `expect`; returns the differences.
fn compare(expect: &Value, actual: &Value, revision: u64) -> Vec<String> {
    let null = Value::Null;
    let mut problems = Vec::new();
    for field in COMPARED {
        let want = expect.get(field).unwrap_or(&null);
        let got = actual.get(field).unwrap_or(&null);
        if !same(want, got) {
            problems.push(format!("{field}: expected {want}, got {got}"));
        }
    }
    let has_error = !actual.get("errorCode").unwrap_or(&null).is_null();
    match actual.get("errorMessage") {
        Some(Value::String(message)) if has_error && !message.is_empty() => {}
        Some(Value::Null) | None if !has_error => {}
        other => problems.push(format!("errorMessage {other:?} does not fit errorCode")),
    }
    if actual.get("revision").and_then(Value::as_u64) != Some(revision) {
        problems.push(format!("revision: expected {revision}, got {:?}", actual.get("revision")));
    }
    if let Some(want) = expect.get("flagMetadata") {
        let got = actual.get("flagMetadata").unwrap_or(&null);
        if !same(want, got) {
            problems.push(format!("flagMetadata: expected {want}, got {got}"));
        }
    }
    problems
}

/// Runs one case file; returns (cases run, failures).
fn run_file(path: &Path) -> (usize, Vec<String>) {
    let file = read_json(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let load = file.get("load");
    let expected_error = load.and_then(|l| l.get("error")).and_then(Value::as_str);
    let loaded = suite::load(&file, &name);
    let snapshot = match (loaded, expected_error) {
        (Err(error), Some(code)) if error.code.as_str() == code => return (1, Vec::new()),
        (Err(error), _) => return (1, vec![format!("{name}: load failed: {error}; expected {expected_error:?}")]),
        (Ok(_), Some(code)) => return (1, vec![format!("{name}: loaded, but expected load error {code}")]),
        (Ok(snapshot), None) => snapshot,
    };
    let mut failures = Vec::new();
    let expected_warnings: Vec<&str> = load
        .and_then(|l| l.get("warnings"))
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let warnings: Vec<&str> = snapshot.warnings().iter().map(|w| w.code.as_str()).collect();
    if warnings != expected_warnings {
        failures.push(format!(
            "{name}: warnings {warnings:?}, expected {expected_warnings:?} ({})",
            snapshot.warnings().iter().map(|w| w.to_string()).collect::<Vec<_>>().join("; ")
        ));
    }
    // Both loading paths (text and parsed tree) must compile the same plan.
    let other = match (file.get("snapshot"), file.get("snapshotFile").and_then(Value::as_str)) {
        (Some(inline), None) => Snapshot::from_json(&inline.to_string()),
        (None, Some(relative)) => Snapshot::from_value(&read_json(&suite_dir().join(relative))),
        _ => unreachable!("checked above"),
    }
    .unwrap_or_else(|e| panic!("{name}: the other loading path failed: {e}"));
    if other.warnings() != snapshot.warnings() {
        failures.push(format!("{name}: from_json and from_value report different warnings"));
    }
    let file_now = file.get("now").and_then(Value::as_i64);
    let cases = file.get("cases").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for case in cases {
        let label = format!("{name} › {}", case.get("name").and_then(Value::as_str).unwrap_or("?"));
        let flag = case["flag"].as_str().expect("flag");
        let context =
            Context::from_value(case.get("context").cloned().unwrap_or_else(|| Value::Object(Default::default())))
                .expect("context is an object");
        let now = case.get("now").and_then(Value::as_i64).or(file_now).unwrap_or_else(|| panic!("{label}: no now"));
        let expected_type = match case["type"].as_str().expect("type") {
            "any" => None,
            other => Some(FlagType::parse(other).unwrap_or_else(|| panic!("{label}: unknown type {other}"))),
        };
        let default = case.get("default").cloned().unwrap_or(Value::Null);
        let result = snapshot.evaluate(flag, &context, now, expected_type).to_json(&default, snapshot.revision());
        if other.evaluate(flag, &context, now, expected_type).to_json(&default, other.revision()) != result {
            failures.push(format!("{label}: from_json and from_value disagree"));
        }
        // A context restricted to the attributes the flag reads gives the same answer.
        let read = snapshot.attributes_read(flag);
        let restricted = Context::from_map(
            context
                .attributes()
                .iter()
                .filter(|(name, _)| read.iter().any(|r| **r == **name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let restricted_result =
            snapshot.evaluate(flag, &restricted, now, expected_type).to_json(&default, snapshot.revision());
        if restricted_result != result {
            failures.push(format!(
                "{label}: with only the attributes read ({read:?}) the result is {restricted_result}, not {result}"
            ));
        }
        let problems = compare(&case["expect"], &result, snapshot.revision());
        if !problems.is_empty() {
            failures.push(format!("{label}: {} (result {result})", problems.join("; ")));
        }
    }
    (cases.len(), failures)
}

#[test]
fn every_case_passes() {
    let mut total = 0;
    let mut failures = Vec::new();
    for path in case_files() {
        let (count, file_failures) = run_file(&path);
        total += count;
        failures.extend(file_failures);
    }
    println!("conformance: {total} cases, {} failed", failures.len());
    assert!(total >= 400, "the suite must have at least 400 cases, found {total}");
    assert!(failures.is_empty(), "{} conformance failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn bucketing_vectors() {
    let vectors = read_json(&suite_dir().join("bucketing.json"));
    let vectors = vectors["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 20, "too few bucketing vectors");
    for vector in vectors {
        let salt = vector["salt"].as_str().expect("salt");
        let unit = vector["unit"].as_str().expect("unit");
        let hash: u64 = vector["hash"].as_str().expect("hash").parse().expect("decimal u64");
        assert_eq!(bucket::hash(salt, unit), hash, "hash of {salt:?}:{unit:?}");
        assert_eq!(
            u64::from(bucket::bucket(salt, unit)),
            vector["bucket"].as_u64().expect("bucket"),
            "bucket of {salt:?}:{unit:?}"
        );
    }
}
