//! Evaluation counters per flag × variant × reason (`pennon_evaluations_total`), kept
//! for every binding and SDK in one place and rendered once, as Prometheus text.
//!
//! Counting is off until switched on ([`Counters::set_enabled`]): an engine that does not
//! count pays one branch per evaluation. When on, an evaluation of a flag the snapshot
//! has costs one relaxed atomic add: each installed snapshot ([`crate::Loaded`]) keeps,
//! per flag index and variant index (core's [`Slot`]), the series it counts into, found
//! by name once (on the first counted evaluation of that flag × variant in that
//! snapshot). Series are kept by name here, so they outlive snapshot swaps: a reader
//! still holding the replaced snapshot counts into the same series, and nothing has to be
//! folded.
//!
//! Answers without a slot (no snapshot yet, a flag the snapshot lacks, a context that did
//! not convert) and answers an SDK gives itself ([`Counters::count_override`]) are found
//! by name in a sorted copy-on-write list behind an atomic pointer (`crate::series`): no
//! lock for an existing series; only a new series takes the writers' lock.
//!
//! At most [`MAX_SERIES`] flag × variant pairs are kept; evaluations of further pairs
//! count under flag [`OTHER`] with no variant (say, flag names built at run time).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use pennon_core::{Evaluation, Reason, Slot, Snapshot};

pub use crate::series::OTHER;
use crate::series::{Registry, Row, escape};

/// At most this many flag × variant series are kept.
pub const MAX_SERIES: usize = 10_000;
/// The variant label of an answer an SDK gave from a local override (reason `STATIC`).
pub const OVERRIDE_VARIANT: &str = "override";
/// The metric's name.
pub const METRIC: &str = "pennon_evaluations_total";

/// One flag × variant series: a count per reason (by [`Reason::index`]).
struct Counts([AtomicU64; Reason::ALL.len()]);

