//! Durability and concurrency of `pennon serve`, on every backend (`common::backends()`).
//!
//! - `acknowledged_writes_survive_kill_9`: writer threads change distinct and shared flags
//!   as fast as they can; the server is killed with SIGKILL in the middle of the burst and
//!   restarted on the same database, twice. Every write that was answered 2xx must be there: in
//!   its flag's history with its revision, in the audit trail with its `auditSeq`, and the
//!   audit chain must verify. No acknowledged revision may be handed out twice.
//! - `an_import_killed_midway_is_all_or_nothing`: SIGKILL in the middle of a 3,000-flag import.
//! - `audit_verify_detects_an_edit_a_gap_and_a_cut_tail`: rows changed behind the server's back.
//! - `racing_creates_have_one_winner`: writers create the same new flag at once: one `201`,
//!   the others `428`/`409`, and the flag is the winner's.
//! - `postgres_connection_loss_mid_burst_loses_no_acknowledged_write`: PostgreSQL drops the
//!   server's connections during a burst: no acknowledged write is lost, failures are `503`.
//! - `two_postgres_replicas_keep_one_winner_per_base_revision_and_one_audit_chain`: the
//!   race below and a write burst through two replicas on one PostgreSQL database.
//! - `optimistic_concurrency_has_one_winner_per_base_revision`: writers race on ONE flag
//!   with `baseRevision`; each base revision has exactly one winner, every loser gets
//!   `409 conflict` with `currentRevision`, and the flag's history is a gapless chain in
//!   which each change's `before` is the previous change's `after` (no lost update).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{ADMIN_TOKEN, Backend, Database, Server};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ENV: &str = "development";
const WRITERS: usize = 8;
const SHARED_FLAGS: usize = 3;

fn flag_path(key: &str) -> String {
    format!("/api/v1/environments/{ENV}/flags/{key}")
}

/// A flag definition whose content says who wrote it and when (so every write changes it).
fn definition(state: &str, writer: usize, n: usize) -> Value {
    let mut definition = common::boolean_flag(state);
    definition["metadata"] = json!({ "owner": format!("writer-{writer}"), "x-write": n });
    definition
}

/// One write the server answered with 2xx.
#[derive(Debug, Clone)]
struct Ack {
    flag: String,
    action: &'static str,
    revision: u64,
    audit_seq: u64,
    answered_at: Instant,
}

/// What one writer thread saw.
#[derive(Debug, Default)]
struct WriterLog {
    acks: Vec<Ack>,
    /// Non-2xx answers (status, body) received while the server was certainly alive.
    failures_before_kill: Vec<(String, u16, String)>,
    /// Requests that failed at the transport level (expected only around the kill).
    transport_errors: usize,
}

/// A raw request that never panics: `Err` when the connection failed.
fn request(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, String), reqwest::Error> {
    let mut request = http.request(method, url).bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send()?;
    let status = response.status().as_u16();
    let text = response.text()?;
    Ok((status, text))
}

fn writer(
    base: String,
    round: usize,
    id: usize,
    stop: Arc<AtomicBool>,
    killed_at: Arc<std::sync::Mutex<Option<Instant>>>,
    start: Arc<Barrier>,
) -> WriterLog {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut log = WriterLog::default();
    let own = format!("durable-r{round}-w{id}");
    let mut own_revision: Option<u64> = None;
    let mut n = 0usize;
    start.wait();
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        // Three kinds of write in turn: replace the writer's own flag (with baseRevision),
        // create a brand-new flag, change the state of a flag every writer shares.
        let (flag, method, path, body, action) = match n % 3 {
            0 => {
                let body = match own_revision {
                    Some(revision) => {
                        json!({ "definition": definition("on", id, n), "baseRevision": revision, "reason": "durability" })
                    }
                    None => json!({ "definition": definition("on", id, n), "reason": "durability" }),
                };
                (own.clone(), reqwest::Method::PUT, flag_path(&own), body, "put-own")
            }
            1 => {
                let key = format!("durable-r{round}-w{id}-n{n}");
                let body = json!({ "definition": definition("off", id, n), "reason": "durability" });
                let path = flag_path(&key);
                (key, reqwest::Method::PUT, path, body, "create")
            }
            _ => {
                let key = format!("durable-shared-{}", n % SHARED_FLAGS);
                let state = if (n / 3 + id).is_multiple_of(2) { "on" } else { "off" };
                let body = json!({ "state": state, "reason": "durability" });
                let path = format!("{}/state", flag_path(&key));
                (key, reqwest::Method::POST, path, body, "state")
            }
        };
        match request(&http, method, &format!("{base}{path}"), Some(&body)) {
            Ok((status, text)) if (200..300).contains(&status) => {
                let change: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("a {status} answer that is not JSON ({e}): {text}"));
                let revision = change["revision"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{action} {flag}: a {status} Change without `revision`: {text}"));
                let audit_seq = change["auditSeq"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{action} {flag}: a {status} Change without `auditSeq`: {text}"));
                if action == "put-own" {
                    own_revision = Some(revision);
                }
                log.acks.push(Ack { flag, action, revision, audit_seq, answered_at: Instant::now() });
            }
            Ok((status, text)) => {
                // Before the kill every write must succeed; after it, anything goes.
                if killed_at.lock().unwrap().is_none() {
                    log.failures_before_kill.push((format!("{action} {flag}"), status, text));
                }
            }
            Err(error) => {
                if killed_at.lock().unwrap().is_none() {
                    log.failures_before_kill.push((format!("{action} {flag}"), 0, error.to_string()));
                } else {
                    log.transport_errors += 1;
                    break;
                }
            }
        }
    }
    log
}

