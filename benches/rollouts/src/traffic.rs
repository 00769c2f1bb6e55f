//! Synthetic traffic through real SDK clients: each worker thread is one application
//! instance with its own `pennon::Client`; for every active rollout it makes requests at
//! a fixed rate. A request evaluates the flag for a random user, draws an error and a
//! latency from the cohort that variant belongs to, and records the outcome with
//! `client.record` (the SDK batches outcomes to `POST /sdk/v1/metrics`).
//!
//! A watcher thread per client reads its events: when a change names a rollout's flag
//! and the rollout's probe user (one who got the canary) now gets the control, the
//! client has seen the rollback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pennon::{Client, Context, Event};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{Cohort, Draw, Kind};

/// The canary variant of every simulated flag (its on path); the control is `off`.
pub const CANARY_VARIANT: &str = "on";
/// The control variant (the flag's `offVariant`).
pub const CONTROL_VARIANT: &str = "off";

/// Milliseconds since the Unix epoch (the server stamps its decisions with the same clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Requests made so far for one rollout, per cohort.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Requests served the canary variant.
    pub canary_requests: u64,
    /// Of them, failed.
    pub canary_errors: u64,
    /// Requests served the control variant.
    pub control_requests: u64,
    /// Of them, failed.
    pub control_errors: u64,
}

impl Counts {
    /// Requests of both cohorts.
    pub fn requests(&self) -> u64 {
        self.canary_requests + self.control_requests
    }

    fn add(&mut self, other: &Counts) {
        self.canary_requests += other.canary_requests;
        self.canary_errors += other.canary_errors;
        self.control_requests += other.control_requests;
        self.control_errors += other.control_errors;
    }

    fn count(&mut self, canary: bool, error: bool) {
        if canary {
            self.canary_requests += 1;
            self.canary_errors += u64::from(error);
        } else {
            self.control_requests += 1;
            self.control_errors += u64::from(error);
        }
    }
}

