//! The refresh threads: the url source's fetch / stream / poll loop with backoff,
//! watchdog and circuit breaker, the file source's watcher, and the staleness timer (and
//! the url source's sender of outcomes, `outcomes`).
//! Every thread checks the shutdown flag between steps and sleeps on the client's
//! condition variable, so `close` wakes it at once.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::backoff::Backoff;
use crate::breaker::Breaker;
use crate::http::{Failure, Fetched, Http};
use crate::outcomes;
use crate::sse::{SseItem, SseParser};
use crate::{Error, Inner, Source};

pub(crate) fn start(inner: &Arc<Inner>) -> Result<(), Error> {
    match inner.config.source.clone() {
        Source::Snapshot => Ok(()),
        Source::File(path) => {
            // The first read happens now so that a readable file makes the client ready at once.
            let mut seen = None;
            read_file(inner, &path, &mut seen);
            spawn(inner, "pennon-file", move |inner| {
                loop {
                    if !inner.sleep(inner.config.poll_interval) {
                        return;
                    }
                    read_file(&inner, &path, &mut seen);
                }
            })
        }
        Source::Url { url, sdk_key } => {
            if let Some(interval) = inner.config.metrics_interval {
                let (url, sdk_key) = (url.clone(), sdk_key.clone());
                spawn(inner, outcomes::THREAD, move |inner| outcomes::run(&inner, &url, &sdk_key, interval))?;
            }
            spawn(inner, "pennon-refresh", move |inner| run_url(&inner, &url, &sdk_key))?;
            spawn(inner, "pennon-stale", |inner| {
                let tick = (inner.config.stale_after / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
                while inner.sleep(tick) {
                    inner.check_staleness();
                }
            })
        }
    }
}

fn spawn(inner: &Arc<Inner>, name: &str, body: impl FnOnce(Arc<Inner>) + Send + 'static) -> Result<(), Error> {
    let for_thread = Arc::clone(inner);
    let handle = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let reporter = Arc::clone(&for_thread);
            // No panic reaches the application: a bug here becomes an `error` event.
            if let Err(error) = pennon_host::guard::catch(move || body(for_thread)) {
                reporter.check_failed(Error::from_core(&error));
            }
        })
        .map_err(|e| Error::new("internal", format!("cannot start a refresh thread: {e}")))?;
    inner.add_thread(handle);
    Ok(())
}

/// (modification time, length) of the last file read.
type Seen = Option<(SystemTime, u64)>;

fn read_file(inner: &Inner, path: &std::path::Path, seen: &mut Seen) {
    let stamp = std::fs::metadata(path).and_then(|m| Ok((m.modified()?, m.len())));
    let result = stamp.and_then(|stamp| {
        if *seen == Some(stamp) {
            return Ok(None);
        }
        std::fs::read_to_string(path).map(|text| Some((stamp, text)))
    });
    match result {
        Ok(None) => inner.check_succeeded(),
        Ok(Some((stamp, text))) => {
            *seen = Some(stamp);
            match inner.prepare(&text, None) {
                Ok(snapshot) => {
                    inner.check_succeeded();
                    if let Err(error) = inner.install(snapshot, None) {
                        inner.check_failed(error);
                    }
                }
                Err(error) => inner.check_failed(error),
            }
        }
        Err(e) => inner.check_failed(Error::new("io_error", format!("cannot read {}: {e}", path.display()))),
    }
}

/// The state of the url loop.
struct Loop<'a> {
    inner: &'a Inner,
    http: Http,
    breaker: Breaker,
    backoff: Backoff,
    last_poll: Instant,
}

/// How one stream connection ended.
enum StreamEnd {
    Closed,
    /// The server closed it, or it broke after connecting.
    Ended,
    Failed(Failure),
    /// Silent for longer than 3 × heartbeat.
    Watchdog,
}

fn run_url(inner: &Inner, url: &str, sdk_key: &str) {
    let config = &inner.config;
    let http = match Http::new(url, sdk_key, config.heartbeat.saturating_mul(3)) {
        Ok(http) => http,
        Err(error) => return inner.check_failed(error),
    };
    let mut state = Loop {
        inner,
        http,
        breaker: Breaker::new(config.breaker_failures, config.breaker_open_for),
        backoff: Backoff::new(config.backoff_base, config.backoff_cap),
        last_poll: Instant::now(),
    };
    // 1. The initial fetch.
    let mut auth = state.poll(true).is_some_and(|f| f.auth);
    loop {
        if inner.closed() {
            return;
        }
        if let Err(wait) = state.breaker.permit(Instant::now()) {
            if !inner.sleep(wait) {
                return;
            }
            continue;
        }
        if !config.stream {
            // 3. Polling: every poll interval (a 401/403 waits the same).
            let wait = config.poll_interval.saturating_sub(state.last_poll.elapsed());
            if !wait.is_zero() {
                if !inner.sleep(wait) {
                    return;
                }
                continue;
            }
            state.poll(true);
            continue;
        }
        // 2. Streaming.
        let mut delay_at_least = Duration::ZERO;
        if auth {
            delay_at_least = config.poll_interval;
            auth = false;
        } else {
            match state.stream() {
                StreamEnd::Closed => return,
                StreamEnd::Watchdog => {
                    // 5. Close it, fetch in full, reconnect.
                    inner.check_failed(Error::new(
                        "stream_silent",
                        format!("the stream was silent for {:?}: reconnecting", config.heartbeat.saturating_mul(3)),
                    ));
                    if state.breaker.permit(Instant::now()).is_ok() {
                        state.poll(false);
                    }
                    continue;
                }
                StreamEnd::Ended => {}
                StreamEnd::Failed(failure) => {
                    if failure.auth {
                        delay_at_least = config.poll_interval;
                    }
                }
            }
        }
        // 4. Reconnect after a jittered backoff, polling meanwhile.
        let delay = state.backoff.next_delay().max(delay_at_least);
        // A refused key is asked again once per poll interval, by the stream alone.
        let waited = if delay_at_least.is_zero() { state.wait_polling(delay) } else { inner.sleep(delay) };
        if !waited {
            return;
        }
    }
}