/// All entries of the audit trail, oldest first (from `GET /api/v1/audit/export`).
fn audit_export(server: &Server) -> Vec<Value> {
    let answer = server.admin().get("/api/v1/audit/export");
    assert_eq!(answer.status, 200, "audit export: {}", answer.text);
    answer
        .text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("audit export line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// One burst: WRITERS threads write until the server is killed with SIGKILL after 1.5 s.
/// Returns the acknowledged writes; fails on any write refused while the server was up.
fn burst(server: &mut Server, round: usize, backend: Backend) -> Vec<Ack> {
    let stop = Arc::new(AtomicBool::new(false));
    let killed_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let threads: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (base, stop, killed_at, start) = (server.url.clone(), stop.clone(), killed_at.clone(), start.clone());
            std::thread::spawn(move || writer(base, round, id, stop, killed_at, start))
        })
        .collect();
    start.wait();
    // Let the burst run, then SIGKILL the server while the writers are still sending.
    std::thread::sleep(Duration::from_millis(1500));
    *killed_at.lock().unwrap() = Some(Instant::now());
    server.kill();
    stop.store(true, Ordering::SeqCst);
    let logs: Vec<WriterLog> = threads.into_iter().map(|t| t.join().expect("writer thread")).collect();

    let acks: Vec<Ack> = logs.iter().flat_map(|log| log.acks.iter().cloned()).collect();
    let failures: Vec<_> = logs.iter().flat_map(|log| log.failures_before_kill.iter().cloned()).collect();
    let transport_errors: usize = logs.iter().map(|log| log.transport_errors).sum();
    let kill = killed_at.lock().unwrap().unwrap();
    let after_kill = acks.iter().filter(|a| a.answered_at >= kill).count();
    eprintln!(
        "{backend:?} round {round}: {} writes acknowledged ({after_kill} of them answered while the kill was under way), \
         {transport_errors} requests cut off by SIGKILL",
        acks.len(),
    );
    assert!(failures.is_empty(), "{backend:?}: writes refused while the server was up: {failures:#?}");
    assert!(acks.len() >= 5, "{backend:?}: only {} writes were acknowledged in 1.5 s", acks.len());
    acks
}

