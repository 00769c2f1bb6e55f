//! The engine's snapshot slot: the one place that decides what "not ready", "last good"
//! and "generation" mean for every binding.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arc_swap::ArcSwapOption;
use pennon_core::time::Millis;
use pennon_core::{Context, Error, Evaluation, FlagType, Snapshot};

use crate::counters::{self, Counters, Table};
use crate::outcomes::{Outcome, Outcomes};

/// A snapshot an engine has installed, with the generation it was installed as.
pub struct Loaded {
    /// The compiled snapshot (shareable between engines: Node's `loadShared`).
    pub snapshot: Arc<Snapshot>,
    /// 1 for the engine's first successful load, then one more for each: lets a host tell
    /// whether something it cached (attribute lists, constant answers) is still current.
    pub generation: u64,
    /// The engine's counters when this snapshot was installed.
    counters: Arc<Counters>,
    /// The engine's outcomes when this snapshot was installed.
    outcomes: Arc<Outcomes>,
    /// The counter rows of this snapshot's flags, made on the first counted evaluation.
    table: OnceLock<Table>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("snapshot", &self.snapshot)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl Loaded {
    fn new(snapshot: Arc<Snapshot>, generation: u64, metrics: Metrics) -> Self {
        let Metrics { counters, outcomes } = metrics;
        Loaded { snapshot, generation, counters, outcomes, table: OnceLock::new() }
    }
}

/// What [`Holder::replace`] did: the snapshot it installed and the one it replaced.
#[derive(Debug)]
pub struct Replaced {
    /// The snapshot now installed.
    pub loaded: Arc<Loaded>,
    /// The snapshot it replaced; `None` for the engine's first load.
    pub previous: Option<Arc<Loaded>>,
}

impl Replaced {
    /// The keys of the flags whose evaluation may differ between the replaced snapshot
    /// and the new one ([`Snapshot::changed_flags`]: sorted, removed keys included), or
    /// `None` for the first load, which replaced nothing. What an SDK's `change` event
    /// carries.
    pub fn changed_flags(&self) -> Option<Vec<&str>> {
        let previous = self.previous.as_ref()?;
        Some(self.loaded.snapshot.changed_flags(&previous.snapshot))
    }
}

/// What an engine counts into: its evaluation counters and its outcomes, shared together.
#[derive(Debug, Default, Clone)]
struct Metrics {
    counters: Arc<Counters>,
    outcomes: Arc<Outcomes>,
}

/// Holds at most one compiled snapshot.
///
/// - Before the first successful load the engine is *not ready*: evaluations answer
///   `PROVIDER_NOT_READY` ([`Holder::evaluate`]).
/// - A failed load changes nothing: the last good snapshot stays ([`Holder::load`]).
/// - Readers and a loader never block each other and no reader sees half a snapshot
///   (an atomic swap of an `Arc`, `arc-swap`); a reader keeps the snapshot it took for as
///   long as it needs it, even if a load replaces it meanwhile.
/// - Its evaluations are counted per flag × variant × reason once counting is switched on
///   ([`Holder::counters`], the `counters` module), and it keeps the outcomes the
///   application records ([`Holder::record`], the `outcomes` module).
#[derive(Debug, Default)]
pub struct Holder {
    current: ArcSwapOption<Loaded>,
    installs: AtomicU64,
    /// The counters and outcomes new snapshots count into (a lock taken only to install a
    /// snapshot, to count an evaluation before the first load, and by `counters`,
    /// `outcomes` and `share_counters`).
    metrics: Mutex<Metrics>,
}

impl Holder {
    /// An empty holder (not ready).
    pub fn new() -> Self {
        Holder::default()
    }

    /// The installed snapshot, if any. Take it once per call and use it for the whole
    /// call, so that one answer never mixes two snapshots.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.current.load_full()
    }

    /// Installs the outcome of compiling a snapshot: on success it replaces the current
    /// one (a new generation); on failure the error is returned and the last good
    /// snapshot stays.
    pub fn load(&self, compiled: Result<Snapshot, Error>) -> Result<Arc<Loaded>, Error> {
        compiled.map(|snapshot| self.install(Arc::new(snapshot)))
    }

    /// Installs an already compiled snapshot (possibly shared with other engines).
    pub fn install(&self, snapshot: Arc<Snapshot>) -> Arc<Loaded> {
        self.replace(snapshot).loaded
    }

    /// Installs an already compiled snapshot and returns the one it replaced, in one
    /// atomic swap: with concurrent loads, each learns exactly the snapshot it replaced,
    /// so the changes they report ([`Replaced::changed_flags`]) chain up without gaps.
    pub fn replace(&self, snapshot: Arc<Snapshot>) -> Replaced {
        let generation = self.installs.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let loaded = Arc::new(Loaded::new(snapshot, generation, self.metrics()));
        let previous = self.current.swap(Some(Arc::clone(&loaded)));
        Replaced { loaded, previous }
    }

