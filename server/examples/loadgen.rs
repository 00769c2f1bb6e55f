//! The load generator of `benches/server/run.sh` (see benches/server/README.md): it talks
//! to a running `pennon serve` over HTTP only, like any client.
//!
//! ```text
//! loadgen setup          --url U --admin-token T [--flags N]     imports N flags, prints a new SDK key
//! loadgen snapshot-gets  --url U --key K [--seconds S] [--connections C]
//! loadgen sse            --url U --key K --admin-token T --clients N [--changes M] [--resume] [--pid P]
//! loadgen writes         --url U --admin-token T [--count N] [--label L]
//! ```
//!
//! Results are printed one per line as `RESULT <name> key=value …` (run.sh collects them),
//! progress goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

#[derive(Parser)]
#[command(about = "Load generator for benches/server/run.sh")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replaces the environment's flags with N small boolean flags (one import) plus
    /// `bench-flag`, and prints a new SDK key on stdout.
    Setup {
        #[arg(long)]
        url: String,
        #[arg(long)]
        admin_token: String,
        #[arg(long, default_value = "development")]
        env: String,
        #[arg(long, default_value_t = 20)]
        flags: usize,
    },
    /// Snapshot GETs with `If-None-Match` (the fallback when wrk is not installed).
    SnapshotGets {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Opens N SSE clients, then makes M changes one after the other and measures when
    /// each client receives each change's event (from the moment the change was sent).
    Sse {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        admin_token: String,
        #[arg(long, default_value = "development")]
        env: String,
        #[arg(long)]
        clients: usize,
        #[arg(long, default_value_t = 5)]
        changes: usize,
        #[arg(long, default_value = "bench-flag")]
        flag: String,
        /// Connect with `Last-Event-ID` = the newest revision (no snapshot on connect).
        #[arg(long)]
        resume: bool,
        /// The server's process id: its VmRSS is reported before and after connecting.
        #[arg(long)]
        pid: Option<u32>,
        /// How long one change may take to reach every client.
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
        /// Connections opened at once.
        #[arg(long, default_value_t = 256)]
        connect_parallelism: usize,
    },
    /// Sequential writes on one flag: PUT with baseRevision and state changes in turn.
    Writes {
        #[arg(long)]
        url: String,
        #[arg(long)]
        admin_token: String,
        #[arg(long, default_value = "development")]
        env: String,
        #[arg(long, default_value_t = 500)]
        count: usize,
        #[arg(long, default_value = "")]
        label: String,
    },
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        match args.command {
            Command::Setup { url, admin_token, env, flags } => setup(&url, &admin_token, &env, flags).await,
            Command::SnapshotGets { url, key, seconds, connections } => {
                snapshot_gets(&url, &key, seconds, connections).await
            }
            Command::Sse {
                url,
                key,
                admin_token,
                env,
                clients,
                changes,
                flag,
                resume,
                pid,
                timeout_secs,
                connect_parallelism,
            } => {
                let options = SseOptions {
                    url,
                    key,
                    admin_token,
                    env,
                    clients,
                    changes,
                    flag,
                    resume,
                    pid,
                    timeout: Duration::from_secs(timeout_secs),
                    connect_parallelism,
                };
                sse(options).await
            }
            Command::Writes { url, admin_token, env, count, label } => {
                writes(&url, &admin_token, &env, count, &label).await
            }
        }
    });
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().http1_only().pool_max_idle_per_host(1024).build().unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The `q` quantile (0..=1) of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut millis: Vec<f64>, extra: &str) {
    millis.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "RESULT {name} n={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}{}{extra}",
        millis.len(),
        quantile(&millis, 0.50),
        quantile(&millis, 0.99),
        millis.last().copied().unwrap_or(f64::NAN),
        if extra.is_empty() { "" } else { " " },
    );
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn small_flag(state: &str) -> Value {
    json!({
        "type": "boolean",
        "state": state,
        "variants": { "on": true, "off": false },
        "offVariant": "off",
        "fallthrough": { "variant": "on" }
    })
}

async fn setup(url: &str, admin: &str, env: &str, flags: usize) {
    let http = http();
    let mut all = serde_json::Map::new();
    all.insert("bench-flag".into(), small_flag("on"));
    for n in 0..flags {
        all.insert(format!("bench-{n:05}"), small_flag(if n % 2 == 0 { "on" } else { "off" }));
    }
    let snapshot = json!({ "schemaVersion": 1, "revision": 0, "environment": env, "flags": all });
    let started = Instant::now();
    let (status, body) = send(
        http.post(format!("{url}/api/v1/environments/{env}/import"))
            .bearer_auth(admin)
            .json(&json!({ "snapshot": snapshot, "replace": true, "reason": "benchmark setup" })),
    )
    .await;
    assert!((200..300).contains(&status), "import of {} flags: {status} {body}", flags + 1);
    eprintln!("imported {} flags in {:?} (revision {})", flags + 1, started.elapsed(), body["revision"]);
    println!("RESULT import flags={} ms={:.0}", flags + 1, started.elapsed().as_secs_f64() * 1000.0);
    let (status, body) = send(
        http.post(format!("{url}/api/v1/tokens"))
            .bearer_auth(admin)
            .json(&json!({ "name": "benchmark", "role": "sdk", "environment": env })),
    )
    .await;
    assert_eq!(status, 201, "creating an SDK key: {body}");
    println!("SDK_KEY={}", body["token"].as_str().expect("token"));
}