/// Everything acknowledged so far is in the restarted server's history and audit trail.
fn check_acknowledged(server: &Server, acks: &[Ack], backend: Backend) {
    let admin = server.admin();
    // Every acknowledged change got its own environment revision and its own audit entry.
    let mut by_revision: HashMap<u64, &Ack> = HashMap::new();
    let mut by_seq: HashMap<u64, &Ack> = HashMap::new();
    for ack in acks {
        if let Some(other) = by_revision.insert(ack.revision, ack) {
            panic!("{backend:?}: revision {} was acknowledged twice: {other:?} and {ack:?}", ack.revision);
        }
        if let Some(other) = by_seq.insert(ack.audit_seq, ack) {
            panic!("{backend:?}: auditSeq {} was acknowledged twice: {other:?} and {ack:?}", ack.audit_seq);
        }
    }

    let mut flags: BTreeMap<&str, Vec<&Ack>> = BTreeMap::new();
    for ack in acks {
        flags.entry(ack.flag.as_str()).or_default().push(ack);
    }
    let mut lost = Vec::new();
    for (flag, acks) in &flags {
        let history = admin.get(&format!("{}/history", flag_path(flag)));
        if history.status != 200 {
            lost.push(format!("{flag}: history answered {} {}", history.status, history.text));
            continue;
        }
        let entries =
            history.json.as_array().unwrap_or_else(|| panic!("history of {flag} is not an array: {}", history.text));
        let revisions: BTreeSet<u64> = entries.iter().filter_map(|e| e["revision"].as_u64()).collect();
        let seqs: BTreeSet<u64> = entries.iter().filter_map(|e| e["seq"].as_u64()).collect();
        for ack in acks {
            if !revisions.contains(&ack.revision) || !seqs.contains(&ack.audit_seq) {
                lost.push(format!(
                    "{flag}: acknowledged {} revision {} auditSeq {} is not in its history",
                    ack.action, ack.revision, ack.audit_seq
                ));
            }
        }
        // The flag is at least as new as its newest acknowledged change, and it is what
        // its newest history entry says (no torn write between the flag and its audit).
        let newest = acks.iter().map(|a| a.revision).max().unwrap();
        let current = admin.get(&flag_path(flag));
        match current.json["revision"].as_u64() {
            Some(revision) if revision >= newest => {}
            _ => lost.push(format!("{flag}: acknowledged revision {newest}, now {} {}", current.status, current.text)),
        }
        let latest = entries.iter().max_by_key(|e| e["revision"].as_u64().unwrap_or(0));
        if let Some(latest) = latest
            && (latest["revision"] != current.json["revision"] || latest["after"] != current.json["definition"])
        {
            lost.push(format!(
                "{flag}: the flag (revision {}) is not its newest history entry (revision {})",
                current.json["revision"], latest["revision"]
            ));
        }
    }

    let audit = audit_export(server);
    let audit_by_seq: HashMap<u64, &Value> = audit.iter().filter_map(|e| Some((e["seq"].as_u64()?, e))).collect();
    for ack in acks {
        match audit_by_seq.get(&ack.audit_seq) {
            Some(entry)
                if entry["revision"].as_u64() == Some(ack.revision)
                    && entry["flag"].as_str() == Some(ack.flag.as_str()) => {}
            Some(entry) => {
                lost.push(format!("audit entry {} is not the acknowledged change {ack:?}: {entry}", ack.audit_seq))
            }
            None => lost.push(format!("audit entry {} of the acknowledged change {ack:?} is missing", ack.audit_seq)),
        }
    }
    assert!(lost.is_empty(), "{backend:?}: acknowledged writes lost across kill -9: {lost:#?}");

    let verify = admin.get("/api/v1/audit/verify");
    assert_eq!(verify.status, 200, "{backend:?}: audit verify: {}", verify.text);
    assert_eq!(
        verify.json["ok"],
        json!(true),
        "{backend:?}: the audit chain does not verify after kill -9: {}",
        verify.text
    );
    assert!(verify.json["entries"].as_u64().unwrap_or(0) >= acks.len() as u64, "{backend:?}: {}", verify.text);
}

fn acknowledged_writes_survive_kill_9_on(backend: Backend) {
    const ROUNDS: usize = 2;
    let database = Database::new(backend);
    let mut server = Server::start_on(&database, &[]);
    for i in 0..SHARED_FLAGS {
        let answer = server.admin().put(
            &flag_path(&format!("durable-shared-{i}")),
            json!({ "definition": common::boolean_flag("off"), "reason": "setup" }),
        );
        assert_eq!(answer.status, 201, "{backend:?}: creating a shared flag: {}", answer.text);
    }
    let mut acks = Vec::new();
    for round in 0..ROUNDS {
        acks.extend(burst(&mut server, round, backend));
        // Restart on the same database: everything acknowledged must be there.
        server = Server::start_on(&database, &[]);
        check_acknowledged(&server, &acks, backend);
    }

    // The environment never hands out an acknowledged revision again.
    let max_revision = acks.iter().map(|a| a.revision).max().unwrap();
    let after = server.admin().put(
        &flag_path("durable-after-restart"),
        json!({ "definition": common::boolean_flag("on"), "reason": "after restart" }),
    );
    assert_eq!(after.status, 201, "{backend:?}: a write after the restart: {}", after.text);
    let revision = after.json["revision"].as_u64().unwrap();
    assert!(
        revision > max_revision,
        "{backend:?}: revision {revision} after restart, but {max_revision} was acknowledged"
    );
    let status = server.admin().get("/api/v1/status");
    assert_eq!(status.status, 200, "{}", status.text);
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    for backend in common::backends() {
        acknowledged_writes_survive_kill_9_on(backend);
    }
}

