//! Sending outcomes (DESIGN §9): every `metrics_interval` the engine's batch of outcomes
//! and exposures since the last accepted batch (`pennon_host::outcomes`) goes to
//! `POST {url}/sdk/v1/metrics` from a thread of its own, so `Client::record` never waits
//! for the network. A batch whose send fails is kept (`Pending`) and sent again verbatim,
//! same batch id and bytes, before a new one is taken: when the server stored it but the
//! answer was lost (a timeout, a 503 after the commit) it ignores the repeat, so nothing is
//! counted twice, and nothing is lost while it is down. Meanwhile the engine's counters keep
//! adding up, so the memory stays one pending body plus the engine's fixed counters. Only a
//! body the server refuses (400, 413, 422) is dropped: it would be refused again.

use std::sync::{Arc, Mutex, PoisonError};
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

/// The batch whose send failed, if any: the next send repeats it, and no new batch is taken
/// until the server has answered it.
#[derive(Default)]
pub(crate) struct Pending(Mutex<Option<Arc<str>>>);

impl Pending {
    /// The batch to send: the pending one, else a new one from `take` (which becomes pending
    /// until `settle`). Two sends at once send the same batch; the server keeps it once.
    fn batch(&self, take: impl FnOnce() -> Option<String>) -> Option<Arc<str>> {
        let mut pending = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.is_none() {
            *pending = take().map(Arc::from);
        }
        pending.clone()
    }

    /// The server answered `batch` for good (accepted it, or refused its body): the next
    /// send takes a new batch.
    fn settle(&self, batch: &Arc<str>) {
        let mut pending = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.as_ref().is_some_and(|p| Arc::ptr_eq(p, batch)) {
            *pending = None;
        }
    }
}

/// Sends the pending batch, else what is new, if anything: `Ok(true)` when the server
/// accepted a batch, `Ok(false)` when there was nothing to send. On failure the batch stays
/// pending (unless the server refused the body itself, which it would refuse again) and the
/// error is returned.
pub(crate) fn flush(inner: &Inner, http: &Http, timeout: Duration) -> Result<bool, Error> {
    let take = || inner.holder.take_outcomes(&batch_id(), Some(SDK));
    let Some(batch) = inner.pending.batch(take) else { return Ok(false) };
    match http.post_metrics(batch.to_string(), timeout) {
        Ok(()) => {
            inner.pending.settle(&batch);
            Ok(true)
        }
        Err((error, again)) => {
            if !again {
                inner.pending.settle(&batch);
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
        // A failed batch is sent again on the next tick; the refresh loop reports the server's
        // health through events.
        let _ = flush(inner, &http, REQUEST_TIMEOUT);
    }
    let _ = flush(inner, &http, CLOSE_FLUSH);
}
