//! The figures of a simulation, as Markdown tables, and the targets they meet or miss.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::conductor::{Finished, Restart};
use crate::model::Kind;
use crate::rollout::{Phase, Plan};
use crate::stats::{clopper_pearson, quantile};

/// The targets of the issue.
#[derive(Debug, Clone, Copy)]
pub struct Targets {
    /// The false-rollback share healthy canaries must stay within.
    pub alpha: f64,
    /// p99 of decision → SDK client change (ms).
    pub propagation_p99_ms: f64,
}

/// The report: Markdown, and the targets missed (empty: all met).
#[derive(Debug, Default)]
pub struct Report {
    /// The tables.
    pub markdown: String,
    /// One line per missed target.
    pub missed: Vec<String>,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

fn format_opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The criteria that rolled `runs` back, with their counts (`error_rate ×3`).
fn criteria<'a>(runs: impl Iterator<Item = &'a Finished>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for run in runs {
        if let Some(decision) = run.status.first("rolled_back") {
            *counts.entry(decision.criterion.clone().unwrap_or_else(|| "?".to_owned())).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return "–".to_owned();
    }
    counts.iter().map(|(criterion, n)| format!("{criterion} ×{n}")).collect::<Vec<_>>().join(", ")
}

/// At which stages (canary percentage) the runs were rolled back, with counts
/// (`10 % ×2, 50 % ×1`).
fn caught_at(runs: &[&Finished], plan: &Plan) -> String {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for run in runs {
        if let Some(stage) = run.status.first("rolled_back").and_then(|d| d.stage) {
            *counts.entry(stage).or_default() += 1;
        }
    }
    let at = |stage: u64| {
        plan.stages.get(stage.saturating_sub(1) as usize).map_or_else(|| "?".to_owned(), |p| format!("{p} %"))
    };
    let text: Vec<String> = counts.iter().map(|(stage, n)| format!("{} ×{n}", at(*stage))).collect();
    if text.is_empty() { "–".to_owned() } else { text.join(", ") }
}

impl Report {
    fn line(&mut self, text: &str) {
        self.markdown.push_str(text);
        self.markdown.push('\n');
    }

    /// Healthy canaries: the share wrongly rolled back, with its exact 95 % interval.
    pub fn healthy(&mut self, runs: &[&Finished], plan: &Plan, targets: Targets) {
        let n = runs.len() as u64;
        if n == 0 {
            return;
        }
        let rolled_back = runs.iter().filter(|r| r.status.phase == Phase::RolledBack).count() as u64;
        let completed = runs.iter().filter(|r| r.status.phase == Phase::Completed).count() as u64;
        let unfinished = n - rolled_back - completed;
        let share = rolled_back as f64 / n as f64;
        let (lower, upper) = clopper_pearson(rolled_back, n, 0.05);
        let ok = share <= targets.alpha;
        self.line("## Healthy canaries (same error rate and latency in both cohorts)\n");
        let to_complete: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.status.first("completed").map(|d| (d.at_ms - r.started_ms) as f64 / 1000.0))
            .collect();
        let held = runs.iter().filter(|r| r.status.first("hold").is_some()).count();
        self.line("| rollouts | completed | median / max s to complete | held (sample ratio) | wrongly rolled back | share | 95 % interval (Clopper–Pearson) | unfinished | criteria | target | verdict |");
        self.line("|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|");
        self.line(&format!(
            "| {n} | {completed} | {} / {} | {held} | {rolled_back} | {:.1} % | {:.1} – {:.1} % | {unfinished} | {} | ≤ α = {} | {} |\n",
            format_opt(quantile(&to_complete, 0.5), 1),
            format_opt(quantile(&to_complete, 1.0), 1),
            share * 100.0,
            lower * 100.0,
            upper * 100.0,
            criteria(runs.iter().copied()),
            targets.alpha,
            verdict(ok)
        ));
        if !ok {
            self.missed.push(format!(
                "healthy canaries: {rolled_back} of {n} wrongly rolled back ({:.1} %, above α = {})",
                share * 100.0,
                targets.alpha
            ));
        }
        if unfinished > 0 {
            self.missed
                .push(format!("healthy canaries: {unfinished} of {n} neither completed nor rolled back in time"));
        }
        self.stuck(runs);
        self.gaps(runs, plan);
    }

    /// Where each rollout still running at its deadline stood, and why.
    fn stuck(&mut self, runs: &[&Finished]) {
        for run in runs.iter().filter(|r| !r.status.phase.is_final()) {
            self.missed.push(format!("{} at its deadline: {}", run.lane.key, run.status.now.as_deref().unwrap_or("?")));
        }
    }

    /// Any rollout whose history has a gap is a missed target.
    fn gaps(&mut self, runs: &[&Finished], plan: &Plan) {
        for run in runs {
            for problem in run.gaps(plan) {
                self.missed.push(format!("{}: {problem}", run.lane.key));
            }
        }
    }

