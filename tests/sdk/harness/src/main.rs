//! `pennon-sdk-harness`: a scriptable, fault-injecting stand-in for the SDK routes of
//! `pennon serve`, driven over HTTP by each SDK's scenario runner (tests/sdk/README.md).
//!
//! ```text
//! pennon-sdk-harness [--listen 127.0.0.1:0] [--fixtures DIR] [--exit-with-stdin]
//! ```
//!
//! It prints `harness: listening on http://ADDR` once it accepts connections.

mod script;

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::script::{Action, BodyKind, Connection, Etag, Prepared, Reply, Sign, SnapshotRef};

/// The seed of the key every harness signature is made with (its public key is in
/// tests/sdk/README.md and at `GET /_harness/public-key`).
const SIGNING_SEED: &[u8; 32] = b"pennon-sdk-harness-signing-key-1";
/// The seed of a key that signed nothing: a client configured with its public key
/// refuses every harness snapshot.
const WRONG_SEED: &[u8; 32] = b"pennon-sdk-harness-the-wrong-key";

/// The request headers the log keeps.
const LOGGED_HEADERS: [&str; 5] = ["authorization", "if-none-match", "last-event-id", "accept", "user-agent"];

/// The body of a refused answer when the script gives none.
const MALFORMED: &str = "{\"schemaVersion\": 1, \"revis";

/// Everything the harness holds.
struct Harness {
    fixtures: HashMap<String, Value>,
    signer: SigningKey,
    started: Instant,
    state: Mutex<Scripted>,
}

/// The scripted part, reset by `POST /_harness/reset`.
#[derive(Default)]
struct Scripted {
    /// The newest snapshot served (by an answer naming one, or by a stream event).
    current: Option<Prepared>,
    snapshot: VecDeque<Reply>,
    stream: VecDeque<Connection>,
    log: Vec<Value>,
}

impl Harness {
    fn lock(&self) -> MutexGuard<'_, Scripted> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn signature(&self, bytes: &[u8], sign: Sign) -> Option<String> {
        match sign {
            Sign::No => None,
            Sign::Yes => Some(STANDARD.encode(self.signer.sign(bytes).to_bytes())),
            Sign::Bad => {
                let mut other = bytes.to_vec();
                other.push(b' ');
                Some(STANDARD.encode(self.signer.sign(&other).to_bytes()))
            }
        }
    }

    fn log(&self, state: &mut Scripted, method: &Method, uri: &Uri, headers: &HeaderMap, route: &str, status: u16) {
        let logged: serde_json::Map<String, Value> = LOGGED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), Value::from(value)))
            })
            .collect();
        let at_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        state.log.push(json!({
            "method": method.as_str(),
            "path": uri.path(),
            "route": route,
            "headers": logged,
            "atMs": at_ms,
            "status": status,
        }));
    }

    /// The bytes of a `snapshot` event carrying `snapshot`.
    fn event(&self, snapshot: &Prepared, sign: Sign) -> String {
        let mut meta = serde_json::Map::new();
        if let Some(revision) = snapshot.revision {
            meta.insert("revision".to_owned(), json!(revision));
        }
        meta.insert("etag".to_owned(), json!(snapshot.auto_etag()));
        if let Some(signature) = self.signature(snapshot.text.as_bytes(), sign) {
            meta.insert("signature".to_owned(), json!(signature));
        }
        let meta = Value::Object(meta);
        let id = snapshot.revision.map(|r| format!("id: {r}\n")).unwrap_or_default();
        format!("event: snapshot\n{id}data: {meta}\ndata: {}\n\n", snapshot.text)
    }
}

/// Takes the next item of a queue: the last one stays and repeats.
fn next<T: Clone>(queue: &mut VecDeque<T>) -> Option<T> {
    if queue.len() > 1 { queue.pop_front() } else { queue.front().cloned() }
}

fn error_body(status: u16, message: &str) -> String {
    json!({"error": {"code": format!("harness_{status}"), "message": message}}).to_string()
}