async fn snapshot_gets(url: &str, key: &str, seconds: u64, connections: usize) {
    let http = http();
    let first = http.get(format!("{url}/sdk/v1/snapshot")).bearer_auth(key).send().await.expect("GET snapshot");
    assert_eq!(first.status().as_u16(), 200);
    let etag = first.headers().get("etag").expect("ETag").to_str().unwrap().to_string();
    let ok = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (http, ok, other, etag, url, key) =
                (http.clone(), ok.clone(), other.clone(), etag.clone(), url.to_string(), key.to_string());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = http
                        .get(format!("{url}/sdk/v1/snapshot"))
                        .bearer_auth(&key)
                        .header("If-None-Match", &etag)
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status().as_u16() == 304 => {
                            let _ = response.bytes().await;
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let count = ok.load(Ordering::Relaxed);
    println!(
        "RESULT snapshot_304 connections={connections} seconds={seconds} requests_304={count} other={} per_second={:.0}",
        other.load(Ordering::Relaxed),
        count as f64 / seconds as f64
    );
}

struct SseOptions {
    url: String,
    key: String,
    admin_token: String,
    env: String,
    clients: usize,
    changes: usize,
    flag: String,
    resume: bool,
    pid: Option<u32>,
    timeout: Duration,
    connect_parallelism: usize,
}

enum Message {
    Connected,
    Failed(String),
    Event(u64, Instant),
    Closed,
}

/// The `id:` of one SSE event (the bytes before its blank line), if it has one.
fn event_id(event: &[u8]) -> Option<u64> {
    event.split(|b| *b == b'\n').find_map(|line| {
        let value = line.strip_prefix(b"id:")?;
        std::str::from_utf8(value).ok()?.trim().parse().ok()
    })
}

async fn sse_client(
    http: reqwest::Client,
    url: String,
    key: String,
    last_event_id: Option<String>,
    gate: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Message>,
) {
    let permit = gate.acquire_owned().await.unwrap();
    let mut request = http.get(format!("{url}/sdk/v1/stream")).bearer_auth(&key).header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let mut response = match request.send().await {
        Ok(response) if response.status().as_u16() == 200 => response,
        Ok(response) => {
            let _ = tx.send(Message::Failed(format!("status {}", response.status())));
            return;
        }
        Err(error) => {
            let _ = tx.send(Message::Failed(error.to_string()));
            return;
        }
    };
    drop(permit);
    let _ = tx.send(Message::Connected);
    let mut buffer: Vec<u8> = Vec::new();
    let mut scanned: usize = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                buffer.extend_from_slice(&chunk);
                loop {
                    let from = scanned.saturating_sub(1);
                    match buffer[from..].windows(2).position(|w| w == b"\n\n") {
                        Some(at) => {
                            let end = from + at;
                            if let Some(id) = event_id(&buffer[..end]) {
                                let _ = tx.send(Message::Event(id, Instant::now()));
                            }
                            buffer.drain(..end + 2);
                            scanned = 0;
                        }
                        None => {
                            scanned = buffer.len();
                            break;
                        }
                    }
                }
            }
            Ok(None) | Err(_) => {
                let _ = tx.send(Message::Closed);
                return;
            }
        }
    }
}

async fn newest_revision(http: &reqwest::Client, url: &str, key: &str) -> u64 {
    let response = http.get(format!("{url}/sdk/v1/snapshot")).bearer_auth(key).send().await.expect("GET snapshot");
    response.headers().get("pennon-revision").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap()
}

