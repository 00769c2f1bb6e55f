//! Snapshot distribution (DESIGN §7, docs/control-plane.md "SDK routes") on every backend:
//! a change made with the CLI reaches an SSE client within a second; ETag round trips; the
//! `Pennon-Signature` verifies with the published Ed25519 key over the exact bytes;
//! `Last-Event-ID` resumes on the newest revision; per-revision URLs are immutable; and on
//! PostgreSQL two servers on one database share their publishes (LISTEN/NOTIFY), also after
//! a replica's LISTEN connection was cut; SIGTERM ends open streams and the process exits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use base64::Engine as _;
use common::{ADMIN_TOKEN, Backend, Database, Server};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ENV: &str = "development";

fn flag_path(key: &str) -> String {
    format!("/api/v1/environments/{ENV}/flags/{key}")
}

/// Creates an SDK key for `development` and returns the token.
fn sdk_key(server: &Server) -> String {
    let answer =
        server.admin().post("/api/v1/tokens", json!({ "name": "sdk-test", "role": "sdk", "environment": ENV }));
    assert_eq!(answer.status, 201, "creating an SDK key: {}", answer.text);
    answer.json["token"].as_str().unwrap_or_else(|| panic!("no token in {}", answer.text)).to_string()
}

fn put_flag(server: &Server, key: &str, state: &str) -> u64 {
    let current = server.admin().get(&flag_path(key));
    let mut body = json!({ "definition": common::boolean_flag(state), "reason": "distribution test" });
    if current.status == 200 {
        body["baseRevision"] = current.json["revision"].clone();
    }
    let answer = server.admin().put(&flag_path(key), body);
    assert!(answer.status == 200 || answer.status == 201, "PUT {key}: {} {}", answer.status, answer.text);
    answer.json["revision"].as_u64().unwrap()
}

/// One server-sent event (or a comment line, with `event` = ":" and the comment as data).
#[derive(Debug, Clone)]
struct Event {
    event: String,
    id: Option<String>,
    data: Vec<String>,
    at: Instant,
}

impl Event {
    fn revision(&self) -> u64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("an event without a numeric id: {self:?}"))
    }
    fn meta(&self) -> Value {
        serde_json::from_str(&self.data[0]).unwrap_or_else(|e| panic!("metadata line is not JSON ({e}): {self:?}"))
    }
    fn snapshot(&self) -> Value {
        assert_eq!(self.data.len(), 2, "a snapshot event has two data lines: {self:?}");
        serde_json::from_str(&self.data[1]).unwrap_or_else(|e| panic!("snapshot line is not JSON ({e}): {self:?}"))
    }
}

/// An open `GET /sdk/v1/stream`, read line by line in a thread.
struct Stream {
    events: mpsc::Receiver<Event>,
    content_type: String,
}

impl Stream {
    fn open(base: &str, key: &str, last_event_id: Option<&str>) -> Stream {
        let http = reqwest::blocking::Client::builder().timeout(None).build().unwrap();
        let mut request =
            http.get(format!("{base}/sdk/v1/stream")).bearer_auth(key).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().expect("connect to /sdk/v1/stream");
        assert_eq!(response.status().as_u16(), 200, "GET /sdk/v1/stream");
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut current = Event { event: String::new(), id: None, data: Vec::new(), at: Instant::now() };
            for line in BufReader::new(response).lines() {
                let Ok(line) = line else { break };
                if line.is_empty() {
                    if !current.data.is_empty() {
                        current.at = Instant::now();
                        let event = std::mem::replace(
                            &mut current,
                            Event { event: String::new(), id: None, data: Vec::new(), at: Instant::now() },
                        );
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                    continue;
                }
                if let Some(comment) = line.strip_prefix(':') {
                    let comment =
                        Event { event: ":".into(), id: None, data: vec![comment.trim().into()], at: Instant::now() };
                    if tx.send(comment).is_err() {
                        break;
                    }
                    continue;
                }
                let (field, value) = match line.split_once(':') {
                    Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                    None => (line.as_str(), ""),
                };
                match field {
                    "event" => current.event = value.to_string(),
                    "id" => current.id = Some(value.to_string()),
                    "data" => current.data.push(value.to_string()),
                    _ => {}
                }
            }
        });
        Stream { events: rx, content_type }
    }

    /// The next event that is not a comment, within `timeout`.
    fn next_event(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.events.recv_timeout(left) {
                Ok(event) if event.event == ":" => continue,
                Ok(event) => return Some(event),
                Err(_) => return None,
            }
        }
    }

    /// Waits for the snapshot event of `revision` (skipping older ones) until `deadline`.
    fn until_revision(&self, revision: u64, deadline: Instant) -> Option<Event> {
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let event = self.next_event(left)?;
            if event.revision() >= revision {
                return Some(event);
            }
        }
    }
}