/// `GET /sdk/v1/snapshot`.
async fn snapshot_route(State(harness): State<Arc<Harness>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let (delay, response) = {
        let mut state = harness.lock();
        let reply = next(&mut state.snapshot).unwrap_or_default();
        if let SnapshotRef::Fixed(prepared) = &reply.snapshot {
            state.current = Some(prepared.clone());
        }
        let response = answer(&harness, &reply, state.current.clone(), &headers);
        harness.log(&mut state, &method, &uri, &headers, "snapshot", response.status().as_u16());
        (reply.delay, response)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

/// Builds the answer `reply` scripts (`current`: the snapshot it serves).
fn answer(harness: &Harness, reply: &Reply, current: Option<Prepared>, headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let needs_snapshot = matches!(reply.body, BodyKind::Snapshot | BodyKind::Truncated);
    let snapshot = match (current, needs_snapshot) {
        (Some(snapshot), _) => Some(snapshot),
        (None, false) => None,
        (None, true) if status == StatusCode::OK => {
            let body = error_body(503, "the harness has no snapshot to serve yet: script one (serve)");
            return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        }
        (None, true) => None,
    };
    let etag = match &reply.etag {
        Etag::Absent => None,
        Etag::Fixed(etag) => Some(etag.clone()),
        Etag::Auto => snapshot.as_ref().map(Prepared::auto_etag),
    };
    let mut builder = Response::builder().status(status);
    if let Some(etag) = etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        builder = builder.header(header::ETAG, etag);
    }
    if status == StatusCode::NOT_MODIFIED {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    if status == StatusCode::OK
        && reply.body == BodyKind::Snapshot
        && etag.is_some()
        && headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == etag.as_deref()
    {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    let text = match (&reply.body, &snapshot) {
        (BodyKind::Raw(raw), _) => raw.clone(),
        (BodyKind::Malformed, _) => MALFORMED.to_owned(),
        (_, Some(snapshot)) if status == StatusCode::OK => snapshot.text.clone(),
        _ => error_body(reply.status, "scripted failure"),
    };
    if status == StatusCode::OK {
        if let Some(revision) = snapshot.as_ref().and_then(|s| s.revision) {
            builder = builder.header("pennon-revision", revision);
        }
        if let Some(signature) = harness.signature(text.as_bytes(), reply.sign) {
            builder = builder.header("pennon-signature", signature);
        }
    }
    builder = builder.header(header::CONTENT_TYPE, "application/json");
    let body = if reply.body == BodyKind::Truncated {
        // Announce every byte, send half of them, then cut the connection.
        builder = builder.header(header::CONTENT_LENGTH, text.len());
        let bytes = Bytes::from(text.into_bytes());
        let half = bytes.slice(..bytes.len() / 2);
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(half), Err(std::io::Error::other("truncated"))];
        Body::from_stream(tokio_stream::iter(chunks))
    } else {
        Body::from(text)
    };
    builder.body(body).unwrap_or_default()
}

/// `GET /sdk/v1/stream`.
async fn stream_route(State(harness): State<Arc<Harness>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let connection = {
        let mut state = harness.lock();
        harness.log(&mut state, &method, &uri, &headers, "stream", 200);
        next(&mut state.stream)
            .unwrap_or_else(|| vec![Action::Event { snapshot: SnapshotRef::Current, sign: Sign::Yes }])
    };
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(play(harness, connection, sender));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver)))
        .unwrap_or_default()
}

/// Plays one stream connection's actions.
async fn play(harness: Arc<Harness>, connection: Connection, sender: mpsc::Sender<Result<Bytes, std::io::Error>>) {
    // The snapshot an action carries; an event makes it the current one.
    let pick = |snapshot: &SnapshotRef, publish: bool| {
        let mut state = harness.lock();
        match snapshot {
            SnapshotRef::Current => state.current.clone(),
            SnapshotRef::Fixed(prepared) => {
                if publish {
                    state.current = Some(prepared.clone());
                }
                Some(prepared.clone())
            }
        }
    };
    for action in connection {
        match action {
            Action::Event { snapshot, sign } => {
                let Some(snapshot) = pick(&snapshot, true) else { continue };
                if sender.send(Ok(Bytes::from(harness.event(&snapshot, sign)))).await.is_err() {
                    return;
                }
            }
            Action::Comment(text) => {
                if sender.send(Ok(Bytes::from(format!(": {text}\n\n")))).await.is_err() {
                    return;
                }
            }
            Action::DropMidEvent { snapshot } => {
                let Some(snapshot) = pick(&snapshot, false) else { continue };
                let event = Bytes::from(harness.event(&snapshot, Sign::Yes));
                let half = event.slice(..event.len() / 2);
                if sender.send(Ok(half)).await.is_err() {
                    return;
                }
                // Let the half event reach the client, then cut the connection.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = sender.send(Err(std::io::Error::other("dropped mid-event"))).await;
                return;
            }
            Action::Silent(duration) => {
                tokio::select! {
                    () = tokio::time::sleep(duration) => {}
                    () = sender.closed() => return,
                }
            }
            Action::Close => return,
        }
    }
    // Out of actions: open and silent until the client leaves.
    sender.closed().await;
}

