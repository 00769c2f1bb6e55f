//! The admin API against a real server, on SQLite and on PostgreSQL: validation by core,
//! optimistic concurrency, approvals, the kill switch, rollback, overrides, import and
//! export, bad input, and the auth matrix over every route of the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{Backend, Server, boolean_flag, each_backend, token};
use serde_json::{Value, json};

const DEV: &str = "/api/v1/environments/development";
const PROD: &str = "/api/v1/environments/production";

#[test]
fn a_change_is_validated_by_core_and_a_refused_one_writes_nothing() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let created = admin.put(&format!("{DEV}/flags/checkout"), json!({ "definition": boolean_flag("on") }));
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.json["revision"], 1);
        assert_eq!(created.json["action"], "create");

        let mut bad = boolean_flag("on");
        bad["offVariant"] = json!("missing");
        let refused = admin.put(&format!("{DEV}/flags/other"), json!({ "definition": bad }));
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.code(), "unknown_variant");
        assert_eq!(refused.json["error"]["path"], "/flags/other/offVariant");
        assert!(refused.json["error"]["requestId"].as_str().is_some_and(|id| id.len() > 8));

        // A segment a flag uses cannot be deleted from under it.
        let segment = admin.put(
            &format!("{DEV}/segments/staff"),
            json!({ "definition": { "when": { "attribute": "email", "op": "endsWith", "value": "@pennon.dev" } } }),
        );
        assert_eq!(segment.status, 201, "{}", segment.text);
        let mut uses = boolean_flag("on");
        uses["rules"] = json!([{ "id": "staff", "when": { "inSegment": "staff" }, "serve": { "variant": "off" } }]);
        let with_rule = admin.put(&format!("{DEV}/flags/uses-staff"), json!({ "definition": uses }));
        assert_eq!(with_rule.status, 201, "{}", with_rule.text);
        let revision = with_rule.json["revision"].as_i64().unwrap();
        let seg_rev = segment.json["revision"].as_i64().unwrap();
        let gone = admin.delete(&format!("{DEV}/segments/staff?baseRevision={seg_rev}"));
        assert_eq!(gone.status, 422, "{}", gone.text);
        assert_eq!(gone.code(), "unknown_segment");

        // Nothing of the refused changes was written or published.
        let flags = admin.get(&format!("{DEV}/flags"));
        assert_eq!(flags.json["revision"], revision);
        let keys: Vec<&str> =
            flags.json["flags"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["checkout", "uses-staff"]);
        assert_eq!(admin.get(&format!("{DEV}/flags/other")).status, 404);
        assert_eq!(admin.get(&format!("{DEV}/segments/staff")).status, 200);
        let verify = admin.get("/api/v1/audit/verify");
        assert_eq!(verify.json["ok"], true, "{}", verify.text);
    });
}

#[test]
fn writes_name_their_base_revision_and_a_stale_one_gets_409() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let path = format!("{DEV}/flags/f");
        assert_eq!(admin.put(&path, json!({ "definition": boolean_flag("off") })).status, 201);
        let missing = admin.put(&path, json!({ "definition": boolean_flag("on") }));
        assert_eq!(missing.status, 428, "{}", missing.text);
        assert_eq!(missing.code(), "precondition_required");
        let current = admin.get(&path).json["revision"].as_i64().unwrap();
        let first = admin.put(&path, json!({ "definition": boolean_flag("on"), "baseRevision": current }));
        assert_eq!(first.status, 200, "{}", first.text);
        let second = admin.put(&path, json!({ "definition": boolean_flag("shadow"), "baseRevision": current }));
        assert_eq!(second.status, 409, "{}", second.text);
        assert_eq!(second.code(), "conflict");
        assert_eq!(second.json["error"]["currentRevision"], first.json["revision"]);
        assert_eq!(admin.get(&path).json["definition"]["state"], "on");
        // Creating over an existing flag with baseRevision 0 is a conflict too.
        assert_eq!(admin.put(&path, json!({ "definition": boolean_flag("on"), "baseRevision": 0 })).status, 409);
    });
}