/// One simulated rollout: its flag, how its cohorts behave, and what the traffic saw.
pub struct Lane {
    /// Position in the run (also seeds its random numbers).
    pub id: usize,
    /// The flag's key.
    pub key: String,
    /// What the canary does.
    pub kind: Kind,
    control: Cohort,
    canary: Cohort,
    active: AtomicBool,
    /// Index (in the user pool) of a user who got the canary.
    probe: OnceLock<usize>,
    /// Cumulative counts of every worker with their times (ms), appended as traffic flows.
    series: Mutex<Vec<(i64, Counts)>>,
    /// (client, ms) at which each client saw the probe user moved back to the control.
    seen: Mutex<Vec<(usize, i64)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Lane {
    /// A lane for flag `key`; no traffic until [`Lane::activate`].
    pub fn new(id: usize, key: String, kind: Kind) -> Lane {
        Lane {
            id,
            key,
            kind,
            control: Cohort::baseline(),
            canary: kind.canary(),
            active: AtomicBool::new(false),
            probe: OnceLock::new(),
            series: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Starts the traffic of this rollout.
    pub fn activate(&self) {
        self.active.store(true, Ordering::Release);
    }

    /// Stops the traffic of this rollout (its rollback is still watched for).
    pub fn deactivate(&self) {
        self.active.store(false, Ordering::Release);
    }

    fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// The counts at `ms` (the last ones recorded at or before it).
    pub fn counts_at(&self, ms: i64) -> Counts {
        let series = lock(&self.series);
        series.iter().take_while(|(at, _)| *at <= ms).last().map(|(_, counts)| *counts).unwrap_or_default()
    }

    /// When each client saw the rollback (ms), in the order they saw it.
    pub fn rollback_seen(&self) -> Vec<i64> {
        lock(&self.seen).iter().map(|(_, at)| *at).collect()
    }

    fn cohort(&self, canary: bool) -> &Cohort {
        if canary { &self.canary } else { &self.control }
    }
}

/// How the traffic runs.
#[derive(Debug, Clone)]
pub struct TrafficConfig {
    /// Worker threads, each one SDK client (one application instance).
    pub workers: usize,
    /// Requests per second per active rollout (over all workers).
    pub rate: f64,
    /// Distinct users (`targetingKey` `user-N`).
    pub users: usize,
    /// The SDK's metrics flush interval.
    pub metrics_interval: Duration,
    /// Seed of every random number.
    pub seed: u64,
}

/// The running traffic.
pub struct Traffic {
    lanes: Arc<RwLock<Vec<Arc<Lane>>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    clients: Vec<Client>,
}

const TICK: Duration = Duration::from_millis(10);

impl Traffic {
    /// Starts `config.workers` SDK clients of `url` with `sdk_key`, waits until each has
    /// its first snapshot, and starts their worker and watcher threads.
    pub fn start(url: &str, sdk_key: &str, config: &TrafficConfig) -> Result<Traffic, String> {
        let users: Arc<Vec<Context>> =
            Arc::new((0..config.users).map(|n| Context::with_targeting_key(format!("user-{n}"))).collect());
        let lanes: Arc<RwLock<Vec<Arc<Lane>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut clients = Vec::new();
        for worker in 0..config.workers {
            let client = Client::builder()
                .url(url)
                .sdk_key(sdk_key)
                .metrics_interval(config.metrics_interval)
                .init_timeout(Duration::from_secs(20))
                .stale_after(Duration::from_secs(3600))
                .backoff(Duration::from_millis(50), Duration::from_millis(500))
                .breaker(1000, Duration::from_millis(100))
                .build()
                .map_err(|e| format!("SDK client: {e}"))?;
            client.wait_ready().map_err(|e| format!("SDK client {worker}: {e}"))?;
            let events = client.events();
            let (c, l, u, s) = (client.clone(), lanes.clone(), users.clone(), stop.clone());
            threads.push(std::thread::spawn(move || watch(worker, &c, &events, &l, &u, &s)));
            let (c, l, u, s, config) = (client.clone(), lanes.clone(), users.clone(), stop.clone(), config.clone());
            threads.push(std::thread::spawn(move || drive(worker, &c, &l, &u, &s, &config)));
            clients.push(client);
        }
        Ok(Traffic { lanes, stop, threads, clients })
    }

    /// Adds a rollout (its traffic starts with [`Lane::activate`]).
    pub fn add(&self, lane: Arc<Lane>) {
        self.lanes.write().unwrap_or_else(PoisonError::into_inner).push(lane);
    }

    /// Stops the workers and closes the clients (each flushes its outcomes once).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        for client in &self.clients {
            client.close();
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Records one request's outcome through the SDK.
fn record(client: &Client, flag: &str, user: &Context, draw: Draw) {
    let outcome = if draw.error {
        pennon::Outcome::error().with_latency_ms(draw.latency_ms)
    } else {
        pennon::Outcome::ok().with_latency_ms(draw.latency_ms)
    };
    let _ = client.record(flag, user, outcome);
}

/// A worker: every tick, the requests each of its active lanes is owed at `config.rate`.
fn drive(
    worker: usize,
    client: &Client,
    lanes: &RwLock<Vec<Arc<Lane>>>,
    users: &[Context],
    stop: &AtomicBool,
    config: &TrafficConfig,
) {
    struct Own {
        rng: ChaCha8Rng,
        last: Instant,
        owed: f64,
    }
    let mut own: HashMap<usize, Own> = HashMap::new();
    let rate = config.rate / config.workers as f64;
    while !stop.load(Ordering::Acquire) {
        let started = Instant::now();
        let mine: Vec<Arc<Lane>> = lanes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|lane| lane.is_active())
            .cloned()
            .collect();
        for lane in mine {
            let state = own.entry(lane.id).or_insert_with(|| Own {
                rng: ChaCha8Rng::seed_from_u64(config.seed ^ ((lane.id as u64) << 16) ^ worker as u64),
                last: started,
                owed: 0.0,
            });
            state.owed += rate * started.duration_since(state.last).as_secs_f64();
            state.last = started;
            let due = state.owed.floor();
            state.owed -= due;
            let mut made = Counts::default();
            for _ in 0..due as u64 {
                let index = state.rng.gen_range(0..users.len());
                let Some(user) = users.get(index) else { continue };
                let canary = client.boolean(&lane.key, user, false);
                if canary {
                    let _ = lane.probe.set(index);
                }
                let draw = lane.cohort(canary).draw(&mut state.rng);
                record(client, &lane.key, user, draw);
                made.count(canary, draw.error);
            }
            if made.requests() > 0 {
                let mut series = lock(&lane.series);
                let mut counts = series.last().map(|(_, counts)| *counts).unwrap_or_default();
                counts.add(&made);
                series.push((now_ms(), counts));
            }
        }
        std::thread::sleep(TICK.saturating_sub(started.elapsed()));
    }
}

/// A watcher: on each change that names a rollout's flag, evaluates the rollout's probe
/// user; the first time it gets the control variant, the rollback has reached this client.
fn watch(
    worker: usize,
    client: &Client,
    events: &std::sync::mpsc::Receiver<Event>,
    lanes: &RwLock<Vec<Arc<Lane>>>,
    users: &[Context],
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Acquire) {
        let Ok(event) = events.recv_timeout(Duration::from_millis(100)) else { continue };
        let at = now_ms();
        let Event::Change { flags, .. } = event else { continue };
        let lanes = lanes.read().unwrap_or_else(PoisonError::into_inner).clone();
        for lane in lanes.iter().filter(|lane| flags.contains(&lane.key)) {
            let Some(user) = lane.probe.get().and_then(|&index| users.get(index)) else { continue };
            let mut seen = lock(&lane.seen);
            if seen.iter().any(|(client, _)| *client == worker) {
                continue;
            }
            if client.evaluate(&lane.key, user).variant.as_deref() == Some(CONTROL_VARIANT) {
                seen.push((worker, at));
            }
        }
    }
}
