//! The refresh loop against a small fault-injecting HTTP server (std `TcpListener`, a
//! thread per connection): malformed and truncated bodies, 5xx with the circuit breaker,
//! a stream dropped mid-event, a silent stream and the watchdog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use support::{Faulty, respond, snapshot, stream_head};

use pennon::{Client, Context, Event};

fn event(revision: u64, on: bool) -> String {
    format!(
        "event: snapshot\nid: {revision}\ndata: {{\"revision\":{revision},\"etag\":\"\\\"e{revision}\\\"\"}}\ndata: {}\n\n",
        snapshot(revision, on)
    )
}

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

fn is_error(code: &'static str) -> impl Fn(&Event) -> bool {
    move |e| matches!(e, Event::Error { code: c, .. } if c == code)
}

fn polling(url: &str) -> pennon::ClientBuilder {
    Client::builder().url(url).sdk_key("k").stream(false).poll_interval(Duration::from_millis(50))
}

#[test]
fn a_malformed_body_is_refused_and_the_last_good_snapshot_stays() {
    let server = Faulty::start(|_, s| respond(s, "200 OK", &[], "{\"schemaVersion\": 1, \"revis"));
    let client = polling(&server.url).bootstrap(&snapshot(1, true)).build().unwrap();
    let events = client.events();
    assert!(wait_for(&events, Duration::from_secs(3), is_error("invalid_json")).is_some());
    assert_eq!(client.revision(), Some(1));
    assert!(client.is_enabled("f", &Context::new()));

    let cold = polling(&server.url).init_timeout(Duration::from_millis(300)).build().unwrap();
    let error = cold.wait_ready().unwrap_err();
    assert!(error.message.contains("invalid_json"), "{error}");
}

#[test]
fn a_truncated_body_is_a_failed_check() {
    let server = Faulty::start(|_, s| {
        let body = snapshot(2, true);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len() + 100);
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body.as_bytes());
        // …and the connection closes, 100 bytes short.
    });
    let client = polling(&server.url).bootstrap(&snapshot(1, false)).build().unwrap();
    let events = client.events();
    assert!(wait_for(&events, Duration::from_secs(3), is_error("network_error")).is_some());
    assert_eq!(client.revision(), Some(1), "the truncated snapshot was not installed");
}

#[test]
fn server_errors_open_the_breaker_then_it_recovers() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let server = Faulty::start(move |_, s| {
        // Five 500s, then healthy.
        if count.fetch_add(1, Ordering::SeqCst) < 5 {
            respond(s, "500 Internal Server Error", &[], "{}");
        } else {
            respond(s, "200 OK", &[("ETag", "\"e3\"")], &snapshot(3, true));
        }
    });
    let open_for = Duration::from_millis(800);
    let client = polling(&server.url).breaker(5, open_for).init_timeout(Duration::from_secs(5)).build().unwrap();
    let events = client.events();
    client.wait_ready().unwrap();
    assert_eq!(client.revision(), Some(3));
    let requests = server.requests("/sdk/v1/snapshot");
    assert!(requests.len() >= 6);
    // Requests 0..5 came one poll interval apart; the sixth waited for the open period.
    let gap = requests[5].at - requests[4].at;
    assert!(gap >= open_for - Duration::from_millis(50), "a request during the open period: {gap:?}");
    for pair in requests[..5].windows(2) {
        assert!(pair[1].at - pair[0].at < open_for / 2);
    }
    let errors: Vec<_> =
        events.try_iter().filter(|e| matches!(e, Event::Error { code, .. } if code == "server_error")).collect();
    assert!(errors.len() >= 4, "{errors:?}");
}