#[test]
fn state_kill_rollback_rollout_and_overrides_in_the_users_words() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let flag = format!("{DEV}/flags/new-checkout");
        assert_eq!(admin.put(&flag, json!({ "definition": boolean_flag("off") })).status, 201);

        let canary = admin
            .post(&format!("{flag}/state"), json!({ "state": "canary", "percentage": 10, "reason": "start canary" }));
        assert_eq!(canary.status, 200, "{}", canary.text);
        assert_eq!(canary.json["definition"]["canary"], json!({ "percentage": 10 }));
        let staged = admin.put(
            &format!("{flag}/rollout"),
            json!({ "cohort": "fallthrough", "stages": [{ "percentage": 10, "duration": "PT1H" }, { "percentage": 50, "duration": "PT1H" }, { "percentage": 100 }], "start": "2026-01-01T00:00:00Z" }),
        );
        assert_eq!(staged.status, 200, "{}", staged.text);
        assert_eq!(staged.json["definition"]["fallthrough"]["rollout"]["progressive"]["stages"][1]["percentage"], 50);

        let killed = admin.post(&format!("{flag}/kill"), json!({ "reason": "errors" }));
        assert_eq!(killed.status, 200, "{}", killed.text);
        assert_eq!(killed.json["action"], "kill");
        let rolled = admin.post(&format!("{flag}/rollback"), json!({ "reason": "fixed" }));
        assert_eq!(rolled.status, 200, "{}", rolled.text);
        assert_eq!(
            rolled.json["definition"], staged.json["definition"],
            "rollback restores the definition before the kill"
        );
        let to_first = admin.post(&format!("{flag}/rollback"), json!({ "toRevision": 1 }));
        assert_eq!(to_first.json["definition"], boolean_flag("off"));
        let too_early = admin.post(&format!("{flag}/rollback"), json!({ "toRevision": 0 }));
        assert_eq!(too_early.status, 422, "{}", too_early.text);

        // An override that expires stops applying at its instant: it is in the snapshot.
        let on = admin.post(&format!("{flag}/state"), json!({ "state": "off" }));
        assert_eq!(on.status, 200);
        let set = admin.put(
            &format!("{flag}/overrides/acme"),
            json!({ "variant": "on", "expiresAt": "2030-01-01T00:00:00Z", "note": "contract 1182" }),
        );
        assert_eq!(set.status, 200, "{}", set.text);
        let evaluate = |now: &str| {
            admin
                .post(
                    &format!("{flag}/evaluate"),
                    json!({ "context": { "targetingKey": "u1", "tenant": "acme" }, "now": now }),
                )
                .json
        };
        // An off flag serves its off variant even to an override: set it on first.
        admin.post(&format!("{flag}/state"), json!({ "state": "on" }));
        assert_eq!(evaluate("2029-12-31T23:59:59Z")["reason"], "OVERRIDE");
        assert_ne!(evaluate("2030-01-01T00:00:00Z")["reason"], "OVERRIDE");
        let removed = admin.delete(&format!("{flag}/overrides/acme"));
        assert_eq!(removed.status, 200, "{}", removed.text);
        assert_eq!(admin.delete(&format!("{flag}/overrides/acme")).status, 404);

        let history = admin.get(&format!("{flag}/history"));
        let actions: Vec<&str> =
            history.json.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            [
                "override_rm",
                "state",
                "override_set",
                "state",
                "rollback",
                "rollback",
                "kill",
                "rollout",
                "state",
                "create"
            ]
        );
        assert_eq!(history.json[6]["reason"], "errors");
        assert_eq!(history.json[6]["before"]["state"], "canary");
        assert_eq!(history.json[6]["after"]["state"], "kill");
        assert_eq!(admin.get("/api/v1/audit/verify").json["ok"], true);
    });
}

