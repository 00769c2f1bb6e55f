//! End-to-end against a real `pennon serve`.
//!
//! The server binary is found, in this order: `PENNON_BIN`; then
//! `$CARGO_TARGET_DIR/debug/pennon` (or the workspace's `target/debug/pennon`). A missing
//! binary fails loudly with the command that builds it. The tests do not run
//! `cargo build` themselves: `cargo test` holds the target directory's lock while the
//! tests run, so a nested build in the same directory would wait on it (and a separate
//! target directory would mean a second full build of the server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use pennon::{Client, Context, Event};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-the-sdk-tests";

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("PENNON_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let candidate = target.join("debug").join("pennon");
    assert!(
        candidate.exists(),
        "the end-to-end tests need the server: run `cargo build -p pennon-server --bin pennon` with the same \
         CARGO_TARGET_DIR first, or set PENNON_BIN (looked for {})",
        candidate.display()
    );
    candidate
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path, listen: &str) -> Server {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", listen, "--heartbeat", "1", "--database-url"])
            .arg(format!("sqlite://{}", db.display()))
            .env("PENNON_ADMIN_TOKEN", ADMIN)
            .env_remove("PENNON_LISTEN")
            .env_remove("PENNON_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("pennon serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("pennon: listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).expect("the server printed `pennon: listening on URL`");
        Server { child, url }
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let http = reqwest::blocking::Client::new();
        let mut request = http.request(method, format!("{}{path}", self.url)).bearer_auth(ADMIN);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    fn sdk_key(&self) -> String {
        let token = self.admin(
            reqwest::Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "sdk-test", "role": "sdk", "environment": "development"})),
        );
        token["token"].as_str().unwrap().to_owned()
    }

    fn put_flag(&self, key: &str, definition: Value) {
        let path = format!("/api/v1/environments/development/flags/{key}");
        self.admin(reqwest::Method::PUT, &path, Some(json!({ "definition": definition })));
    }

    fn kill_flag(&self, key: &str) {
        let path = format!("/api/v1/environments/development/flags/{key}/kill");
        self.admin(reqwest::Method::POST, &path, Some(json!({"reason": "test"})));
    }

    fn public_key(&self) -> String {
        let text = reqwest::blocking::get(format!("{}/sdk/v1/public-key", self.url)).unwrap().text().unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap();
        answer["publicKey"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn boolean_flag(state: &str) -> Value {
    json!({"type": "boolean", "state": state, "variants": {"on": true, "off": false},
           "offVariant": "off", "fallthrough": {"variant": "on"}})
}

fn string_flag(value: &str) -> Value {
    json!({"type": "string", "state": "on", "variants": {"v": value, "other": "other"},
           "offVariant": "other", "fallthrough": {"variant": "v"}})
}

/// The first event matching `pick` within `timeout`.
fn wait_for(events: &Receiver<Event>, timeout: Duration, pick: impl Fn(&Event) -> bool) -> Option<Event> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match events.recv_timeout(left) {
            Ok(event) if pick(&event) => return Some(event),
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        }
    }
}

