#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod backoff;
mod breaker;
mod env;
mod http;
mod outcomes;
mod refresh;
mod signature;
mod sse;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ed25519_dalek::VerifyingKey;
use pennon_core::{Evaluation, FlagType, Map, Reason, Snapshot};
use pennon_host::{Holder, Loaded};

pub use pennon_core::{Context, Value};
pub use pennon_host::outcomes::Outcome;

/// Locks a mutex, taking over the data of a poisoned one: a panic elsewhere never makes
/// the client unusable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An error of the client: a stable `code` and a message for people.
///
/// Codes: `invalid_config`, `invalid_public_key`, `init_timeout`, `closed`,
/// `signature_invalid`, `revision_older`, `unauthorized`, `forbidden`, `server_error`,
/// `http_error`, `network_error`, `timeout`, `stream_silent`, `io_error`, `internal`, and
/// core's load codes (`invalid_json`, `invalid_snapshot`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Stable machine-readable code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl Error {
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code: code.into(), message: message.into() }
    }

    pub(crate) fn from_core(error: &pennon_core::Error) -> Self {
        Error::new(error.code.as_str(), error.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// What the client tells its subscribers ([`Client::events`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The first snapshot was installed (`recovered: false`), or a check succeeded again
    /// after the client was stale (`recovered: true`).
    Ready {
        /// The revision held.
        revision: u64,
        /// Whether this ends a stale period.
        recovered: bool,
    },
    /// A newer snapshot was installed.
    Change {
        /// The new revision.
        revision: u64,
        /// The revision it replaced.
        previous_revision: Option<u64>,
        /// The keys of the flags whose evaluation may differ, sorted.
        flags: Vec<String>,
    },
    /// A check failed or a snapshot was refused; the last good snapshot stays.
    Error {
        /// Stable code (see [`Error`]).
        code: String,
        /// What went wrong.
        message: String,
    },
    /// No check succeeded for `stale_after`; the last good snapshot is still served.
    Stale {
        /// When the last check succeeded (ms since the Unix epoch; the client's start if
        /// none ever did).
        since_ms: i64,
        /// The revision still served.
        revision: Option<u64>,
    },
}

/// Everything about one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// The served value; the caller's default (or `null` for [`Client::evaluate`]) on error.
    pub value: Value,
    /// The served variant; `"override"` for a local override; `None` on error.
    pub variant: Option<String>,
    /// Why: `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`, `ERROR`, `KILLED`, …
    pub reason: String,
    /// The OpenFeature error code on error (`FLAG_NOT_FOUND`, `PROVIDER_NOT_READY`, …).
    pub error_code: Option<String>,
    /// What went wrong, on error.
    pub error_message: Option<String>,
    /// The rule that matched, if a rule decided.
    pub rule_id: Option<String>,
    /// The progressive-rollout stage that decided, if any.
    pub stage: Option<u32>,
    /// The revision of the snapshot that answered; `None` before the first one.
    pub revision: Option<u64>,
    /// Milliseconds since the snapshot's `generatedAt`, when it has one.
    pub age_ms: Option<i64>,
    /// The flag's `metadata`.
    pub flag_metadata: Option<Map<String, Value>>,
}

impl Details {
    fn from_evaluation(evaluation: &Evaluation<'_>, default: &Value, loaded: Option<&Loaded>, now: i64) -> Self {
        Details {
            value: evaluation.value_or(default).clone(),
            variant: evaluation.variant.map(str::to_owned),
            reason: evaluation.reason.as_str().to_owned(),
            error_code: evaluation.error.as_ref().map(|e| e.code.as_str().to_owned()),
            error_message: evaluation.error.as_ref().map(|e| e.message.clone()),
            rule_id: evaluation.rule_id.map(str::to_owned),
            stage: evaluation.stage,
            revision: loaded.map(|l| l.snapshot.revision()),
            age_ms: age(loaded, now),
            flag_metadata: evaluation.flag_metadata.cloned(),
        }
    }

    fn overridden(value: Value, loaded: Option<&Loaded>, now: i64) -> Self {
        Details {
            value,
            variant: Some("override".to_owned()),
            reason: Reason::Static.as_str().to_owned(),
            error_code: None,
            error_message: None,
            rule_id: None,
            stage: None,
            revision: loaded.map(|l| l.snapshot.revision()),
            age_ms: age(loaded, now),
            flag_metadata: None,
        }
    }
}