#[test]
fn a_protected_environment_takes_a_developers_change_as_a_request_for_another_admin() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let dev = server.client(Some(&token(&server, "dana", "developer", None)));
        let second_admin = server.client(Some(&token(&server, "ines", "admin", None)));
        let flag = format!("{PROD}/flags/payments");
        // Admins change protected environments directly, with a reason.
        assert_eq!(admin.put(&flag, json!({ "definition": boolean_flag("off") })).code(), "reason_required");
        let created = admin.put(&flag, json!({ "definition": boolean_flag("off"), "reason": "launch prep" }));
        assert_eq!(created.status, 201, "{}", created.text);

        let proposed = dev.post(&format!("{flag}/state"), json!({ "state": "on", "reason": "launch" }));
        assert_eq!(proposed.status, 202, "{}", proposed.text);
        let id = proposed.json["changeRequest"]["id"].as_str().unwrap().to_string();
        assert_eq!(admin.get(&flag).json["definition"]["state"], "off", "nothing applies before approval");
        let pending = admin.get("/api/v1/change-requests?status=pending");
        assert_eq!(pending.json.as_array().unwrap().len(), 1);

        // An invalid proposal is refused at once, not filed.
        let mut bad = boolean_flag("on");
        bad["offVariant"] = json!("nope");
        let base = created.json["revision"].as_i64().unwrap();
        assert_eq!(dev.put(&flag, json!({ "definition": bad, "reason": "x", "baseRevision": base })).status, 422);

        // The author cannot approve (even an admin author); a developer cannot approve.
        let own = admin.post(&format!("{flag}/state"), json!({ "state": "shadow", "reason": "try" }));
        assert_eq!(own.status, 200, "admins apply directly");
        assert_eq!(dev.post(&format!("/api/v1/change-requests/{id}/approve"), json!({})).status, 403);

        // The flag changed since the request was made: it must be proposed again.
        let stale = second_admin.post(&format!("/api/v1/change-requests/{id}/approve"), json!({ "reason": "ok" }));
        assert_eq!(stale.status, 409, "{}", stale.text);
        let again = dev.post(&format!("{flag}/state"), json!({ "state": "on", "reason": "launch, rebased" }));
        let id = again.json["changeRequest"]["id"].as_str().unwrap().to_string();
        let approved =
            second_admin.post(&format!("/api/v1/change-requests/{id}/approve"), json!({ "reason": "looks good" }));
        assert_eq!(approved.status, 200, "{}", approved.text);
        assert_eq!(admin.get(&flag).json["definition"]["state"], "on");
        assert_eq!(admin.get(&format!("/api/v1/change-requests/{id}")).json["status"], "applied");
        assert_eq!(
            second_admin.post(&format!("/api/v1/change-requests/{id}/approve"), json!({})).status,
            409,
            "applied once"
        );

        // A change request by an admin is impossible, so self-approval is tested with the
        // developer's own admin token: same principal name, different role.
        let dana_admin = server.client(Some(&token(&server, "dana", "admin", None)));
        let third = dev.post(&format!("{flag}/state"), json!({ "state": "off", "reason": "rollback" }));
        let id = third.json["changeRequest"]["id"].as_str().unwrap().to_string();
        let own = dana_admin.post(&format!("/api/v1/change-requests/{id}/approve"), json!({}));
        assert_eq!(own.status, 403);
        assert_eq!(own.code(), "self_approval");
        let rejected = dev.post(&format!("/api/v1/change-requests/{id}/reject"), json!({ "reason": "withdrawn" }));
        assert_eq!(rejected.status, 200, "{}", rejected.text);
        assert_eq!(rejected.json["status"], "rejected");

        // The kill switch needs no approval, for any developer, and is audited.
        let killed = dev.post(&format!("{flag}/kill"), json!({ "reason": "incident 42" }));
        assert_eq!(killed.status, 200, "{}", killed.text);
        assert_eq!(admin.get(&flag).json["definition"]["state"], "kill");
        let audit = admin.get("/api/v1/audit?flag=payments&principal=dana&limit=1");
        assert_eq!(audit.json[0]["action"], "kill");
        assert_eq!(audit.json[0]["reason"], "incident 42");
        // Filtered by action on the server: dana's change request is older than the kill.
        let requests = admin.get("/api/v1/audit?principal=dana&action=change_request").json;
        let requests = requests.as_array().unwrap();
        assert!(!requests.is_empty() && requests.iter().all(|e| e["action"] == "change_request"), "{requests:?}");
        assert_eq!(admin.get("/api/v1/audit?action=no_such_action").json, json!([]));
        assert_eq!(admin.get("/api/v1/audit/verify").json["ok"], true);
    });
}

