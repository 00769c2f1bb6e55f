//! What the dashboard needs from the server, against a real `pennon serve` on SQLite and
//! PostgreSQL: the admin event stream (a change, a change request and a rollout decision
//! arrive as events; revocation ends it), a rollout's series with core's thresholds,
//! context sets (uploaded and sampled) and a change request's what-if, and the embedded
//! dashboard's files with their headers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{Backend, Database, Server, boolean_flag, each_backend, token};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEV: &str = "/api/v1/environments/development";
const PROD: &str = "/api/v1/environments/production";

/// An open event stream: `(type, data)` pairs, and `None` once the server ended it.
struct Events {
    receiver: mpsc::Receiver<Option<(String, Value)>>,
}

impl Events {
    fn open(server: &Server, token: &str, query: &str) -> Events {
        let response = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .unwrap()
            .get(format!("{}/api/v1/events{query}", server.url))
            .bearer_auth(token)
            // As browsers send it: the stream must still not be compressed (buffered).
            .header("accept-encoding", "gzip, br")
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert!(response.headers().get("content-encoding").is_none());
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut kind = String::new();
            for line in BufReader::new(response).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("event: ") {
                    kind = rest.to_string();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    let _ = sender.send(Some((kind.clone(), serde_json::from_str(data).unwrap())));
                } else if line.starts_with(':') {
                    let _ = sender.send(Some(("comment".to_string(), Value::String(line))));
                }
            }
            let _ = sender.send(None);
        });
        Events { receiver }
    }

    /// The first event of this type for which `wanted` holds (others are skipped).
    fn wait(&self, kind: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(left) {
                Ok(Some((k, data))) if k == kind && wanted(&data) => return data,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the stream ended while waiting for a {kind} event"),
                Err(_) => panic!("no {kind} event within 30 s"),
            }
        }
    }

    /// Waits for the server to end the stream.
    fn ended(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(None) => return,
                Ok(Some(_)) => {}
                Err(_) => panic!("the stream did not end within 15 s"),
            }
        }
    }
}

/// Reports outcomes as an SDK does: the canary (`on`) at 10 %, 150 requests with
/// `canary_errors` errors, the control with 1.
fn report(sdk: &common::Client, flag: &str, canary_errors: u64) {
    let bucket = pennon_core::judgement::sketch::index_of(100.0);
    let body = json!({
        "batch": uuid::Uuid::new_v4().simple().to_string(),
        "sdk": "pennon-test/0",
        "flags": { flag: {
            "on": { "exposures": 100, "requests": 150, "errors": canary_errors, "latency": [[bucket, 150]] },
            "off": { "exposures": 900, "requests": 150, "errors": 1, "latency": [[bucket, 150]] },
        } },
    });
    let answer = sdk.post("/sdk/v1/metrics", body);
    assert_eq!(answer.status, 202, "{}", answer.text);
}