fn age(loaded: Option<&Loaded>, now: i64) -> Option<i64> {
    loaded.and_then(|l| l.snapshot.generated_at()).map(|at| now.saturating_sub(at))
}

type Hook = Arc<dyn Fn(&str, &Details) + Send + Sync>;

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Url { url: String, sdk_key: String },
    File(PathBuf),
    Snapshot,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) source: Source,
    pub(crate) stream: bool,
    pub(crate) poll_interval: Duration,
    pub(crate) init_timeout: Duration,
    pub(crate) stale_after: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) public_key: Option<VerifyingKey>,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
    pub(crate) breaker_failures: u32,
    pub(crate) breaker_open_for: Duration,
    /// How often outcomes are sent (url sources); `None`: never.
    pub(crate) metrics_interval: Option<Duration>,
}

pub(crate) struct Status {
    pub(crate) etag: Option<String>,
    pub(crate) last_success: Instant,
    pub(crate) last_success_ms: i64,
    pub(crate) stale: bool,
    pub(crate) last_error: Option<Error>,
}

/// The state shared by the client's clones and its refresh threads.
pub(crate) struct Inner {
    pub(crate) holder: Holder,
    pub(crate) config: Config,
    pub(crate) status: Mutex<Status>,
    /// Notified when a snapshot is installed and on close (waiters: `wait_ready`, sleeps).
    pub(crate) signal: Condvar,
    pub(crate) shutdown: AtomicBool,
    subscribers: Mutex<Vec<Sender<Event>>>,
    overrides: ArcSwap<HashMap<String, Value>>,
    env: HashMap<String, Value>,
    hooks: ArcSwap<Vec<Hook>>,
    /// The outcome batch whose send failed, sent again before a new one is taken.
    pub(crate) pending: outcomes::Pending,
    created: Instant,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Inner {
    pub(crate) fn closed(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Sleeps up to `duration`; `false` when the client was closed meanwhile.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut status = lock(&self.status);
        loop {
            if self.closed() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            status = match self.signal.wait_timeout(status, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        lock(&self.subscribers).retain(|subscriber| subscriber.send(event.clone()).is_ok());
    }

    pub(crate) fn etag(&self) -> Option<String> {
        lock(&self.status).etag.clone()
    }

    /// Verifies and compiles a fetched snapshot (acceptance a and b).
    pub(crate) fn prepare(&self, text: &str, signature: Option<&str>) -> Result<Snapshot, Error> {
        if let Some(key) = &self.config.public_key {
            signature::verify(key, text.as_bytes(), signature)?;
        }
        Snapshot::from_json(text).map_err(|e| Error::from_core(&e))
    }

    /// Installs a prepared snapshot unless it is older than the one held (acceptance c);
    /// an equal revision is a no-op. Emits `ready` or `change`.
    pub(crate) fn install(&self, snapshot: Snapshot, etag: Option<String>) -> Result<(), Error> {
        let mut status = lock(&self.status);
        let previous = self.holder.current();
        let revision = snapshot.revision();
        if let Some(held) = previous.as_ref().map(|p| p.snapshot.revision()) {
            if revision < held {
                return Err(Error::new(
                    "revision_older",
                    format!("refused revision {revision}: older than the revision held ({held})"),
                ));
            }
            if revision == held {
                status.etag = etag.or(status.etag.take());
                return Ok(());
            }
        }
        let loaded = self.holder.install(Arc::new(snapshot));
        status.etag = etag;
        self.signal.notify_all();
        drop(status);
        match previous {
            None => self.emit(Event::Ready { revision, recovered: false }),
            Some(previous) => self.emit(Event::Change {
                revision,
                previous_revision: Some(previous.snapshot.revision()),
                flags: loaded.snapshot.changed_flags(&previous.snapshot).into_iter().map(str::to_owned).collect(),
            }),
        }
        Ok(())
    }

    /// A check succeeded: not stale any more (`ready` with `recovered: true` when it was).
    pub(crate) fn check_succeeded(&self) {
        let mut status = lock(&self.status);
        status.last_success = Instant::now();
        status.last_success_ms = pennon_host::clock::now();
        if status.stale {
            status.stale = false;
            drop(status);
            if let Some(revision) = self.holder.revision() {
                self.emit(Event::Ready { revision, recovered: true });
            }
        }
    }

    /// A check failed or a snapshot was refused: an `error` event; the last good stays.
    pub(crate) fn check_failed(&self, error: Error) {
        lock(&self.status).last_error = Some(error.clone());
        self.emit(Event::Error { code: error.code, message: error.message });
    }

    /// Marks the client stale when `stale_after` passed without a successful check.
    pub(crate) fn check_staleness(&self) {
        let mut status = lock(&self.status);
        if !status.stale && status.last_success.elapsed() >= self.config.stale_after {
            status.stale = true;
            let since_ms = status.last_success_ms;
            drop(status);
            self.emit(Event::Stale { since_ms, revision: self.holder.revision() });
        }
    }

    fn close(&self) {
        self.shutdown.store(true, Ordering::Release);
        {
            let _status = lock(&self.status);
            self.signal.notify_all();
        }
        let threads = std::mem::take(&mut *lock(&self.threads));
        // Sleeping threads wake at once; one blocked reading a stream leaves at its next
        // read (a heartbeat, or the watchdog's timeout): it is detached, not waited for.
        // The sender of outcomes gets the time of its last send.
        let started = Instant::now();
        for thread in threads {
            let patience = match thread.thread().name() {
                Some(outcomes::THREAD) => outcomes::CLOSE_FLUSH + Duration::from_millis(200),
                _ => Duration::from_millis(200),
            };
            let deadline = started + patience;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() && thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// A local override of `flag` answering a call that expects `expected`.
    fn override_for(&self, flag: &str, loaded: Option<&Loaded>, expected: Option<FlagType>) -> Option<Value> {
        let fits = |value: &Value| expected.is_none_or(|t| t.accepts(value));
        if let Some(value) = self.overrides.load().get(flag).filter(|v| fits(v)) {
            return Some(value.clone());
        }
        if self.env.is_empty() {
            return None;
        }
        let value = self.env.get(&env::variable_name(flag))?;
        // Applies only when its type matches the flag's (the getter's when the snapshot
        // does not know the flag).
        let flag_type = loaded.and_then(|l| l.snapshot.flag_type(flag)).or(expected)?;
        (flag_type.accepts(value) && fits(value)).then(|| value.clone())
    }
}

/// Owns the client's threads: dropping the last [`Client`] clone closes it.
struct Shared {
    inner: Arc<Inner>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.inner.close();
    }
}

/// A Pennon client: holds the newest good snapshot of one source, keeps it fresh on
/// background threads, and answers evaluations from it without blocking.
///
/// Cheap to clone (an `Arc` inside); `Send + Sync`. The refresh threads stop on
/// [`Client::close`] or when the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("revision", &self.revision()).field("stale", &self.is_stale()).finish()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn inner(&self) -> &Inner {
        &self.shared.inner
    }

    /// Blocks until the first snapshot is installed (`Ok`) or `init_timeout`, counted from
    /// [`ClientBuilder::build`], has passed (`Err` with code `init_timeout` and the last
    /// error seen). Never hangs; returns at once when already ready.
    pub fn wait_ready(&self) -> Result<(), Error> {
        let inner = self.inner();
        let deadline = inner.created + inner.config.init_timeout;
        let mut status = lock(&inner.status);
        loop {
            if inner.holder.revision().is_some() {
                return Ok(());
            }
            if inner.closed() {
                return Err(Error::new("closed", "the client was closed before it became ready"));
            }
            let now = Instant::now();
            if now >= deadline {
                let why = status.last_error.as_ref().map_or_else(String::new, |e| format!("; last error: {e}"));
                return Err(Error::new(
                    "init_timeout",
                    format!("no snapshot within {:?}{why}", inner.config.init_timeout),
                ));
            }
            status = match inner.signal.wait_timeout(status, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Evaluates `flag` (expecting `expected`) and hands the served value, or `None` for
    /// the caller's default, to `finish`. Counts it and runs the hooks.
    fn resolve<R>(
        &self,
        flag: &str,
        context: &Context,
        expected: Option<FlagType>,
        default: &dyn Fn() -> Value,
        finish: impl FnOnce(Option<&Value>) -> R,
    ) -> R {
        let inner = self.inner();
        let loaded = inner.holder.current();
        let loaded = loaded.as_deref();
        let now = pennon_host::clock::now();
        let hooks = inner.hooks.load();
        if let Some(value) = inner.override_for(flag, loaded, expected) {
            inner.holder.counters().count_override(flag);
            if !hooks.is_empty() {
                let details = Details::overridden(value.clone(), loaded, now);
                hooks.iter().for_each(|hook| hook(flag, &details));
            }
            return finish(Some(&value));
        }
        // Counted by the holder (pennon_host's counters).
        let (evaluation, _) = inner.holder.evaluate(loaded, flag, Ok(context), now, expected);
        if !hooks.is_empty() {
            let details = Details::from_evaluation(&evaluation, &default(), loaded, now);
            hooks.iter().for_each(|hook| hook(flag, &details));
        }
        finish(evaluation.value)
    }

    /// A boolean flag is on: [`Client::boolean`] with default `false`.
    pub fn is_enabled(&self, flag: &str, context: &Context) -> bool {
        self.boolean(flag, context, false)
    }

    /// A boolean flag's value, or `default` (not ready, unknown flag, wrong type, …).
    pub fn boolean(&self, flag: &str, context: &Context, default: bool) -> bool {
        self.resolve(flag, context, Some(FlagType::Boolean), &|| Value::Bool(default), |v| {
            v.and_then(Value::as_bool).unwrap_or(default)
        })
    }

    /// A string flag's value, or `default`.
    pub fn string(&self, flag: &str, context: &Context, default: &str) -> String {
        self.resolve(flag, context, Some(FlagType::String), &|| Value::from(default), |v| {
            v.and_then(Value::as_str).unwrap_or(default).to_owned()
        })
    }

    /// A number flag's value, or `default`.
    pub fn number(&self, flag: &str, context: &Context, default: f64) -> f64 {
        self.resolve(flag, context, Some(FlagType::Number), &|| Value::from(default), |v| {
            v.and_then(Value::as_f64).unwrap_or(default)
        })
    }

    /// An object flag's value, or `default`.
    pub fn object(&self, flag: &str, context: &Context, default: Value) -> Value {
        self.resolve(flag, context, Some(FlagType::Object), &|| default.clone(), |v| v.cloned()).unwrap_or(default)
    }

    /// Evaluates a flag of any type with every detail; `value` is `null` on error.
    pub fn evaluate(&self, flag: &str, context: &Context) -> Details {
        let inner = self.inner();
        let loaded = inner.holder.current();
        let loaded = loaded.as_deref();
        let now = pennon_host::clock::now();
        let details = match inner.override_for(flag, loaded, None) {
            Some(value) => {
                inner.holder.counters().count_override(flag);
                Details::overridden(value, loaded, now)
            }
            None => {
                let (evaluation, _) = inner.holder.evaluate(loaded, flag, Ok(context), now, None);
                Details::from_evaluation(&evaluation, &Value::Null, loaded, now)
            }
        };
        inner.hooks.load().iter().for_each(|hook| hook(flag, &details));
        details
    }

    /// Every flag of the snapshot (and every overridden flag) evaluated for `context`,
    /// by key: a front end's bootstrap. Not counted in the metrics, no hooks.
    pub fn all_flags(&self, context: &Context) -> BTreeMap<String, Details> {
        let inner = self.inner();
        let loaded = inner.holder.current();
        let loaded = loaded.as_deref();
        let now = pennon_host::clock::now();
        let mut out = BTreeMap::new();
        if let Some(l) = loaded {
            for (key, evaluation) in l.snapshot.evaluate_all(context, now) {
                let details = match inner.override_for(key, loaded, None) {
                    Some(value) => Details::overridden(value, loaded, now),
                    None => Details::from_evaluation(&evaluation, &Value::Null, loaded, now),
                };
                out.insert(key.to_owned(), details);
            }
        }
        for (key, value) in inner.overrides.load().iter() {
            out.entry(key.clone()).or_insert_with(|| Details::overridden(value.clone(), loaded, now));
        }
        out
    }

    /// A new subscriber: every event from now on (events before the call are not
    /// replayed: check [`Client::revision`] for the current state). A dropped receiver
    /// unsubscribes.
    pub fn events(&self) -> Receiver<Event> {
        let (sender, receiver) = std::sync::mpsc::channel();
        lock(&self.inner().subscribers).push(sender);
        receiver
    }

    /// Makes `flag` answer `value` (reason `STATIC`, variant `override`) before the
    /// engine, for calls whose type `value` has.
    pub fn set_override(&self, flag: &str, value: Value) {
        self.inner().overrides.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.insert(flag.to_owned(), value.clone());
            next
        });
    }

    /// Removes a [`Client::set_override`].
    pub fn clear_override(&self, flag: &str) {
        self.inner().overrides.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.remove(flag);
            next
        });
    }

    /// The evaluation counters in Prometheus text format
    /// (`pennon_evaluations_total{flag,variant,reason}`).
    pub fn metrics(&self) -> String {
        self.inner().holder.counters().metrics_text()
    }

    /// Records what happened after the application used `flag` for `context` — a request
    /// that succeeded ([`Outcome::ok`]) or failed ([`Outcome::error`]), with its latency
    /// ([`Outcome::with_latency`]), and/or a conversion ([`Outcome::converted`]) — for the
    /// variant `context` is served. Lock-free atomic adds; the network is never touched here
    /// (a url client sends batches every `metrics_interval`).
    ///
    /// Nothing is recorded when the flag cannot be evaluated (not ready, unknown flag) or a
    /// local override answers it (the override is no cohort of a rollout). An invalid
    /// outcome (ok and error together, a latency that is negative, not finite, or without a
    /// request) is an `invalid_argument` error.
    pub fn record(&self, flag: &str, context: &Context, outcome: Outcome) -> Result<(), Error> {
        let inner = self.inner();
        let loaded = inner.holder.current();
        let latency = pennon_host::outcomes::LATENCY_KEY_PYTHON; // the field's Rust name
        let recorded = match inner.override_for(flag, loaded.as_deref(), None) {
            Some(_) => outcome.check(latency).map(|()| false),
            None => {
                let now = pennon_host::clock::now();
                inner.holder.record(loaded.as_deref(), flag, Ok(context), now, &outcome, latency)
            }
        };
        recorded.map(drop).map_err(|e| Error::from_core(&e))
    }

    /// The recorded outcomes in Prometheus text format (cumulative):
    /// `pennon_canary_requests_total{flag,cohort}`, `pennon_canary_errors_total`,
    /// `pennon_conversions_total` and the histogram `pennon_canary_latency_ms` (the cohort
    /// is the variant).
    pub fn outcome_metrics(&self) -> String {
        self.inner().holder.outcome_metrics()
    }

    /// Sends the outcomes and exposures recorded since the last accepted batch now, on the
    /// calling thread (blocking, at most 10 s; not from inside an async runtime), instead of
    /// waiting for the next `metrics_interval`. `Ok(true)`: a batch was accepted;
    /// `Ok(false)`: nothing new. A batch whose send failed is kept and sent again, the same
    /// batch, by the next flush (what was recorded meanwhile goes in the one after). Only for
    /// a `url` client (`invalid_config` otherwise).
    pub fn flush_outcomes(&self) -> Result<bool, Error> {
        let inner = self.inner();
        let Source::Url { url, sdk_key } = &inner.config.source else {
            return Err(Error::new("invalid_config", "outcomes are sent to the server of a url source"));
        };
        let http = http::Http::new(url, sdk_key, http::REQUEST_TIMEOUT)?;
        outcomes::flush(inner, &http, http::REQUEST_TIMEOUT)
    }

    /// Runs `hook` after every single-flag evaluation (typed getters, `is_enabled`,
    /// `evaluate`) with its details: exposure logging. It runs on the caller's thread;
    /// keep it short.
    pub fn on_evaluation(&self, hook: impl Fn(&str, &Details) + Send + Sync + 'static) {
        let hook: Hook = Arc::new(hook);
        self.inner().hooks.rcu(|current| {
            let mut next = Vec::clone(current);
            next.push(Arc::clone(&hook));
            next
        });
    }

    /// The revision of the snapshot held, `None` before the first.
    pub fn revision(&self) -> Option<u64> {
        self.inner().holder.revision()
    }

    /// Whether no check succeeded for `stale_after` (the last good snapshot is still
    /// served).
    pub fn is_stale(&self) -> bool {
        lock(&self.inner().status).stale
    }

    /// Stops the refresh threads (idempotent). Evaluations keep answering from the
    /// snapshot held.
    pub fn close(&self) {
        self.inner().close();
    }
}

/// Configures a [`Client`]: exactly one source (`url` + `sdk_key`, `file` or
/// `snapshot`), optionally a bootstrap for `url`.
#[derive(Debug, Default, Clone)]
pub struct ClientBuilder {
    url: Option<String>,
    sdk_key: Option<String>,
    file: Option<PathBuf>,
    snapshot: Option<String>,
    bootstrap: Option<String>,
    bootstrap_file: Option<PathBuf>,
    stream: Option<bool>,
    poll_interval: Option<Duration>,
    init_timeout: Option<Duration>,
    stale_after: Option<Duration>,
    heartbeat: Option<Duration>,
    public_key: Option<String>,
    backoff: Option<(Duration, Duration)>,
    breaker: Option<(u32, Duration)>,
    metrics: Option<bool>,
    metrics_interval: Option<Duration>,
    env_overrides: bool,
    /// The variables `env_overrides` reads instead of the process environment (tests).
    env_vars: Option<Vec<(String, String)>>,
}

impl ClientBuilder {
    /// Source: a Pennon server (or a static host serving `/sdk/v1/snapshot`).
    pub fn url(mut self, url: &str) -> Self {
        self.url = Some(url.to_owned());
        self
    }