#[test]
fn import_export_and_every_revision_is_kept() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = server.admin();
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap();
        let snapshot: Value = serde_json::from_str(&text).unwrap();
        let imported = admin.post(&format!("{DEV}/import"), json!({ "snapshot": snapshot, "reason": "seed" }));
        assert_eq!(imported.status, 200, "{}", imported.text);
        let revision = imported.json["revision"].as_i64().unwrap();
        // Where each flag's cohorts stand now is core's answer, in every flag view.
        let canary = admin.get(&format!("{DEV}/flags/checkout.new-flow")).json;
        let gate = json!({ "percentage": 100.0, "stage": 3, "stages": 4, "paused": false, "ramping": false });
        assert_eq!(canary["standing"], json!({ "canary": gate, "fallthrough": null }));
        let listed = admin.get(&format!("{DEV}/flags")).json;
        let ranker = listed["flags"].as_array().unwrap().iter().find(|f| f["key"] == "search.new-ranker").unwrap();
        assert_eq!(ranker["standing"]["fallthrough"]["percentage"], 25.0);
        assert!(admin.get(&format!("{DEV}/segments")).json["segments"][0].get("standing").is_none());
        let exported = admin.get(&format!("{DEV}/snapshot"));
        assert_eq!(exported.status, 200);
        let ours: Value = serde_json::from_str(&exported.text).unwrap();
        assert_eq!(ours["flags"], snapshot["flags"]);
        assert_eq!(ours["revision"], revision);
        assert_eq!(exported.header("pennon-revision"), Some(revision.to_string().as_str()));
        // Importing the same again changes nothing and is refused as such.
        assert_eq!(admin.post(&format!("{DEV}/import"), json!({ "snapshot": snapshot })).status, 422);
        // A later change; the old revision is still served byte for byte.
        let first_key = snapshot["flags"].as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(admin.post(&format!("{DEV}/flags/{first_key}/kill"), json!({})).status, 200);
        let old = admin.get(&format!("{DEV}/snapshot?revision={revision}"));
        assert_eq!(old.text, exported.text);
        assert_eq!(old.header("pennon-signature"), exported.header("pennon-signature"));
        assert_eq!(admin.get(&format!("{DEV}/snapshot?revision=999")).status, 404);
        // replace: the environment becomes exactly the snapshot.
        let one = json!({ "schemaVersion": 1, "revision": 0, "flags": { "only": boolean_flag("on") } });
        let replaced = admin.post(&format!("{DEV}/import"), json!({ "snapshot": one, "replace": true }));
        assert_eq!(replaced.status, 200, "{}", replaced.text);
        let keys: Vec<Value> = admin.get(&format!("{DEV}/flags")).json["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].clone())
            .collect();
        assert_eq!(keys, [json!("only")]);
        // An invalid snapshot is refused with core's code.
        let invalid = admin
            .post(&format!("{DEV}/import"), json!({ "snapshot": { "schemaVersion": 2, "revision": 0, "flags": {} } }));
        assert_eq!(invalid.code(), "unsupported_schema_version");
    });
}

#[test]
fn bad_requests_get_clear_errors() {
    let (server, _db) = Server::start(Backend::Sqlite);
    let admin = server.admin();
    let path = format!("{DEV}/flags/x");
    let not_json = admin.send("PUT", &path, None, &[("content-type", "application/json")]);
    assert_eq!(not_json.status, 400);
    let raw =
        admin.http.put(format!("{}{path}", admin.base)).bearer_auth(common::ADMIN_TOKEN).body("{nope").send().unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let body: Value = raw.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    let wrong_shape = admin.put(&path, json!({ "definitio": {} }));
    assert_eq!(wrong_shape.status, 400);
    assert_eq!(wrong_shape.code(), "invalid_request");
    assert_eq!(admin.get("/api/v1/environments/nowhere/flags").status, 404);
    assert_eq!(admin.post(&format!("{DEV}/flags/none/kill"), json!({})).status, 404);
    let context = admin.put(&path, json!({ "definition": boolean_flag("on") }));
    assert_eq!(context.status, 201);
    let bad_context = admin.post(&format!("{path}/evaluate"), json!({ "context": [1] }));
    assert_eq!(bad_context.status, 400);
    assert_eq!(bad_context.code(), "invalid_context");
    // Last, on its own connection: the server answers 413 without reading the body and
    // closes that connection.
    let big = "x".repeat(9 * 1024 * 1024);
    let once = reqwest::blocking::Client::new();
    let too_large =
        once.put(format!("{}{path}", admin.base)).bearer_auth(common::ADMIN_TOKEN).body(big).send().unwrap();
    assert_eq!(too_large.status().as_u16(), 413);
    let body: Value = too_large.json().unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[test]
fn failed_authentication_is_rate_limited_per_address() {
    let (server, _db) = Server::start(Backend::Sqlite);
    let wrong = server.client(Some("pennon_wrong"));
    let statuses: Vec<u16> = (0..25).map(|_| wrong.get("/api/v1/status").status).collect();
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[24], 429);
    let limited = wrong.get("/api/v1/status");
    assert!(limited.header("retry-after").is_some());
    // Even the right token waits: a guesser learns nothing while limited.
    assert_eq!(server.admin().get("/api/v1/status").status, 429);
}

