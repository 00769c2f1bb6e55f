#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::Holder;
use pennon_core::{Context, Snapshot};

const NOW: i64 = 1_795_000_000_000;

const ONE_FLAG: &str = r#"{"schemaVersion":1,"revision":1,"flags":{"f":{"type":"boolean","state":"on",
    "variants":{"on":true,"off":false},"offVariant":"off",
    "rules":[{"id":"de","when":{"attribute":"country","op":"equals","value":"DE"},"serve":{"variant":"on"}}],
    "fallthrough":{"variant":"off"}}}}"#;

fn holder() -> Holder {
    let holder = Holder::new();
    holder.load(Snapshot::from_json(ONE_FLAG)).unwrap();
    holder
}

fn record(holder: &Holder, flag: &str, context: &Context, outcome: Outcome) -> bool {
    let loaded = holder.current();
    holder.record(loaded.as_deref(), flag, Ok(context), NOW, &outcome, LATENCY_KEY).unwrap()
}

fn de() -> Context {
    Context::from_value(serde_json::json!({"country": "DE"})).unwrap()
}

fn take(holder: &Holder) -> Option<Value> {
    holder.take_outcomes("b", None).map(|text| serde_json::from_str(&text).unwrap())
}

/// `tests/conformance/outcomes.json`, the case file every binding runs.
#[test]
fn conformance_case_file() {
    let file: Value = serde_json::from_str(include_str!("../../../tests/conformance/outcomes.json")).unwrap();
    let now = file["now"].as_i64().unwrap();
    let holder = Holder::new();
    let mut taken: HashMap<String, String> = HashMap::new();
    for (index, step) in file["steps"].as_array().unwrap().iter().enumerate() {
        let context = || match step.get("context") {
            None => Ok(Context::new()),
            Some(value) => Context::from_value(value.clone()).map_err(|problem| problem.message),
        };
        match step["do"].as_str().unwrap() {
            "load" => {
                let document = &file["snapshots"][step["snapshot"].as_str().unwrap()];
                holder.load(Snapshot::from_value(document)).unwrap();
            }
            "count" => holder.counters().set_enabled(step["enabled"].as_bool().unwrap()),
            "evaluate" => {
                for _ in 0..step["times"].as_u64().unwrap_or(1) {
                    let loaded = holder.current();
                    let context = context();
                    let context = context.as_ref().map_err(String::as_str);
                    holder.evaluate(loaded.as_deref(), step["flag"].as_str().unwrap(), context, now, None);
                }
            }
            "record" => {
                for _ in 0..step["times"].as_u64().unwrap_or(1) {
                    let loaded = holder.current();
                    let context = context();
                    let result = match step["flag"].as_str() {
                        None => Err(args::flag_key_error(args::kind_of(&step["flag"]))),
                        Some(flag) => outcome_from_value(&step["outcome"], LATENCY_KEY).and_then(|outcome| {
                            let context = context.as_ref().map_err(String::as_str);
                            holder.record(loaded.as_deref(), flag, context, now, &outcome, LATENCY_KEY)
                        }),
                    };
                    match (result, step.get("error")) {
                        (Ok(_), None) => {}
                        (Err(error), Some(expected)) => {
                            assert_eq!(args::thrown_json(&error)["message"], expected["message"], "step {index}");
                            assert_eq!(error.code.as_str(), expected["code"], "step {index}");
                        }
                        (result, expected) => panic!("step {index}: {result:?}, expected {expected:?}"),
                    }
                }
            }
            "take" => {
                let batch = step["batch"].as_str().unwrap();
                let text = holder.take_outcomes(batch, step["sdk"].as_str());
                let body = text.as_deref().map(|text| serde_json::from_str::<Value>(text).unwrap());
                assert_eq!(body.unwrap_or(Value::Null), step["expect"], "step {index}");
                if let Some(text) = text {
                    taken.insert(batch.to_owned(), text);
                }
            }
            "restore" => holder.restore_outcomes(&taken[step["batch"].as_str().unwrap()]).unwrap(),
            "metrics" => {
                let lines: Vec<&str> = step["expect"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
                assert_eq!(holder.outcome_metrics(), lines.join("\n") + "\n", "step {index}");
            }
            other => panic!("unknown step {other}"),
        }
    }
}

#[test]
fn an_outcome_is_checked_before_anything_else() {
    let empty = Holder::new();
    let loaded = empty.current();
    let bad = Outcome { ok: true, error: true, ..Outcome::default() };
    assert!(empty.record(loaded.as_deref(), "f", Ok(&Context::new()), NOW, &bad, LATENCY_KEY).is_err());
    assert!(!record(&empty, "f", &Context::new(), Outcome::ok()), "not ready: nothing recorded, no error");
    let nan = Outcome::ok().with_latency_ms(f64::NAN).check(LATENCY_KEY_PYTHON).unwrap_err();
    assert_eq!(nan.message, "the outcome's latency_ms must be a finite number of milliseconds ≥ 0, not NaN");
    let infinite = Outcome::error().with_latency_ms(f64::INFINITY).check(LATENCY_KEY).unwrap_err();
    assert!(infinite.message.ends_with("not Infinity"), "{}", infinite.message);
    let fields = [("ok", Field::Boolean(true)), ("latencyMs", Field::Other(Kind::Undefined))];
    assert_eq!(outcome_from_fields(fields, LATENCY_KEY), Ok(Outcome::ok()), "undefined is absent");
    let fields = [("ok", Field::Boolean(true)), ("latency_ms", Field::Number(2.0))];
    assert!(outcome_from_fields(fields.clone(), LATENCY_KEY).is_err(), "the other language's spelling");
    assert_eq!(outcome_from_fields(fields, LATENCY_KEY_PYTHON), Ok(Outcome::ok().with_latency_ms(2.0)));
    let from_duration = Outcome::ok().with_latency(std::time::Duration::from_micros(1500));
    assert_eq!(from_duration.latency_ms, Some(1.5));
}

#[test]
fn nothing_new_takes_nothing_and_exposures_need_counting() {
    let holder = holder();
    assert_eq!(take(&holder), None);
    let loaded = holder.current();
    holder.evaluate(loaded.as_deref(), "f", Ok(&de()), NOW, None);
    assert_eq!(take(&holder), None, "counting is off: no exposures");
    holder.counters().set_enabled(true);
    holder.evaluate(loaded.as_deref(), "f", Ok(&de()), NOW, None);
    holder.counters().count_override("f");
    let body = take(&holder).unwrap();
    assert_eq!(body["flags"], serde_json::json!({"f": {"on": {"exposures": 1}}}), "overrides are no exposures");
    assert_eq!(body["sdk"], DEFAULT_SDK);
    assert_eq!(take(&holder), None);
}

#[test]
fn pairs_beyond_the_cap_record_under_other_which_stays_local() {
    let outcomes = Outcomes::new();
    for i in 0..MAX_PAIRS {
        outcomes.add(&format!("f{i:04}"), "on", &Outcome::ok());
    }
    outcomes.add("f0000", "on", &Outcome::error());
    outcomes.add("late", "on", &Outcome::ok());
    outcomes.add("later", "x", &Outcome::converted());
    let text = outcomes.metrics_text();
    assert!(text.contains("pennon_canary_requests_total{flag=\"_other\",cohort=\"\"} 1\n"), "{text}");
    assert!(text.contains("pennon_conversions_total{flag=\"_other\",cohort=\"\"} 1\n"), "{text}");
    assert!(!text.contains("flag=\"late"));
    let body: Value = serde_json::from_str(&outcomes.take("b", Some("t"), &Counters::new()).unwrap()).unwrap();
    let flags = body["flags"].as_object().unwrap();
    assert_eq!(flags.len(), MAX_PAIRS, "the server has no use for _other (and no variant \"\")");
    assert_eq!(flags["f0000"]["on"], serde_json::json!({"requests": 2, "errors": 1}));
    assert!(!flags.contains_key(OTHER));
}

#[test]
fn a_batch_keeps_to_the_server_limits_and_the_rest_goes_next() {
    let counters = Counters::new();
    let outcomes = Outcomes::new();
    for i in 0..MAX_BATCH_FLAGS + 200 {
        counters.add(&format!("f{i:04}"), "on", pennon_core::Reason::Static, 1);
    }
    for v in 0..MAX_BATCH_VARIANTS + 5 {
        outcomes.add("f0000", &format!("v{v:03}"), &Outcome::ok());
    }
    let take = || outcomes.take("b", None, &counters).map(|text| serde_json::from_str::<Value>(&text).unwrap());
    let first = take().unwrap();
    let flags = first["flags"].as_object().unwrap();
    assert_eq!(flags.len(), MAX_BATCH_FLAGS);
    assert_eq!(flags["f0000"].as_object().unwrap().len(), MAX_BATCH_VARIANTS);
    let second = take().unwrap();
    let flags = second["flags"].as_object().unwrap();
    assert_eq!(flags.len(), 201, "the 200 flags left over, and f0000's last variants");
    assert_eq!(flags["f0000"].as_object().unwrap().len(), 6, "v100…v104 and `on`");
    assert_eq!(take(), None);
}

#[test]
fn shared_engines_record_into_one_set() {
    let first = holder();
    record(&first, "f", &de(), Outcome::ok());
    let next = holder();
    next.share_counters(&first);
    record(&next, "f", &Context::new(), Outcome::error());
    assert!(Arc::ptr_eq(&first.outcomes(), &next.outcomes()));
    let body = take(&next).unwrap();
    assert_eq!(body["flags"], serde_json::json!({"f": {"on": {"requests": 1}, "off": {"requests": 1, "errors": 1}}}));
    assert_eq!(take(&first), None, "one set: taken once");
}

#[test]
fn restore_refuses_what_is_no_batch_and_ignores_unknown_pairs() {
    let holder = holder();
    assert_eq!(holder.restore_outcomes("{").unwrap_err().code, pennon_core::ErrorCode::InvalidArgument);
    assert!(holder.restore_outcomes("{}").is_err());
    holder.restore_outcomes(r#"{"flags": {"nope": {"on": {"requests": 5}}}}"#).unwrap();
    record(&holder, "f", &de(), Outcome::ok().with_latency_ms(3.0));
    let text = holder.take_outcomes("b", None).unwrap();
    // Given back twice (a caller's bug): never below nothing sent.
    holder.restore_outcomes(&text).unwrap();
    holder.restore_outcomes(&text).unwrap();
    let body = take(&holder).unwrap();
    assert_eq!(body["flags"]["f"]["on"], serde_json::json!({"requests": 1, "latency": [[sketch::index_of(3.0), 1]]}));
}

/// Records from several threads while batches are taken, a third of them "failing" and
/// given back: the batches that "arrived" add up to exactly what was recorded.
#[test]
fn concurrent_records_takes_and_restores_lose_nothing() {
    let holder = Arc::new(holder());
    holder.counters().set_enabled(true);
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let holder = Arc::clone(&holder);
            std::thread::spawn(move || {
                for i in 0..5_000u32 {
                    let context = if (t + i) % 3 == 0 { de() } else { Context::new() };
                    let loaded = holder.current();
                    holder.evaluate(loaded.as_deref(), "f", Ok(&context), NOW, None);
                    let outcome = if i % 7 == 0 { Outcome::error() } else { Outcome::ok() };
                    record(&holder, "f", &context, outcome.with_latency_ms(f64::from(i % 500)));
                }
            })
        })
        .collect();
    let mut arrived = [0u64; 4]; // exposures, requests, errors, latencies
    let mut absorb = |text: &str| {
        let body: Value = serde_json::from_str(text).unwrap();
        for variant in body["flags"]["f"].as_object().unwrap().values() {
            for (slot, name) in ["exposures", "requests", "errors"].iter().enumerate() {
                arrived[slot] += variant[name].as_u64().unwrap_or(0);
            }
            let sketch = sketch::LatencySketch::from_json(variant.get("latency").unwrap_or(&Value::Array(vec![])));
            arrived[3] += sketch.unwrap().count();
        }
    };
    let mut round = 0;
    while writers.iter().any(|writer| !writer.is_finished()) {
        round += 1;
        if let Some(text) = holder.take_outcomes(&format!("{round}"), None) {
            if round % 3 == 0 {
                holder.restore_outcomes(&text).unwrap();
            } else {
                absorb(&text);
            }
        }
    }
    for writer in writers {
        writer.join().unwrap();
    }
    if let Some(text) = holder.take_outcomes("last", None) {
        absorb(&text);
    }
    let errors = (0..5_000u64).filter(|i| i % 7 == 0).count() as u64 * 4;
    assert_eq!(arrived, [20_000, 20_000, errors, 20_000]);
}