/// One attempt of a racing writer: the base revision it read and what the server said.
#[derive(Debug, Clone)]
struct Attempt {
    base: u64,
    outcome: Result<u64, (u16, Value)>,
}

fn optimistic_concurrency_on(backend: Backend) {
    let (server, _database) = Server::start(backend);
    race(&[&server], backend);
}

/// Racers (spread over `servers`, which share one database) change one flag with
/// `baseRevision` and check that every base revision has exactly one winner.
fn race(servers: &[&Server], backend: Backend) {
    const RACERS: usize = 8;
    const ATTEMPTS: usize = 25;
    let server = servers[0];
    let key = "contended";
    let created =
        server.admin().put(&flag_path(key), json!({ "definition": definition("on", 99, 0), "reason": "setup" }));
    assert_eq!(created.status, 201, "{backend:?}: {}", created.text);
    let first_revision = created.json["revision"].as_u64().unwrap();
    // Another replica learns of the new flag through NOTIFY (or its revision check): wait
    // until every one serves it, so the race starts from the same state everywhere.
    for replica in servers {
        let deadline = Instant::now() + Duration::from_secs(10);
        while replica.admin().get(&flag_path(key)).status != 200 {
            assert!(Instant::now() < deadline, "{backend:?}: a replica did not learn of the new flag within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    let start = Arc::new(Barrier::new(RACERS));
    let threads: Vec<_> = (0..RACERS)
        .map(|id| {
            let admin = servers[(id / 2) % servers.len()].admin();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut attempts = Vec::new();
                for n in 1..=ATTEMPTS {
                    let current = admin.get(&flag_path(key));
                    assert_eq!(current.status, 200, "{}", current.text);
                    let base = current.json["revision"].as_u64().unwrap();
                    // Even writers replace the definition, odd ones change the state; both
                    // name the revision they read.
                    let answer = if id % 2 == 0 {
                        admin.put(
                            &flag_path(key),
                            json!({ "definition": definition("on", id, n), "baseRevision": base, "reason": "race" }),
                        )
                    } else {
                        let state = if current.json["definition"]["state"] == json!("on") { "off" } else { "on" };
                        admin.post(
                            &format!("{}/state", flag_path(key)),
                            json!({ "state": state, "baseRevision": base, "reason": "race" }),
                        )
                    };
                    let outcome = if answer.status == 200 {
                        Ok(answer.json["revision"].as_u64().unwrap_or_else(|| panic!("no revision: {}", answer.text)))
                    } else {
                        Err((answer.status, answer.json.clone()))
                    };
                    attempts.push(Attempt { base, outcome });
                }
                attempts
            })
        })
        .collect();
    let attempts: Vec<Attempt> = threads.into_iter().flat_map(|t| t.join().expect("racer")).collect();

    // Losers: 409 conflict naming a current revision other than their base.
    for attempt in &attempts {
        if let Err((status, body)) = &attempt.outcome {
            assert_eq!(*status, 409, "{backend:?}: a racing write got {status}, not 409: {attempt:?}");
            assert_eq!(body["error"]["code"], json!("conflict"), "{backend:?}: {attempt:?}");
            let current = body["currentRevision"].as_u64().or_else(|| body["error"]["currentRevision"].as_u64());
            match current {
                Some(current) => {
                    assert_ne!(current, attempt.base, "{backend:?}: a conflict at the current revision: {attempt:?}")
                }
                None => panic!("{backend:?}: a 409 without currentRevision: {body}"),
            }
        }
    }
    // Exactly one winner for every base revision someone tried.
    let mut winners: BTreeMap<u64, Vec<&Attempt>> = BTreeMap::new();
    for attempt in &attempts {
        winners.entry(attempt.base).or_default();
        if attempt.outcome.is_ok() {
            winners.entry(attempt.base).or_default().push(attempt);
        }
    }
    for (base, won) in &winners {
        assert_eq!(won.len(), 1, "{backend:?}: base revision {base} has {} winners: {won:#?}", won.len());
    }
    // The winners form one chain from the creation: each based on the previous winner.
    let mut chain: Vec<(u64, u64)> =
        winners.values().map(|won| (won[0].base, *won[0].outcome.as_ref().unwrap())).collect();
    chain.sort_by_key(|(_, revision)| *revision);
    let mut expected_base = first_revision;
    for (base, revision) in &chain {
        assert_eq!(*base, expected_base, "{backend:?}: a gap in the chain of winners: {chain:?}");
        assert!(revision > base, "{backend:?}: {chain:?}");
        expected_base = *revision;
    }
    let wins = chain.len();
    eprintln!("{backend:?}: {} attempts, {wins} winners, {} conflicts", attempts.len(), attempts.len() - wins);
    assert!(wins >= 2, "{backend:?}: only {wins} writes won");

    // The flag's history has every winner, newest first, and each change starts where the
    // previous one ended (`before` = previous `after`): no lost update.
    let history = server.admin().get(&format!("{}/history", flag_path(key)));
    assert_eq!(history.status, 200, "{}", history.text);
    let mut entries: Vec<Value> = history.json.as_array().unwrap().clone();
    entries.sort_by_key(|e| e["revision"].as_u64().unwrap());
    let revisions: Vec<u64> = entries.iter().map(|e| e["revision"].as_u64().unwrap()).collect();
    let mut expected: Vec<u64> = vec![first_revision];
    expected.extend(chain.iter().map(|(_, revision)| *revision));
    assert_eq!(revisions, expected, "{backend:?}: the flag's history is not exactly the creation and the winners");
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1]["before"], pair[0]["after"],
            "{backend:?}: revision {} does not start from revision {}'s result",
            pair[1]["revision"], pair[0]["revision"]
        );
    }
    // Every server ends on the last winner (a replica may need a moment to hear of it).
    for (n, server) in servers.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(3);
        let current = loop {
            let current = server.admin().get(&flag_path(key));
            if current.json["revision"].as_u64() == Some(expected_base) || Instant::now() > deadline {
                break current;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(current.json["revision"].as_u64(), Some(expected_base), "{backend:?} server {n}: {}", current.text);
        assert_eq!(current.json["definition"], entries.last().unwrap()["after"], "{backend:?} server {n}");
    }
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.json["ok"], json!(true), "{backend:?}: {}", verify.text);
}

