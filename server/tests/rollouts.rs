//! Safe rollouts against a real `pennon serve` whose controller looks every 100 ms, on
//! SQLite and on PostgreSQL: a healthy canary advances stage by stage (waiting for
//! approval where the plan asks), an unhealthy one rolls back as its plan says, pause,
//! resume, promote (and instant deploy), abort, a flag changed by hand interrupts the
//! rollout, every decision is a revision with its evidence in the audit trail — and a
//! controller killed mid-rollout carries on after a restart without skipping a stage or
//! losing a decision.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{Backend, Database, Server, backends, boolean_flag};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DEV: &str = "/api/v1/environments/development";
const FAST: [&str; 2] = ["--rollout-interval", "100ms"];

fn each_backend(test: impl Fn(Backend)) {
    for backend in backends() {
        eprintln!("-- {backend:?}");
        test(backend);
    }
}

/// Outcomes of one arm: requests, errors, and every request's latency in ms.
#[derive(Clone, Copy)]
struct Traffic {
    requests: u64,
    errors: u64,
    latency_ms: f64,
}

const HEALTHY: Traffic = Traffic { requests: 150, errors: 1, latency_ms: 120.0 };
const FAILING: Traffic = Traffic { requests: 150, errors: 60, latency_ms: 120.0 };

/// An SDK key of `development` for a server.
fn sdk(server: &Server) -> common::Client {
    let answer =
        server.admin().post("/api/v1/tokens", json!({"name": "app", "role": "sdk", "environment": "development"}));
    assert_eq!(answer.status, 201, "{}", answer.text);
    server.client(answer.json["token"].as_str())
}

/// Reports outcomes as an SDK does (`POST /sdk/v1/metrics`): the first arm is the canary,
/// which got `share` of 1,000 exposures, the second the control.
fn report(sdk: &common::Client, flag: &str, share: f64, arms: &[(&str, Traffic)]) {
    let mut variants = serde_json::Map::new();
    for (index, (variant, traffic)) in arms.iter().enumerate() {
        let canary = (share * 1000.0).round() as u64;
        let exposures = if index == 0 { canary } else { 1000 - canary };
        let bucket = pennon_core::judgement::sketch::index_of(traffic.latency_ms);
        variants.insert(
            (*variant).to_string(),
            json!({"exposures": exposures, "requests": traffic.requests, "errors": traffic.errors,
                   "latency": [[bucket, traffic.requests]]}),
        );
    }
    let batch = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({"batch": batch, "sdk": "pennon-test/0", "flags": {flag: variants}});
    let answer = sdk.post("/sdk/v1/metrics", body);
    assert_eq!((answer.status, answer.json["accepted"].as_bool()), (202, Some(true)), "{}", answer.text);
}

fn create(server: &Server, flag: &str) {
    let answer = server.admin().put(&format!("{DEV}/flags/{flag}"), json!({ "definition": boolean_flag("off") }));
    assert_eq!(answer.status, 201, "{}", answer.text);
}

fn start(server: &Server, flag: &str, plan: Value) -> Value {
    let answer = server.admin().post(&format!("{DEV}/rollouts/{flag}"), plan);
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json
}

fn rollout(server: &Server, flag: &str) -> Value {
    let answer = server.admin().get(&format!("{DEV}/rollouts/{flag}"));
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json
}

fn definition(server: &Server, flag: &str) -> Value {
    server.admin().get(&format!("{DEV}/flags/{flag}")).json["definition"].clone()
}

