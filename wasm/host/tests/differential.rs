//! Differential mode end to end: requests generated from every conformance case (plus
//! number-formatting probes) go through the raw module's runner
//! (`pennon-wasm-differential`), the JS runner over the wasm-bindgen build
//! (`node wasm/test/differential.mjs`) and native `pennon-core`; all three outputs must be
//! identical, byte for byte. Needs `wasm/build.sh`'s outputs and `node`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pennon_core::{Context, FlagType, Snapshot, Value, json};
use serde_json::json as j;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Writes every case file's snapshot under `dir` and returns the request lines.
fn requests(dir: &Path) -> Vec<Value> {
    let suite = repo().join("tests/conformance");
    let mut names: Vec<PathBuf> = fs::read_dir(suite.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    let mut lines = Vec::new();
    for path in names {
        let file: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let relative = match (file.get("snapshot"), file.get("snapshotFile").and_then(Value::as_str)) {
            (Some(inline), None) => {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                fs::write(dir.join(&name), inline.to_string()).unwrap();
                dir.join(&name).strip_prefix(repo()).unwrap().to_string_lossy().into_owned()
            }
            (None, Some(relative)) => format!("tests/conformance/{relative}"),
            _ => panic!("{}: exactly one of snapshot / snapshotFile", path.display()),
        };
        for case in file.get("cases").and_then(Value::as_array).cloned().unwrap_or_default() {
            lines.push(j!({
                "snapshot": relative,
                "flag": case["flag"],
                "context": case.get("context").cloned().unwrap_or_else(|| j!({})),
                "type": case["type"],
                "default": case.get("default").cloned().unwrap_or(Value::Null),
                "now": case.get("now").or(file.get("now")).cloned().unwrap(),
            }));
        }
    }
    // Numbers in every notation canonical JSON distinguishes, and non-ASCII keys whose
    // UTF-8 and UTF-16 orders differ.
    let probe = j!({"schemaVersion": 1, "revision": 2, "flags": {"numbers": {
        "type": "object", "state": "on", "offVariant": "a", "fallthrough": {"variant": "a"},
        "metadata": {"\u{ffff}": 1, "\u{1f600}": 2, "é": 3, "Z": 4, "ctl": "\u{1}\u{1f}\n\"\\"},
        "variants": {"a": {"n": [0.1, 1e-7, 1e-6, 0.00001, 0.000015, 1e21, 1e20, 1.5e16, 1.5e300, 123.456,
            5e-324, -2.5, -0.0, 9.5e15, 9_007_199_254_740_992_u64, -7, 3.0]}}}}});
    fs::write(dir.join("probe.json"), probe.to_string()).unwrap();
    let probe_path = dir.join("probe.json").strip_prefix(repo()).unwrap().to_string_lossy().into_owned();
    lines.push(
        j!({"snapshot": probe_path, "flag": "numbers", "context": {}, "type": "object", "default": {}, "now": 0}),
    );
    lines.push(j!({"snapshot": probe_path, "flag": "missing", "context": {"k": [1.5, "ü"]}, "type": "any", "default": [1e-9, {"b": 1, "a": 2}], "now": 0}));
    lines
}

/// What native core answers, canonically, for each request.
fn native(lines: &[Value]) -> String {
    let mut out = String::new();
    for line in lines {
        let text = fs::read_to_string(repo().join(line["snapshot"].as_str().unwrap())).unwrap();
        let default = line["default"].clone();
        let result = match Snapshot::from_json(&text) {
            Ok(snapshot) => {
                let context = Context::from_value(line["context"].clone()).unwrap();
                let expected = FlagType::parse(line["type"].as_str().unwrap());
                let now = line["now"].as_i64().unwrap();
                snapshot
                    .evaluate(line["flag"].as_str().unwrap(), &context, now, expected)
                    .to_json(&default, snapshot.revision())
            }
            Err(_) => panic!("the generated requests only use loadable snapshots"),
        };
        out.push_str(&json::canonical(&result));
        out.push('\n');
    }
    out
}

#[test]
fn raw_module_js_api_and_native_core_agree_byte_for_byte() {
    let dir = repo().join("wasm/dist/.differential");
    fs::create_dir_all(&dir).unwrap();
    let lines = requests(&dir);
    assert!(lines.len() >= 400, "only {} requests", lines.len());
    let input = dir.join("requests.jsonl");
    fs::write(&input, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();

    let raw_out = dir.join("raw.jsonl");
    let status =
        Command::new(env!("CARGO_BIN_EXE_pennon-wasm-differential")).arg(&input).arg(&raw_out).status().unwrap();
    assert!(status.success(), "pennon-wasm-differential failed");

    let js_out = dir.join("js.jsonl");
    let script = repo().join("wasm/test/differential.mjs");
    let status = Command::new("node")
        .arg(&script)
        .arg(&input)
        .arg(&js_out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run node (needed for the JS runner): {e}"));
    assert!(status.success(), "node wasm/test/differential.mjs failed");

    let expected = native(&lines);
    let raw = fs::read_to_string(&raw_out).unwrap();
    let js = fs::read_to_string(&js_out).unwrap();
    assert_eq!(raw.lines().count(), lines.len());
    for (number, ((want, raw), js)) in expected.lines().zip(raw.lines()).zip(js.lines()).enumerate() {
        assert_eq!(raw, want, "line {}: raw wasm differs from native core ({})", number + 1, lines[number]);
        assert_eq!(js, want, "line {}: the JS API differs from native core ({})", number + 1, lines[number]);
    }
    assert_eq!(js.lines().count(), lines.len());
    println!("differential: {} requests, raw wasm = JS API = native core", lines.len());
}
