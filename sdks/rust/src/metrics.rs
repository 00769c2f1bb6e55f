//! Evaluation counters per flag × variant × reason, counted without locks on the hot path
//! (a copy-on-write table behind an atomic pointer: an existing series is one atomic
//! add; only a new series takes the writers' lock), rendered as Prometheus text.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use pennon_core::Reason;

use crate::lock;

/// At most this many flag × variant pairs are kept; evaluations of further pairs (say,
/// a typo'd flag name built at run time) count under the flag label `_other`.
const MAX_SERIES: usize = 10_000;
const OTHER: &str = "_other";

type Counters = [AtomicU64; Reason::ALL.len()];
type Variants = HashMap<Box<str>, Arc<Counters>>;

#[derive(Default)]
pub(crate) struct Metrics {
    table: ArcSwap<HashMap<Box<str>, Arc<Variants>>>,
    series: AtomicU64,
    write: Mutex<()>,
}

fn reason_index(reason: Reason) -> usize {
    Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0)
}

impl Metrics {
    /// Counts one evaluation; `variant` is `""` when none was served.
    pub(crate) fn count(&self, flag: &str, variant: &str, reason: Reason) {
        let index = reason_index(reason);
        if let Some(counter) = self.table.load().get(flag).and_then(|v| v.get(variant)).and_then(|c| c.get(index)) {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.insert_and_count(flag, variant, index);
    }

    #[cold]
    fn insert_and_count(&self, flag: &str, variant: &str, index: usize) {
        let _writer = lock(&self.write);
        let full = self.series.load(Ordering::Relaxed) >= MAX_SERIES as u64;
        let (flag, variant) = if full { (OTHER, "") } else { (flag, variant) };
        let current = self.table.load_full();
        let existing = current.get(flag).and_then(|v| v.get(variant)).cloned();
        let counters = match existing {
            Some(counters) => counters,
            None => {
                let counters: Arc<Counters> = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
                let mut table = (*current).clone();
                let mut variants = table.get(flag).map(|v| (**v).clone()).unwrap_or_default();
                variants.insert(variant.into(), Arc::clone(&counters));
                table.insert(flag.into(), Arc::new(variants));
                self.table.store(Arc::new(table));
                self.series.fetch_add(1, Ordering::Relaxed);
                counters
            }
        };
        if let Some(counter) = counters.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prometheus text exposition, series sorted.
    pub(crate) fn render(&self) -> String {
        let table = self.table.load_full();
        let mut rows = BTreeMap::new();
        for (flag, variants) in table.iter() {
            for (variant, counters) in variants.iter() {
                for (reason, counter) in Reason::ALL.iter().zip(counters.iter()) {
                    let n = counter.load(Ordering::Relaxed);
                    if n > 0 {
                        rows.insert((flag.clone(), variant.clone(), reason.as_str()), n);
                    }
                }
            }
        }
        let mut out = String::from(
            "# HELP pennon_evaluations_total Flag evaluations by flag, variant and reason.\n\
             # TYPE pennon_evaluations_total counter\n",
        );
        for ((flag, variant, reason), n) in rows {
            let _ = writeln!(
                out,
                "pennon_evaluations_total{{flag=\"{}\",variant=\"{}\",reason=\"{}\"}} {n}",
                escape(&flag),
                escape(&variant),
                reason
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let metrics = Metrics::default();
        for _ in 0..3 {
            metrics.count("a", "on", Reason::Static);
        }
        metrics.count("a", "", Reason::Error);
        metrics.count("we\"ird\\", "x", Reason::Split);
        let text = metrics.render();
        assert!(text.contains("# TYPE pennon_evaluations_total counter\n"), "{text}");
        assert!(text.contains("pennon_evaluations_total{flag=\"a\",variant=\"on\",reason=\"STATIC\"} 3\n"), "{text}");
        assert!(text.contains("pennon_evaluations_total{flag=\"a\",variant=\"\",reason=\"ERROR\"} 1\n"), "{text}");
        assert!(text.contains("{flag=\"we\\\"ird\\\\\",variant=\"x\",reason=\"SPLIT\"} 1"), "{text}");
        assert_eq!(text.lines().count(), 5);
    }

    #[test]
    fn concurrent_counting_loses_nothing() {
        let metrics = Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let metrics = Arc::clone(&metrics);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        metrics.count(&format!("f{}", i % 7), if t % 2 == 0 { "on" } else { "off" }, Reason::Default);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let total: u64 = metrics
            .render()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 4000);
    }
}