#[test]
fn optimistic_concurrency_has_one_winner_per_base_revision() {
    for backend in common::backends() {
        optimistic_concurrency_on(backend);
    }
}

fn racing_creates_on(backend: Backend) {
    const RACERS: usize = 8;
    const KEYS: usize = 10;
    let (server, _database) = Server::start(backend);
    for k in 0..KEYS {
        let key = format!("born-{k}");
        let start = Arc::new(Barrier::new(RACERS));
        let threads: Vec<_> = (0..RACERS)
            .map(|id| {
                let (admin, start, key) = (server.admin(), start.clone(), key.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let answer =
                        admin.put(&flag_path(&key), json!({ "definition": definition("on", id, 0), "reason": "race" }));
                    (id, answer.status, answer.json)
                })
            })
            .collect();
        let answers: Vec<(usize, u16, Value)> = threads.into_iter().map(|t| t.join().expect("racer")).collect();
        let created: Vec<&(usize, u16, Value)> = answers.iter().filter(|(_, status, _)| *status == 201).collect();
        assert_eq!(created.len(), 1, "{backend:?}: {key} was created {} times: {answers:#?}", created.len());
        for (_, status, body) in &answers {
            // Replacing an existing flag without baseRevision is 428; 409 is as good.
            assert!(
                *status == 201 || *status == 428 || *status == 409,
                "{backend:?}: a racing create of {key} got {status}: {body}"
            );
        }
        let winner = created[0].0;
        let flag = server.admin().get(&flag_path(&key));
        assert_eq!(
            flag.json["definition"]["metadata"]["owner"],
            json!(format!("writer-{winner}")),
            "{backend:?}: {key} is not the winner's definition"
        );
        let history = server.admin().get(&format!("{}/history", flag_path(&key)));
        assert_eq!(history.json.as_array().map(Vec::len), Some(1), "{backend:?}: {}", history.text);
    }
}

