//! The conformance suite (`tests/conformance/`) through the raw wasm module in wasmtime:
//! every case file, the load error and warning expectations, and the bucketing vectors
//! (via `pennon_bucket`). Needs `wasm/dist/raw/pennon_raw.wasm` from `wasm/build.sh`;
//! fails (never skips) when it is missing.

// Test harness code: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

use pennon_wasm_host::{RawEngine, RawModule};
use serde_json::{Value, json};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn module() -> RawModule {
    RawModule::load_default().unwrap_or_else(|e| panic!("cannot load the raw module: {e:#}"))
}

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

fn compare(expect: &Value, actual: &Value, revision: &Value) -> Vec<String> {
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
        Some(Value::Null) if !has_error => {}
        other => problems.push(format!("errorMessage {other:?} does not fit errorCode")),
    }
    if actual.get("revision") != Some(revision) {
        problems.push(format!("revision: expected {revision}, got {:?}", actual.get("revision")));
    }
    if let Some(want) = expect.get("flagMetadata") {
        let got = actual.get("flagMetadata").unwrap_or(&null);
        if !same(want, got) {
            problems.push(format!("flagMetadata: expected {want}, got {got}"));
        }
    }
    if actual.as_object().map(|o| o.len()) != Some(10) {
        problems.push(format!("a result has exactly ten fields: {actual}"));
    }
    problems
}

/// Runs one case file; returns (cases run, failures).
fn run_file(module: &mut RawModule, path: &Path) -> (usize, Vec<String>) {
    let file = read_json(path);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    // Snapshot files are passed as the text they hold (one is deliberately not JSON).
    let snapshot_text = match (file.get("snapshot"), file.get("snapshotFile").and_then(Value::as_str)) {
        (Some(inline), None) => inline.to_string(),
        (None, Some(relative)) => fs::read_to_string(suite_dir().join(relative)).unwrap(),
        _ => panic!("{name}: exactly one of snapshot / snapshotFile"),
    };
    let engine = RawEngine::new(module).unwrap();
    let loaded = engine.load(module, snapshot_text.as_bytes()).unwrap();
    let load = file.get("load");
    let expected_error = load.and_then(|l| l.get("error")).and_then(Value::as_str);
    let body = loaded.json().unwrap();
    match (loaded.status, expected_error) {
        (0, None) => {}
        (0, Some(code)) => return (1, vec![format!("{name}: loaded, but expected load error {code}")]),
        (status, Some(code)) => {
            let codes = module.error_codes().unwrap();
            let ok = body["code"] == code && codes.get(status as usize - 1).map(String::as_str) == Some(code);
            return (1, if ok { vec![] } else { vec![format!("{name}: status {status}, {body}; expected {code}")] });
        }
        (status, None) => return (1, vec![format!("{name}: load failed with status {status}: {body}")]),
    }
    let mut failures = Vec::new();
    let expected_warnings: Vec<&str> = load
        .and_then(|l| l.get("warnings"))
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let warnings: Vec<&str> =
        body["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    if warnings != expected_warnings {
        failures.push(format!("{name}: warnings {warnings:?}, expected {expected_warnings:?}"));
    }
    let revision = body["revision"].clone();
    let info = module.engine_info(engine.handle()).unwrap();
    if info.json().unwrap() != body {
        failures.push(format!("{name}: pennon_engine_info {} differs from the load response {body}", info.body));
    }
    let cases = file.get("cases").and_then(Value::as_array).cloned().unwrap_or_default();
    for case in &cases {
        let label = format!("{name} › {}", case["name"].as_str().unwrap_or("?"));
        let now = case.get("now").or(file.get("now")).cloned().unwrap_or_else(|| panic!("{label}: no now"));
        let request = json!({
            "flag": case["flag"],
            "context": case.get("context").cloned().unwrap_or_else(|| json!({})),
            "type": case["type"],
            "default": case.get("default").cloned().unwrap_or(Value::Null),
            "now": now,
        });
        let response = engine.evaluate(module, &request).unwrap();
        let result = response.json().unwrap();
        let mut problems = compare(&case["expect"], &result, &revision);
        if pennon_core::json::canonical(&result) != response.body {
            problems.push("the response is not canonical JSON".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{label}: {} (result {})", problems.join("; "), response.body));
        }
    }
    let freed = module.engine_free(engine.handle()).unwrap();
    assert_eq!(freed.status, 0, "{name}: pennon_engine_free: {}", freed.body);
    (cases.len(), failures)
}

#[test]
fn every_case_passes_through_the_raw_module() {
    let mut module = module();
    let mut files: Vec<PathBuf> = fs::read_dir(suite_dir().join("cases"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files");
    let mut total = 0;
    let mut failures = Vec::new();
    for path in &files {
        let (count, file_failures) = run_file(&mut module, path);
        total += count;
        failures.extend(file_failures);
    }
    println!("conformance (raw wasm in wasmtime): {} passed, {} failed", total - failures.len(), failures.len());
    assert!(total >= 400, "the suite must have at least 400 cases, found {total}");
    assert!(failures.is_empty(), "{} conformance failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn bucketing_vectors_through_pennon_bucket() {
    let mut module = module();
    let vectors = read_json(&suite_dir().join("bucketing.json"));
    let vectors = vectors["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 20, "too few bucketing vectors");
    for vector in vectors {
        let request = json!({ "salt": vector["salt"], "unit": vector["unit"] });
        let response = module.bucket(request.to_string().as_bytes()).unwrap();
        assert_eq!(response.status, 0, "{}", response.body);
        let body = response.json().unwrap();
        assert_eq!(body["hash"], vector["hash"], "hash of {request}");
        assert_eq!(body["bucket"], vector["bucket"], "bucket of {request}");
    }
}