fn public_key(server: &Server) -> VerifyingKey {
    let answer = server.client(None).get("/sdk/v1/public-key");
    assert_eq!(answer.status, 200, "GET /sdk/v1/public-key needs no token: {}", answer.text);
    assert_eq!(answer.json["algorithm"], json!("ed25519"), "{}", answer.text);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(answer.json["publicKey"].as_str().expect("publicKey"))
        .expect("publicKey is base64");
    let raw: [u8; 32] =
        raw.try_into().unwrap_or_else(|raw: Vec<u8>| panic!("publicKey has {} bytes, not 32", raw.len()));
    let key = VerifyingKey::from_bytes(&raw).expect("a valid Ed25519 public key");
    let pem = answer.json["pem"].as_str().expect("pem");
    let from_pem = <VerifyingKey as ed25519_dalek::pkcs8::DecodePublicKey>::from_public_key_pem(pem)
        .expect("the PEM is an Ed25519 SubjectPublicKeyInfo");
    assert_eq!(from_pem, key, "the PEM and the raw key differ");
    key
}

fn verifies(key: &VerifyingKey, bytes: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature_base64) else { return false };
    let Ok(signature) = Signature::from_slice(&signature) else { return false };
    key.verify(bytes, &signature).is_ok()
}

/// A raw GET that keeps the body's bytes exactly as sent.
fn get_raw(
    base: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = http.get(format!("{base}{path}")).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().expect("body").to_vec())
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

// ---------------------------------------------------------------------------------------

fn cli_change_reaches_sse_client_on(backend: Backend) {
    let (server, _database) = Server::start(backend);
    put_flag(&server, "checkout", "on");
    let key = sdk_key(&server);
    let stream = Stream::open(&server.url, &key, None);
    assert!(stream.content_type.starts_with("text/event-stream"), "{backend:?}: content type {}", stream.content_type);
    let first = stream.next_event(Duration::from_secs(5)).expect("the newest snapshot at once on connect");
    assert_eq!(first.event, "snapshot", "{backend:?}: {first:?}");
    let before = first.revision();
    assert_eq!(first.snapshot()["flags"]["checkout"]["state"], json!("on"), "{backend:?}");

    let started = Instant::now();
    let output = std::process::Command::new(common::binary())
        .args(["kill", "checkout", "--reason", "distribution test"])
        .env("PENNON_URL", &server.url)
        .env("PENNON_TOKEN", ADMIN_TOKEN)
        .env("PENNON_ENV", ENV)
        .env_remove("PENNON_CONFIG")
        .output()
        .expect("run pennon kill");
    let acknowledged = Instant::now();
    assert!(
        output.status.success(),
        "{backend:?}: pennon kill failed ({:?}): {}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let event = stream
        .until_revision(before + 1, acknowledged + Duration::from_secs(1))
        .unwrap_or_else(|| panic!("{backend:?}: no event within 1 s of `pennon kill` returning"));
    eprintln!(
        "{backend:?}: pennon kill took {:?}; its event arrived {:?} after the command returned",
        acknowledged - started,
        event.at.saturating_duration_since(acknowledged)
    );
    assert_eq!(event.event, "snapshot", "{backend:?}");
    let meta = event.meta();
    let snapshot = event.snapshot();
    assert_eq!(meta["revision"].as_u64(), Some(event.revision()), "{backend:?}: {meta}");
    assert_eq!(snapshot["revision"].as_u64(), Some(event.revision()), "{backend:?}");
    assert_eq!(snapshot["flags"]["checkout"]["state"], json!("kill"), "{backend:?}: {snapshot}");
    let key = public_key(&server);
    assert!(
        verifies(&key, event.data[1].as_bytes(), meta["signature"].as_str().unwrap_or_default()),
        "{backend:?}: the stream's signature does not verify over its snapshot line"
    );
    // The stream's ETag is the snapshot route's.
    let (status, headers, _) = get_raw(&server.url, "/sdk/v1/snapshot", &sdk_key(&server), &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "etag"), meta["etag"].as_str(), "{backend:?}: stream and snapshot ETags differ");
}

