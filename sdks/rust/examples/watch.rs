//! Follows one environment of a Pennon server and prints what the client sees, one JSON
//! line per event: `ready`, then `change` (with core's changed keys and the watched
//! flag's new value), `error` and `stale`. The end-to-end test (`tests/e2e`) runs it next
//! to the Node and Python versions and checks that all three see a change within 1 s.
//!
//! ```text
//! PENNON_URL=http://127.0.0.1:7070 PENNON_SDK_KEY=… cargo run -p pennon --example watch -- checkout.new-flow
//! ```

use std::io::Write;

use pennon::{Client, Context, Event};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let flag = std::env::args().nth(1).ok_or("usage: watch FLAG")?;
    let client =
        Client::builder().url(&std::env::var("PENNON_URL")?).sdk_key(&std::env::var("PENNON_SDK_KEY")?).build()?;
    let events = client.events();
    client.wait_ready()?;
    let anyone = Context::with_targeting_key("e2e");
    let print = |line: serde_json::Value| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    let value = client.evaluate(&flag, &anyone).value;
    print(json!({"sdk": "rust", "event": "ready", "revision": client.revision(), "value": value}))?;
    for event in events {
        let line = match event {
            Event::Change { revision, flags, .. } => {
                let value = client.evaluate(&flag, &anyone).value;
                json!({"sdk": "rust", "event": "change", "revision": revision, "flags": flags, "value": value})
            }
            Event::Error { code, message } => {
                json!({"sdk": "rust", "event": "error", "code": code, "message": message})
            }
            Event::Stale { revision, .. } => json!({"sdk": "rust", "event": "stale", "revision": revision}),
            Event::Ready { .. } => continue,
        };
        print(line)?;
    }
    Ok(())
}