    /// The SDK key sent as `Authorization: Bearer` (required with `url`).
    pub fn sdk_key(mut self, key: &str) -> Self {
        self.sdk_key = Some(key.to_owned());
        self
    }

    /// Source: a snapshot file, re-read when its modification time or size changes
    /// (checked every `poll_interval`, default 1 s for files).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Source: a snapshot in memory, never refreshed (tests, embedded defaults).
    pub fn snapshot(mut self, text: &str) -> Self {
        self.snapshot = Some(text.to_owned());
        self
    }

    /// With `url`: a snapshot loaded first so the client is ready offline; the server's
    /// answer replaces it when it comes.
    pub fn bootstrap(mut self, text: &str) -> Self {
        self.bootstrap = Some(text.to_owned());
        self
    }

    /// [`ClientBuilder::bootstrap`] from a file, read by `build`.
    pub fn bootstrap_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.bootstrap_file = Some(path.into());
        self
    }

    /// Server-sent events (`true`, the default) or polling only.
    pub fn stream(mut self, stream: bool) -> Self {
        self.stream = Some(stream);
        self
    }

    /// How often to poll (default 30 s for `url`, 1 s for `file`); with streaming, while
    /// the stream is down.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// How long [`Client::wait_ready`] waits at most (default 5 s).
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = Some(timeout);
        self
    }

    /// After how long without a successful check the client is stale (default 2 min).
    pub fn stale_after(mut self, after: Duration) -> Self {
        self.stale_after = Some(after);
        self
    }

    /// The server's heartbeat period (default 15 s); a stream silent for 3× this is dead.
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// The server's Ed25519 public key (base64 of 32 bytes, `GET /sdk/v1/public-key`):
    /// snapshots whose signature does not verify are refused.
    pub fn public_key(mut self, key: &str) -> Self {
        self.public_key = Some(key.to_owned());
        self
    }

    /// Reconnect backoff: `random(0, min(cap, base · 2^attempt))` (default 1 s, 30 s).
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff = Some((base, cap));
        self
    }

    /// Circuit breaker: open after `failures` consecutive failed checks, for `open_for`
    /// (default 5, 30 s).
    pub fn breaker(mut self, failures: u32, open_for: Duration) -> Self {
        self.breaker = Some((failures, open_for));
        self
    }

    /// Whether a `url` client sends recorded outcomes and evaluation counts to its server
    /// (`POST {url}/sdk/v1/metrics`, the input of guarded rollouts). On by default for
    /// `url`; `false` keeps them local ([`Client::outcome_metrics`] still shows them).
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = Some(enabled);
        self
    }

    /// How often a `url` client sends a batch of outcomes (default 10 s). A batch that
    /// fails is kept and goes out with the next one; [`Client::close`] sends one last batch
    /// (waiting at most 1 s).
    pub fn metrics_interval(mut self, interval: Duration) -> Self {
        self.metrics_interval = Some(interval);
        self
    }

    /// Reads `PENNON_FLAG_*` environment variables (once, at `build`) as overrides.
    pub fn env_overrides(mut self, enabled: bool) -> Self {
        self.env_overrides = enabled;
        self
    }

    #[cfg(test)]
    pub(crate) fn env_vars(mut self, vars: &[(&str, &str)]) -> Self {
        self.env_vars = Some(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        self
    }

    /// Validates the configuration, loads a `snapshot`/`file`/bootstrap source at once
    /// and starts the refresh threads. Does not wait: see [`Client::wait_ready`].
    pub fn build(self) -> Result<Client, Error> {
        let invalid = |message: &str| Error::new("invalid_config", message);
        let sources = [self.url.is_some(), self.file.is_some(), self.snapshot.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err(invalid("configure exactly one source: url (with sdk_key), file or snapshot"));
        }
        let source = match (&self.url, &self.file) {
            (Some(url), _) => {
                let sdk_key = self.sdk_key.clone().ok_or_else(|| invalid("url needs an sdk_key"))?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid("url must start with http:// or https://"));
                }
                Source::Url { url: url.trim_end_matches('/').to_owned(), sdk_key }
            }
            (None, Some(path)) => Source::File(path.clone()),
            (None, None) => Source::Snapshot,
        };
        if (self.bootstrap.is_some() || self.bootstrap_file.is_some()) && !matches!(source, Source::Url { .. }) {
            return Err(invalid("a bootstrap goes with the url source"));
        }
        let public_key = self.public_key.as_deref().map(signature::parse_public_key).transpose()?;
        let default_poll = if matches!(source, Source::File(_)) { 1 } else { 30 };
        let (backoff_base, backoff_cap) = self.backoff.unwrap_or((Duration::from_secs(1), Duration::from_secs(30)));
        let (breaker_failures, breaker_open_for) = self.breaker.unwrap_or((5, Duration::from_secs(30)));
        let metrics_interval = match (&source, self.metrics) {
            (Source::Url { .. }, None | Some(true)) => match self.metrics_interval.unwrap_or(Duration::from_secs(10)) {
                interval if interval.is_zero() => return Err(invalid("metrics_interval must be longer than zero")),
                interval => Some(interval),
            },
            (_, Some(true)) => return Err(invalid("metrics are sent to the server of a url source")),
            _ => None,
        };
        let config = Config {
            source,
            stream: self.stream.unwrap_or(true),
            poll_interval: self.poll_interval.unwrap_or(Duration::from_secs(default_poll)),
            init_timeout: self.init_timeout.unwrap_or(Duration::from_secs(5)),
            stale_after: self.stale_after.unwrap_or(Duration::from_secs(120)),
            heartbeat: self.heartbeat.unwrap_or(Duration::from_secs(15)),
            public_key,
            backoff_base,
            backoff_cap,
            breaker_failures,
            breaker_open_for,
            metrics_interval,
        };
        let env = match (self.env_overrides, self.env_vars) {
            (false, _) => HashMap::new(),
            (true, Some(vars)) => env::collect(vars),
            (true, None) => env::collect(std::env::vars()),
        };
        let inner = Arc::new(Inner {
            holder: counting_holder(),
            config,
            status: Mutex::new(Status {
                etag: None,
                last_success: Instant::now(),
                last_success_ms: pennon_host::clock::now(),
                stale: false,
                last_error: None,
            }),
            signal: Condvar::new(),
            shutdown: AtomicBool::new(false),
            subscribers: Mutex::new(Vec::new()),
            overrides: ArcSwap::from_pointee(HashMap::new()),
            env,
            hooks: ArcSwap::from_pointee(Vec::new()),
            pending: outcomes::Pending::default(),
            created: Instant::now(),
            threads: Mutex::new(Vec::new()),
        });
        // Sources given in memory load now; their errors are configuration errors.
        let in_memory = match (&self.snapshot, &self.bootstrap, &self.bootstrap_file) {
            (Some(text), _, _) | (None, Some(text), _) => Some(text.clone()),
            (None, None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|e| {
                Error::new("io_error", format!("cannot read the bootstrap file {}: {e}", path.display()))
            })?),
            (None, None, None) => None,
        };
        if let Some(text) = in_memory {
            let snapshot = Snapshot::from_json(&text).map_err(|e| Error::from_core(&e))?;
            inner.install(snapshot, None)?;
        }
        refresh::start(&inner)?;
        Ok(Client { shared: Arc::new(Shared { inner }) })
    }
}

impl Inner {
    pub(crate) fn add_thread(&self, handle: JoinHandle<()>) {
        lock(&self.threads).push(handle);
    }
}

#[cfg(test)]
mod tests;

/// The client's engine slot, counting its evaluations (`Client::metrics`).
fn counting_holder() -> Holder {
    let holder = Holder::new();
    holder.counters().set_enabled(true);
    holder
}