#[test]
fn cli_change_reaches_sse_client_within_1s() {
    for backend in common::backends() {
        cli_change_reaches_sse_client_on(backend);
    }
}

fn etag_round_trip_on(backend: Backend) {
    let (server, _database) = Server::start(backend);
    put_flag(&server, "banner", "off");
    let key = sdk_key(&server);
    let (status, headers, body) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[]);
    assert_eq!(status, 200, "{backend:?}: {}", String::from_utf8_lossy(&body));
    let etag = header(&headers, "etag").expect("ETag").to_string();
    let revision: u64 =
        header(&headers, "pennon-revision").expect("Pennon-Revision").parse().expect("numeric revision");
    assert_eq!(header(&headers, "pennon-environment"), Some(ENV), "{backend:?}");
    let snapshot: Value = serde_json::from_slice(&body).expect("snapshot JSON");
    assert_eq!(snapshot["revision"].as_u64(), Some(revision), "{backend:?}");
    assert_eq!(snapshot["schemaVersion"], json!(1));
    assert!(!body.contains(&b'\n'), "{backend:?}: a snapshot is written without newlines");

    let (status, headers304, body304) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[("If-None-Match", &etag)]);
    assert_eq!(status, 304, "{backend:?}: If-None-Match with the current ETag");
    assert!(body304.is_empty(), "{backend:?}: a 304 has no body");
    assert_eq!(header(&headers304, "etag"), Some(etag.as_str()), "{backend:?}: a 304 repeats the ETag");
    let weak = format!("W/{etag}");
    let (status, _, _) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[("If-None-Match", &weak)]);
    assert_eq!(status, 304, "{backend:?}: If-None-Match compares weakly (a proxy that compresses marks ETags weak)");

    let (status, gz, _) =
        get_raw(&server.url, "/sdk/v1/snapshot", &key, &[("Accept-Encoding", "gzip"), ("If-None-Match", "\"other\"")]);
    assert_eq!(status, 200);
    assert_eq!(header(&gz, "content-encoding"), Some("gzip"), "{backend:?}: gzip when asked");

    let changed = put_flag(&server, "banner", "on");
    assert!(changed > revision);
    let (status, headers, body) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[("If-None-Match", &etag)]);
    assert_eq!(status, 200, "{backend:?}: after a change the old ETag must not match");
    let new_etag = header(&headers, "etag").expect("ETag");
    assert_ne!(new_etag, etag, "{backend:?}: a new revision has a new ETag");
    assert_eq!(header(&headers, "pennon-revision"), Some(changed.to_string().as_str()), "{backend:?}");
    let snapshot: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(snapshot["flags"]["banner"]["state"], json!("on"));
    let (status, _, _) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[("If-None-Match", new_etag)]);
    assert_eq!(status, 304, "{backend:?}: the new ETag matches");
}

#[test]
fn etag_round_trip() {
    for backend in common::backends() {
        etag_round_trip_on(backend);
    }
}

fn signature_verifies_on(backend: Backend) {
    let database = Database::new(backend);
    let mut server = Server::start_on(&database, &[]);
    put_flag(&server, "signed", "on");
    let key = sdk_key(&server);
    let public = public_key(&server);
    let (status, headers, body) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[]);
    assert_eq!(status, 200);
    let signature = header(&headers, "pennon-signature").expect("Pennon-Signature");
    assert!(verifies(&public, &body, signature), "{backend:?}: Pennon-Signature does not verify over the body");
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert!(!verifies(&public, &tampered, signature), "a changed byte must not verify");
    // The per-revision URL serves the same bytes with the same signature.
    let (_, revision_headers, revision_body) =
        get_raw(&server.url, &format!("/sdk/v1/snapshots/{}", header(&headers, "pennon-revision").unwrap()), &key, &[]);
    assert_eq!(revision_body, body, "{backend:?}: the per-revision URL serves the same bytes");
    assert!(verifies(&public, &revision_body, header(&revision_headers, "pennon-signature").unwrap_or_default()));
    // The signing key is kept: a restarted server signs with the same key, so SDKs
    // configured with it keep accepting snapshots.
    server.kill();
    let again = Server::start_on(&database, &[]);
    assert_eq!(public_key(&again), public, "{backend:?}: a restarted server signs with another key");
}

