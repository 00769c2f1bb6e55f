//! `pennon-rollouts`: the rollout simulator. See README.md.
//!
//! Exit codes: 0 every target met; 1 a target missed; 2 the simulation could not run.

mod conductor;
mod model;
mod report;
mod rollout;
mod server;
mod stats;
mod traffic;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use conductor::Settings;
use model::Kind;
use report::{Report, Targets};
use rollout::Plan;
use traffic::{Lane, Traffic, TrafficConfig};

/// Simulated rollouts: real Rust SDK clients send synthetic traffic to a real `pennon
/// serve` whose rollout controller judges every canary.
#[derive(Parser, Debug, Clone)]
#[command(version)]
struct Args {
    /// The short run of the test command: 40 healthy rollouts, 3 of each regression,
    /// 5 anomalies, one restart of 3 rollouts, 20 at once (explicit values still win).
    #[arg(long)]
    quick: bool,
    /// The `pennon` binary [default: PENNON_BIN, else `pennon` next to this binary].
    #[arg(long, env = "PENNON_BIN")]
    pennon: Option<PathBuf>,
    /// Healthy rollouts (canary = control) [default: 200, quick 40].
    #[arg(long)]
    healthy: Option<usize>,
    /// Runs of each regression (+2 and +5 points of errors, +300 ms p95) [default: 20, quick 3].
    #[arg(long)]
    regression_runs: Option<usize>,
    /// Gross anomalies (+20 points of errors) for rollback propagation [default: 20, quick 5].
    #[arg(long)]
    anomalies: Option<usize>,
    /// Rollouts in the kill-and-restart scenario; 0 skips it [default: 5, quick 3].
    #[arg(long)]
    restart_rollouts: Option<usize>,
    /// Rollouts running at once in one server [default: 150, quick 20: a debug build's
    /// traffic cannot feed 150 rollouts at the full rate].
    #[arg(long)]
    concurrency: Option<usize>,
    /// Requests per second per running rollout.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// SDK clients (application instances), one worker thread each.
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// Distinct users (`targetingKey` user-N).
    #[arg(long, default_value_t = 200_000)]
    users: usize,
    /// Seed of the traffic's random numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Canary percentages, in order.
    #[arg(long, value_delimiter = ',', default_value = "10,30,50,100")]
    stages: Vec<u32>,
    /// Minimum duration of each stage (ISO 8601).
    #[arg(long, default_value = "PT2S")]
    stage_duration: String,
    /// Minimum requests per cohort before each stage may advance (one value per stage;
    /// the last repeats). Small early stages catch gross failures fast; the large 50 %
    /// stage has the sample that finds a +2-point error-rate regression.
    #[arg(long, value_delimiter = ',', default_value = "200,300,8000,200")]
    min_requests: Vec<u64>,
    /// How the controller rolls back: gradual, immediate or kill.
    #[arg(long, default_value = "gradual")]
    rollback: String,
    /// `pennon serve --rollout-interval` (the controller's judging interval).
    #[arg(long, default_value = "200ms")]
    rollout_interval: String,
    /// The SDK clients' metrics flush interval (ms).
    #[arg(long, default_value_t = 200)]
    metrics_interval_ms: u64,
    /// A rollout that has neither completed nor been rolled back after this many seconds
    /// is unfinished (a missed target).
    #[arg(long, default_value_t = 90)]
    deadline: u64,
    /// α: the false-rollback share healthy canaries must stay within.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write the report here too (Markdown, with the command and the date).
    #[arg(long)]
    results: Option<PathBuf>,
}

impl Args {
    fn count(&self, explicit: Option<usize>, full: usize, quick: usize) -> usize {
        explicit.unwrap_or(if self.quick { quick } else { full })
    }
}

fn pennon_binary(args: &Args) -> Result<PathBuf, String> {
    let path = match &args.pennon {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("pennon"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no pennon binary at {}: build it with `cargo build -p pennon-server --bin pennon` in the same profile \
             and CARGO_TARGET_DIR, or pass --pennon / PENNON_BIN",
            path.display()
        ))
    }
}