impl Loop<'_> {
    /// One `GET /sdk/v1/snapshot` (with `If-None-Match` when `conditional`). Returns the
    /// failure, if the check failed.
    fn poll(&mut self, conditional: bool) -> Option<Failure> {
        let inner = self.inner;
        self.last_poll = Instant::now();
        let etag = if conditional { inner.etag() } else { None };
        let failure = match self.http.snapshot(etag.as_deref()) {
            Ok(Fetched::NotModified) => {
                self.succeeded();
                return None;
            }
            Ok(Fetched::Snapshot { text, signature, etag }) => match inner.prepare(&text, signature.as_deref()) {
                Ok(snapshot) => {
                    self.succeeded();
                    if let Err(error) = inner.install(snapshot, etag) {
                        inner.check_failed(error);
                    }
                    return None;
                }
                Err(error) => Failure { error, auth: false },
            },
            Err(failure) => failure,
        };
        self.failed(&failure);
        Some(failure)
    }

    fn succeeded(&mut self) {
        self.breaker.success();
        self.inner.check_succeeded();
    }

    fn failed(&mut self, failure: &Failure) {
        if !failure.auth {
            self.breaker.failure(Instant::now());
        }
        self.inner.check_failed(failure.error.clone());
    }

    /// Sleeps `delay`, polling every poll interval meanwhile (the stream is down).
    /// `false` when the client was closed.
    fn wait_polling(&mut self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let interval = self.inner.config.poll_interval;
        loop {
            if self.inner.closed() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            let next_poll = self.last_poll + interval;
            if now >= next_poll {
                if self.breaker.permit(now).is_ok() {
                    self.poll(true);
                } else {
                    self.last_poll = now;
                }
                continue;
            }
            if !self.inner.sleep(deadline.min(next_poll) - now) {
                return false;
            }
        }
    }

    /// One stream connection, read until it ends.
    fn stream(&mut self) -> StreamEnd {
        let inner = self.inner;
        let mut response = match self.http.open_stream(inner.holder.revision()) {
            Ok(response) => response,
            Err(failure) => {
                // A failed connection was a check too: the next poll counts from it.
                self.last_poll = Instant::now();
                self.failed(&failure);
                return StreamEnd::Failed(failure);
            }
        };
        self.succeeded();
        let watchdog = inner.config.heartbeat.saturating_mul(3);
        let mut parser = SseParser::new();
        let mut buffer = vec![0u8; 16 * 1024];
        let mut last_activity = Instant::now();
        loop {
            if inner.closed() {
                return StreamEnd::Closed;
            }
            let read = response.read(&mut buffer);
            if inner.closed() {
                return StreamEnd::Closed;
            }
            let n = match read {
                Ok(0) => return StreamEnd::Ended,
                Ok(n) => n,
                Err(error) => {
                    if last_activity.elapsed() >= watchdog.mul_f64(0.9) {
                        return StreamEnd::Watchdog;
                    }
                    inner.check_failed(Error::new("network_error", format!("the stream broke: {error}")));
                    return StreamEnd::Ended;
                }
            };
            last_activity = Instant::now();
            for item in parser.feed(buffer.get(..n).unwrap_or_default()) {
                match item {
                    SseItem::Comment(_) => inner.check_succeeded(),
                    SseItem::Event(event) if event.event == "snapshot" => self.snapshot_event(&event.data),
                    SseItem::Event(_) => {}
                }
            }
        }
    }

    /// A `snapshot` event: metadata JSON, `\n`, the exact snapshot bytes.
    fn snapshot_event(&mut self, data: &str) {
        let inner = self.inner;
        let Some((meta, text)) = data.split_once('\n') else {
            let error = Error::new("invalid_event", "a snapshot event needs two data lines (metadata, snapshot)");
            return self.failed(&Failure { error, auth: false });
        };
        let meta: serde_json::Value = serde_json::from_str(meta).unwrap_or_default();
        let signature = meta.get("signature").and_then(|v| v.as_str());
        let etag = meta.get("etag").and_then(|v| v.as_str()).map(str::to_owned);
        match inner.prepare(text, signature) {
            Ok(snapshot) => {
                self.backoff.reset();
                self.succeeded();
                if let Err(error) = inner.install(snapshot, etag) {
                    inner.check_failed(error);
                }
            }
            Err(error) => self.failed(&Failure { error, auth: false }),
        }
    }
}