    /// Regressions: every run rolled back; requests and seconds to detection.
    pub fn regressions(&mut self, groups: &[(Kind, Vec<&Finished>)], plan: &Plan) {
        if groups.is_empty() {
            return;
        }
        self.line("## Regressions (baseline: 1 % errors, latency p50 80 ms / p95 200 ms)\n");
        self.line("| regression | runs | rolled back | caught at (canary %) | median requests to detection (canary / all) | median s to detection | max s | criteria | verdict |");
        self.line("|---|---:|---:|---|---:|---:|---:|---|---|");
        for (kind, runs) in groups {
            let detected: Vec<(&Finished, i64)> =
                runs.iter().filter_map(|r| r.rollback_ms().map(|at| (*r, at))).collect();
            let seconds: Vec<f64> = detected.iter().map(|(r, at)| (*at - r.started_ms) as f64 / 1000.0).collect();
            let canary: Vec<f64> =
                detected.iter().map(|(r, at)| r.lane.counts_at(*at).canary_requests as f64).collect();
            let all: Vec<f64> = detected.iter().map(|(r, at)| r.lane.counts_at(*at).requests() as f64).collect();
            let ok = detected.len() == runs.len();
            self.line(&format!(
                "| {} | {} | {} | {} | {} / {} | {} | {} | {} | {} |",
                kind.label(),
                runs.len(),
                detected.len(),
                caught_at(runs, plan),
                format_opt(quantile(&canary, 0.5), 0),
                format_opt(quantile(&all, 0.5), 0),
                format_opt(quantile(&seconds, 0.5), 1),
                format_opt(quantile(&seconds, 1.0), 1),
                criteria(runs.iter().copied()),
                verdict(ok)
            ));
            if !ok {
                self.stuck(runs);
                self.missed.push(format!(
                    "{}: {} of {} runs not rolled back",
                    kind.label(),
                    runs.len() - detected.len(),
                    runs.len()
                ));
            }
            self.gaps(runs, plan);
        }
        self.line("");
    }

    /// Rollback propagation: controller decision → change seen in each SDK client.
    pub fn propagation(&mut self, runs: &[&Finished], clients: usize, targets: Targets) {
        let rolled_back: Vec<(&Finished, i64)> =
            runs.iter().filter_map(|r| r.rollback_ms().map(|at| (*r, at))).collect();
        if rolled_back.is_empty() {
            return;
        }
        let delays: Vec<f64> = rolled_back
            .iter()
            .flat_map(|(r, at)| r.lane.rollback_seen().into_iter().map(move |seen| (seen - at) as f64))
            .collect();
        let missing = rolled_back.len() * clients - delays.len();
        let p99 = quantile(&delays, 0.99);
        let ok = missing == 0 && p99.is_some_and(|p| p <= targets.propagation_p99_ms);
        self.line("## Rollback propagation (controller decision → evaluation change in an SDK client)\n");
        self.line("| rollbacks | clients | observations | not seen | p50 ms | p99 ms | max ms | target | verdict |");
        self.line("|---:|---:|---:|---:|---:|---:|---:|---|---|");
        self.line(&format!(
            "| {} | {clients} | {} | {missing} | {} | {} | {} | p99 ≤ {} ms | {} |\n",
            rolled_back.len(),
            delays.len(),
            format_opt(quantile(&delays, 0.5), 0),
            format_opt(p99, 0),
            format_opt(quantile(&delays, 1.0), 0),
            targets.propagation_p99_ms,
            verdict(ok)
        ));
        if !ok {
            self.missed.push(format!(
                "propagation: p99 {} ms (target ≤ {} ms), {missing} rollbacks never seen by a client",
                format_opt(p99, 0),
                targets.propagation_p99_ms
            ));
        }
    }

    /// The restart scenario: every rollout finished with a whole history.
    pub fn restart(&mut self, restart: &Restart, plan: &Plan) {
        let runs: Vec<&Finished> = restart.rollouts.iter().map(|(f, _)| f).collect();
        let at_kill: Vec<String> =
            restart.rollouts.iter().map(|(_, stage)| format_opt(stage.map(|s| s as f64), 0)).collect();
        let completed = runs.iter().filter(|r| r.status.phase == Phase::Completed).count();
        let rolled_back = runs.iter().filter(|r| r.status.phase == Phase::RolledBack).count();
        let gaps: usize = runs.iter().map(|r| r.gaps(plan).len()).sum();
        let unfinished = runs.len() - completed - rolled_back;
        let ok = gaps == 0 && unfinished == 0;
        self.line("## Controller killed (SIGKILL) and restarted mid-rollout\n");
        self.line("| rollouts | stage index at the kill | server down | completed | rolled back | unfinished | history gaps | verdict |");
        self.line("|---:|---|---:|---:|---:|---:|---:|---|");
        self.line(&format!(
            "| {} | {} | {:.1} s | {completed} | {rolled_back} | {unfinished} | {gaps} | {} |\n",
            runs.len(),
            at_kill.join(", "),
            restart.downtime_ms as f64 / 1000.0,
            verdict(ok)
        ));
        if unfinished > 0 {
            self.missed.push(format!("restart: {unfinished} rollouts did not finish after the restart"));
        }
        self.stuck(&runs);
        self.gaps(&runs, plan);
    }

    /// The missed targets, as a closing section.
    pub fn close(&mut self) {
        let mut text = String::new();
        if self.missed.is_empty() {
            let _ = writeln!(text, "All targets met.");
        } else {
            let _ = writeln!(text, "Targets missed:\n");
            for miss in &self.missed {
                let _ = writeln!(text, "- {miss}");
            }
        }
        self.line(&text);
    }
}