/// Waits until the rollout satisfies `done`, feeding it `traffic` meanwhile (the canary
/// first, at the rollout's percentage).
fn until(
    server: &Server,
    sdk: &common::Client,
    flag: &str,
    traffic: &[(&str, Traffic)],
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = rollout(server, flag);
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "rollout of {flag} did not get there: {now:#}");
        if !traffic.is_empty() {
            report(sdk, flag, now["percentage"].as_f64().unwrap() / 100.0, traffic);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn kinds(rollout: &Value) -> Vec<String> {
    rollout["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

fn three_stages(rollback: &str) -> Value {
    json!({
        "stages": [
            {"percentage": 10, "minDuration": "PT1S", "minRequests": 100},
            {"percentage": 50, "minDuration": "PT1S", "minRequests": 100, "approval": true},
            {"percentage": 100, "minDuration": "PT1S", "minRequests": 100}
        ],
        "rollback": rollback,
    })
}

/// Every event numbered from 1 without gaps, and every revision it names holds what
/// the event says (the decision was published).
fn assert_history_is_whole(server: &Server, rollout: &Value) {
    let events = rollout["events"].as_array().unwrap();
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event["seq"], json!(index + 1), "{rollout:#}");
        if let Some(revision) = event["revision"].as_i64() {
            let snapshot = server.admin().get(&format!("{DEV}/snapshot?revision={revision}")).json;
            let flag = &snapshot["flags"][rollout["flag"].as_str().unwrap()];
            if let Some(percentage) = event["percentage"].as_f64() {
                assert_eq!(flag["canary"]["percentage"].as_f64(), Some(percentage), "{event:#}");
            }
        }
    }
}

#[test]
fn a_healthy_canary_advances_waits_for_approval_and_completes() {
    each_backend(|backend| {
        let db = Database::new(backend);
        let server = Server::start_on(&db, &FAST);
        let sdk = sdk(&server);
        create(&server, "checkout");
        let started = start(&server, "checkout", three_stages("gradual"));
        assert_eq!((started["status"].as_str(), started["stage"].as_i64()), (Some("running"), Some(1)));
        assert_eq!(definition(&server, "checkout")["state"], "canary");
        assert_eq!(definition(&server, "checkout")["canary"]["percentage"], 10);
        // Too little traffic: it waits, however long.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(rollout(&server, "checkout")["status"], "running");

        let healthy = [("on", HEALTHY), ("off", HEALTHY)];
        let waiting = until(&server, &sdk, "checkout", &healthy, |r| r["status"] == "awaiting_approval");
        assert_eq!(waiting["stage"], 1, "no advance into an approval stage");
        assert_eq!(definition(&server, "checkout")["canary"]["percentage"], 10);
        let promoted =
            server.admin().post(&format!("{DEV}/rollouts/checkout/promote"), json!({"reason": "looks good"}));
        assert_eq!(promoted.status, 200, "{}", promoted.text);
        assert_eq!((promoted.json["stage"].as_i64(), promoted.json["status"].as_str()), (Some(2), Some("running")));
        assert_eq!(definition(&server, "checkout")["canary"]["percentage"], 50);

        until(&server, &sdk, "checkout", &healthy, |r| r["stage"] == 3);
        assert_eq!(definition(&server, "checkout")["canary"]["percentage"], 100);
        let done = until(&server, &sdk, "checkout", &[("on", HEALTHY)], |r| r["status"] == "completed");
        assert_eq!(definition(&server, "checkout")["state"], "on");
        assert_eq!(kinds(&done), ["started", "awaiting_approval", "promoted", "advanced", "completed"]);
        assert_history_is_whole(&server, &done);

        // The controller's decisions are audited with the numbers that caused them.
        let history = server.admin().get(&format!("{DEV}/flags/checkout/history")).json;
        let by_controller: Vec<&Value> =
            history.as_array().unwrap().iter().filter(|e| e["principal"] == "controller").collect();
        assert_eq!(by_controller.len(), 3, "awaiting_approval, advanced, completed: {history:#}");
        let advanced = by_controller.iter().find(|e| e["detail"]["event"] == "advanced").unwrap();
        assert!(advanced["revision"].as_i64().is_some());
        let judgement = &advanced["detail"]["judgement"];
        assert_eq!(judgement["verdict"], "healthy");
        assert!(judgement["canary"]["requests"].as_u64().unwrap() >= 100, "{judgement:#}");
        assert!(judgement["control"]["requests"].as_u64().unwrap() >= 100, "{judgement:#}");
        assert!(judgement["evidence"].is_object());

        let metrics = server.client(None).get("/metrics").text;
        assert!(metrics.contains(r#"pennon_canary_active{environment="development",flag="checkout"} 0"#), "{metrics}");
        assert!(
            metrics.contains(r#"pennon_canary_percentage{environment="development",flag="checkout"} 100"#),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"pennon_canary_requests{environment="development",flag="checkout",cohort="canary"}"#)
        );
        assert!(
            metrics.contains(r#"pennon_canary_error_rate{environment="development",flag="checkout",cohort="control"}"#)
        );
        assert!(
            metrics.contains(r#"pennon_canary_latency_p95{environment="development",flag="checkout",cohort="canary"}"#)
        );
    });
}

#[test]
fn an_unhealthy_canary_rolls_back_as_its_plan_says() {
    each_backend(|backend| {
        let db = Database::new(backend);
        let server = Server::start_on(&db, &FAST);
        let sdk = sdk(&server);
        for (flag, rollback) in
            [("gradual", "gradual"), ("immediate", "immediate"), ("kill", "kill"), ("slow", "immediate")]
        {
            create(&server, flag);
            let mut plan = three_stages(rollback);
            plan["stages"][0]["maxErrorRate"] = json!(0.05);
            start(&server, flag, plan);
        }
        // A paused rollout is still guarded.
        let paused = server.admin().post(&format!("{DEV}/rollouts/kill/pause"), json!({}));
        assert_eq!(paused.json["status"], "paused", "{}", paused.text);
        for flag in ["gradual", "immediate", "kill"] {
            let failing = [("on", FAILING), ("off", HEALTHY)];
            let done = until(&server, &sdk, flag, &failing, |r| r["status"] == "rolled_back");
            let last = done["events"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["judgement"]["verdict"], "unhealthy");
            assert_eq!(last["judgement"]["criterion"], "max_error_rate");
            assert!(last["judgement"]["canary"]["errorRate"].as_f64().unwrap() > 0.05);
            assert_history_is_whole(&server, &done);
        }
        // +780 ms at p95: core's latency criterion (p95 at most +500 ms or ×1.5).
        let slow = Traffic { latency_ms: 900.0, ..HEALTHY };
        let done = until(&server, &sdk, "slow", &[("on", slow), ("off", HEALTHY)], |r| r["status"] == "rolled_back");
        let last = done["events"].as_array().unwrap().last().unwrap().clone();
        assert!(last["judgement"]["criterion"].as_str().unwrap().starts_with("latency"), "{last:#}");
        assert!(last["judgement"]["canary"]["p95"].as_f64().unwrap() > 800.0, "{last:#}");
        assert_eq!(definition(&server, "slow")["state"], "off");
        let gradual = definition(&server, "gradual");
        assert_eq!((gradual["state"].as_str(), gradual["canary"]["percentage"].as_i64()), (Some("canary"), Some(0)));
        assert_eq!(definition(&server, "immediate")["state"], "off");
        assert_eq!(definition(&server, "kill")["state"], "kill");
        let audit = server.admin().get("/api/v1/audit?principal=controller").json;
        let rollbacks = audit.as_array().unwrap().iter().filter(|e| e["detail"]["event"] == "rolled_back").count();
        assert_eq!(rollbacks, 4, "{audit:#}");
    });
}

#[test]
fn pause_resume_promote_instant_deploy_abort_and_a_hand_change_interrupts() {
    each_backend(|backend| {
        let db = Database::new(backend);
        let server = Server::start_on(&db, &FAST);
        let sdk = sdk(&server);
        let admin = server.admin();
        for flag in ["paused", "full", "aborted", "touched", "held", "settled"] {
            create(&server, flag);
        }
        let mut plan = three_stages("immediate");
        plan["stages"][1]["approval"] = json!(false);
        start(&server, "paused", plan.clone());
        assert_eq!(admin.post(&format!("{DEV}/rollouts/paused"), plan.clone()).code(), "already_exists");

        // Paused: healthy and old enough, yet it does not advance.
        assert_eq!(admin.post(&format!("{DEV}/rollouts/paused/pause"), json!({})).json["status"], "paused");
        assert_eq!(admin.post(&format!("{DEV}/rollouts/paused/pause"), json!({})).status, 409);
        let healthy = [("on", HEALTHY), ("off", HEALTHY)];
        for _ in 0..10 {
            report(&sdk, "paused", 0.1, &healthy);
            std::thread::sleep(Duration::from_millis(150));
        }
        assert_eq!(rollout(&server, "paused")["stage"], 1);
        assert_eq!(admin.post(&format!("{DEV}/rollouts/paused/resume"), json!({})).json["status"], "running");
        until(&server, &sdk, "paused", &healthy, |r| r["stage"] == 2);

        // Cohorts not the sizes the percentage promises (half the exposures at 10 %): a
        // sample-ratio mismatch holds the rollout, recorded once.
        start(&server, "held", plan.clone());
        std::thread::sleep(Duration::from_millis(1100));
        for _ in 0..15 {
            report(&sdk, "held", 0.5, &healthy);
            std::thread::sleep(Duration::from_millis(150));
        }
        let held = rollout(&server, "held");
        assert_eq!(kinds(&held), ["started", "hold"], "{held:#}");
        assert_eq!((held["stage"].as_i64(), held["status"].as_str()), (Some(1), Some("running")));
        assert_eq!(held["events"][1]["judgement"]["criterion"], "sample_ratio");

        // `settle`: what SDKs send in the first seconds of a stage is left out of its window.
        let mut settled = plan.clone();
        settled["settle"] = json!("PT30S");
        start(&server, "settled", settled);
        std::thread::sleep(Duration::from_millis(1100));
        report(&sdk, "settled", 0.1, &healthy);
        let current = &rollout(&server, "settled")["current"];
        assert_eq!(
            (current["canary"]["requests"].as_u64(), current["verdict"].as_str()),
            (Some(0), Some("not_enough_data"))
        );

        // Instant deploy.
        start(&server, "full", plan.clone());
        let full = admin.post(&format!("{DEV}/rollouts/full/promote"), json!({"full": true}));
        assert_eq!(full.json["status"], "completed", "{}", full.text);
        assert_eq!(definition(&server, "full")["state"], "on");
        assert_eq!(admin.post(&format!("{DEV}/rollouts/full/promote"), json!({})).status, 409);

        // Abort rolls back as the plan says, or as asked.
        start(&server, "aborted", plan.clone());
        let aborted =
            admin.post(&format!("{DEV}/rollouts/aborted/abort"), json!({"rollback": "kill", "reason": "pager"}));
        assert_eq!(aborted.json["status"], "aborted", "{}", aborted.text);
        assert_eq!(definition(&server, "aborted")["state"], "kill");
        assert_eq!(kinds(&aborted.json), ["started", "aborted"]);

        // Someone turns the flag on by hand: the controller does not fight.
        start(&server, "touched", plan.clone());
        let by_hand = admin.post(&format!("{DEV}/flags/touched/state"), json!({"state": "on"}));
        assert_eq!(by_hand.status, 200, "{}", by_hand.text);
        let interrupted = until(&server, &sdk, "touched", &[], |r| r["status"] == "interrupted");
        assert_eq!(kinds(&interrupted), ["started", "interrupted"]);
        assert_eq!(definition(&server, "touched")["state"], "on");

        // Plans that cannot run.
        let bad =
            admin.post(&format!("{DEV}/rollouts/touched"), json!({"stages": [{"percentage": 50}, {"percentage": 20}]}));
        assert_eq!(
            (bad.status, bad.json["error"]["path"].as_str()),
            (422, Some("/stages/1/percentage")),
            "{}",
            bad.text
        );
        let mut split = boolean_flag("off");
        split["fallthrough"] =
            json!({"split": {"variants": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}});
        assert_eq!(admin.put(&format!("{DEV}/flags/split"), json!({"definition": split})).status, 201);
        let ambiguous = admin.post(&format!("{DEV}/rollouts/split"), json!({"stages": [{"percentage": 100}]}));
        assert_eq!((ambiguous.status, ambiguous.json["error"]["path"].as_str()), (422, Some("/canaryVariant")));
        assert_eq!(
            admin.post(&format!("{DEV}/rollouts/nothing"), json!({"stages": [{"percentage": 100}]})).status,
            404
        );

        assert_eq!(admin.get("/api/v1/environments/nowhere/rollouts").status, 404);
        let list = admin.get(&format!("{DEV}/rollouts")).json;
        assert_eq!(list.as_array().unwrap().len(), 6);
    });
}

#[test]
fn in_a_protected_environment_another_person_approves_the_next_stage() {
    let db = Database::new(Backend::Sqlite);
    let server = Server::start_on(&db, &FAST);
    let admin = server.admin();
    let prod = "/api/v1/environments/production";
    let created = admin.put(&format!("{prod}/flags/pay"), json!({"definition": boolean_flag("off"), "reason": "new"}));
    assert_eq!(created.status, 201, "{}", created.text);
    let mut plan = three_stages("gradual");
    assert_eq!(admin.post(&format!("{prod}/rollouts/pay"), plan.clone()).code(), "reason_required");
    plan["reason"] = json!("release 4.2");
    assert_eq!(admin.post(&format!("{prod}/rollouts/pay"), plan).status, 201);
    let own = admin.post(&format!("{prod}/rollouts/pay/promote"), json!({"reason": "mine"}));
    assert_eq!((own.status, own.code()), (403, "self_approval"), "{}", own.text);
    let other = admin.post("/api/v1/tokens", json!({"name": "alice", "role": "admin"})).json["token"]
        .as_str()
        .unwrap()
        .to_string();
    let approved =
        server.client(Some(&other)).post(&format!("{prod}/rollouts/pay/promote"), json!({"reason": "reviewed"}));
    assert_eq!((approved.status, approved.json["stage"].as_i64()), (200, Some(2)), "{}", approved.text);
}

#[test]
fn a_controller_killed_mid_rollout_resumes_without_skipping_a_stage_or_losing_a_decision() {
    let db = Database::new(Backend::Sqlite);
    let mut server = Server::start_on(&db, &FAST);
    let sdk = sdk(&server);
    create(&server, "resilient");
    let stages: Vec<Value> = [5, 10, 20, 30, 50, 70, 100]
        .iter()
        .map(|p| json!({"percentage": p, "minDuration": "PT1S", "minRequests": 100}))
        .collect();
    start(&server, "resilient", json!({"stages": stages, "rollback": "immediate"}));
    let healthy = [("on", HEALTHY), ("off", HEALTHY)];
    let middle = until(&server, &sdk, "resilient", &healthy, |r| r["stage"] == 3);
    server.kill();
    // Stopped: the flag stays exactly where the controller left it.
    std::thread::sleep(Duration::from_millis(1500));
    let mut server = Server::start_on(&db, &FAST);
    let sdk = common::Client::new(&server.url, sdk.token.as_deref());
    let after = rollout(&server, "resilient");
    assert!(after["stage"].as_i64() >= middle["stage"].as_i64());
    if after["stage"] == middle["stage"] {
        let percentage = definition(&server, "resilient")["canary"]["percentage"].as_f64();
        assert_eq!(percentage, middle["percentage"].as_f64(), "the flag stayed where the controller left it");
    }
    let done = until(&server, &sdk, "resilient", &healthy, |r| r["status"] == "completed");
    assert_history_is_whole(&server, &done);
    let events = done["events"].as_array().unwrap();
    let stages: Vec<i64> = events.iter().map(|e| e["stage"].as_i64().unwrap()).collect();
    assert_eq!(stages, [1, 2, 3, 4, 5, 6, 7, 7], "one event per stage, none skipped: {done:#}");
    let audit = server.admin().get("/api/v1/audit?principal=controller").json;
    assert_eq!(audit.as_array().unwrap().len(), events.len() - 1, "every decision has its event and audit entry");
    server.kill();
}

/// Runs the `pennon` command line against a server.
fn pennon(server: &Server, args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(common::binary())
        .args(args)
        .env("PENNON_URL", &server.url)
        .env("PENNON_TOKEN", common::ADMIN_TOKEN)
        .env_remove("PENNON_ENV")
        .env_remove("PENNON_CONFIG")
        .env("HOME", std::env::temp_dir())
        .env("XDG_CONFIG_HOME", std::env::temp_dir().join("pennon-rollouts-test-no-config"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_command_line_starts_reads_and_steers_a_rollout() {
    let db = Database::new(Backend::Sqlite);
    let server = Server::start_on(&db, &FAST);
    let sdk = sdk(&server);
    create(&server, "cli");
    let start = [
        "rollout",
        "start",
        "cli",
        "--stages",
        "10:PT1H,50:PT1H,100",
        "--min-requests",
        "500",
        "--approval",
        "50",
        "--rollback",
        "kill",
        "--max-error-rate",
        "0.05",
        "--settle",
        "PT1S",
        "-m",
        "4.2",
    ];
    let (code, out) = pennon(&server, &start);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("development cli: running, stage 1/3, canary 10%"), "{out}");
    let plan = &rollout(&server, "cli")["plan"];
    assert_eq!(
        plan["stages"][1],
        json!({"percentage": 50, "minDuration": "PT1H", "minRequests": 500, "approval": true, "maxErrorRate": 0.05})
    );
    assert_eq!((plan["rollback"].as_str(), plan["settle"].as_str()), (Some("kill"), Some("PT1S")));
    assert_eq!(pennon(&server, &start).0, 6, "one active rollout per flag");

    // A stage's window holds the seconds that begin after it started and settled.
    std::thread::sleep(Duration::from_millis(2100));
    report(&sdk, "cli", 0.1, &[("on", HEALTHY), ("off", HEALTHY)]);
    let (code, out) = pennon(&server, &["canary-status"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("JUDGEMENT") && out.contains("1/3") && out.contains("canary on 150 req"), "{out}");
    let (_, out) = pennon(&server, &["canary-status", "cli", "--json"]);
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "the rollout's row replaces the canary row: {rows:#}");
    assert_eq!((rows[0]["status"].as_str(), rows[0]["stage"].as_i64()), (Some("running"), Some(1)));
    assert_eq!(rows[0]["judgement"]["control"]["requests"], 150);

    assert!(pennon(&server, &["rollout", "pause", "cli"]).1.contains("paused"));
    assert!(pennon(&server, &["rollout", "resume", "cli"]).1.contains("running"));
    let (code, out) = pennon(&server, &["rollout", "promote", "cli", "-m", "dashboards green"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stage 2/3, canary 50%"), "{out}");
    let (code, out) = pennon(&server, &["rollout", "status", "cli"]);
    assert_eq!(code, 0, "{out}");
    for word in ["SEQ", "JUDGEMENT", "started", "paused", "resumed", "promoted", "dashboards green", "now: "] {
        assert!(out.contains(word), "{word}: {out}");
    }
    let (code, out) = pennon(&server, &["rollout", "abort", "cli", "--rollback", "immediate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("aborted"), "{out}");
    assert_eq!(definition(&server, "cli")["state"], "off");
    assert_eq!(pennon(&server, &["rollout", "promote", "cli"]).0, 6, "nothing active to promote");
    assert_eq!(pennon(&server, &["rollout", "status", "nothing"]).0, 5);
    assert_eq!(pennon(&server, &["rollout", "start", "cli", "--stages", "50:PT1M,20"]).0, 7);
}

#[test]
fn two_replicas_controllers_take_each_decision_once() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends: skipped");
        return;
    }
    let db = Database::new(Backend::Postgres);
    let a = Server::start_on(&db, &FAST);
    let b = Server::start_on(&db, &FAST);
    let sdk = sdk(&a);
    create(&a, "shared");
    let stages: Vec<Value> = [10, 25, 50, 75, 100]
        .iter()
        .map(|p| json!({"percentage": p, "minDuration": "PT1S", "minRequests": 100}))
        .collect();
    start(&a, "shared", json!({"stages": stages}));
    let done = until(&b, &sdk, "shared", &[("on", HEALTHY), ("off", HEALTHY)], |r| r["status"] == "completed");
    assert_eq!(kinds(&done), ["started", "advanced", "advanced", "advanced", "advanced", "completed"], "{done:#}");
    assert_history_is_whole(&a, &done);
    let audit = a.admin().get("/api/v1/audit?principal=controller").json;
    assert_eq!(audit.as_array().unwrap().len(), 5, "{audit:#}");
    assert_eq!(definition(&b, "shared")["state"], "on");
    // Both replicas' gauges see the end, whichever of them took the last decision.
    for server in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(5);
        let gauge = r#"pennon_canary_active{environment="development",flag="shared"} 0"#;
        while !server.client(None).get("/metrics").text.contains(gauge) {
            assert!(Instant::now() < deadline, "{} still shows the rollout active", server.url);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