#[test]
fn signature_verifies_with_the_public_key() {
    for backend in common::backends() {
        signature_verifies_on(backend);
    }
}

fn last_event_id_resume_on(backend: Backend) {
    let database = Database::new(backend);
    let server = Server::start_on(&database, &["--heartbeat", "1"]);
    let key = sdk_key(&server);
    let mut newest = 0;
    for state in ["on", "off", "on", "off"] {
        newest = put_flag(&server, "resumed", state);
    }
    // Resume from an older revision: the newest snapshot at once, nothing in between.
    let stream = Stream::open(&server.url, &key, Some(&(newest - 2).to_string()));
    let event = stream.next_event(Duration::from_secs(5)).expect("the newest snapshot on resume");
    assert_eq!(event.revision(), newest, "{backend:?}: resuming from {} must skip to the newest", newest - 2);
    assert_eq!(event.snapshot()["flags"]["resumed"]["state"], json!("off"));

    // Resume from the newest revision: nothing to send but heartbeats, until a change.
    let stream = Stream::open(&server.url, &key, Some(&newest.to_string()));
    let deadline = Instant::now() + Duration::from_millis(2500);
    let mut heartbeats = 0;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match stream.events.recv_timeout(left) {
            Ok(event) if event.event == ":" => heartbeats += usize::from(event.data[0] == "heartbeat"),
            Ok(event) => panic!("{backend:?}: resuming at the newest revision sent {event:?}"),
            Err(_) => break,
        }
    }
    assert!(heartbeats >= 1, "{backend:?}: no `: heartbeat` within 2.5 s with --heartbeat 1");
    let changed = put_flag(&server, "resumed", "on");
    let event = stream.next_event(Duration::from_secs(2)).expect("the next revision");
    assert_eq!(event.revision(), changed, "{backend:?}");
    assert_eq!(event.snapshot()["flags"]["resumed"]["state"], json!("on"));
}

#[test]
fn last_event_id_resumes_on_the_newest_revision() {
    for backend in common::backends() {
        last_event_id_resume_on(backend);
    }
}

fn immutable_revision_url_on(backend: Backend) {
    let (server, _database) = Server::start(backend);
    let old = put_flag(&server, "pinned", "on");
    let key = sdk_key(&server);
    let (_, old_headers, old_body) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[]);
    let newer = put_flag(&server, "pinned", "off");
    assert!(newer > old);

    let (status, headers, body) = get_raw(&server.url, &format!("/sdk/v1/snapshots/{old}"), &key, &[]);
    assert_eq!(status, 200, "{backend:?}: {}", String::from_utf8_lossy(&body));
    let cache = header(&headers, "cache-control").unwrap_or_default();
    assert!(cache.contains("immutable") && cache.contains("max-age=31536000"), "{backend:?}: Cache-Control {cache:?}");
    let snapshot: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(snapshot["revision"].as_u64(), Some(old));
    assert_eq!(snapshot["flags"]["pinned"]["state"], json!("on"), "{backend:?}: the old revision, not the newest");
    assert_eq!(body, old_body, "{backend:?}: revision {old} is served with the same bytes as when it was newest");
    assert_eq!(header(&headers, "etag"), header(&old_headers, "etag"), "{backend:?}");

    let (status, _, body) = get_raw(&server.url, &format!("/sdk/v1/snapshots/{newer}"), &key, &[]);
    assert_eq!(status, 200);
    let snapshot: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(snapshot["flags"]["pinned"]["state"], json!("off"));

    let (status, _, body) = get_raw(&server.url, "/sdk/v1/snapshots/999999", &key, &[]);
    assert_eq!(status, 404, "{backend:?}: an unknown revision");
    let error: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(error["error"]["code"], json!("not_found"), "{backend:?}: {error}");
}

