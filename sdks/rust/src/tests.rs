//! Client-level tests that need no server: sources in memory and on disk, getters,
//! overrides, events, hooks.

use super::*;
use serde_json::json;

fn doc(revision: u64, state: &str) -> String {
    format!(
        r#"{{"schemaVersion":1,"revision":{revision},"generatedAt":"2026-01-01T00:00:00Z","flags":{{
        "a":{{"type":"boolean","state":"{state}","variants":{{"on":true,"off":false}},"offVariant":"off","fallthrough":{{"variant":"on"}}}},
        "color":{{"type":"string","state":"on","variants":{{"red":"red","blue":"blue"}},"offVariant":"red","fallthrough":{{"variant":"blue"}},"metadata":{{"owner":"ui"}}}},
        "limit":{{"type":"number","state":"on","variants":{{"v":5}},"offVariant":"v","fallthrough":{{"variant":"v"}}}},
        "cfg":{{"type":"object","state":"on","variants":{{"v":{{"k":1}}}},"offVariant":"v","fallthrough":{{"variant":"v"}}}}}}}}"#
    )
}

fn memory(revision: u64) -> Client {
    Client::builder().snapshot(&doc(revision, "on")).build().unwrap()
}

#[test]
fn typed_getters_answer_values_and_defaults() {
    let client = memory(3);
    let ctx = Context::with_targeting_key("u");
    assert!(client.is_enabled("a", &ctx));
    assert_eq!(client.string("color", &ctx, "x"), "blue");
    assert_eq!(client.number("limit", &ctx, 1.0), 5.0);
    assert_eq!(client.object("cfg", &ctx, json!({})), json!({"k": 1}));
    // Wrong type or unknown flag: the default.
    assert_eq!(client.string("a", &ctx, "x"), "x");
    assert!(client.boolean("missing", &ctx, true));
    let details = client.evaluate("color", &ctx);
    assert_eq!(details.value, json!("blue"));
    assert_eq!(details.revision, Some(3));
    assert_eq!(details.flag_metadata, Some(json!({"owner": "ui"}).as_object().unwrap().clone()));
    assert!(details.age_ms.unwrap() > 0);
    let all = client.all_flags(&ctx);
    assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "cfg", "color", "limit"]);
    assert_eq!(client.wait_ready(), Ok(()));
}

#[test]
fn invalid_configurations_are_refused() {
    let code = |b: ClientBuilder| b.build().unwrap_err().code;
    assert_eq!(code(Client::builder()), "invalid_config");
    assert_eq!(code(Client::builder().url("http://x").snapshot("{}")), "invalid_config");
    assert_eq!(code(Client::builder().url("http://x")), "invalid_config", "no sdk_key");
    assert_eq!(code(Client::builder().snapshot(&doc(1, "on")).bootstrap("{}")), "invalid_config");
    assert_eq!(code(Client::builder().snapshot("{")), "invalid_json");
    assert_eq!(code(Client::builder().snapshot(&doc(1, "on")).public_key("nope")), "invalid_public_key");
}

