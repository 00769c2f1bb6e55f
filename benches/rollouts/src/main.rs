//! `pennon-rollouts`: the rollout simulator. See README.md.
//!
//! Exit codes: 0 every target met (`drive`: the rollout ended); 1 a target missed
//! (`drive`: the deadline passed); 2 the simulation could not run.

mod conductor;
mod drive;
mod model;
mod report;
mod rollout;
mod server;
mod stats;
mod traffic;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
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
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: Args,
}

#[derive(Subcommand, Debug, Clone)]
enum Command {
    /// Drives ONE rollout against a server that is already running: starts the rollout of
    /// --flag (created as a boolean flag with variants on/off when missing) and sends
    /// traffic with real SDK clients until the controller completes or rolls it back.
    /// Prints a one-line JSON summary; exit 0 when the rollout ended, 1 at the deadline.
    Drive(DriveArgs),
    /// One SDK client of a running server: prints a JSON line per flag when ready and on
    /// every change that names it (value, variant, reason, revision, atMs).
    Watch(WatchArgs),
}

/// The server a subcommand talks to.
#[derive(clap::Args, Debug, Clone)]
struct Target {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// An SDK key of the environment.
    #[arg(long)]
    sdk_key: String,
}

#[derive(clap::Args, Debug, Clone)]
struct DriveArgs {
    #[command(flatten)]
    target: Target,
    /// An admin (or developer) token of the admin API.
    #[arg(long)]
    token: String,
    /// The environment of the rollout.
    #[arg(long, default_value = "development")]
    environment: String,
    /// The flag to roll out: a boolean flag whose variant `on` is the canary and `off`
    /// the control.
    #[arg(long)]
    flag: String,
    /// How the canary behaves: none, errors:+POINTS or latency:+MS (p95).
    #[arg(long, default_value = "none")]
    regression: model::Kind,
    #[command(flatten)]
    plan: PlanArgs,
    #[command(flatten)]
    traffic: TrafficArgs,
    /// The controller has this many seconds to end the rollout (then it is aborted).
    #[arg(long, default_value_t = 90)]
    deadline: u64,
}

#[derive(clap::Args, Debug, Clone)]
struct WatchArgs {
    #[command(flatten)]
    target: Target,
    /// A flag to watch (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',', required = true)]
    flag: Vec<String>,
    /// The evaluation context (JSON).
    #[arg(long, default_value = r#"{"targetingKey":"watcher"}"#)]
    context: String,
}

/// A rollout plan on the command line.
#[derive(clap::Args, Debug, Clone)]
struct PlanArgs {
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
}

impl PlanArgs {
    fn plan(&self) -> Plan {
        Plan {
            stages: self.stages.clone(),
            stage_duration: self.stage_duration.clone(),
            min_requests: self.min_requests.clone(),
            rollback: self.rollback.clone(),
        }
    }
}

/// The simulated traffic on the command line.
#[derive(clap::Args, Debug, Clone)]
struct TrafficArgs {
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
    /// The SDK clients' metrics flush interval (ms).
    #[arg(long, default_value_t = 200)]
    metrics_interval_ms: u64,
}

impl TrafficArgs {
    fn config(&self) -> TrafficConfig {
        TrafficConfig {
            workers: self.clients,
            rate: self.rate,
            users: self.users,
            metrics_interval: Duration::from_millis(self.metrics_interval_ms),
            seed: self.seed,
        }
    }
}

/// The simulation run (no subcommand).
#[derive(clap::Args, Debug, Clone)]
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
    #[command(flatten)]
    plan: PlanArgs,
    #[command(flatten)]
    traffic: TrafficArgs,
    /// `pennon serve --rollout-interval` (the controller's judging interval).
    #[arg(long, default_value = "200ms")]
    rollout_interval: String,
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
    kinds.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(args.traffic.seed));
    kinds
        .into_iter()
        .enumerate()
        .map(|(id, kind)| Arc::new(Lane::new(id, format!("sim.{}.{id}", kind.slug()), kind)))
        .collect()
}

fn simulate(args: &Args) -> Result<Report, String> {
    let binary = pennon_binary(args)?;
    let plan = args.plan.plan();
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
    let traffic = Traffic::start(&server.url, &sdk_key, &args.traffic.config())?;
    let lanes = lanes(args);
    eprintln!(
        "{} rollouts, at most {} at once, {} requests/s each",
        lanes.len(),
        settings.concurrency,
        args.traffic.rate
    );
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
    report.propagation(&finished.iter().collect::<Vec<_>>(), args.traffic.clients, targets);
    if let Some(restart) = &restart {
        report.restart(restart, &plan);
    }
    report.close();
    Ok(report)
}

/// `drive`: exit 0 and the summary when the rollout ended, 1 at the deadline.
fn drive(args: &DriveArgs) -> Result<ExitCode, String> {
    let api = server::Api::new(&args.target.url, &args.token, &args.environment)?;
    let drive = drive::Drive {
        api,
        sdk_key: args.target.sdk_key.clone(),
        flag: args.flag.clone(),
        kind: args.regression,
        plan: args.plan.plan(),
        traffic: args.traffic.config(),
        deadline: Duration::from_secs(args.deadline),
    };
    let (summary, code) = match drive::run(&drive)? {
        Ok(summary) => (summary, ExitCode::SUCCESS),
        Err(summary) => (summary, ExitCode::from(1)),
    };
    println!("{summary}");
    Ok(code)
}

fn watch(args: &WatchArgs) -> Result<ExitCode, String> {
    let context = pennon::Context::from_json(&args.context).map_err(|e| format!("--context: {e}"))?;
    watch::run(&args.target.url, &args.target.sdk_key, &args.flag, &context)?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = match &cli.command {
        Some(Command::Drive(args)) => drive(args),
        Some(Command::Watch(args)) => watch(args),
        None => return run(&cli.run),
    };
    done.unwrap_or_else(|error| {
        eprintln!("pennon-rollouts: {error}");
        ExitCode::from(2)
    })
}

/// The simulation run.
fn run(args: &Args) -> ExitCode {
    let started = Instant::now();
    let report = match simulate(args) {
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
        args.plan.stages,
        args.plan.stage_duration,
        args.plan.min_requests,
        args.plan.rollback,
        args.rollout_interval,
        args.traffic.clients,
        args.traffic.metrics_interval_ms,
        args.traffic.rate,
        args.traffic.users,
        args.traffic.seed
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