/// `POST /_harness/script`: a `serve` step.
async fn script_route(State(harness): State<Arc<Harness>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body)
        .map_err(|e| format!("the script is not JSON: {e}"))
        .and_then(|value| script::parse(&value, &harness.fixtures, script::now_ms()));
    match parsed {
        Ok(parsed) => {
            let mut state = harness.lock();
            if let Some(replies) = parsed.snapshot {
                state.snapshot = replies.into();
            }
            if let Some(connections) = parsed.stream {
                state.stream = connections.into();
            }
            Json(json!({"ok": true})).into_response()
        }
        Err(message) => {
            (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "invalid_script", "message": message}})))
                .into_response()
        }
    }
}

/// `GET /_harness/requests`: the log since the last call, then cleared.
async fn requests_route(State(harness): State<Arc<Harness>>) -> Json<Value> {
    let log = std::mem::take(&mut harness.lock().log);
    Json(json!({ "requests": log }))
}

/// `POST /_harness/reset`: no snapshot, empty queues, empty log.
async fn reset_route(State(harness): State<Arc<Harness>>) -> Json<Value> {
    *harness.lock() = Scripted::default();
    Json(json!({"ok": true}))
}

/// `GET /_harness/public-key`.
async fn public_key_route(State(harness): State<Arc<Harness>>) -> Json<Value> {
    let wrong = SigningKey::from_bytes(WRONG_SEED);
    Json(json!({
        "algorithm": "ed25519",
        "publicKey": STANDARD.encode(harness.signer.verifying_key().as_bytes()),
        "wrongPublicKey": STANDARD.encode(wrong.verifying_key().as_bytes()),
    }))
}

/// Anything else: 404, logged.
async fn fallback(State(harness): State<Arc<Harness>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut state = harness.lock();
    harness.log(&mut state, &method, &uri, &headers, "other", 404);
    (StatusCode::NOT_FOUND, error_body(404, "not a harness route")).into_response()
}

/// Reads every `*.json` of `dir` as a fixture named by its stem.
fn load_fixtures(dir: &Path) -> Result<HashMap<String, Value>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the fixtures in {}: {e}", dir.display()))?;
    let mut fixtures = HashMap::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().and_then(|s| s.to_str()).ok_or("a fixture name is not UTF-8")?.to_owned();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        fixtures.insert(name, value);
    }
    Ok(fixtures)
}

struct Options {
    listen: String,
    fixtures: PathBuf,
    exit_with_stdin: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:0".to_owned(),
        fixtures: Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        exit_with_stdin: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => options.listen = args.next().ok_or("--listen needs an address")?,
            "--fixtures" => options.fixtures = args.next().ok_or("--fixtures needs a directory")?.into(),
            "--exit-with-stdin" => options.exit_with_stdin = true,
            "--help" | "-h" => {
                return Err(
                    "usage: pennon-sdk-harness [--listen 127.0.0.1:0] [--fixtures DIR] [--exit-with-stdin]".into()
                );
            }
            other => return Err(format!("unknown argument `{other}` (--listen, --fixtures, --exit-with-stdin)")),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("harness: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let options = options()?;
    let harness = Arc::new(Harness {
        fixtures: load_fixtures(&options.fixtures)?,
        signer: SigningKey::from_bytes(SIGNING_SEED),
        started: Instant::now(),
        state: Mutex::new(Scripted::default()),
    });
    let app = Router::new()
        .route("/sdk/v1/snapshot", get(snapshot_route))
        .route("/sdk/v1/stream", get(stream_route))
        .route("/_harness/script", post(script_route))
        .route("/_harness/requests", get(requests_route))
        .route("/_harness/reset", post(reset_route))
        .route("/_harness/public-key", get(public_key_route))
        .fallback(fallback)
        .with_state(harness);
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("harness: listening on http://{address}");
    let _ = std::io::stdout().flush();
    if options.exit_with_stdin {
        // The runner holds our stdin: when it goes away, so do we.
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    axum::serve(listener, app).await.map_err(|e| format!("the server stopped: {e}"))
}