#[test]
fn the_event_stream_carries_changes_requests_and_rollout_decisions_and_the_series_replays_them() {
    each_backend(|backend| {
        let db = Database::new(backend);
        let server = Server::start_on(&db, &["--rollout-interval", "100ms", "--heartbeat", "1"]);
        let admin = server.admin();
        let viewer = token(&server, "vera", "viewer", None);
        let developer = token(&server, "dev", "developer", None);
        let sdk_key = token(&server, "app", "sdk", Some("development"));
        let sdk = server.client(Some(&sdk_key));

        // Who may listen: viewers and up, not SDK keys; unknown environments are 404.
        assert_eq!(server.client(Some(&sdk_key)).get("/api/v1/events").status, 403);
        assert_eq!(server.client(None).get("/api/v1/events").status, 401);
        assert_eq!(server.client(Some(&viewer)).get("/api/v1/events?environment=nowhere").status, 404);

        let all = Events::open(&server, &viewer, "");
        let development = Events::open(&server, &viewer, "?environment=development");
        // Nothing happens for a while: keepalives (every `--heartbeat` second).
        development.wait("comment", |line| line == ": keepalive");

        // A change: its audit entry, then its revision with the flag core says changed.
        let put = admin.put(&format!("{DEV}/flags/checkout"), json!({ "definition": boolean_flag("off") }));
        assert_eq!(put.status, 201, "{}", put.text);
        let audit = development.wait("audit", |e| e["flag"] == "checkout");
        assert_eq!((audit["action"].as_str(), audit["principal"].as_str()), (Some("create"), Some("admin")));
        assert_eq!(audit["environment"], "development");
        assert!(audit["id"].as_i64().unwrap() > 0 && audit["at"].as_str().unwrap().ends_with('Z'));
        let revision = development.wait("revision", |e| e["revision"] == put.json["revision"]);
        assert_eq!(revision["changedFlags"], json!(["checkout"]));

        // A change request in production: on the unfiltered stream only.
        let proposal = server
            .client(Some(&developer))
            .put(&format!("{PROD}/flags/checkout"), json!({ "definition": boolean_flag("on"), "reason": "launch" }));
        assert_eq!(proposal.status, 202, "{}", proposal.text);
        let id = proposal.json["changeRequest"]["id"].as_str().unwrap().to_string();
        let created = all.wait("change_request", |e| e["id"] == id.as_str());
        assert_eq!(
            (created["status"].as_str(), created["environment"].as_str()),
            (Some("pending"), Some("production"))
        );
        let rejected = admin.post(&format!("/api/v1/change-requests/{id}/reject"), json!({ "reason": "not yet" }));
        assert_eq!(rejected.status, 200, "{}", rejected.text);
        assert_eq!(all.wait("change_request", |e| e["id"] == id.as_str())["status"], "rejected");

        // A rollout the controller rolls back: its events, as they commit.
        let plan = json!({ "stages": [
            { "percentage": 10, "minDuration": "PT1S", "minRequests": 100, "maxErrorRate": 0.05 },
            { "percentage": 100, "minDuration": "PT1S", "minRequests": 100 } ] });
        let started = admin.post(&format!("{DEV}/rollouts/checkout"), plan);
        assert_eq!(started.status, 201, "{}", started.text);
        let first = development.wait("rollout", |e| e["flag"] == "checkout");
        assert_eq!(
            (first["state"].as_str(), first["stage"].as_i64(), first["sequence"].as_i64()),
            (Some("running"), Some(1), Some(1))
        );
        assert_eq!(first["id"], started.json["id"]);
        report(&sdk, "checkout", 60);
        let deadline = Instant::now() + Duration::from_secs(30);
        let decision = loop {
            let state = admin.get(&format!("{DEV}/rollouts/checkout")).json["status"].clone();
            if state == "rolled_back" {
                break development.wait("rollout", |e| e["state"] == "rolled_back");
            }
            assert!(Instant::now() < deadline, "the rollout was not rolled back: {state}");
            report(&sdk, "checkout", 60);
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(decision["sequence"], 2);

        // The series: points from the start to the rollback, with core's lines.
        let series = server.client(Some(&viewer)).get(&format!("{DEV}/rollouts/checkout/series?step=1"));
        assert_eq!(series.status, 200, "{}", series.text);
        let series = series.json;
        assert_eq!((series["state"].as_str(), series["id"].clone()), (Some("rolled_back"), started.json["id"].clone()));
        assert!(series["endedAt"].is_string());
        assert_eq!(series["stages"][0]["percentage"], 10);
        assert!(series["stages"][0]["startedAt"].is_string() && series["stages"][0]["endedAt"].is_string());
        assert_eq!(series["stages"][1]["startedAt"], Value::Null);
        assert_eq!(series["events"].as_array().unwrap().len(), 2);
        let points = series["points"].as_array().unwrap();
        assert!(!points.is_empty());
        assert_eq!(points[0]["at"], series["stages"][0]["startedAt"]);
        let last = points.last().unwrap();
        assert_eq!(last["at"], series["endedAt"]);
        assert_eq!((last["stage"].as_i64(), last["percentage"].as_i64()), (Some(0), Some(10)));
        assert_eq!(last["verdict"], "unhealthy", "{last:#}");
        assert_eq!(last["thresholds"]["maxErrorRate"], 0.05);
        let control_rate = last["control"]["errorRate"].as_f64().unwrap();
        let line = last["thresholds"]["errorRate"].as_f64().unwrap();
        assert!((line - (control_rate + 0.005)).abs() < 1e-9, "{last:#}");
        assert!(last["canary"]["errorRate"].as_f64().unwrap() > line);
        assert!(last["canary"]["requests"].as_u64().unwrap() >= 150);
        assert!(last["thresholds"]["p95"].as_f64().is_some() && last["canary"]["p95"].as_f64().is_some());
        let default_step = admin.get(&format!("{DEV}/rollouts/checkout/series")).json;
        assert!(!default_step["points"].as_array().unwrap().is_empty());
        assert!(default_step["points"].as_array().unwrap().len() <= 301);
        assert_eq!(admin.get(&format!("{DEV}/rollouts/checkout/series?step=0")).code(), "invalid_request");
        // Steps too large to be milliseconds are refused; one merely huge gives the ends.
        let huge = admin.get(&format!("{DEV}/rollouts/checkout/series?step={}", i64::MAX));
        assert_eq!(huge.code(), "invalid_request", "{}", huge.text);
        let ends = admin.get(&format!("{DEV}/rollouts/checkout/series?step={}", i64::MAX / 1001)).json;
        assert_eq!(ends["points"].as_array().map(Vec::len), Some(2), "{ends}");
        assert_eq!(admin.get(&format!("{DEV}/rollouts/nothing/series")).status, 404);

        // An active, healthy rollout: the series' last point is the controller's judgement now.
        let put = admin.put(&format!("{DEV}/flags/steady"), json!({ "definition": boolean_flag("off") }));
        assert_eq!(put.status, 201, "{}", put.text);
        let plan = json!({ "stages": [{ "percentage": 10, "minDuration": "PT1H" }, { "percentage": 100 }] });
        assert_eq!(admin.post(&format!("{DEV}/rollouts/steady"), plan).status, 201);
        report(&sdk, "steady", 1);
        std::thread::sleep(Duration::from_millis(1100));
        report(&sdk, "steady", 1);
        let current = admin.get(&format!("{DEV}/rollouts/steady")).json["current"].clone();
        let series = admin.get(&format!("{DEV}/rollouts/steady/series?step=1")).json;
        let points = series["points"].as_array().unwrap();
        let last = points.last().unwrap();
        assert_eq!(series["endedAt"], Value::Null);
        assert_eq!(last["verdict"], current["verdict"], "{last:#} {current:#}");
        for arm in ["canary", "control"] {
            for field in ["requests", "errors", "errorRate", "p95"] {
                assert_eq!(last[arm][field], current[arm][field], "{arm}.{field}: {last:#} {current:#}");
            }
        }
        assert_eq!(last["thresholds"], current["evidence"]["thresholds"]);
        // (The first batch may share the start's second, which a window leaves out.)
        let total = last["canary"]["requests"].as_u64().unwrap();
        assert!(total == 150 || total == 300, "{last:#}");
        // Windows grow from the stage's start: requests never fall from point to point.
        let requests: Vec<u64> = points.iter().map(|p| p["canary"]["requests"].as_u64().unwrap()).collect();
        assert!(requests.windows(2).all(|pair| pair[0] <= pair[1]) && requests[0] < total, "{requests:?}");

        // Revoking the token ends its stream.
        let tokens = admin.get("/api/v1/tokens").json;
        let id = tokens.as_array().unwrap().iter().find(|t| t["name"] == "vera").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(admin.delete(&format!("/api/v1/tokens/{id}")).status, 200);
        all.ended();
    });
}

fn plan_flag(country: &str) -> Value {
    json!({
        "type": "string", "state": "on", "variants": { "free": "free", "pro": "pro" },
        "offVariant": "free", "fallthrough": { "variant": "free" },
        "rules": [{ "id": "by-country", "when": { "attribute": "country", "op": "in", "values": [country] },
                    "serve": { "variant": "pro" } }]
    })
}

#[test]
fn context_sets_sampling_and_a_change_requests_what_if() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let developer = server.client(Some(&token(&server, "dev", "developer", None)));
        let viewer = server.client(Some(&token(&server, "vera", "viewer", None)));
        let sets = format!("{PROD}/context-sets");

        // Uploading: developers and up; each context checked by core.
        let contexts: Vec<Value> = ["DE", "FR", "US", "FR"]
            .iter()
            .enumerate()
            .map(|(i, country)| json!({ "targetingKey": format!("user-{i}"), "country": country }))
            .collect();
        let body = json!({ "contexts": contexts, "description": "four users" });
        assert_eq!(viewer.put(&format!("{sets}/eu"), body.clone()).status, 403);
        let put = developer.put(&format!("{sets}/eu"), body);
        assert_eq!(put.status, 200, "{}", put.text);
        assert_eq!(
            (put.json["name"].as_str(), put.json["source"].as_str(), put.json["count"].as_i64()),
            (Some("eu"), Some("uploaded"), Some(4))
        );
        let bad = developer.put(&format!("{sets}/bad"), json!({ "contexts": [{}, {"a": 1}, [1, 2]] }));
        assert_eq!((bad.status, bad.json["error"]["path"].as_str()), (400, Some("/contexts/2")), "{}", bad.text);
        let many = vec![json!({}); 10_001];
        let too_many = developer.put(&format!("{sets}/many"), json!({ "contexts": many }));
        assert_eq!(
            (too_many.status, too_many.json["error"]["path"].as_str()),
            (400, Some("/contexts")),
            "{}",
            too_many.text
        );
        let big = json!({ "contexts": [{ "blob": "x".repeat(1024 * 1024) }] });
        let too_big = developer.put(&format!("{sets}/big"), big);
        assert_eq!((too_big.status, too_big.code()), (413, "payload_too_large"));
        assert_eq!(developer.put(&format!("{sets}/sampled"), json!({ "contexts": [] })).status, 409);
        assert_eq!(
            developer.put(&format!("{DEV}/context-sets/x"), json!({ "contexts": "no" })).code(),
            "invalid_request"
        );
        assert_eq!(developer.put("/api/v1/environments/nowhere/context-sets/x", json!({ "contexts": [] })).status, 404);
        let list = viewer.get(&sets).json;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
        assert_eq!(list[0]["name"], "eu");
        let got = viewer.get(&format!("{sets}/eu")).json;
        assert_eq!(
            (got["contexts"][1]["country"].as_str(), got["description"].as_str()),
            (Some("FR"), Some("four users"))
        );
        assert_eq!(viewer.get(&format!("{sets}/unknown")).status, 404);
        let audited = admin.get("/api/v1/audit?environment=production").json;
        assert!(audited.as_array().unwrap().iter().any(|e| e["action"] == "context_set" && e["principal"] == "dev"));

        // Sampling: off by default; on, SDK evaluate and OFREP calls fill `sampled`.
        let environments = viewer.get("/api/v1/environments").json;
        assert!(environments.as_array().unwrap().iter().all(|e| e["sampleContexts"] == false), "{environments:#}");
        assert_eq!(viewer.get(&format!("{sets}/sampled")).status, 404);
        assert_eq!(developer.send("PATCH", PROD, Some(&json!({ "sampleContexts": true })), &[]).status, 403);
        let patched = admin.send("PATCH", PROD, Some(&json!({ "sampleContexts": true, "reason": "what-if" })), &[]);
        assert_eq!(
            (patched.status, patched.json["sampleContexts"].as_bool(), patched.json["protected"].as_bool()),
            (200, Some(true), Some(true)),
            "{}",
            patched.text
        );
        let sdk = server.client(Some(&token(&server, "app", "sdk", Some("production"))));
        for (key, country) in [("s-1", "DE"), ("s-2", "FR")] {
            let answer =
                sdk.post("/sdk/v1/evaluate", json!({ "context": { "targetingKey": key, "country": country } }));
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
        let ofrep =
            sdk.post("/ofrep/v1/evaluate/flags", json!({ "context": { "targetingKey": "s-3", "country": "FR" } }));
        assert_eq!(ofrep.status, 200, "{}", ofrep.text);
        let sampled = viewer.get(&format!("{sets}/sampled")).json;
        assert_eq!((sampled["source"].as_str(), sampled["count"].as_i64()), (Some("sampled"), Some(3)), "{sampled:#}");
        assert_eq!(sampled["contexts"][2]["targetingKey"], "s-3");
        assert_eq!(viewer.get(&sets).json[0]["name"], "sampled");

        // What-if: a developer's change in protected production, against the sets.
        let created =
            admin.put(&format!("{PROD}/flags/plan"), json!({ "definition": plan_flag("DE"), "reason": "new" }));
        assert_eq!(created.status, 201, "{}", created.text);
        let proposal = developer.put(
            &format!("{PROD}/flags/plan"),
            json!({ "definition": plan_flag("FR"), "baseRevision": created.json["revision"], "reason": "France" }),
        );
        assert_eq!(proposal.status, 202, "{}", proposal.text);
        let id = proposal.json["changeRequest"]["id"].as_str().unwrap().to_string();
        let what_if = format!("/api/v1/change-requests/{id}/what-if");
        let found = viewer.post(&what_if, json!({ "contextSet": "eu" }));
        assert_eq!(found.status, 200, "{}", found.text);
        let found = found.json;
        assert_eq!(
            (found["changeRequest"].as_str(), found["environment"].as_str()),
            (Some(id.as_str()), Some("production"))
        );
        assert_eq!(found["revision"], created.json["revision"]);
        assert_eq!(
            (found["flags"].clone(), found["contexts"].as_i64(), found["flipped"].as_i64()),
            (json!(["plan"]), Some(4), Some(3))
        );
        assert_eq!(
            found["summary"][0],
            json!({ "flag": "plan", "from": { "value": "free", "variant": "free" }, "to": { "value": "pro", "variant": "pro" }, "count": 2 })
        );
        let first = &found["results"][0];
        assert_eq!(
            (first["index"].as_i64(), first["targetingKey"].as_str(), first["flag"].as_str()),
            (Some(0), Some("user-0"), Some("plan"))
        );
        assert_eq!(
            (first["before"]["variant"].as_str(), first["before"]["ruleId"].as_str()),
            (Some("pro"), Some("by-country"))
        );
        assert_eq!(
            (first["after"]["variant"].as_str(), first["after"]["reason"].as_str()),
            (Some("free"), Some("DEFAULT"))
        );
        let sampled = viewer.post(&what_if, json!({ "contextSet": "sampled" })).json;
        assert_eq!((sampled["contexts"].as_i64(), sampled["flipped"].as_i64()), (Some(3), Some(3)), "{sampled:#}");
        let inline = viewer.post(&what_if, json!({ "contexts": [{ "country": "US" }, { "country": "FR" }] })).json;
        assert_eq!((inline["flipped"].as_i64(), inline["results"][0]["index"].as_i64()), (Some(1), Some(1)));
        assert_eq!(inline["results"][0]["targetingKey"], Value::Null);
        let bad = viewer.post(&what_if, json!({ "contexts": [{ "country": "US" }, 7] }));
        assert_eq!((bad.status, bad.json["error"]["path"].as_str()), (400, Some("/contexts/1")));
        assert_eq!(viewer.post(&what_if, json!({})).code(), "invalid_request");
        assert_eq!(viewer.post(&what_if, json!({ "contextSet": "eu", "contexts": [] })).code(), "invalid_request");
        assert_eq!(viewer.post(&what_if, json!({ "contextSet": "unknown" })).status, 404);
        assert_eq!(viewer.post("/api/v1/change-requests/nothing/what-if", json!({ "contexts": [] })).status, 404);
        // Nothing was written: the flag is as it was, the request still pending.
        assert_eq!(
            viewer.get(&format!("{PROD}/flags/plan")).json["definition"]["rules"][0]["when"]["values"],
            json!(["DE"])
        );
        let approved = admin.post(&format!("/api/v1/change-requests/{id}/approve"), json!({ "reason": "ok" }));
        assert_eq!(approved.status, 200, "{}", approved.text);
        assert_eq!(viewer.post(&what_if, json!({ "contextSet": "eu" })).status, 409);

        // Deleting.
        assert_eq!(viewer.delete(&format!("{sets}/eu")).status, 403);
        assert_eq!(developer.delete(&format!("{sets}/eu")).status, 200);
        assert_eq!(viewer.get(&format!("{sets}/eu")).status, 404);
        assert_eq!(developer.delete(&format!("{sets}/eu")).status, 404);
        assert_eq!(developer.delete(&format!("{sets}/sampled")).status, 200);
        assert_eq!(viewer.get(&format!("{sets}/sampled")).json["count"], 0);
    });
}