#[test]
fn racing_creates_have_one_winner() {
    for backend in common::backends() {
        racing_creates_on(backend);
    }
}

/// Runs SQL on a PostgreSQL database and returns the first column of the first row as text.
fn postgres_scalar(url: &str, sql: &str) -> String {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let row = sqlx::query(&sql).fetch_one(&mut conn).await.unwrap();
            row.try_get::<String, _>(0).unwrap()
        })
    })
    .join()
    .unwrap()
}

/// PostgreSQL drops the server's connections (pg_terminate_backend) three times in the
/// middle of a write burst: a write may fail, but only as `503 unavailable`; every
/// acknowledged write is kept, the chain verifies, and the server recovers by itself.
#[test]
fn postgres_connection_loss_mid_burst_loses_no_acknowledged_write() {
    if !common::backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends: skipped");
        return;
    }
    let backend = Backend::Postgres;
    let database = Database::new(backend);
    let server = Server::start_on(&database, &[]);
    for i in 0..SHARED_FLAGS {
        let answer = server.admin().put(
            &flag_path(&format!("durable-shared-{i}")),
            json!({ "definition": common::boolean_flag("off"), "reason": "setup" }),
        );
        assert_eq!(answer.status, 201, "creating a shared flag: {}", answer.text);
    }
    let name = database.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let never_killed = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let threads: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (base, stop, killed, start) = (server.url.clone(), stop.clone(), never_killed.clone(), start.clone());
            std::thread::spawn(move || writer(base, 0, id, stop, killed, start))
        })
        .collect();
    start.wait();
    let mut terminated = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        terminated.push(postgres_scalar(
            &database.url,
            &format!(
                "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        ));
    }
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::SeqCst);
    let logs: Vec<WriterLog> = threads.into_iter().map(|t| t.join().expect("writer thread")).collect();
    let acks: Vec<Ack> = logs.iter().flat_map(|log| log.acks.iter().cloned()).collect();
    let failures: Vec<_> = logs.iter().flat_map(|log| log.failures_before_kill.iter().cloned()).collect();
    eprintln!(
        "terminated {terminated:?} connections; {} writes acknowledged, {} refused: {:?}",
        acks.len(),
        failures.len(),
        failures.iter().map(|(_, status, _)| *status).collect::<Vec<_>>()
    );
    assert!(acks.len() >= 5, "only {} writes were acknowledged", acks.len());
    // The same server, without a restart: everything is there and it takes writes again.
    check_acknowledged(&server, &acks, backend);
    let after = server.admin().put(
        &flag_path("durable-after-connection-loss"),
        json!({ "definition": common::boolean_flag("on"), "reason": "after" }),
    );
    assert_eq!(after.status, 201, "a write after the connections came back: {}", after.text);
    let ready = server.admin().get("/readyz");
    assert_eq!(ready.status, 200, "/readyz after the connections came back: {}", ready.text);
    // Last, as it is the least grave: a dropped connection is the database being
    // unreachable for that request (`503 unavailable`), not a bug (`500 internal`).
    let wrong: Vec<_> = failures
        .iter()
        .filter(|(_, status, body)| {
            *status != 503
                || serde_json::from_str::<Value>(body).ok().map(|b| b["error"]["code"].clone())
                    != Some(json!("unavailable"))
        })
        .collect();
    assert!(wrong.is_empty(), "writes failed otherwise than `503 unavailable` when connections dropped: {wrong:#?}");
}