#[test]
fn per_revision_url_serves_the_old_revision() {
    for backend in common::backends() {
        immutable_revision_url_on(backend);
    }
}

#[test]
fn two_servers_on_one_postgres_database_share_publishes() {
    if !common::backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends: skipped");
        return;
    }
    let database = Database::new(Backend::Postgres);
    let a = Server::start_on(&database, &[]);
    let b = Server::start_on(&database, &[]);
    let revision = put_flag(&a, "replicated", "on");
    let key = sdk_key(&a);
    let stream_b = Stream::open(&b.url, &key, None);
    let first = stream_b.next_event(Duration::from_secs(5)).expect("B sends its newest snapshot on connect");
    assert!(first.revision() >= revision, "B started behind A: {} < {revision}", first.revision());

    for (n, state) in ["kill", "on", "off"].into_iter().enumerate() {
        let before = Instant::now();
        let changed = match state {
            "kill" => {
                let answer =
                    a.admin().post(&format!("{}/kill", flag_path("replicated")), json!({ "reason": "replicas" }));
                assert_eq!(answer.status, 200, "{}", answer.text);
                answer.json["revision"].as_u64().unwrap()
            }
            _ => put_flag(&a, "replicated", state),
        };
        let acknowledged = Instant::now();
        let event = stream_b.until_revision(changed, acknowledged + Duration::from_secs(2)).unwrap_or_else(|| {
            panic!("change {n} through server A (revision {changed}) did not reach B's SSE client within 2 s")
        });
        eprintln!(
            "A → B: revision {changed} written in {:?}, on B's stream {:?} later",
            acknowledged - before,
            event.at.saturating_duration_since(acknowledged)
        );
        assert_eq!(event.revision(), changed);
        assert_eq!(event.snapshot()["flags"]["replicated"]["state"], json!(state));
        // B's snapshot route agrees with A's.
        let (_, ha, body_a) = get_raw(&a.url, "/sdk/v1/snapshot", &key, &[]);
        let (_, hb, body_b) = get_raw(&b.url, "/sdk/v1/snapshot", &key, &[]);
        assert_eq!(header(&ha, "pennon-revision"), header(&hb, "pennon-revision"));
        assert_eq!(header(&ha, "etag"), header(&hb, "etag"), "A and B publish different ETags for one revision");
        assert_eq!(body_a, body_b, "A and B serve different bytes for one revision");
    }
    // And the other way round.
    let stream_a = Stream::open(&a.url, &key, None);
    let _ = stream_a.next_event(Duration::from_secs(5)).expect("A's newest snapshot");
    let changed = put_flag(&b, "replicated", "on");
    let acknowledged = Instant::now();
    stream_a
        .until_revision(changed, acknowledged + Duration::from_secs(2))
        .unwrap_or_else(|| panic!("a change through B did not reach A's SSE client within 2 s"));
}

/// Runs SQL on a PostgreSQL database (from a thread with its own runtime, as common does).
fn postgres_execute(url: &str, sql: &str) -> u64 {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&sql).execute(&mut conn).await.unwrap().rows_affected()
        })
    })
    .join()
    .unwrap()
}

#[test]
fn a_replica_whose_listen_connection_was_cut_catches_up() {
    if !common::backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends: skipped");
        return;
    }
    let database = Database::new(Backend::Postgres);
    let a = Server::start_on(&database, &[]);
    let b = Server::start_on(&database, &[]);
    put_flag(&a, "cut", "on");
    let key = sdk_key(&a);
    let stream_b = Stream::open(&b.url, &key, None);
    stream_b.next_event(Duration::from_secs(5)).expect("B's newest snapshot");
    // Cut every LISTEN connection of this database (A's and B's), then change through A
    // at once: the notification may be lost, but B must not stay behind.
    let name = database.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let cut = postgres_execute(
        &database.url,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid() AND query ILIKE '%LISTEN%'"
        ),
    );
    eprintln!("terminated {cut} LISTEN connection(s)");
    let changed = put_flag(&a, "cut", "off");
    let acknowledged = Instant::now();
    let event = stream_b.until_revision(changed, acknowledged + Duration::from_secs(10)).unwrap_or_else(|| {
        panic!("B never learned of revision {changed} after its LISTEN connection was cut (waited 10 s)")
    });
    eprintln!("B caught up {:?} after the change", event.at.saturating_duration_since(acknowledged));
    // And once reconnected, changes flow as before.
    std::thread::sleep(Duration::from_secs(2));
    let changed = put_flag(&a, "cut", "on");
    let acknowledged = Instant::now();
    stream_b
        .until_revision(changed, acknowledged + Duration::from_secs(2))
        .unwrap_or_else(|| panic!("after reconnecting, revision {changed} did not reach B within 2 s"));
}