impl Default for Counts {
    fn default() -> Self {
        Counts(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

type Series = Row<Counts>;

impl Series {
    fn add(&self, reason: Reason, n: u64) {
        if let Some(count) = self.data.0.get(reason.index()) {
            count.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// An engine's evaluation counters (shared by the engines of one SDK client:
/// [`crate::Holder::share_counters`]).
pub struct Counters {
    enabled: AtomicBool,
    /// Every series, sorted by flag then variant (byte order).
    series: Registry<Counts>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters { enabled: AtomicBool::new(false), series: Registry::new(MAX_SERIES) }
    }
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters").field("enabled", &self.enabled()).finish_non_exhaustive()
    }
}

impl Counters {
    /// Counters, off.
    pub fn new() -> Self {
        Counters::default()
    }

    /// Switches counting on or off (counts so far are kept).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether evaluations are counted.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Counts `n` answers of `flag` with `variant` (`""` for none) and `reason`, found by
    /// name. Counts even when counting is off (callers check [`Counters::enabled`]).
    pub fn add(&self, flag: &str, variant: &str, reason: Reason, n: u64) {
        self.series_of(flag, variant).add(reason, n);
    }

    /// Counts an answer an SDK gave from a local override of `flag` (variant
    /// [`OVERRIDE_VARIANT`], reason `STATIC`), when counting is on.
    pub fn count_override(&self, flag: &str) {
        if self.enabled() {
            self.add(flag, OVERRIDE_VARIANT, Reason::Static, 1);
        }
    }

    /// The series of `flag` × `variant`: the existing one (no lock), a new one, or
    /// [`OTHER`]'s when [`MAX_SERIES`] exist.
    fn series_of(&self, flag: &str, variant: &str) -> Arc<Series> {
        self.series.row(flag, variant)
    }

    /// Every series counted so far, `(flag, variant, reason, count)`, sorted by flag,
    /// variant and reason name (byte order).
    pub fn totals(&self) -> Vec<(Box<str>, Box<str>, &'static str, u64)> {
        let mut reasons = Reason::ALL;
        reasons.sort_unstable_by_key(|reason| reason.as_str());
        let mut rows = Vec::new();
        for series in self.series.rows().iter() {
            for reason in reasons {
                let n = series.data.0.get(reason.index()).map_or(0, |count| count.load(Ordering::Relaxed));
                if n > 0 {
                    rows.push((series.flag.clone(), series.variant.clone(), reason.as_str(), n));
                }
            }
        }
        rows
    }

    /// The counters in the Prometheus text exposition format: `# HELP` and `# TYPE`, then
    /// one `pennon_evaluations_total{flag,variant,reason} n` line per series with a count,
    /// sorted ([`Counters::totals`]), label values escaped (`\\`, `\"`, `\n`).
    pub fn metrics_text(&self) -> String {
        let mut out =
            format!("# HELP {METRIC} Flag evaluations by flag, variant and reason.\n# TYPE {METRIC} counter\n");
        for (flag, variant, reason, n) in self.totals() {
            let _ = writeln!(
                out,
                "{METRIC}{{flag=\"{}\",variant=\"{}\",reason=\"{reason}\"}} {n}",
                escape(&flag),
                escape(&variant)
            );
        }
        out
    }
}

/// The series one installed snapshot counts into, by flag index then variant index (the
/// last one: no variant served), each found on first use.
pub(crate) struct Table {
    flags: Box<[OnceLock<FlagRows>]>,
}

/// One flag's series in a [`Table`], by variant index, then the one of "no variant".
type FlagRows = Box<[OnceLock<Arc<Series>>]>;

impl Table {
    pub(crate) fn new(snapshot: &Snapshot) -> Self {
        Table { flags: snapshot.flag_keys().map(|_| OnceLock::new()).collect() }
    }

    /// Counts `evaluation` (located at `slot` of `snapshot`).
    fn count(&self, counters: &Counters, snapshot: &Snapshot, slot: Slot, reason: Reason) {
        let Some(variants) = self.flags.get(slot.flag as usize) else { return };
        let variants =
            variants.get_or_init(|| (0..=snapshot.variant_names(slot.flag).len()).map(|_| OnceLock::new()).collect());
        let index = slot.variant.map_or(variants.len().saturating_sub(1), |v| v as usize);
        let Some(cell) = variants.get(index) else { return };
        let series = cell.get_or_init(|| {
            let flag = snapshot.flag_key_at(slot.flag).unwrap_or_default();
            let variant = slot.variant.and_then(|v| snapshot.variant_names(slot.flag).nth(v as usize));
            counters.series_of(flag, variant.unwrap_or_default())
        });
        series.add(reason, 1);
    }
}

/// Counts one evaluation of `key` answered from `snapshot` (with its `table`), or with no
/// snapshot, when counting is on.
#[inline]
pub(crate) fn count(
    counters: &Counters,
    installed: Option<(&Snapshot, &OnceLock<Table>)>,
    key: &str,
    evaluation: &Evaluation<'_>,
) {
    if counters.enabled() {
        count_enabled(counters, installed, key, evaluation);
    }
}

#[inline(never)]
fn count_enabled(
    counters: &Counters,
    installed: Option<(&Snapshot, &OnceLock<Table>)>,
    key: &str,
    evaluation: &Evaluation<'_>,
) {
    match (installed, evaluation.slot) {
        (Some((snapshot, table)), Some(slot)) => {
            table.get_or_init(|| Table::new(snapshot)).count(counters, snapshot, slot, evaluation.reason);
        }
        _ => counters.add(key, evaluation.variant.unwrap_or_default(), evaluation.reason, 1),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use crate::Holder;
    use pennon_core::{Context, FlagType, Value};

    const ONE_FLAG: &str = r#"{"schemaVersion":1,"revision":REV,"flags":{"f":{"type":"boolean","state":"on",
        "variants":{"on":true,"off":false},"offVariant":"off","fallthrough":{"variant":"on"}}}}"#;

    fn snapshot(revision: u64) -> Arc<Snapshot> {
        Arc::new(Snapshot::from_json(&ONE_FLAG.replace("REV", &revision.to_string())).unwrap())
    }

    fn get(holder: &Holder, key: &str) {
        let loaded = holder.current();
        holder.evaluate(loaded.as_deref(), key, Ok(&Context::new()), 0, Some(FlagType::Boolean));
    }

    fn series(counters: &Counters) -> Vec<String> {
        counters.totals().into_iter().map(|(f, v, r, n)| format!("{f}/{v}/{r}={n}")).collect()
    }

    /// `tests/conformance/counters.json`, the case file every binding runs.
    #[test]
    fn conformance_case_file() {
        let file: Value = serde_json::from_str(include_str!("../../tests/conformance/counters.json")).unwrap();
        let now = file["now"].as_i64().unwrap();
        let holder = Holder::new();
        for step in file["steps"].as_array().unwrap() {
            let flag = step["flag"].as_str().unwrap_or_default();
            match step["do"].as_str().unwrap() {
                "count" => holder.counters().set_enabled(step["enabled"].as_bool().unwrap()),
                "load" => {
                    let document = &file["snapshots"][step["snapshot"].as_str().unwrap()];
                    holder.load(Snapshot::from_value(document)).unwrap();
                }
                "evaluate" => {
                    let context =
                        step.get("context").map_or_else(Context::new, |c| Context::from_value(c.clone()).unwrap());
                    let expected = crate::args::flag_type(step["type"].as_str().unwrap()).unwrap();
                    for _ in 0..step["times"].as_u64().unwrap_or(1) {
                        let loaded = holder.current();
                        holder.evaluate(loaded.as_deref(), flag, Ok(&context), now, expected);
                    }
                }
                "override" => holder.counters().count_override(flag),
                "evaluateAll" => {
                    let loaded = holder.current().unwrap();
                    assert!(loaded.snapshot.evaluate_all(&Context::new(), now).len() > 0);
                }
                other => panic!("unknown step {other}"),
            }
        }
        let expected: Vec<&str> = file["metrics"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert_eq!(holder.counters().metrics_text(), expected.join("\n") + "\n");
    }

    #[test]
    fn off_by_default_and_the_text_has_its_header() {
        let holder = Holder::new();
        holder.install(snapshot(1));
        get(&holder, "f");
        assert!(series(&holder.counters()).is_empty());
        assert_eq!(
            holder.counters().metrics_text(),
            "# HELP pennon_evaluations_total Flag evaluations by flag, variant and reason.\n\
             # TYPE pennon_evaluations_total counter\n"
        );
    }

    #[test]
    fn a_reader_of_a_replaced_snapshot_still_counts() {
        let holder = Holder::new();
        holder.counters().set_enabled(true);
        holder.install(snapshot(1));
        let old = holder.current();
        get(&holder, "f");
        holder.install(snapshot(2));
        holder.evaluate(old.as_deref(), "f", Ok(&Context::new()), 0, None);
        drop(old);
        get(&holder, "f");
        assert_eq!(series(&holder.counters()), ["f/on/STATIC=3"]);
    }

    #[test]
    fn shared_counters_add_up_across_engines() {
        let first = Holder::new();
        first.counters().set_enabled(true);
        first.install(snapshot(1));
        get(&first, "f");
        let next = Holder::new();
        next.install(snapshot(2));
        get(&next, "f"); // Not counted: the new engine's own counters are off.
        next.share_counters(&first);
        assert_eq!(next.current().map(|l| l.generation), Some(1), "the same snapshot, the same generation");
        get(&next, "f");
        get(&next, "g");
        assert!(Arc::ptr_eq(&first.counters(), &next.counters()));
        assert_eq!(series(&next.counters()), ["f/on/STATIC=2", "g//ERROR=1"]);
    }

    #[test]
    fn series_beyond_the_cap_count_under_other() {
        let counters = Counters::new();
        for i in 0..MAX_SERIES {
            counters.add(&format!("f{i}"), "", Reason::Default, 1);
        }
        counters.add("f0", "", Reason::Error, 1); // An existing pair: another reason is no new series.
        counters.add("late", "on", Reason::Static, 2);
        counters.add("later", "", Reason::Error, 1);
        let totals = series(&counters);
        assert_eq!(totals.len(), MAX_SERIES + 3);
        assert!(totals.contains(&"f0//ERROR=1".to_owned()));
        assert!(totals.contains(&"_other//ERROR=1".to_owned()));
        assert!(totals.contains(&"_other//STATIC=2".to_owned()));
        assert!(!totals.iter().any(|s| s.starts_with("late")));
    }

    #[test]
    fn concurrent_counting_across_swaps_loses_nothing() {
        let holder = Arc::new(Holder::new());
        holder.counters().set_enabled(true);
        holder.install(snapshot(1));
        let readers: Vec<_> = (0..4)
            .map(|t| {
                let holder = Arc::clone(&holder);
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        get(&holder, if (t + i) % 5 == 0 { "nope" } else { "f" });
                    }
                })
            })
            .collect();
        for revision in 2..=50 {
            holder.install(snapshot(revision));
        }
        for reader in readers {
            reader.join().unwrap();
        }
        let total: u64 = holder.counters().totals().iter().map(|series| series.3).sum();
        assert_eq!(total, 8_000);
    }
}