/// Two `pennon serve` replicas on one PostgreSQL database: optimistic concurrency holds
/// across processes (the database, not a process, decides the winner), and concurrent
/// writes through both keep unique revisions and one verifiable audit chain.
#[test]
fn two_postgres_replicas_keep_one_winner_per_base_revision_and_one_audit_chain() {
    if !common::backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends: skipped");
        return;
    }
    let backend = Backend::Postgres;
    let database = Database::new(backend);
    let a = Server::start_on(&database, &[]);
    let b = Server::start_on(&database, &[]);
    race(&[&a, &b], backend);

    // A write burst through both replicas at once (no kill): every acknowledged write has
    // its own revision and audit entry, seen the same from both.
    for i in 0..SHARED_FLAGS {
        let answer = a.admin().put(
            &flag_path(&format!("durable-shared-{i}")),
            json!({ "definition": common::boolean_flag("off"), "reason": "setup" }),
        );
        assert_eq!(answer.status, 201, "creating a shared flag: {}", answer.text);
    }
    // B must know the shared flags before its writers change their state.
    std::thread::sleep(Duration::from_millis(500));
    let stop = Arc::new(AtomicBool::new(false));
    let never_killed = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let threads: Vec<_> = (0..WRITERS)
        .map(|id| {
            let base = if id % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let (stop, killed, start) = (stop.clone(), never_killed.clone(), start.clone());
            std::thread::spawn(move || writer(base, 0, id, stop, killed, start))
        })
        .collect();
    start.wait();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    let logs: Vec<WriterLog> = threads.into_iter().map(|t| t.join().expect("writer thread")).collect();
    let acks: Vec<Ack> = logs.iter().flat_map(|log| log.acks.iter().cloned()).collect();
    let failures: Vec<_> = logs.iter().flat_map(|log| log.failures_before_kill.iter().cloned()).collect();
    eprintln!("two replicas: {} writes acknowledged, {} refused", acks.len(), failures.len());
    assert!(failures.is_empty(), "writes refused through two replicas: {failures:#?}");
    std::thread::sleep(Duration::from_millis(500));
    check_acknowledged(&a, &acks, backend);
    check_acknowledged(&b, &acks, backend);
}

fn killed_import_is_all_or_nothing_on(backend: Backend) {
    const FLAGS: usize = 3000;
    let database = Database::new(backend);
    let mut server = Server::start_on(&database, &[]);
    let mut flags = serde_json::Map::new();
    for n in 0..FLAGS {
        flags.insert(format!("imported-{n:05}"), definition(if n % 2 == 0 { "on" } else { "off" }, 0, n));
    }
    let snapshot = json!({ "schemaVersion": 1, "revision": 0, "flags": flags });
    // Time one import, then kill the server at about half that time into a second one.
    let started = Instant::now();
    let first = server.admin().post(
        &format!("/api/v1/environments/{ENV}/import"),
        json!({ "snapshot": snapshot, "replace": true, "reason": "timing" }),
    );
    assert!(first.status == 200 || first.status == 201, "{backend:?}: import: {} {}", first.status, first.text);
    let took = started.elapsed();
    let before = server.admin().get("/api/v1/status");
    let mut renamed = serde_json::Map::new();
    for n in 0..FLAGS {
        renamed.insert(format!("second-{n:05}"), definition("on", 1, n));
    }
    let second = json!({ "snapshot": { "schemaVersion": 1, "revision": 0, "flags": renamed }, "replace": true, "reason": "killed" });
    let base = server.url.clone();
    let importer = std::thread::spawn(move || {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        request(&http, reqwest::Method::POST, &format!("{base}/api/v1/environments/{ENV}/import"), Some(&second))
    });
    std::thread::sleep(took / 2);
    server.kill();
    let answered = importer.join().unwrap();
    let acknowledged = matches!(answered, Ok((status, _)) if (200..300).contains(&status));

    let server = Server::start_on(&database, &[]);
    let list = server.admin().get(&format!("/api/v1/environments/{ENV}/flags"));
    assert_eq!(list.status, 200, "{backend:?}: {}", list.text);
    let keys: Vec<&str> = list.json["flags"].as_array().unwrap().iter().filter_map(|f| f["key"].as_str()).collect();
    let firsts = keys.iter().filter(|k| k.starts_with("imported-")).count();
    let seconds = keys.iter().filter(|k| k.starts_with("second-")).count();
    eprintln!(
        "{backend:?}: import took {took:?}; killed {:?} into the second (acknowledged: {acknowledged}); after restart {firsts} first, {seconds} second",
        took / 2
    );
    assert!(
        (firsts == FLAGS && seconds == 0 && !acknowledged) || (firsts == 0 && seconds == FLAGS),
        "{backend:?}: a killed import left {firsts} flags of the first import and {seconds} of the second"
    );
    let status = server.admin().get("/api/v1/status");
    let revision = |status: &common::Answer| {
        status.json["environments"].as_array().unwrap().iter().find(|e| e["key"] == json!(ENV)).unwrap()["revision"]
            .as_u64()
            .unwrap()
    };
    let expected = revision(&before) + u64::from(seconds == FLAGS);
    assert_eq!(revision(&status), expected, "{backend:?}: the environment's revision after the killed import");
    let (_, _, body) = {
        let key = server.admin().post("/api/v1/tokens", json!({ "name": "after", "role": "sdk", "environment": ENV }));
        let key = key.json["token"].as_str().unwrap().to_string();
        let answer = server.client(Some(&key)).get("/sdk/v1/snapshot");
        (answer.status, answer.headers, answer.text)
    };
    let published: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        published["flags"].as_object().unwrap().len(),
        keys.len(),
        "{backend:?}: the published snapshot and the flag list differ after restart"
    );
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.json["ok"], json!(true), "{backend:?}: {}", verify.text);
}

