//! Sending outcomes (DESIGN §9): every `metrics_interval` the engine's batch of outcomes
//! and exposures since the last accepted batch (`pennon_host::outcomes`) goes to
//! `POST {url}/sdk/v1/metrics` from a thread of its own, so `Client::record` never waits
//! for the network. A batch whose send fails is given back to the engine and goes out with
//! the next one: nothing is lost while the server is down, and the memory stays the
//! engine's fixed counters.

use std::sync::Arc;
use std::time::Duration;

use crate::http::{Http, REQUEST_TIMEOUT};
use crate::{Error, Inner};

/// What the batches' `sdk` says.
pub(crate) const SDK: &str = concat!("pennon-rust/", env!("CARGO_PKG_VERSION"));
/// How long the last send on `close` may take.
pub(crate) const CLOSE_FLUSH: Duration = Duration::from_secs(1);
/// The thread's name (`close` waits for it to send the last batch).
pub(crate) const THREAD: &str = "pennon-metrics";

/// A new random batch id: 32 hex digits.
fn batch_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Sends what is new, if anything: `Ok(true)` when a batch went out, `Ok(false)` when there
/// was nothing to send. On failure the batch is given back (unless the server refused the
/// body itself, which it would refuse again) and the error returned.
pub(crate) fn flush(inner: &Inner, http: &Http, timeout: Duration) -> Result<bool, Error> {
    let Some(body) = inner.holder.take_outcomes(&batch_id(), Some(SDK)) else { return Ok(false) };
    match http.post_metrics(body.clone(), timeout) {
        Ok(()) => Ok(true),
        Err((error, again)) => {
            if again {
                // A batch the engine made: giving it back cannot fail.
                let _ = inner.holder.restore_outcomes(&body);
            }
            Err(error)
        }
    }
}

/// The sending thread of a `url` client: a batch every `interval`, then one last on close.
pub(crate) fn run(inner: &Arc<Inner>, url: &str, sdk_key: &str, interval: Duration) {
    // Made on this thread: reqwest's blocking client must not live in an async runtime.
    let Ok(http) = Http::new(url, sdk_key, REQUEST_TIMEOUT) else { return };
    while inner.sleep(interval) {
        // Failures are retried with the next batch; the refresh loop reports the server's
        // health through events.
        let _ = flush(inner, &http, REQUEST_TIMEOUT);
    }
    let _ = flush(inner, &http, CLOSE_FLUSH);
}