    /// The installed snapshot's revision, `None` before the first load.
    pub fn revision(&self) -> Option<u64> {
        self.current.load().as_ref().map(|loaded| loaded.snapshot.revision())
    }

    fn metrics(&self) -> Metrics {
        self.metrics.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The engine's evaluation counters (off until [`Counters::set_enabled`]).
    pub fn counters(&self) -> Arc<Counters> {
        self.metrics().counters
    }

    /// The engine's outcomes ([`Holder::record`]).
    pub fn outcomes(&self) -> Arc<Outcomes> {
        self.metrics().outcomes
    }

    /// From now on this engine counts into `other`'s counters and records into its
    /// outcomes (both engines' evaluations and outcomes add up there, and either one's
    /// [`Counters::metrics_text`] and [`Holder::take_outcomes`] show them): an SDK that
    /// compiles each new snapshot into a fresh engine keeps one set this way.
    pub fn share_counters(&self, other: &Holder) {
        let metrics = other.metrics();
        *self.metrics.lock().unwrap_or_else(PoisonError::into_inner) = metrics.clone();
        // The installed snapshot counts into its engine's counters of the moment it was
        // installed: install it again, as the same generation (the same snapshot), unless
        // a load replaced it meanwhile.
        self.current.rcu(|current| {
            current
                .as_ref()
                .map(|loaded| Arc::new(Loaded::new(Arc::clone(&loaded.snapshot), loaded.generation, metrics.clone())))
        });
    }

    /// Evaluates with `loaded` (from [`Holder::current`]), or answers `PROVIDER_NOT_READY`
    /// without one, and counts the answer when counting is on. `context` is the converted
    /// context, or the message of why it did not convert (`INVALID_CONTEXT` for every
    /// flag). Returns the revision the answer came from.
    ///
    /// Every binding's single-flag evaluations (`evaluate` and the typed getters) come
    /// here; `evaluate_all` is not counted.
    #[inline]
    pub fn evaluate<'s>(
        &self,
        loaded: Option<&'s Loaded>,
        key: &str,
        context: Result<&Context, &str>,
        now: Millis,
        expected: Option<FlagType>,
    ) -> (Evaluation<'s>, Option<u64>) {
        let answer = Holder::evaluate_uncounted(loaded, key, context, now, expected);
        match loaded {
            Some(loaded) => {
                counters::count(&loaded.counters, Some((&loaded.snapshot, &loaded.table)), key, &answer.0);
            }
            None => counters::count(&self.counters(), None, key, &answer.0),
        }
        answer
    }