#[test]
fn an_import_killed_midway_is_all_or_nothing() {
    for backend in common::backends() {
        killed_import_is_all_or_nothing_on(backend);
    }
}

/// Runs one statement on a test database of either backend; returns the rows affected.
fn execute(database: &Database, sql: &str) -> u64 {
    let (url, sql, backend) = (database.url.clone(), sql.to_string(), database.backend);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            use sqlx::Connection;
            match backend {
                Backend::Sqlite => {
                    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::query(&sql).execute(&mut conn).await.unwrap().rows_affected()
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                    sqlx::query(&sql).execute(&mut conn).await.unwrap().rows_affected()
                }
            }
        })
    })
    .join()
    .unwrap()
}

/// Five flag changes, then the server is stopped; returns the database and the audit
/// entries of the five changes (oldest first).
fn audited_database(backend: Backend) -> (Database, Vec<Value>) {
    let database = Database::new(backend);
    let mut server = Server::start_on(&database, &[]);
    let mut seqs = Vec::new();
    for n in 0..5 {
        let answer = server.admin().put(
            &flag_path(&format!("audited-{n}")),
            json!({ "definition": definition("on", 0, n), "reason": format!("change {n}") }),
        );
        assert_eq!(answer.status, 201, "{backend:?}: {}", answer.text);
        seqs.push(answer.json["auditSeq"].as_u64().unwrap());
    }
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.json["ok"], json!(true), "{backend:?}: {}", verify.text);
    let audit = audit_export(&server);
    server.kill();
    let entries =
        seqs.iter().map(|seq| audit.iter().find(|e| e["seq"].as_u64() == Some(*seq)).unwrap().clone()).collect();
    (database, entries)
}

fn audit_verify_detects_tampering_on(backend: Backend) {
    // An edited entry: the reason of the third change rewritten in the database.
    let (database, entries) = audited_database(backend);
    let edited = entries[2]["seq"].as_u64().unwrap();
    assert_eq!(execute(&database, &format!("UPDATE audit SET reason = 'nothing to see' WHERE seq = {edited}")), 1);
    let server = Server::start_on(&database, &[]);
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.status, 200, "{backend:?}: {}", verify.text);
    assert_eq!(verify.json["ok"], json!(false), "{backend:?}: an edited audit entry verifies: {}", verify.text);
    assert_eq!(verify.json["firstBad"]["seq"].as_u64(), Some(edited), "{backend:?}: {}", verify.text);
    drop(server);

    // A removed entry: the fourth change's entry deleted.
    let (database, entries) = audited_database(backend);
    let removed = entries[3]["seq"].as_u64().unwrap();
    assert_eq!(execute(&database, &format!("DELETE FROM audit WHERE seq = {removed}")), 1);
    let server = Server::start_on(&database, &[]);
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.json["ok"], json!(false), "{backend:?}: a gap in the audit trail verifies: {}", verify.text);
    let first_bad = verify.json["firstBad"]["seq"].as_u64();
    assert!(
        first_bad == Some(removed) || first_bad == Some(removed + 1),
        "{backend:?}: the gap at {removed} is reported at {first_bad:?}: {}",
        verify.text
    );

    // The newest entry removed (the tail cut off): the chain head no longer matches.
    let (database, entries) = audited_database(backend);
    let last = entries[4]["seq"].as_u64().unwrap();
    assert_eq!(execute(&database, &format!("DELETE FROM audit WHERE seq = {last}")), 1);
    let server = Server::start_on(&database, &[]);
    let verify = server.admin().get("/api/v1/audit/verify");
    assert_eq!(verify.json["ok"], json!(false), "{backend:?}: a cut-off tail verifies: {}", verify.text);
}

#[test]
fn audit_verify_detects_an_edit_a_gap_and_a_cut_tail() {
    for backend in common::backends() {
        audit_verify_detects_tampering_on(backend);
    }
}
