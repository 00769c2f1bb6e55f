//! The raw ABI's contract under hostile use: bad pointers, lengths, handles and bytes are
//! statuses with an error response, never traps, and the instance keeps working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use pennon_core::ErrorCode;
use pennon_wasm_host::{RawEngine, RawModule, Response};
use serde_json::json;

const SNAPSHOT: &str = r#"{"schemaVersion":1,"revision":4,"flags":{"f":{"type":"boolean","state":"on",
  "variants":{"on":true,"off":false},"offVariant":"off","fallthrough":{"variant":"on"}}}}"#;

fn module() -> RawModule {
    RawModule::load_default().unwrap_or_else(|e| panic!("cannot load the raw module: {e:#}"))
}

fn status(code: ErrorCode) -> u32 {
    ErrorCode::ALL.iter().position(|c| *c == code).unwrap() as u32 + 1
}

fn assert_error(response: &Response, code: ErrorCode) {
    assert_eq!(response.status, status(code), "{}", response.body);
    let body = response.json().unwrap();
    assert_eq!(body["code"], code.as_str(), "{}", response.body);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", response.body);
}

/// The instance still answers correctly.
fn assert_healthy(module: &mut RawModule) {
    let engine = RawEngine::new(module).unwrap();
    assert_eq!(engine.load(module, SNAPSHOT.as_bytes()).unwrap().status, 0);
    let result = engine.evaluate(module, &json!({"flag": "f", "now": 0, "type": "boolean"})).unwrap();
    assert_eq!(result.json().unwrap()["value"], true);
    assert_eq!(module.engine_free(engine.handle()).unwrap().status, 0);
}

#[test]
fn the_module_imports_only_the_regex_functions_and_reports_its_abi_version() {
    let mut module = module();
    assert_eq!(module.import_count(), 4);
    assert_eq!(module.abi_version().unwrap(), 1);
}

