//! Sending outcomes (`record`, `metrics_interval`, `flush_outcomes`, the last batch on
//! `close`) against a small HTTP server that records every batch and fails some of them:
//! a failed batch is sent again verbatim (same id, same bytes) before a new one, a server
//! that stored a batch but failed to answer counts it once, a body the server refuses is
//! dropped, and nothing waits on the network but the sender's own thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pennon::{Client, Context, Outcome};
use serde_json::Value;
use support::{Faulty, Request, respond, snapshot};

const METRICS: &str = "/sdk/v1/metrics";

/// A server that serves snapshot 1 (flag `f`, on) and answers batches with `status(nth)`.
fn server(status: impl Fn(usize) -> &'static str + Send + Sync + 'static) -> Faulty {
    Faulty::start(move |request: &Request, stream| match request.path.as_str() {
        "/sdk/v1/snapshot" => respond(stream, "200 OK", &[("ETag", "\"e1\"")], &snapshot(1, true)),
        METRICS => {
            respond(stream, status(request.nth), &[("Content-Type", "application/json")], r#"{"accepted":true}"#)
        }
        _ => respond(stream, "404 Not Found", &[], ""),
    })
}

fn client(url: &str) -> pennon::ClientBuilder {
    Client::builder().url(url).sdk_key("k").stream(false).poll_interval(Duration::from_secs(60))
}

fn body(request: &Request) -> Value {
    serde_json::from_str(&request.body).unwrap()
}

/// `flags.f.on.<field>` of a batch (0 when absent).
fn count(request: &Request, field: &str) -> u64 {
    body(request)["flags"]["f"]["on"][field].as_u64().unwrap_or(0)
}

/// The batch id of a batch.
fn id(request: &Request) -> String {
    body(request)["batch"].as_str().unwrap().to_owned()
}

#[test]
fn a_failed_batch_is_sent_again_verbatim_before_a_new_one() {
    let server = server(|nth| if nth < 2 { "503 Service Unavailable" } else { "202 Accepted" });
    let client = client(&server.url).metrics_interval(Duration::from_millis(30)).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::with_targeting_key("u");
    let (mut requests, mut errors) = (0, 0);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        assert!(client.is_enabled("f", &user));
        let outcome = if requests % 4 == 0 { Outcome::error() } else { Outcome::ok() };
        client.record("f", &user, outcome.with_latency_ms(12.0)).unwrap();
        requests += 1;
        errors += u64::from(requests % 4 == 1);
        std::thread::sleep(Duration::from_millis(1));
    }
    // Sent 0 and 1 failed; 2 is their batch again, accepted; then new ones.
    let accepted =
        |server: &Faulty| -> Vec<Request> { server.requests(METRICS).into_iter().filter(|r| r.nth >= 2).collect() };
    let deadline = Instant::now() + Duration::from_secs(5);
    while accepted(&server).iter().map(|r| count(r, "requests")).sum::<u64>() < requests {
        assert!(Instant::now() < deadline, "not every outcome arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let batches = accepted(&server);
    let total = |field: &str| batches.iter().map(|r| count(r, field)).sum::<u64>();
    assert_eq!((total("requests"), total("errors"), total("exposures")), (requests, errors, requests));
    let latencies: u64 = batches
        .iter()
        .flat_map(|r| body(r)["flags"]["f"]["on"]["latency"].as_array().cloned().unwrap_or_default())
        .map(|pair| pair[1].as_u64().unwrap())
        .sum();
    assert_eq!(latencies, requests);
    let all = server.requests(METRICS);
    assert!(all.len() >= 4, "two failed sends, their batch accepted, then the outcomes recorded meanwhile");
    assert!(count(&all[0], "requests") > 0);
    assert_eq!(all[1].body, all[0].body, "the same bytes, the same batch id");
    assert_eq!(all[2].body, all[0].body);
    assert!(count(&all[3], "requests") > 0, "what was recorded meanwhile comes in the next batch");
    let ids: Vec<String> = batches.iter().map(id).collect();
    assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "a new batch id for every new batch");
    let first = &all[0];
    assert_eq!(first.headers["authorization"], "Bearer k");
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(body(first)["sdk"], concat!("pennon-rust/", env!("CARGO_PKG_VERSION")));
}

/// What a server stored: each batch id once (as `pennon serve` does), its `requests` and
/// `errors` summed.
#[derive(Default)]
struct Stored {
    ids: HashSet<String>,
    requests: u64,
    errors: u64,
}

#[test]
fn a_batch_the_server_stored_but_failed_to_answer_is_counted_once() {
    let stored = Arc::new(Mutex::new(Stored::default()));
    let store = Arc::clone(&stored);
    // Stores every batch, then answers the first with 503 and drops the second's connection
    // without an answer (a lost response); the third on are answered.
    let server = Faulty::start(move |request: &Request, stream| match request.path.as_str() {
        "/sdk/v1/snapshot" => respond(stream, "200 OK", &[], &snapshot(1, true)),
        METRICS => {
            let mut stored = store.lock().unwrap();
            let new = stored.ids.insert(id(request));
            if new {
                stored.requests += count(request, "requests");
                stored.errors += count(request, "errors");
            }
            drop(stored);
            match request.nth {
                0 => respond(stream, "503 Service Unavailable", &[], ""),
                1 => {} // the connection closes unanswered
                _ => respond(stream, "202 Accepted", &[], &format!(r#"{{"accepted":{new}}}"#)),
            }
        }
        _ => respond(stream, "404 Not Found", &[], ""),
    });
    let client = client(&server.url).metrics(false).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::new();
    client.record("f", &user, Outcome::ok()).unwrap();
    assert_eq!(client.flush_outcomes().unwrap_err().code, "server_error");
    client.record("f", &user, Outcome::error()).unwrap();
    assert_eq!(client.flush_outcomes().unwrap_err().code, "network_error");
    assert_eq!(client.flush_outcomes(), Ok(true), "the server answered `accepted: false`: a duplicate");
    assert_eq!(client.flush_outcomes(), Ok(true), "then a new batch: what was recorded meanwhile");
    assert_eq!(client.flush_outcomes(), Ok(false));
    let sent = server.requests(METRICS);
    assert_eq!(sent.len(), 4);
    assert!(sent[1..3].iter().all(|r| r.body == sent[0].body), "the first batch three times, verbatim");
    assert_ne!(id(&sent[3]), id(&sent[0]));
    let stored = stored.lock().unwrap();
    assert_eq!((stored.ids.len(), stored.requests, stored.errors), (2, 2, 1), "each outcome counted once");
}

#[test]
fn a_body_the_server_refuses_is_dropped() {
    let server = server(|nth| if nth == 0 { "400 Bad Request" } else { "202 Accepted" });
    let client = client(&server.url).metrics(false).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::new();
    assert_eq!(client.flush_outcomes(), Ok(false), "nothing to send yet");
    client.record("f", &user, Outcome::converted()).unwrap();
    assert_eq!(client.flush_outcomes().unwrap_err().code, "http_error");
    assert_eq!(client.flush_outcomes(), Ok(false), "dropped, not kept");
    client.record("f", &user, Outcome::error()).unwrap();
    assert_eq!(client.flush_outcomes(), Ok(true));
    let sent = server.requests(METRICS);
    let last = &sent[1];
    assert_eq!((count(last, "requests"), count(last, "errors"), count(last, "conversions")), (1, 1, 0));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.requests(METRICS).len(), 2, "metrics(false): no sender thread");
}

#[test]
fn while_the_server_is_down_one_batch_is_held_and_the_counters_add_up() {
    const DOWN: usize = 20;
    let server = server(|nth| if nth < DOWN { "503 Service Unavailable" } else { "202 Accepted" });
    let client = client(&server.url).metrics(false).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::new();
    for _ in 0..DOWN {
        client.record("f", &user, Outcome::ok()).unwrap();
        assert!(client.flush_outcomes().is_err());
    }
    assert_eq!(client.flush_outcomes(), Ok(true));
    assert_eq!(client.flush_outcomes(), Ok(true));
    let sent = server.requests(METRICS);
    assert_eq!(sent.len(), DOWN + 2);
    // The held batch never grew (no queue of batches): the same bytes every time.
    assert!(sent[..=DOWN].iter().all(|r| r.body == sent[0].body));
    assert_eq!(count(&sent[0], "requests"), 1);
    assert_eq!(count(&sent[DOWN + 1], "requests"), DOWN as u64 - 1, "the engine's counters summed the rest");
}

#[test]
fn close_sends_the_last_batch() {
    let server = server(|_| "202 Accepted");
    let client = client(&server.url).metrics_interval(Duration::from_secs(3600)).build().unwrap();
    client.wait_ready().unwrap();
    client.record("f", &Context::new(), Outcome::ok().with_latency(Duration::from_millis(3))).unwrap();
    client.close();
    let sent = server.requests(METRICS);
    assert_eq!(sent.len(), 1);
    assert_eq!(count(&sent[0], "requests"), 1);
}

#[test]
fn close_sends_the_pending_batch_if_there_is_one() {
    let server = server(|nth| if nth == 0 { "503 Service Unavailable" } else { "202 Accepted" });
    let client = client(&server.url).metrics_interval(Duration::from_secs(3600)).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::new();
    client.record("f", &user, Outcome::ok()).unwrap();
    assert!(client.flush_outcomes().is_err());
    client.record("f", &user, Outcome::error()).unwrap();
    client.close();
    let sent = server.requests(METRICS);
    assert_eq!(sent.len(), 2, "one send on close");
    assert_eq!(sent[1].body, sent[0].body, "the pending batch");
}

#[test]
fn a_server_that_hangs_delays_neither_record_nor_close_beyond_a_second() {
    let release = Arc::new(AtomicBool::new(false));
    let hold = Arc::clone(&release);
    let server = Faulty::start(move |request: &Request, stream| match request.path.as_str() {
        "/sdk/v1/snapshot" => respond(stream, "200 OK", &[], &snapshot(1, true)),
        _ => {
            // Holds every batch until the test ends.
            while !hold.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    let client = client(&server.url).metrics_interval(Duration::from_millis(10)).build().unwrap();
    client.wait_ready().unwrap();
    let user = Context::new();
    client.record("f", &user, Outcome::ok()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.requests(METRICS).is_empty() {
        assert!(Instant::now() < deadline, "no batch was sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    // A send is in flight and hanging: recording still only adds.
    let started = Instant::now();
    for _ in 0..10_000 {
        client.record("f", &user, Outcome::ok().with_latency_ms(1.0)).unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(500), "record waited: {:?}", started.elapsed());
    let started = Instant::now();
    client.close();
    assert!(started.elapsed() < Duration::from_millis(1500), "close took {:?}", started.elapsed());
    release.store(true, Ordering::Relaxed);
}