    /// Records `outcome` for the variant `key` serves the context (evaluated with `loaded`,
    /// from [`Holder::current`], uncounted). An invalid outcome is an `invalid_argument`
    /// error ([`Outcome::check`], `latency_key` naming the latency as the caller spells it);
    /// an evaluation that fails (not ready, unknown flag, a context that did not convert)
    /// records nothing and is no error: recording never breaks the application. Returns
    /// whether it recorded.
    #[inline]
    pub fn record(
        &self,
        loaded: Option<&Loaded>,
        key: &str,
        context: Result<&Context, &str>,
        now: Millis,
        outcome: &Outcome,
        latency_key: &str,
    ) -> Result<bool, Error> {
        outcome.check(latency_key)?;
        let Some(loaded) = loaded else { return Ok(false) };
        let evaluation = loaded.snapshot.evaluate_converted(key, context, now, None);
        match (evaluation.error, evaluation.variant) {
            (None, Some(variant)) => {
                loaded.outcomes.add(key, variant, outcome);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The body of `POST /sdk/v1/metrics` with every outcome and exposure (the evaluation
    /// counters' served variants) since the previous take, `sdk` naming the sender (by
    /// default `pennon-host/<version>`), or `None` when nothing is new
    /// ([`Outcomes::take`]). The SDKs send a batch whose send failed again under the same id
    /// (the server stores each id once); a host that gives a batch up instead hands it back
    /// with [`Holder::restore_outcomes`].
    pub fn take_outcomes(&self, batch_id: &str, sdk: Option<&str>) -> Option<String> {
        let Metrics { counters, outcomes } = self.metrics();
        outcomes.take(batch_id, sdk, &counters)
    }

    /// Gives back a batch that will not be sent, so that its counts go with the next take
    /// ([`Outcomes::restore`]).
    pub fn restore_outcomes(&self, batch: &str) -> Result<(), Error> {
        self.outcomes().restore(batch)
    }

    /// The outcomes as Prometheus text ([`Outcomes::metrics_text`]).
    pub fn outcome_metrics(&self) -> String {
        self.outcomes().metrics_text()
    }

    /// [`Holder::evaluate`] without counting, for a host that offers no counters (the raw
    /// wasm ABI): the same answer, and no counting code linked in.
    pub fn evaluate_uncounted<'s>(
        loaded: Option<&'s Loaded>,
        key: &str,
        context: Result<&Context, &str>,
        now: Millis,
        expected: Option<FlagType>,
    ) -> (Evaluation<'s>, Option<u64>) {
        match loaded {
            Some(loaded) => {
                let snapshot = &*loaded.snapshot;
                (snapshot.evaluate_converted(key, context, now, expected), Some(snapshot.revision()))
            }
            None => (Evaluation::not_ready(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennon_core::{ErrorCode, Reason};

    fn generation(holder: &Holder) -> u64 {
        holder.current().map_or(0, |loaded| loaded.generation)
    }

    const GOOD: &str = r#"{"schemaVersion":1,"revision":REV,"flags":{"f":{"type":"boolean","state":"on",
        "variants":{"on":true,"off":false},"offVariant":"off","fallthrough":{"variant":"on"}}}}"#;

    fn snapshot(revision: u64) -> Result<Snapshot, Error> {
        Snapshot::from_json(&GOOD.replace("REV", &revision.to_string()))
    }

    #[test]
    fn not_ready_until_the_first_load() {
        let holder = Holder::new();
        assert_eq!(holder.revision(), None);
        assert_eq!(generation(&holder), 0);
        let loaded = holder.current();
        let (evaluation, revision) = holder.evaluate(loaded.as_deref(), "f", Ok(&Context::new()), 0, None);
        assert_eq!(evaluation.reason, Reason::Error);
        assert_eq!(evaluation.error.map(|e| e.code.as_str()), Some("PROVIDER_NOT_READY"));
        assert_eq!(revision, None);
    }

    #[test]
    fn a_failed_load_keeps_the_last_good_snapshot() {
        let holder = Holder::new();
        assert!(holder.load(snapshot(3)).is_ok());
        assert_eq!((holder.revision(), generation(&holder)), (Some(3), 1));
        let error = holder.load(Snapshot::from_json("{")).map(|_| ()).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidJson);
        assert_eq!((holder.revision(), generation(&holder)), (Some(3), 1));
        assert!(holder.load(snapshot(4)).is_ok());
        assert_eq!((holder.revision(), generation(&holder)), (Some(4), 2));
    }

    #[test]
    fn a_reader_keeps_the_snapshot_it_took() {
        let holder = Holder::new();
        assert!(holder.load(snapshot(1)).is_ok());
        let taken = holder.current();
        assert!(holder.load(snapshot(2)).is_ok());
        let (evaluation, revision) = holder.evaluate(taken.as_deref(), "f", Ok(&Context::new()), 0, None);
        assert_eq!((evaluation.reason, revision), (Reason::Static, Some(1)));
    }

    #[test]
    fn replace_returns_the_replaced_snapshot_and_its_changes() {
        let holder = Holder::new();
        let first = holder.replace(Arc::new(snapshot(1).unwrap()));
        assert!(first.previous.is_none());
        assert_eq!(first.changed_flags(), None);
        let second = holder.replace(Arc::new(snapshot(2).unwrap()));
        assert_eq!(second.previous.as_ref().map(|p| p.snapshot.revision()), Some(1));
        assert_eq!(second.changed_flags(), Some(vec![]), "same flag at another revision");
        let other = Snapshot::from_json(&GOOD.replace("REV", "3").replace(r#""f":"#, r#""g":"#)).unwrap();
        let third = holder.replace(Arc::new(other));
        assert_eq!(third.changed_flags(), Some(vec!["f", "g"]));
        assert_eq!((holder.revision(), generation(&holder)), (Some(3), 3));
    }

    #[test]
    fn concurrent_readers_see_whole_snapshots() {
        let holder = Arc::new(Holder::new());
        assert!(holder.load(snapshot(1)).is_ok());
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let holder = Arc::clone(&holder);
                std::thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..2_000 {
                        let loaded = holder.current().map(|l| (l.snapshot.revision(), l.generation));
                        let (revision, generation) = loaded.unwrap_or_default();
                        assert_eq!(revision, generation, "revision n is always generation n here");
                        assert!(generation >= last, "generations never go back");
                        last = generation;
                    }
                })
            })
            .collect();
        for revision in 2..=200 {
            assert!(holder.load(snapshot(revision)).is_ok());
        }
        for reader in readers {
            assert!(reader.join().is_ok());
        }
    }
}