/// The lanes of the main run, interleaved (by the seed) so that regressions and healthy
/// canaries share the server at the same time.
fn lanes(args: &Args) -> Vec<Arc<Lane>> {
    let mut kinds = Vec::new();
    kinds.extend(std::iter::repeat_n(Kind::Healthy, args.count(args.healthy, 200, 40)));
    for kind in [Kind::Errors(0.02), Kind::Errors(0.05), Kind::LatencyP95(300.0)] {
        kinds.extend(std::iter::repeat_n(kind, args.count(args.regression_runs, 20, 3)));
    }
    kinds.extend(std::iter::repeat_n(Kind::Anomaly, args.count(args.anomalies, 20, 5)));
    kinds.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(args.seed));
    kinds
        .into_iter()
        .enumerate()
        .map(|(id, kind)| Arc::new(Lane::new(id, format!("sim.{}.{id}", kind.slug()), kind)))
        .collect()
}

fn simulate(args: &Args) -> Result<Report, String> {
    let binary = pennon_binary(args)?;
    let plan = Plan {
        stages: args.stages.clone(),
        stage_duration: args.stage_duration.clone(),
        min_requests: args.min_requests.clone(),
        rollback: args.rollback.clone(),
    };
    let settings = Settings {
        plan: plan.clone(),
        concurrency: args.count(args.concurrency, 150, 20),
        deadline: Duration::from_secs(args.deadline),
        poll: Duration::from_millis(250),
        propagation_grace: Duration::from_secs(5),
    };
    let mut server = server::Server::start(&binary, &["--rollout-interval".to_owned(), args.rollout_interval.clone()])?;
    eprintln!("pennon serve at {} ({})", server.url, binary.display());
    let sdk_key = server.sdk_key()?;
    let traffic = Traffic::start(
        &server.url,
        &sdk_key,
        &TrafficConfig {
            workers: args.clients,
            rate: args.rate,
            users: args.users,
            metrics_interval: Duration::from_millis(args.metrics_interval_ms),
            seed: args.seed,
        },
    )?;
    let lanes = lanes(args);
    eprintln!("{} rollouts, at most {} at once, {} requests/s each", lanes.len(), settings.concurrency, args.rate);
    let finished = conductor::run(&server, &traffic, lanes.clone(), &settings)
        .map_err(|e| format!("{e}\n{}", server.log_tail()))?;

    let restart_count = args.count(args.restart_rollouts, 5, 3);
    let restart = if restart_count > 0 {
        eprintln!("restart scenario: {restart_count} rollouts, SIGKILL midway");
        let first = lanes.len();
        let restart_lanes = (first..first + restart_count)
            .map(|id| Arc::new(Lane::new(id, format!("sim.restart.{id}"), Kind::Restart)))
            .collect();
        let result = conductor::restart(&mut server, &traffic, restart_lanes, &settings, Duration::from_secs(1));
        Some(result.map_err(|e| format!("{e}\n{}", server.log_tail()))?)
    } else {
        None
    };
    traffic.stop();

    let targets = Targets { alpha: args.alpha, propagation_p99_ms: 2000.0 };
    let mut report = Report::default();
    let of = |wanted: Kind| finished.iter().filter(|f| f.lane.kind == wanted).collect::<Vec<_>>();
    report.healthy(&of(Kind::Healthy), &plan, targets);
    let groups: Vec<(Kind, Vec<&conductor::Finished>)> =
        [Kind::Errors(0.02), Kind::Errors(0.05), Kind::LatencyP95(300.0), Kind::Anomaly]
            .into_iter()
            .map(|kind| (kind, of(kind)))
            .filter(|(_, runs)| !runs.is_empty())
            .collect();
    report.regressions(&groups, &plan);
    report.propagation(&finished.iter().collect::<Vec<_>>(), args.clients, targets);
    if let Some(restart) = &restart {
        report.restart(restart, &plan);
    }
    report.close();
    Ok(report)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let report = match simulate(&args) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("pennon-rollouts: {error}");
            return ExitCode::from(2);
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let date = pennon_core::time::format_timestamp(traffic::now_ms()).unwrap_or_default();
    let header = format!(
        "Command: `{command}` ({} build), {date}, {elapsed:.0} s.\nPlan: stages {:?} % of {} each, minimum requests per cohort {:?}, rollback {}; \
         controller interval {}; {} SDK clients flushing every {} ms; {} requests/s per rollout over {} users; seed {}.\n",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        args.stages,
        args.stage_duration,
        args.min_requests,
        args.rollback,
        args.rollout_interval,
        args.clients,
        args.metrics_interval_ms,
        args.rate,
        args.users,
        args.seed
    );
    println!("{header}\n{}", report.markdown);
    if let Some(path) = &args.results {
        let text = format!("# Rollout simulation results\n\n{header}\n{}", report.markdown);
        if let Err(error) = std::fs::write(path, text) {
            eprintln!("pennon-rollouts: cannot write {}: {error}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.missed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