fn eventually(timeout: Duration, check: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

#[test]
fn values_changes_signatures_and_polling() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("db"), "127.0.0.1:0");
    let key = server.sdk_key();
    server.put_flag("checkout", boolean_flag("on"));
    server.put_flag("banner", string_flag("hello"));
    let user = Context::with_targeting_key("user-1");

    // Streaming: ready, values, and a kill seen within a second, as a change naming it.
    let client = Client::builder().url(&server.url).sdk_key(&key).build().unwrap();
    client.wait_ready().unwrap();
    assert!(client.is_enabled("checkout", &user));
    assert_eq!(client.string("banner", &user, "dflt"), "hello");
    let revision = client.revision().unwrap();
    let events = client.events();
    let killed_at = Instant::now();
    server.kill_flag("checkout");
    let change = wait_for(&events, Duration::from_secs(1), |e| matches!(e, Event::Change { .. }))
        .expect("a change event within 1 s of the kill");
    assert!(killed_at.elapsed() < Duration::from_secs(1));
    match change {
        Event::Change { revision: new, previous_revision, flags } => {
            assert_eq!(previous_revision, Some(revision));
            assert!(new > revision);
            assert_eq!(flags, ["checkout"], "core reports exactly the killed flag, not the untouched banner");
        }
        _ => unreachable!(),
    }
    assert!(!client.is_enabled("checkout", &user));
    assert_eq!(client.evaluate("checkout", &user).reason, "KILLED");

    // The server's public key verifies its snapshots.
    let signed = Client::builder().url(&server.url).sdk_key(&key).public_key(&server.public_key()).build().unwrap();
    signed.wait_ready().unwrap();
    assert_eq!(signed.string("banner", &user, "dflt"), "hello");

    // A wrong public key: refused, never ready.
    let wrong_key = {
        use base64::Engine as _;
        let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        base64::engine::general_purpose::STANDARD.encode(other.verifying_key().as_bytes())
    };
    let refused = Client::builder()
        .url(&server.url)
        .sdk_key(&key)
        .public_key(&wrong_key)
        .init_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let error = refused.wait_ready().unwrap_err();
    assert_eq!(error.code, "init_timeout");
    assert!(error.message.contains("signature_invalid"), "{error}");
    assert_eq!(refused.revision(), None);
    assert!(!refused.is_enabled("banner", &user));

    // A wrong public key with a bootstrap: the bootstrap (last good) stays.
    let kept = Client::builder()
        .url(&server.url)
        .sdk_key(&key)
        .public_key(&wrong_key)
        .stream(false)
        .poll_interval(Duration::from_millis(100))
        .bootstrap(r#"{"schemaVersion":1,"revision":0,"flags":{}}"#)
        .build()
        .unwrap();
    let kept_events = kept.events();
    let refusal = wait_for(&kept_events, Duration::from_secs(3), |e| matches!(e, Event::Error { .. }));
    assert!(matches!(refusal, Some(Event::Error { ref code, .. }) if code == "signature_invalid"), "{refusal:?}");
    assert_eq!(kept.revision(), Some(0));

    // Polling with ETag: values update.
    let polling = Client::builder()
        .url(&server.url)
        .sdk_key(&key)
        .stream(false)
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    polling.wait_ready().unwrap();
    assert_eq!(polling.string("banner", &user, "dflt"), "hello");
    let banner = server.admin(reqwest::Method::GET, "/api/v1/environments/development/flags/banner", None);
    let path = "/api/v1/environments/development/flags/banner";
    let body = json!({"definition": string_flag("bye"), "baseRevision": banner["revision"]});
    server.admin(reqwest::Method::PUT, path, Some(body));
    assert!(eventually(Duration::from_secs(3), || polling.string("banner", &user, "dflt") == "bye"));
    // Unchanged polls are 304s: the revision stays and no error comes.
    let polling_events = polling.events();
    let held = polling.revision();
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(polling.revision(), held);
    assert!(polling_events.try_iter().all(|e| !matches!(e, Event::Error { .. })));
    let metrics = reqwest::blocking::get(format!("{}/metrics", server.url)).unwrap().text().unwrap();
    assert!(
        metrics.lines().any(|l| l.contains("route=\"/sdk/v1/snapshot\"") && l.contains("status=\"304\"")),
        "the server counted 304 answers to snapshot polls:\n{metrics}"
    );
}

#[test]
fn keeps_serving_through_a_server_restart_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let server = Server::start(&db, "127.0.0.1:0");
    let port = server.port();
    let key = server.sdk_key();
    server.put_flag("checkout", boolean_flag("on"));
    let user = Context::with_targeting_key("user-1");
    let client = Client::builder()
        .url(&server.url)
        .sdk_key(&key)
        .heartbeat(Duration::from_secs(1))
        .stale_after(Duration::from_millis(700))
        .poll_interval(Duration::from_millis(200))
        .backoff(Duration::from_millis(50), Duration::from_millis(300))
        .breaker(5, Duration::from_millis(300))
        .build()
        .unwrap();
    client.wait_ready().unwrap();
    let events = client.events();
    let revision = client.revision();

    drop(server);
    let stale = wait_for(&events, Duration::from_secs(5), |e| matches!(e, Event::Stale { .. }));
    assert!(matches!(stale, Some(Event::Stale { revision: r, .. }) if r == revision), "{stale:?}");
    assert!(client.is_stale());
    assert!(client.is_enabled("checkout", &user), "the last good snapshot is still served");

    let _again = Server::start(&db, &format!("127.0.0.1:{port}"));
    let ready = wait_for(&events, Duration::from_secs(10), |e| matches!(e, Event::Ready { .. }));
    assert_eq!(ready, Some(Event::Ready { revision: revision.unwrap(), recovered: true }));
    assert!(!client.is_stale());
    assert!(client.is_enabled("checkout", &user));
}

#[test]
fn init_timeout_against_an_unreachable_url_and_bootstrap_offline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::builder().url(&url).sdk_key("k").init_timeout(Duration::from_millis(300)).build().unwrap();
    let started = Instant::now();
    let error = client.wait_ready().unwrap_err();
    let waited = started.elapsed();
    assert_eq!(error.code, "init_timeout");
    assert!(waited < Duration::from_millis(1000), "{waited:?}");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert_eq!(client.evaluate("x", &Context::new()).error_code.as_deref(), Some("PROVIDER_NOT_READY"));

    let offline = Client::builder()
        .url(&url)
        .sdk_key("k")
        .bootstrap(&json!({"schemaVersion": 1, "revision": 4, "flags": {"f": boolean_flag("on")}}).to_string())
        .build()
        .unwrap();
    let started = Instant::now();
    offline.wait_ready().unwrap();
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(offline.is_enabled("f", &Context::new()));
    assert_eq!(offline.revision(), Some(4));
}
