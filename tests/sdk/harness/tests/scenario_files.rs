//! Every scenario in `tests/sdk/scenarios/` is valid against `tests/sdk/scenario.schema.json`,
//! names a unique scenario and refers only to fixtures that exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Fixture names used by `serve` steps (snapshot answers, stream events).
fn fixture_refs(step: &Value, out: &mut BTreeSet<String>) {
    let Some(serve) = step.get("serve") else { return };
    let mut add = |value: Option<&Value>| {
        if let Some(name) = value.and_then(Value::as_str).filter(|n| *n != "$current") {
            out.insert(name.to_owned());
        }
    };
    for reply in serve["snapshot"].as_array().into_iter().flatten() {
        add(reply.get("snapshot"));
    }
    for connection in serve["stream"].as_array().into_iter().flatten() {
        for action in connection.as_array().into_iter().flatten() {
            add(action.get("event"));
            add(action.get("dropMidEvent"));
        }
    }
}

#[test]
fn every_scenario_is_valid() {
    let schema = read_json(&sdk_dir().join("scenario.schema.json"));
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("the scenario schema is no JSON Schema: {e}"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let fixtures: BTreeSet<String> = json_files(&sdk_dir().join("fixtures"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let files = json_files(&sdk_dir().join("scenarios"));
    assert!(files.len() >= 12, "the suite has {} scenarios", files.len());
    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for path in &files {
        let scenario = read_json(path);
        for error in validator.iter_errors(&scenario) {
            problems.push(format!("{}: at {}: {error}", path.display(), error.instance_path()));
        }
        let name = scenario["name"].as_str().unwrap_or_default().to_owned();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !stem.ends_with(&name) {
            problems.push(format!("{}: the file name does not end with the scenario name `{name}`", path.display()));
        }
        if !names.insert(name.clone()) {
            problems.push(format!("{}: a second scenario named `{name}`", path.display()));
        }
        let mut used = BTreeSet::new();
        for step in scenario["steps"].as_array().into_iter().flatten() {
            fixture_refs(step, &mut used);
        }
        for missing in used.difference(&fixtures) {
            problems.push(format!("{}: no fixture `{missing}` in tests/sdk/fixtures", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_schema_refuses_what_it_should() {
    let schema = read_json(&sdk_dir().join("scenario.schema.json"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let base = |steps: Value| serde_json::json!({"name": "x", "description": "d", "client": {}, "steps": steps});
    assert!(validator.is_valid(&base(serde_json::json!([{"wait": 10}]))));
    for bad in [
        serde_json::json!([]),
        serde_json::json!([{"wait": 10, "ready": true}]),
        serde_json::json!([{"teleport": 1}]),
        serde_json::json!([{"serve": {"snapshot": [{"sign": "maybe"}]}}]),
        serde_json::json!([{"serve": {"stream": [[{"silentMs": 1, "close": true}]]}}]),
        serde_json::json!([{"expectEvent": {"type": "explosion"}}]),
    ] {
        assert!(!validator.is_valid(&base(bad.clone())), "accepted {bad}");
    }
}