fn streams_are_per_environment_on(backend: Backend) {
    let (server, _database) = Server::start(backend);
    put_flag(&server, "isolated", "on");
    let key = sdk_key(&server);
    let stream = Stream::open(&server.url, &key, None);
    let first = stream.next_event(Duration::from_secs(5)).expect("the newest snapshot on connect");
    assert_eq!(first.snapshot()["environment"], json!(ENV), "{backend:?}");
    // A change in staging is not development's: no event.
    let staging = server.admin().put(
        "/api/v1/environments/staging/flags/isolated",
        json!({ "definition": common::boolean_flag("off"), "reason": "other environment" }),
    );
    assert_eq!(staging.status, 201, "{backend:?}: {}", staging.text);
    if let Some(event) = stream.next_event(Duration::from_millis(1000)) {
        panic!("{backend:?}: a change in staging reached a development SDK stream: {event:?}");
    }
    let (_, headers, body) = get_raw(&server.url, "/sdk/v1/snapshot", &key, &[]);
    assert_eq!(header(&headers, "pennon-revision"), Some(first.revision().to_string().as_str()), "{backend:?}");
    let snapshot: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(snapshot["flags"]["isolated"]["state"], json!("on"), "{backend:?}: staging's definition leaked");
    // development's own change does arrive.
    let changed = put_flag(&server, "isolated", "off");
    let event = stream.next_event(Duration::from_secs(1)).expect("development's change");
    assert_eq!(event.revision(), changed, "{backend:?}");
}

#[test]
fn sdk_streams_see_only_their_environment() {
    for backend in common::backends() {
        streams_are_per_environment_on(backend);
    }
}

fn sigterm_with_open_streams_on(backend: Backend) {
    let (mut server, _database) = Server::start(backend);
    let key = sdk_key(&server);
    let stream = Stream::open(&server.url, &key, None);
    stream.next_event(Duration::from_secs(5)).expect("the newest snapshot on connect");
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exited = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        exited.is_some(),
        "{backend:?}: `pennon serve` still runs 10 s after SIGTERM while an SSE client is connected \
         (graceful shutdown waits for streams that never end)"
    );
    // The client sees its stream end (and would reconnect elsewhere).
    loop {
        match stream.events.recv_timeout(Duration::from_secs(2)) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{backend:?}: the SSE stream stayed open after shutdown"),
        }
    }
}

#[test]
fn sigterm_ends_open_streams_and_exits() {
    for backend in common::backends() {
        sigterm_with_open_streams_on(backend);
    }
}

#[test]
fn a_revoked_keys_open_stream_ends() {
    let (server, _database) = Server::start(Backend::Sqlite);
    put_flag(&server, "banner", "off");
    let key = sdk_key(&server);
    let stream = Stream::open(&server.url, &key, None);
    assert!(stream.next_event(Duration::from_secs(5)).is_some(), "the newest snapshot at once");
    let tokens = server.admin().get("/api/v1/tokens");
    let id = tokens.json.as_array().unwrap().iter().rev().find(|t| t["role"] == "sdk").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.admin().delete(&format!("/api/v1/tokens/{id}")).status, 200);
    put_flag(&server, "after-revocation", "on");
    // The stream ends: no event carries the flag created after the revocation.
    let deadline = Instant::now() + Duration::from_secs(3);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match stream.events.recv_timeout(left) {
            Ok(event) if event.event == ":" => continue,
            Ok(event) => panic!("a revoked key's stream received {event:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    panic!("a revoked key's stream stayed open");
}