async fn sse(o: SseOptions) {
    let http = http();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(o.connect_parallelism));
    let resume_at = if o.resume { Some(newest_revision(&http, &o.url, &o.key).await) } else { None };
    let rss_before = o.pid.and_then(rss_kib);
    let started = Instant::now();
    for _ in 0..o.clients {
        // One client per connection, as N SDK processes would have.
        let client = reqwest::Client::builder().http1_only().build().unwrap();
        tokio::spawn(sse_client(
            client,
            o.url.clone(),
            o.key.clone(),
            resume_at.map(|r| r.to_string()),
            gate.clone(),
            tx.clone(),
        ));
    }
    drop(tx);
    let (mut connected, mut failed, mut initial, mut closed) = (0usize, 0usize, 0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    let need_initial = !o.resume;
    let deadline = Instant::now() + Duration::from_secs(300);
    while connected + failed < o.clients || (need_initial && initial < connected) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Message::Connected)) => connected += 1,
            Ok(Some(Message::Failed(why))) => {
                failed += 1;
                if failures.len() < 5 {
                    failures.push(why);
                }
            }
            Ok(Some(Message::Event(..))) => initial += 1,
            Ok(Some(Message::Closed)) => closed += 1,
            Ok(None) | Err(_) => break,
        }
        if (connected + failed) % 1000 == 0 && connected + failed > 0 {
            eprint!("\r{connected} connected, {failed} failed, {initial} initial snapshots ");
        }
    }
    eprintln!();
    let connect_ms = started.elapsed().as_secs_f64() * 1000.0;
    let rss_connected = o.pid.and_then(rss_kib);
    println!(
        "RESULT sse_connect clients={} connected={connected} failed={failed} closed={closed} initial_snapshots={initial} ms={connect_ms:.0} server_rss_before_kib={} server_rss_connected_kib={}",
        o.clients,
        rss_before.map_or("-".into(), |v| v.to_string()),
        rss_connected.map_or("-".into(), |v| v.to_string()),
    );
    if !failures.is_empty() {
        eprintln!("first connection failures: {failures:?}");
    }
    if connected == 0 {
        return;
    }

    let mut all = Vec::new();
    let mut state_on = false;
    let mut missed_total = 0;
    for change in 0..o.changes {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Events of earlier revisions that are still queued do not count.
        while let Ok(message) = rx.try_recv() {
            if let Message::Closed = message {
                closed += 1;
            }
        }
        let state = if state_on { "off" } else { "on" };
        state_on = !state_on;
        let sent = Instant::now();
        let (status, body) = send(
            http.post(format!("{}/api/v1/environments/{}/flags/{}/state", o.url, o.env, o.flag))
                .bearer_auth(&o.admin_token)
                .json(&json!({ "state": state, "reason": "benchmark" })),
        )
        .await;
        assert_eq!(status, 200, "state change: {body}");
        let acked = sent.elapsed().as_secs_f64() * 1000.0;
        let revision = body["revision"].as_u64().unwrap();
        let mut latencies = Vec::with_capacity(connected);
        let until = Instant::now() + o.timeout;
        while latencies.len() < connected.saturating_sub(closed) {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(Message::Event(id, at))) if id >= revision => {
                    latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0)
                }
                Ok(Some(Message::Closed)) => closed += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let missed = connected.saturating_sub(closed).saturating_sub(latencies.len());
        missed_total += missed;
        summary(
            &format!("sse_change_{change}"),
            latencies.clone(),
            &format!("clients={connected} revision={revision} write_ms={acked:.1} missed={missed} closed={closed}"),
        );
        all.extend(latencies);
    }
    let rss_after = o.pid.and_then(rss_kib);
    summary(
        "sse_fanout",
        all,
        &format!(
            "clients={connected} changes={} missed={missed_total} closed={closed} server_rss_after_kib={}",
            o.changes,
            rss_after.map_or("-".into(), |v| v.to_string())
        ),
    );
}

async fn writes(url: &str, admin: &str, env: &str, count: usize, label: &str) {
    let http = http();
    let flag = "bench-writes";
    let path = format!("{url}/api/v1/environments/{env}/flags/{flag}");
    let current = http.get(&path).bearer_auth(admin).send().await.expect("GET flag");
    let mut revision = if current.status().as_u16() == 200 {
        current.json::<Value>().await.unwrap()["revision"].as_u64()
    } else {
        None
    };
    let (mut puts, mut states) = (Vec::new(), Vec::new());
    let mut state_on = true;
    for n in 0..count {
        let mut definition = small_flag(if state_on { "on" } else { "off" });
        definition["metadata"] = json!({ "x-write": n });
        let started = Instant::now();
        let (status, body) = if n % 2 == 0 || revision.is_none() {
            let mut body = json!({ "definition": definition, "reason": "benchmark" });
            if let Some(revision) = revision {
                body["baseRevision"] = json!(revision);
            }
            send(http.put(&path).bearer_auth(admin).json(&body)).await
        } else {
            state_on = !state_on;
            send(
                http.post(format!("{path}/state"))
                    .bearer_auth(admin)
                    .json(&json!({ "state": if state_on { "on" } else { "off" }, "reason": "benchmark" })),
            )
            .await
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!((200..300).contains(&status), "write {n}: {status} {body}");
        if n % 2 == 0 || revision.is_none() {
            puts.push(ms);
        } else {
            states.push(ms);
        }
        revision = body["revision"].as_u64();
    }
    let all: Vec<f64> = puts.iter().chain(states.iter()).copied().collect();
    let label = if label.is_empty() { String::new() } else { format!("_{label}") };
    summary(&format!("writes{label}_put"), puts, "");
    summary(&format!("writes{label}_state"), states, "");
    summary(&format!("writes{label}_all"), all, "");
}