#[test]
fn a_stream_dropped_mid_event_reconnects_with_last_event_id() {
    let server = Faulty::start(|request, s| match (request.path.as_str(), request.nth) {
        ("/sdk/v1/snapshot", _) => respond(s, "200 OK", &[("ETag", "\"e1\"")], &snapshot(1, true)),
        ("/sdk/v1/stream", 0) => {
            stream_head(s);
            let full = event(2, false);
            let _ = s.write_all(&full.as_bytes()[..full.len() - 30]);
            let _ = s.flush();
            std::thread::sleep(Duration::from_millis(50));
            // Dropped here, mid-event.
        }
        ("/sdk/v1/stream", _) => {
            stream_head(s);
            let _ = s.write_all(b": heartbeat\n\n");
            let _ = s.write_all(event(3, false).as_bytes());
            let _ = s.flush();
            std::thread::sleep(Duration::from_secs(3));
        }
        _ => respond(s, "404 Not Found", &[], ""),
    });
    let client = Client::builder()
        .url(&server.url)
        .sdk_key("k")
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .build()
        .unwrap();
    let events = client.events();
    client.wait_ready().unwrap();
    let change = wait_for(&events, Duration::from_secs(3), |e| matches!(e, Event::Change { .. }));
    assert!(
        matches!(change, Some(Event::Change { revision: 3, previous_revision: Some(1), .. })),
        "revision 2 was cut mid-event and never installed: {change:?}"
    );
    assert!(!client.is_enabled("f", &Context::new()));
    let streams = server.requests("/sdk/v1/stream");
    assert_eq!(streams[0].headers.get("last-event-id").map(String::as_str), Some("1"));
    assert_eq!(streams[1].headers.get("last-event-id").map(String::as_str), Some("1"), "the cut event was not kept");
    assert_eq!(streams[1].headers.get("authorization").map(String::as_str), Some("Bearer k"));
}

#[test]
fn a_silent_stream_trips_the_watchdog() {
    let server = Faulty::start(|request, s| match request.path.as_str() {
        "/sdk/v1/snapshot" => {
            if request.headers.get("if-none-match").map(String::as_str) == Some("\"e1\"") {
                respond(s, "304 Not Modified", &[("ETag", "\"e1\"")], "");
            } else {
                respond(s, "200 OK", &[("ETag", "\"e1\"")], &snapshot(1, true));
            }
        }
        "/sdk/v1/stream" => {
            stream_head(s);
            // Silent: no event, no heartbeat.
            std::thread::sleep(Duration::from_secs(3));
        }
        _ => respond(s, "404 Not Found", &[], ""),
    });
    let heartbeat = Duration::from_millis(200);
    let client = Client::builder().url(&server.url).sdk_key("k").heartbeat(heartbeat).build().unwrap();
    let events = client.events();
    client.wait_ready().unwrap();
    assert!(wait_for(&events, Duration::from_secs(3), is_error("stream_silent")).is_some());
    std::thread::sleep(Duration::from_millis(100));
    let streams = server.requests("/sdk/v1/stream");
    assert!(streams.len() >= 2, "reconnected after the watchdog");
    let silent_for = streams[1].at - streams[0].at;
    assert!(silent_for >= heartbeat * 3 - Duration::from_millis(50), "{silent_for:?}");
    assert!(silent_for < heartbeat * 3 + Duration::from_millis(700), "{silent_for:?}");
    // Between the two streams, a full fetch: no If-None-Match.
    let snapshots = server.requests("/sdk/v1/snapshot");
    let full = snapshots.iter().find(|r| r.at > streams[0].at && r.at <= streams[1].at).expect("a fetch in between");
    assert!(!full.headers.contains_key("if-none-match"), "{full:?}");
}

#[test]
fn a_refused_key_is_reported_and_not_retried_faster_than_the_poll_interval() {
    let server = Faulty::start(|_, s| respond(s, "401 Unauthorized", &[], r#"{"error":{"code":"unauthorized"}}"#));
    let poll = Duration::from_millis(300);
    let client = Client::builder()
        .url(&server.url)
        .sdk_key("revoked")
        .poll_interval(poll)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap();
    let events = client.events();
    let error = wait_for(&events, Duration::from_secs(2), is_error("unauthorized"));
    assert!(matches!(&error, Some(Event::Error { message, .. }) if message.contains("SDK key")), "{error:?}");
    std::thread::sleep(Duration::from_millis(1000));
    let mut times: Vec<Instant> = server.log.lock().unwrap().iter().map(|r| r.at).collect();
    times.sort();
    assert!(times.len() >= 2, "{times:?}");
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= poll - Duration::from_millis(30), "retried after {:?}", pair[1] - pair[0]);
    }
}