/// Who calls, in the auth matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    Malformed,
    Wrong,
    Revoked,
    Viewer,
    Sdk,
    Developer,
    Admin,
}

#[test]
fn auth_matrix_over_every_route() {
    each_backend(|backend| {
        let db = common::Database::new(backend);
        let server = Server::start_on(&db, &["--max-auth-failures", "1000000"]);
        let admin = server.admin();
        assert_eq!(admin.put(&format!("{DEV}/flags/matrix"), json!({ "definition": boolean_flag("on") })).status, 201);
        let viewer = token(&server, "vera", "viewer", None);
        let developer = token(&server, "dev", "developer", None);
        let sdk = token(&server, "web", "sdk", Some("development"));
        let revoked = token(&server, "old", "admin", None);
        let id =
            admin.get("/api/v1/tokens").json.as_array().unwrap().iter().find(|t| t["name"] == "old").unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
        assert_eq!(admin.delete(&format!("/api/v1/tokens/{id}")).status, 200);

        let document = admin.get("/openapi.json").json;
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let scope = match operation.get("security").and_then(|s| s[0].as_object()) {
                    None => "public".to_string(),
                    Some(requirement) => {
                        let (scheme, scopes) = requirement.iter().next().unwrap();
                        if scheme == "sdkKey" { "sdk".to_string() } else { scopes[0].as_str().unwrap().to_string() }
                    }
                };
                let url = path
                    .replace("{env}", "development")
                    .replace("{key}", "matrix")
                    .replace("{tenant}", "acme")
                    .replace("{id}", "no-such-id")
                    .replace("{revision}", "1");
                for who in [
                    Who::Nobody,
                    Who::Malformed,
                    Who::Wrong,
                    Who::Revoked,
                    Who::Viewer,
                    Who::Sdk,
                    Who::Developer,
                    Who::Admin,
                ] {
                    let (secret, header): (Option<&str>, Option<(&str, &str)>) = match who {
                        Who::Nobody => (None, None),
                        Who::Malformed => (None, Some(("authorization", "Basic dXNlcjpwYXNz"))),
                        Who::Wrong => (Some("pennon_not_a_real_token_at_all"), None),
                        Who::Revoked => (Some(revoked.as_str()), None),
                        Who::Viewer => (Some(viewer.as_str()), None),
                        Who::Sdk => (Some(sdk.as_str()), None),
                        Who::Developer => (Some(developer.as_str()), None),
                        Who::Admin => (Some(common::ADMIN_TOKEN), None),
                    };
                    let client = server.client(secret);
                    let body = (method != "get" && method != "delete").then(|| json!({}));
                    // The stream never ends: look at the status only.
                    let answer = if url == "/sdk/v1/stream" || url == "/ofrep/v1/events" {
                        let mut request = client.http.get(format!("{}{url}", client.base));
                        if let Some(secret) = secret {
                            request = request.bearer_auth(secret);
                        }
                        if let Some((name, value)) = header {
                            request = request.header(name, value);
                        }
                        request.send().unwrap().status().as_u16()
                    } else {
                        client.send(&method.to_uppercase(), &url, body.as_ref(), header.as_slice()).status
                    };
                    let allowed = match (scope.as_str(), who) {
                        ("public", _) => true,
                        (_, Who::Nobody | Who::Malformed | Who::Wrong | Who::Revoked) => {
                            assert_eq!(answer, 401, "{method} {path} as {who:?}");
                            checked += 1;
                            continue;
                        }
                        ("sdk", who) => who == Who::Sdk,
                        ("viewer", who) => matches!(who, Who::Viewer | Who::Developer | Who::Admin),
                        ("developer", who) => matches!(who, Who::Developer | Who::Admin),
                        ("admin", who) => who == Who::Admin,
                        (other, _) => panic!("{method} {path}: unknown scope {other}"),
                    };
                    if allowed {
                        assert!(answer != 401 && answer != 403, "{method} {path} as {who:?} ({scope}) got {answer}");
                    } else {
                        assert_eq!(answer, 403, "{method} {path} as {who:?} ({scope})");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "only {checked} checks");
    });
}

#[test]
fn ofrep_bulk_evaluation_announces_its_change_notification_stream() {
    use std::io::BufRead;
    let (server, _db) = Server::start(Backend::Sqlite);
    let admin = server.admin();
    assert_eq!(admin.put(&format!("{DEV}/flags/banner"), json!({ "definition": boolean_flag("on") })).status, 201);
    let key = token(&server, "web", "sdk", Some("development"));
    let sdk = server.client(Some(&key));
    let bulk = sdk.post("/ofrep/v1/evaluate/flags", json!({ "context": { "targetingKey": "u1" } }));
    assert_eq!(bulk.status, 200, "{}", bulk.text);
    assert_eq!(
        bulk.json["flags"][0],
        json!({ "key": "banner", "value": true, "variant": "on", "reason": "STATIC", "metadata": { "revision": 1 } })
    );
    let etag = bulk.header("etag").unwrap().to_string();
    assert_eq!(
        sdk.send(
            "POST",
            "/ofrep/v1/evaluate/flags",
            Some(&json!({ "context": { "targetingKey": "u1" } })),
            &[("if-none-match", &etag)]
        )
        .status,
        304
    );
    let stream = &bulk.json["eventStreams"][0];
    assert_eq!(stream["type"], "sse");
    let uri = stream["endpoint"]["requestUri"].as_str().unwrap();
    assert!(uri.starts_with("/ofrep/v1/events?key="), "{uri}");

    // Connect as EventSource would (no headers), then change the flag.
    let response = reqwest::blocking::Client::new().get(format!("{}{uri}", server.url)).send().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(response).lines() {
            let Ok(line) = line else { break };
            if let Some(data) = line.strip_prefix("data: ") {
                let _ = tx.send(data.to_string());
            }
        }
    });
    assert_eq!(admin.post(&format!("{DEV}/flags/banner/kill"), json!({})).status, 200);
    let data: Value = serde_json::from_str(&rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(data["type"], "refetchEvaluation");
    let after = sdk.send(
        "POST",
        "/ofrep/v1/evaluate/flags",
        Some(&json!({ "context": { "targetingKey": "u1" } })),
        &[("if-none-match", &etag)],
    );
    assert_eq!(after.status, 200, "the re-fetch after the notification gets the new evaluation");
    assert_eq!(after.json["flags"][0]["reason"], "KILLED");
    assert_eq!(after.json["flags"][0]["value"], false);
    // The key in a URL is accepted on this route only.
    assert_eq!(server.client(None).get(&format!("/sdk/v1/snapshot?key={key}")).status, 401);
}