#[test]
fn overrides_answer_first_with_static_and_variant_override() {
    let client = memory(1);
    let ctx = Context::new();
    client.set_override("a", json!(false));
    client.set_override("new", json!("x"));
    assert!(!client.is_enabled("a", &ctx));
    let details = client.evaluate("a", &ctx);
    assert_eq!((details.variant.as_deref(), details.reason.as_str()), (Some("override"), "STATIC"));
    assert_eq!(client.string("new", &ctx, "d"), "x");
    // An override of another type than the getter's does not apply.
    assert_eq!(client.number("new", &ctx, 2.0), 2.0);
    assert_eq!(client.all_flags(&ctx).get("new").map(|d| d.value.clone()), Some(json!("x")));
    client.clear_override("a");
    assert!(client.is_enabled("a", &ctx));
    assert!(client.metrics().contains(r#"{flag="a",variant="override",reason="STATIC"} 2"#), "{}", client.metrics());
}

#[test]
fn env_overrides_apply_only_when_enabled_and_the_type_matches() {
    let vars =
        [("PENNON_FLAG_A", "false"), ("PENNON_FLAG_COLOR", "3"), ("PENNON_FLAG_LIMIT", "9"), ("PENNON_FLAG_X_Y", "hi")];
    let ctx = Context::new();
    let client = Client::builder().snapshot(&doc(1, "on")).env_overrides(true).env_vars(&vars).build().unwrap();
    assert!(!client.is_enabled("a", &ctx), "PENNON_FLAG_A=false overrides");
    assert_eq!(client.string("color", &ctx, "d"), "blue", "3 is not a string: the flag answers");
    assert_eq!(client.evaluate("limit", &ctx).value, json!(9));
    // Not in the snapshot: the getter's type decides.
    assert_eq!(client.string("x.y", &ctx, "d"), "hi");
    let off = Client::builder().snapshot(&doc(1, "on")).env_vars(&vars).build().unwrap();
    assert!(off.is_enabled("a", &ctx), "opt-in only");
}

#[test]
fn hooks_see_every_single_flag_evaluation() {
    let client = memory(1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    client.on_evaluation(move |flag, details| sink.lock().unwrap().push((flag.to_owned(), details.value.clone())));
    let ctx = Context::new();
    client.is_enabled("a", &ctx);
    client.string("missing", &ctx, "dflt");
    client.evaluate("limit", &ctx);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![("a".to_owned(), json!(true)), ("missing".to_owned(), json!("dflt")), ("limit".to_owned(), json!(5))]
    );
}

#[test]
fn acceptance_keeps_the_newest_and_reports_changes() {
    let client = memory(5);
    let events = client.events();
    let inner = client.inner();
    let older = Snapshot::from_json(&doc(4, "on")).unwrap();
    assert_eq!(inner.install(older, None).unwrap_err().code, "revision_older");
    assert!(inner.install(Snapshot::from_json(&doc(5, "kill")).unwrap(), None).is_ok(), "equal: a no-op");
    assert!(client.is_enabled("a", &Context::new()), "the equal revision was not installed");
    assert!(inner.install(Snapshot::from_json(&doc(6, "kill")).unwrap(), None).is_ok());
    assert!(!client.is_enabled("a", &Context::new()));
    match events.try_recv().unwrap() {
        Event::Change { revision, previous_revision, flags } => {
            assert_eq!((revision, previous_revision), (6, Some(5)));
            assert!(flags.contains(&"a".to_owned()), "{flags:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(events.try_recv().is_err(), "one event only");
}

#[test]
fn a_file_source_reloads_on_change_and_stops_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, doc(1, "on")).unwrap();
    let client = Client::builder().file(&path).poll_interval(Duration::from_millis(20)).build().unwrap();
    assert_eq!(client.revision(), Some(1), "read at build");
    let events = client.events();
    std::fs::write(&path, doc(2, "off") + " ").unwrap();
    match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        Event::Change { revision: 2, previous_revision: Some(1), .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(!client.is_enabled("a", &Context::new()));
    // A broken file: an error event, the last good snapshot stays.
    std::fs::write(&path, "{not json").unwrap();
    match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        Event::Error { code, .. } => assert_eq!(code, "invalid_json"),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.revision(), Some(2));
    client.close();
    assert!(lock(&client.inner().threads).is_empty());
    std::fs::write(&path, doc(3, "on") + "  ").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(client.revision(), Some(2), "closed: no more reloads");
}

#[test]
fn a_missing_file_times_out_with_the_reason_and_dropping_the_client_stops_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::builder()
        .file(dir.path().join("absent.json"))
        .init_timeout(Duration::from_millis(100))
        .poll_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.wait_ready().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(error.code, "init_timeout");
    assert!(error.message.contains("io_error"), "{error}");
    let evaluation = client.evaluate("a", &Context::new());
    assert_eq!(evaluation.error_code.as_deref(), Some("PROVIDER_NOT_READY"));
    let inner = Arc::clone(&client.shared.inner);
    drop(client);
    assert!(inner.closed());
    assert!(lock(&inner.threads).is_empty());
}

#[test]
fn outcomes_are_recorded_for_the_variant_served_and_shown_as_prometheus_text() {
    let client = memory(1);
    let user = Context::with_targeting_key("u");
    client.record("color", &user, Outcome::ok().with_latency_ms(4.0)).unwrap();
    client.record("color", &user, Outcome::error()).unwrap();
    client.record("missing", &user, Outcome::ok()).unwrap(); // an unknown flag: nothing, no error
    client.set_override("a", Value::Bool(false));
    client.record("a", &user, Outcome::converted()).unwrap(); // overridden: no cohort
    let text = client.outcome_metrics();
    assert!(text.contains("pennon_canary_requests_total{flag=\"color\",cohort=\"blue\"} 2\n"), "{text}");
    assert!(text.contains("pennon_canary_errors_total{flag=\"color\",cohort=\"blue\"} 1\n"), "{text}");
    assert!(text.contains("pennon_canary_latency_ms_bucket{flag=\"color\",cohort=\"blue\",le=\"5\"} 1\n"), "{text}");
    assert!(!text.contains("flag=\"a\"") && !text.contains("missing"), "{text}");
    let invalid = Outcome { ok: true, error: true, ..Outcome::default() };
    let error = client.record("color", &user, invalid).unwrap_err();
    assert_eq!(error.code, "invalid_argument");
    assert_eq!(client.record("a", &user, invalid).unwrap_err().code, "invalid_argument", "checked when overridden too");
    let nan = client.record("color", &user, Outcome::ok().with_latency_ms(f64::NAN)).unwrap_err();
    assert!(nan.message.contains("latency_ms must be a finite number"), "{}", nan.message);
    assert_eq!(client.flush_outcomes().unwrap_err().code, "invalid_config", "nowhere to send");
}

#[test]
fn metrics_options_are_checked() {
    let snapshot = Client::builder().snapshot(&doc(1, "on"));
    assert_eq!(snapshot.clone().metrics(true).build().unwrap_err().code, "invalid_config");
    assert!(snapshot.metrics(false).build().is_ok());
    let url = Client::builder().url("http://127.0.0.1:9").sdk_key("k").init_timeout(Duration::from_millis(1));
    assert_eq!(url.clone().metrics_interval(Duration::ZERO).build().unwrap_err().code, "invalid_config");
    assert!(url.clone().metrics(false).metrics_interval(Duration::ZERO).build().is_ok(), "off: no interval needed");
    let default = url.build().unwrap();
    assert_eq!(default.inner().config.metrics_interval, Some(Duration::from_secs(10)));
}