#[test]
fn the_regex_module_is_loaded_by_the_first_pattern_and_serves_matches() {
    let mut module = module();
    let engine = RawEngine::new(&mut module).unwrap();
    assert_eq!(engine.load(&mut module, SNAPSHOT.as_bytes()).unwrap().status, 0);
    assert!(!module.regex_loaded(), "a snapshot without matches does not load the regex module");
    let snapshot = json!({"schemaVersion": 1, "revision": 5, "flags": {
        "digits": {"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"variant": "off"},
            "rules": [{"id": "r", "when": {"attribute": "s", "op": "matches", "value": "^\\d+$"}, "serve": {"variant": "on"}}]},
        "bad": {"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"variant": "off"},
            "rules": [{"id": "r", "when": {"attribute": "s", "op": "matches", "value": "\\pL"}, "serve": {"variant": "on"}}]}}});
    let loaded = engine.load(&mut module, snapshot.to_string().as_bytes()).unwrap();
    assert_eq!(loaded.status, 0);
    assert!(module.regex_loaded());
    let warnings = loaded.json().unwrap()["warnings"].clone();
    assert_eq!(warnings[0]["code"], "invalid_regex");
    let message = warnings[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not part of Pennon's regex dialect"), "{message}");
    for (text, expected) in [("0123", true), ("١٢٣", false), ("12a", false)] {
        let request = json!({"flag": "digits", "context": {"s": text}, "now": 0});
        assert_eq!(engine.evaluate(&mut module, &request).unwrap().json().unwrap()["value"], expected, "{text}");
    }
    // Replacing the snapshot frees its patterns in the regex module; matching still works.
    assert_eq!(engine.load(&mut module, snapshot.to_string().as_bytes()).unwrap().status, 0);
    let request = json!({"flag": "digits", "context": {"s": "9"}, "now": 0});
    assert_eq!(engine.evaluate(&mut module, &request).unwrap().json().unwrap()["value"], true);
}

#[test]
fn statuses_cover_every_core_error_code_in_order() {
    let mut module = module();
    let core: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(module.error_codes().unwrap(), core);
}

#[test]
fn load_errors_are_statuses_and_keep_the_last_good_snapshot() {
    let mut module = module();
    let engine = RawEngine::new(&mut module).unwrap();
    let loaded = engine.load(&mut module, SNAPSHOT.as_bytes()).unwrap();
    assert_eq!(loaded.status, 0);
    assert_eq!(loaded.json().unwrap(), json!({"revision": 4, "warnings": []}));
    assert_error(&engine.load(&mut module, b"{ nope").unwrap(), ErrorCode::InvalidJson);
    assert_error(&engine.load(&mut module, &[0xff, 0xfe, 0x00]).unwrap(), ErrorCode::InvalidJson);
    assert_error(&engine.load(&mut module, b"[]").unwrap(), ErrorCode::InvalidSnapshot);
    assert_error(&engine.load(&mut module, b"").unwrap(), ErrorCode::InvalidJson);
    let schema = engine.load(&mut module, br#"{"schemaVersion":2,"revision":1,"flags":{}}"#).unwrap();
    assert_error(&schema, ErrorCode::UnsupportedSchemaVersion);
    assert_eq!(schema.json().unwrap()["path"], "/schemaVersion");
    let info = module.engine_info(engine.handle()).unwrap();
    assert_eq!(info.json().unwrap()["revision"], 4, "a failed load keeps the last good snapshot");
}

#[test]
fn not_ready_and_invalid_contexts_are_results() {
    let mut module = module();
    let engine = RawEngine::new(&mut module).unwrap();
    let result = engine.evaluate(&mut module, &json!({"flag": "f", "now": 0, "default": 1})).unwrap().json().unwrap();
    assert_eq!(result["errorCode"], "PROVIDER_NOT_READY");
    assert_eq!(result["value"], 1);
    assert_eq!(result["revision"], serde_json::Value::Null);
    assert_eq!(module.engine_info(engine.handle()).unwrap().json().unwrap()["revision"], serde_json::Value::Null);
    engine.load(&mut module, SNAPSHOT.as_bytes()).unwrap();
    for context in [json!([1]), json!("u"), json!(3)] {
        let request = json!({"flag": "f", "now": 0, "context": context});
        let result = engine.evaluate(&mut module, &request).unwrap().json().unwrap();
        assert_eq!(result["errorCode"], "INVALID_CONTEXT", "{context}");
    }
    let all = module.engine_evaluate_all(engine.handle(), br#"{"now":0,"context":{"targetingKey":"u"}}"#).unwrap();
    assert_eq!(all.status, 0);
    assert_eq!(all.json().unwrap()["f"]["reason"], "STATIC");
}

#[test]
fn malformed_requests_are_invalid_argument() {
    let mut module = module();
    let engine = RawEngine::new(&mut module).unwrap();
    engine.load(&mut module, SNAPSHOT.as_bytes()).unwrap();
    for request in [
        &b""[..],
        b"{",
        b"[]",
        br#"{"flag":"f"}"#,
        br#"{"flag":7,"now":0}"#,
        br#"{"flag":"f","now":0,"type":"bool"}"#,
        br#"{"flag":"f","now":0,"extra":1}"#,
        &[0xc3, 0x28],
    ] {
        let response = module.engine_evaluate(engine.handle(), request).unwrap();
        assert_error(&response, ErrorCode::InvalidArgument);
    }
    assert_error(&module.bucket(br#"{"salt":1,"unit":"u"}"#).unwrap(), ErrorCode::InvalidArgument);
    assert_healthy(&mut module);
}

#[test]
fn bad_handles_pointers_and_lengths_are_statuses_not_traps() {
    let mut module = module();
    let request = br#"{"flag":"f","now":0}"#;
    // Unknown, zero and freed handles.
    for handle in [0, 999, u32::MAX] {
        assert_error(&module.engine_evaluate(handle, request).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.engine_info(handle).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.engine_free(handle).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.engine_load(handle, SNAPSHOT.as_bytes()).unwrap(), ErrorCode::InvalidArgument);
    }
    let freed = module.engine_new().unwrap();
    assert_eq!(module.engine_free(freed).unwrap().status, 0);
    assert_error(&module.engine_free(freed).unwrap(), ErrorCode::InvalidArgument);
    assert_error(&module.engine_evaluate(freed, request).unwrap(), ErrorCode::InvalidArgument);

    // Pointers that are not inside a buffer from pennon_alloc.
    let handle = module.engine_new().unwrap();
    let end_of_memory = module.memory_size() as u32;
    let (ptr, len) = module.put(SNAPSHOT.as_bytes()).unwrap();
    for (p, l) in [
        (8, 16),
        (end_of_memory - 4, 8),
        (end_of_memory + 100, 8),
        (u32::MAX - 2, 8),
        (ptr, len + 1),
        (ptr + 1, len),
        (ptr + len, 1),
        (ptr, u32::MAX),
    ] {
        assert_error(&module.engine_load_at(handle, p, l).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.engine_evaluate_at(handle, p, l).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.bucket_at(p, l).unwrap(), ErrorCode::InvalidArgument);
    }
    // A sub-range of a live buffer is fine; a length of 0 is the empty input anywhere.
    assert_eq!(module.engine_load_at(handle, ptr, len).unwrap().status, 0);
    assert_error(&module.engine_load_at(handle, u32::MAX, 0).unwrap(), ErrorCode::InvalidJson);

    // Frees must match an allocation exactly, once.
    assert_error(&module.free(ptr, len + 1).unwrap(), ErrorCode::InvalidArgument);
    assert_error(&module.free(ptr + 1, len).unwrap(), ErrorCode::InvalidArgument);
    assert_eq!(module.free(ptr, len).unwrap().status, 0);
    assert_error(&module.free(ptr, len).unwrap(), ErrorCode::InvalidArgument);
    assert_error(&module.engine_load_at(handle, ptr, len).unwrap(), ErrorCode::InvalidArgument);
    assert_eq!(module.free(0, 0).unwrap().status, 0);

    // Allocation failures are 0, not traps.
    assert_eq!(module.alloc(0).unwrap(), 0);
    assert_eq!(module.alloc(u32::MAX).unwrap(), 0);
    assert_eq!(module.alloc(0xC000_0000).unwrap(), 0);
    assert_healthy(&mut module);
}

/// A deterministic xorshift generator, so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_calls_never_trap() {
    let mut module = module();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let mut live: Vec<(u32, u32)> = Vec::new();
    let mut handles: Vec<u32> = vec![module.engine_new().unwrap()];
    let size = module.memory_size() as u64;
    let pointer = |rng: &mut Rng, live: &[(u32, u32)]| -> (u32, u32) {
        match (rng.below(3), live.get(rng.below(live.len().max(1) as u64) as usize)) {
            (0, Some(&(p, l))) => (p + rng.below(u64::from(l)) as u32, rng.below(u64::from(l) + 2) as u32),
            (1, _) => (rng.below(size + 1000) as u32, rng.below(4096) as u32),
            _ => (rng.next() as u32, rng.next() as u32),
        }
    };
    for _ in 0..3000 {
        let handle =
            if rng.below(4) == 0 { rng.next() as u32 } else { handles[rng.below(handles.len() as u64) as usize] };
        match rng.below(8) {
            0 => {
                let len = rng.below(512) as u32;
                let ptr = module.alloc(len).unwrap();
                if ptr != 0 {
                    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    module.write(ptr, &bytes).unwrap();
                    live.push((ptr, len));
                }
            }
            1 if !live.is_empty() => {
                let (ptr, len) = live.swap_remove(rng.below(live.len() as u64) as usize);
                assert_eq!(module.free(ptr, len).unwrap().status, 0);
            }
            2 => {
                let (p, l) = pointer(&mut rng, &live);
                module.free(p, l).unwrap();
            }
            3 => {
                let (p, l) = pointer(&mut rng, &live);
                module.engine_load_at(handle, p, l).unwrap();
            }
            4 => {
                let (p, l) = pointer(&mut rng, &live);
                module.engine_evaluate_at(handle, p, l).unwrap();
            }
            5 => {
                let (p, l) = pointer(&mut rng, &live);
                module.bucket_at(p, l).unwrap();
            }
            6 => {
                if rng.below(2) == 0 {
                    handles.push(module.engine_new().unwrap());
                } else {
                    module.engine_free(handle).unwrap();
                }
            }
            _ => {
                module.engine_info(handle).unwrap();
            }
        }
    }
    // Keep the live buffers' contents honest: frees of what we allocated still succeed.
    for (ptr, len) in live {
        assert_eq!(module.free(ptr, len).unwrap().status, 0);
    }
    assert_healthy(&mut module);
}

#[test]
fn changed_flags_are_cores_keys_for_every_case_of_changes_json() {
    let mut module = module();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/conformance/changes.json");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 10, "the case file went missing");
    for case in cases {
        let [before, after] = ["before", "after"].map(|key| {
            let engine = RawEngine::new(&mut module).unwrap();
            assert_eq!(engine.load(&mut module, case[key].to_string().as_bytes()).unwrap().status, 0);
            engine.handle()
        });
        let name = &case["name"];
        let forward = module.engine_changed_flags(after, before).unwrap();
        assert_eq!(forward.json().unwrap(), case["changed"], "{name}");
        let backward = module.engine_changed_flags(before, after).unwrap();
        assert_eq!(backward.json().unwrap(), case["changed"], "{name} (reversed)");
        assert_eq!(module.engine_free(before).unwrap().status, 0);
        assert_eq!(module.engine_free(after).unwrap().status, 0);
    }
    // An engine without a snapshot counts as empty; unknown handles are statuses.
    let loaded = RawEngine::new(&mut module).unwrap();
    assert_eq!(loaded.load(&mut module, SNAPSHOT.as_bytes()).unwrap().status, 0);
    let empty = module.engine_new().unwrap();
    assert_eq!(module.engine_changed_flags(loaded.handle(), empty).unwrap().json().unwrap(), json!(["f"]));
    assert_eq!(module.engine_changed_flags(empty, loaded.handle()).unwrap().json().unwrap(), json!(["f"]));
    assert_eq!(module.engine_changed_flags(empty, empty).unwrap().json().unwrap(), json!([]));
    for handle in [0, 999, u32::MAX] {
        assert_error(&module.engine_changed_flags(handle, empty).unwrap(), ErrorCode::InvalidArgument);
        assert_error(&module.engine_changed_flags(empty, handle).unwrap(), ErrorCode::InvalidArgument);
    }
    assert_healthy(&mut module);
}
