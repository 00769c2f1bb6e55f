//! The argument contract (`tests/conformance/arguments.json`) through the raw ABI: every
//! case this ABI can express — JSON requests to `evaluate` / `evaluate_all` with a `now`
//! (the raw module has no clock), snapshots as text, engines made with `engine_new` — must
//! give the same results and the same error objects (code, path, message) as every other
//! binding. Typed getters, calls without `now` and non-text snapshots have no raw form;
//! the test counts them, and fails if too few cases remain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use pennon_core::{Error, ErrorCode};
use pennon_wasm_host::{RawEngine, RawModule, Response};
use serde_json::{Map, Value, json};

fn cases() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/conformance/arguments.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The request of an `evaluate` / `evaluate_all` case, or `None` when the raw ABI cannot
/// express it (no `now`: the raw module has no clock).
fn request(args: &Map<String, Value>, fields: &[&str]) -> Option<Value> {
    if !matches!(args.get("now"), Some(Value::Number(_))) {
        return None;
    }
    let picked: Map<String, Value> =
        fields.iter().filter_map(|field| args.get(*field).map(|v| ((*field).to_owned(), v.clone()))).collect();
    Some(Value::Object(picked))
}

/// A thrown error as hosts show it: code, JSON Pointer or null, core's display.
fn error_object(response: &Response) -> Value {
    let body = response.json().unwrap();
    let code = ErrorCode::from_code(body["code"].as_str().unwrap()).unwrap();
    assert_eq!(code.status(), response.status, "{body}");
    let path = body["path"].as_str().unwrap_or_default();
    let error = Error::new(code, path, body["message"].as_str().unwrap());
    json!({"code": code.as_str(), "path": if path.is_empty() { Value::Null } else { path.into() }, "message": error.to_string()})
}

fn subset(actual: &Value, expected: &Value, name: &str) {
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&actual[key.as_str()], value, "{name}: `{key}` in {actual}");
    }
}

#[test]
fn every_case_the_raw_abi_can_express() {
    let data = cases();
    let snapshot = data["snapshot"].to_string();
    let mut module = RawModule::load_default().unwrap();
    let (mut run, mut inexpressible) = (0, 0);
    for case in data["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let args = case["args"].as_object().unwrap();
        let expect = &case["expect"];
        let engine = RawEngine::new(&mut module).unwrap();
        if case["engine"] != "empty" {
            assert_eq!(engine.load(&mut module, snapshot.as_bytes()).unwrap().status, 0);
        }
        let response = match case["call"].as_str().unwrap() {
            "evaluate" => match request(args, &["flag", "context", "type", "default", "now"]) {
                Some(request) => module.engine_evaluate(engine.handle(), request.to_string().as_bytes()).unwrap(),
                None => {
                    inexpressible += 1;
                    continue;
                }
            },
            "evaluateAll" => match request(args, &["context", "now"]) {
                Some(request) => module.engine_evaluate_all(engine.handle(), request.to_string().as_bytes()).unwrap(),
                None => {
                    inexpressible += 1;
                    continue;
                }
            },
            "load" | "new" => {
                let text = match args.get("snapshot") {
                    Some(Value::String(text)) => text.clone(),
                    Some(document @ Value::Object(_)) => document.to_string(),
                    None if case["call"] == "new" => {
                        let fresh = RawEngine::new(&mut module).unwrap();
                        let info = module.engine_info(fresh.handle()).unwrap();
                        assert_eq!(info.json().unwrap()["revision"], expect["revision"], "{name}");
                        run += 1;
                        continue;
                    }
                    _ => {
                        inexpressible += 1;
                        continue;
                    }
                };
                let target = if case["call"] == "new" { RawEngine::new(&mut module).unwrap() } else { engine };
                let response = target.load(&mut module, text.as_bytes()).unwrap();
                if let Some(revision) = expect.get("revision") {
                    let info = module.engine_info(target.handle()).unwrap();
                    assert_eq!(&info.json().unwrap()["revision"], revision, "{name}");
                }
                if let Some(warnings) = expect.get("warnings") {
                    let listed: Vec<Value> = response.json().unwrap()["warnings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| json!({"code": w["code"], "path": w["path"]}))
                        .collect();
                    assert_eq!(&Value::Array(listed), warnings, "{name}");
                }
                response
            }
            _ => {
                // Typed getters: the raw ABI has `evaluate` with a type only.
                inexpressible += 1;
                continue;
            }
        };
        run += 1;
        if let Some(error) = expect.get("error") {
            assert_ne!(response.status, 0, "{name}: expected an error, got {}", response.body);
            let mut want = error.clone();
            want.as_object_mut().unwrap().remove("class");
            assert_eq!(error_object(&response), want, "{name}");
            continue;
        }
        assert_eq!(response.status, 0, "{name}: {}", response.body);
        let body = response.json().unwrap();
        if let Some(result) = expect.get("result") {
            subset(&body, result, name);
        }
        if let Some(results) = expect.get("results") {
            let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            let mut wanted: Vec<&String> = results.as_object().unwrap().keys().collect();
            keys.sort();
            wanted.sort();
            assert_eq!(keys, wanted, "{name}");
            for (flag, result) in results.as_object().unwrap() {
                subset(&body[flag.as_str()], result, name);
            }
        }
    }
    println!("raw ABI argument contract: {run} passed, 0 failed, {inexpressible} not expressible in the raw ABI");
    assert!(run >= 20, "only {run} cases ran");
}