#[test]
fn browsers_may_call_the_sdk_and_ofrep_routes_from_any_origin_but_not_the_admin_api() {
    let (server, _db) = Server::start(Backend::Sqlite);
    assert_eq!(
        server.admin().put(&format!("{DEV}/flags/banner"), json!({ "definition": boolean_flag("on") })).status,
        201
    );
    let key = token(&server, "page", "sdk", Some("development"));
    let anonymous = server.client(None);
    let origin = ("origin", "https://shop.example");
    for (path, method, headers) in [
        ("/sdk/v1/evaluate", "POST", "authorization,content-type"),
        ("/ofrep/v1/evaluate/flags", "POST", "authorization,content-type,if-none-match"),
        ("/ofrep/v1/events", "GET", "authorization,last-event-id"),
        ("/sdk/v1/stream", "GET", "authorization,last-event-id"),
        ("/sdk/v1/snapshot", "GET", "x-api-key,if-none-match"),
    ] {
        // The preflight is answered without a key, before authentication.
        let preflight = anonymous.send(
            "OPTIONS",
            path,
            None,
            &[origin, ("access-control-request-method", method), ("access-control-request-headers", headers)],
        );
        assert!(
            preflight.status == 200 || preflight.status == 204,
            "{path}: preflight {} {}",
            preflight.status,
            preflight.text
        );
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"), "{path}");
        let methods = preflight.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
        assert!(methods.contains(method), "{path}: allowed methods {methods}");
        let allowed = preflight.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
        for name in headers.split(',') {
            assert!(allowed.contains(name), "{path}: {name} not in allowed headers {allowed}");
        }
    }
    // The answers themselves carry the headers a page may read.
    let sdk = server.client(Some(&key));
    let evaluated =
        sdk.send("POST", "/sdk/v1/evaluate", Some(&json!({ "context": { "targetingKey": "u1" } })), &[origin]);
    assert_eq!(evaluated.status, 200, "{}", evaluated.text);
    assert_eq!(evaluated.header("access-control-allow-origin"), Some("*"));
    assert_eq!(evaluated.json["flags"]["banner"]["value"], true);
    assert_eq!(evaluated.json["revision"], 1);
    assert!(evaluated.json["generatedAt"].as_str().is_some_and(|at| at.ends_with('Z')), "{}", evaluated.text);
    let bulk = sdk.send("POST", "/ofrep/v1/evaluate/flags", Some(&json!({ "context": {} })), &[origin]);
    let exposed = bulk.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["etag", "pennon-revision", "pennon-signature"] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed}");
    }
    // A refused key is still readable as a 401 by the page (not an opaque CORS failure).
    let refused = server.client(Some("not-a-key")).send("POST", "/sdk/v1/evaluate", Some(&json!({})), &[origin]);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
    // The admin API gets no CORS: its tokens must never be in a page.
    let admin = server.admin().send("GET", &format!("{DEV}/flags"), None, &[origin]);
    assert_eq!(admin.status, 200);
    assert_eq!(admin.header("access-control-allow-origin"), None);
    let preflight = anonymous.send(
        "OPTIONS",
        &format!("{DEV}/flags"),
        None,
        &[origin, ("access-control-request-method", "GET"), ("access-control-request-headers", "authorization")],
    );
    assert_eq!(preflight.header("access-control-allow-origin"), None, "admin preflight: {}", preflight.status);
}

