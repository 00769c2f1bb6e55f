//! `pennon-rollouts watch`: one Rust SDK client of a running server that prints, as JSON
//! lines on stdout, what it evaluates for some flags and one context: once when it is
//! ready, then on every change that names one of them. Tests of other programs (the
//! dashboard's) use it to see what an application sees.

use std::io::Write;
use std::time::Duration;

use pennon::{Client, Context, Event};
use serde_json::json;

use crate::traffic::now_ms;

/// Watches `flags` for `context` until the process is stopped or the client closes.
pub fn run(url: &str, sdk_key: &str, flags: &[String], context: &Context) -> Result<(), String> {
    let client = Client::builder()
        .url(url)
        .sdk_key(sdk_key)
        .init_timeout(Duration::from_secs(20))
        .backoff(Duration::from_millis(50), Duration::from_millis(500))
        .build()
        .map_err(|e| format!("SDK client: {e}"))?;
    let events = client.events();
    client.wait_ready().map_err(|e| format!("SDK client: {e}"))?;
    let print = |event: &str, revision: Option<u64>, flag: &str| {
        let details = client.evaluate(flag, context);
        let line = json!({
            "event": event, "revision": revision, "flag": flag, "value": details.value,
            "variant": details.variant, "reason": details.reason, "atMs": now_ms(),
        });
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| format!("stdout: {e}"))
    };
    for flag in flags {
        print("ready", client.revision(), flag)?;
    }
    for event in events {
        if let Event::Change { revision, flags: changed, .. } = event {
            for flag in flags.iter().filter(|flag| changed.contains(flag)) {
                print("change", Some(revision), flag)?;
            }
        }
    }
    Ok(())
}