#[test]
fn the_dashboard_is_served_at_the_root_with_its_headers_unless_turned_off() {
    let db = Database::new(Backend::Sqlite);
    let server = Server::start_on(&db, &[]);
    let anonymous = server.client(None);
    let page = anonymous.get("/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("<html"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("content-security-policy"), Some(pennon_server::dashboard::CONTENT_SECURITY_POLICY));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // Every asset the page names: hashed, cached for a year, typed.
    for name in page.text.split("/assets/").skip(1).map(|rest| rest.split(['"', '\'']).next().unwrap()) {
        let asset = anonymous.get(&format!("/assets/{name}"));
        assert_eq!(asset.status, 200, "/assets/{name}");
        assert_eq!(asset.header("cache-control"), Some("public, max-age=31536000, immutable"));
        let expected = if name.ends_with(".js") { "text/javascript" } else { "text/css" };
        assert!(
            asset.header("content-type").unwrap().starts_with(expected),
            "{name}: {:?}",
            asset.header("content-type")
        );
        assert_eq!(asset.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(anonymous.get("/assets/missing-0000.js").status, 404);
    drop(server);
    let server = Server::start_on(&db, &["--no-dashboard"]);
    assert_eq!(server.client(None).get("/").status, 404);
    assert_eq!(server.admin().get("/api/v1/me").status, 200);
}