#[test]
fn the_stale_report_names_flags_to_clean_up_and_why() {
    let (server, _db) = Server::start(Backend::Sqlite);
    let admin = server.admin();
    let put = |key: &str, definition: Value| {
        assert_eq!(admin.put(&format!("{DEV}/flags/{key}"), json!({ "definition": definition })).status, 201);
    };
    put("everyone", boolean_flag("on"));
    let mut targeted = boolean_flag("on");
    targeted["rules"] = json!([{ "id": "beta", "when": { "attribute": "beta", "op": "equals", "value": true }, "serve": { "variant": "off" } }]);
    put("targeted", targeted);
    put("killed", boolean_flag("kill"));
    let mut overdue = boolean_flag("off");
    overdue["metadata"] = json!({ "owner": "growth", "removeBy": "2020-01-01T00:00:00Z" });
    put("overdue", overdue);
    let report = admin.get(&format!("{DEV}/stale?days=0"));
    assert_eq!(report.status, 200, "{}", report.text);
    let reasons: Vec<(String, Value)> = report
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_string(), f["reasons"].clone()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("everyone".to_string(), json!(["fully_rolled_out"])),
            ("killed".to_string(), json!(["killed"])),
            ("overdue".to_string(), json!(["past_remove_by"])),
        ],
        "a flag with a rule that can still serve something else is not fully rolled out"
    );
    let later = admin.get(&format!("{DEV}/stale"));
    let keys: Vec<&str> = later.json.as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["overdue"], "nothing settled for 30 days; a past removeBy counts at once");
}
