//! The command line: every subcommand but `serve` talks to a server over HTTP
//! (docs/control-plane.md, "Command line").
//!
//! Output is a table for people, or with `--json` the API's JSON as the server wrote it
//! (re-indented, key order kept). A failure prints one line on stderr,
//! `pennon: <what failed>: <server's message> (<code>)`, and exits with the documented
//! code (3 unreachable, 4 denied, 5 not found, 6 conflict, 7 invalid, 8 change request,
//! 9 broken audit chain, 1 otherwise).

mod api;
mod commands;
mod config;
mod experiment;
mod format;
mod what_if;

pub use experiment::ExperimentCommand;
pub use what_if::ContextSetCommand;

use std::path::PathBuf;
use std::process::ExitCode;

/// Options every client subcommand takes (before or after the subcommand).
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Server URL [config: url] [default: http://127.0.0.1:7070].
    #[arg(long, global = true, env = "PENNON_URL", value_name = "URL")]
    pub url: Option<String>,
    /// API token (`Authorization: Bearer`) [config: token].
    #[arg(long, global = true, env = "PENNON_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Environment to work in [config: environment] [default: development].
    #[arg(long = "env", short = 'e', global = true, env = "PENNON_ENV", value_name = "ENV")]
    pub environment: Option<String>,
    /// Print the API's JSON (for scripts) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Config file with `url`, `token`, `environment` (TOML) [default:
    /// $XDG_CONFIG_HOME/pennon/config.toml or ~/.config/pennon/config.toml].
    #[arg(long, global = true, env = "PENNON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--reason`: why a change is made.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ReasonArg {
    /// Why: recorded in the audit log; required in protected environments.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub reason: Option<String>,
}

/// `--reason` and `--base-revision` for changes that replace something.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ChangeArgs {
    /// Why: recorded in the audit log; required in protected environments.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub reason: Option<String>,
    /// The revision your change is based on; a newer change makes it fail with exit 6.
    /// Default: for `put`, `delete` and `segment put|rm` the current revision (read
    /// first); for the others none (the change applies to whatever is current).
    #[arg(long, value_name = "REV")]
    pub base_revision: Option<u64>,
}

/// A flag state.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Serve the off variant.
    Off,
    /// Serve the off variant; evaluate the on path to report what it would serve.
    Shadow,
    /// Serve the on path to the canary cohort only (`--percentage` sets the cohort).
    Canary,
    /// Serve the on path (`--percentage` makes the fallthrough a rollout).
    On,
    /// Emergency off: overrides everything (same as `pennon kill`).
    Kill,
}

impl State {
    /// The state's name in the snapshot format.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Off => "off",
            State::Shadow => "shadow",
            State::Canary => "canary",
            State::On => "on",
            State::Kill => "kill",
        }
    }
}

/// Who a rollout applies to.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cohort {
    /// The canary gate of a flag in state `canary`.
    Canary,
    /// The flag's fallthrough: a rollout of the fallthrough variant.
    #[default]
    Fallthrough,
}

/// One stage of `--stages`: a percentage and how long it lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The percentage, as written.
    pub percentage: serde_json::Number,
    /// ISO 8601 duration (`PT1H`); the last stage may omit it.
    pub duration: Option<String>,
}

/// `--stages 10:PT1H,30:PT2H,100`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

/// Parses a percentage (0 to 100, at most three decimals), keeping its spelling.
pub fn parse_percentage(text: &str) -> Result<serde_json::Number, String> {
    let number: serde_json::Number = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
    let value = number.as_f64().unwrap_or(-1.0);
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("`{text}` is not a percentage from 0 to 100"));
    }
    let decimals = text.trim().split_once('.').map_or(0, |(_, fraction)| fraction.len());
    if decimals > 3 || text.contains(['e', 'E']) {
        return Err(format!("`{text}` has more than three decimals"));
    }
    Ok(number)
}

/// Parses `--stages`: `percentage:duration` separated by commas; the last stage may
/// omit its duration.
pub fn parse_stages(text: &str) -> Result<Stages, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let count = parts.len();
    let mut stages = Vec::with_capacity(count);
    for (index, part) in parts.into_iter().enumerate() {
        let (percentage, duration) = match part.split_once(':') {
            Some((p, d)) => (p, Some(d.trim())),
            None => (part, None),
        };
        let percentage = parse_percentage(percentage)?;
        match duration {
            Some(d) if pennon_core::time::parse_duration(d).is_none() => {
                return Err(format!("`{d}` is not an ISO 8601 duration such as PT1H, P1D or PT30M"));
            }
            None if index + 1 < count => {
                return Err(format!("stage {} needs a duration (`{part}:PT1H`); only the last may omit it", index + 1));
            }
            _ => {}
        }
        stages.push(Stage { percentage, duration: duration.map(str::to_string) });
    }
    Ok(Stages(stages))
}

/// Checks an RFC 3339 timestamp and keeps it as written.
pub fn parse_time(text: &str) -> Result<String, String> {
    match pennon_core::time::parse_timestamp(text) {
        Some(_) => Ok(text.to_string()),
        None => Err(format!("`{text}` is not an RFC 3339 time such as 2026-12-06T09:00:00Z")),
    }
}

/// The client subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// List the flags of the environment: key, type, state, what it serves, owner, last change.
    ///
    /// Example: `pennon list -e production`
    List,
    /// Show one flag: revision, last change, state, what it serves, and its definition.
    ///
    /// Example: `pennon get checkout.new --json > checkout.json`
    Get {
        /// The flag key.
        flag: String,
    },
    /// Create or replace a flag from a definition (snapshot format v1).
    ///
    /// The file holds a flag definition, or the output of `pennon get FLAG --json`
    /// (then its `revision` is the base revision, so a change made since you read it
    /// fails with exit 6).
    ///
    /// Example: `pennon put checkout.new --file checkout.json --reason "ramp to 50%"`
    Put {
        /// The flag key.
        flag: String,
        /// The definition: a JSON file, or `-` for stdin.
        #[arg(long, short = 'f', value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Delete a flag.
    ///
    /// Example: `pennon delete old.banner --reason "removed in 4.2"`
    Delete {
        /// The flag key.
        flag: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Set a flag's state: off, shadow, canary, on, kill.
    ///
    /// Examples: `pennon set checkout.new on --reason "Enable for all"`,
    /// `pennon set checkout.new canary --percentage 10 "Testing with 10%"`
    Set {
        /// The flag key.
        flag: String,
        /// The new state.
        #[arg(value_enum)]
        state: State,
        /// The reason, as the last word instead of `--reason`.
        #[arg(value_name = "REASON", conflicts_with = "reason")]
        said: Option<String>,
        /// With `canary`: the canary cohort's percentage; with `on`: a rollout of the
        /// fallthrough variant to this percentage.
        #[arg(long, short = 'p', value_name = "N", value_parser = parse_percentage)]
        percentage: Option<serde_json::Number>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Kill a flag: it serves its off variant to everyone at once. Never a change request.
    ///
    /// Example: `pennon kill search.vector "Memory leak detected" -e production`
    Kill {
        /// The flag key.
        flag: String,
        /// The reason, as the last word instead of `--reason`.
        #[arg(value_name = "REASON", conflicts_with = "reason")]
        said: Option<String>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Roll a flag back: to the definition before its last change, or the one in force
    /// at environment revision `--to`, as a new revision.
    ///
    /// Example: `pennon rollback checkout.new --to 41 "errors since 42"`
    Rollback {
        /// The flag key.
        flag: String,
        /// The reason, as the last word instead of `--reason`.
        #[arg(value_name = "REASON", conflicts_with = "reason")]
        said: Option<String>,
        /// The environment revision whose definition to restore.
        #[arg(long, value_name = "REV")]
        to: Option<u64>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Rollouts: guarded by the controller (`start`, `status`, `pause`, `resume`,
    /// `promote`, `abort`), or a time-based `schedule`.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// The change history of a flag, newest first: revision, time, who, action, reason.
    ///
    /// Example: `pennon history checkout.new`
    History {
        /// The flag key.
        flag: String,
    },
    /// Evaluate a flag on the server for a context.
    ///
    /// Example: `pennon evaluate checkout.new --context '{"targetingKey":"u-1","country":"DE"}'`
    Evaluate {
        /// The flag key.
        flag: String,
        /// The context: JSON text, `@FILE`, or `-` for stdin.
        #[arg(long, short = 'c', value_name = "JSON", default_value = "{}")]
        context: String,
        /// Evaluate at this time (RFC 3339) instead of now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        now: Option<String>,
    },
    /// The server: version, database, and each environment's revision and counts.
    Status,
    /// Canaries and rollouts: guarded rollouts with their judgement now (cohort sizes,
    /// error rates, p95), and scheduled ones: cohort, percentage, stage, next step.
    ///
    /// Example: `pennon canary-status -e production`
    CanaryStatus {
        /// Only this flag.
        flag: Option<String>,
    },
    /// Experiments: per-variant results from the outcomes SDKs send.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Tenant overrides: serve a tenant a fixed variant.
    #[command(subcommand)]
    Override(OverrideCommand),
    /// Segments: reusable audiences.
    #[command(subcommand)]
    Segment(SegmentCommand),
    /// Context sets: the contexts a what-if runs against (uploaded, or `sampled` by the
    /// server where the environment's `sampleContexts` is on).
    #[command(subcommand, name = "context-sets")]
    ContextSets(ContextSetCommand),
    /// What a pending change request would do: evaluate a context set (or contexts from a
    /// file) against the snapshot it would publish and the one in force; who flips, how.
    ///
    /// Example: `pennon what-if 7f3c… --context-set eu-users`
    WhatIf {
        /// The change request's id.
        id: String,
        /// A context set of the request's environment.
        #[arg(long, value_name = "NAME", conflicts_with = "contexts")]
        context_set: Option<String>,
        /// A JSON file with an array of contexts (`-` for stdin).
        #[arg(long, value_name = "FILE")]
        contexts: Option<PathBuf>,
    },
    /// Approve a change request (admin, not its author); without an ID list the pending ones.
    ///
    /// Examples: `pennon approve`, `pennon approve 7f3c… --reason "reviewed"`
    Approve {
        /// The change request's id.
        id: Option<String>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Reject a change request (admin, or its author to withdraw it).
    Reject {
        /// The change request's id.
        id: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Environments: list, create, protect, unprotect.
    #[command(subcommand)]
    Env(EnvCommand),
    /// API tokens: list, create, revoke (admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import a snapshot (format v1) into the environment as one revision.
    ///
    /// Example: `pennon import snapshot.json -e staging --replace --reason "copy of production"`
    Import {
        /// The snapshot: a JSON file, or `-` for stdin.
        file: PathBuf,
        /// Remove flags and segments that are not in the snapshot (default: keep them).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Export the environment's snapshot, exactly as SDKs receive it.
    ///
    /// With `--out DIR` writes `snapshot.json`, `snapshot.json.sig` (base64 Ed25519
    /// signature over the exact bytes) and `etag`; without it prints the snapshot bytes.
    ///
    /// Example: `pennon export -e production --out backup/`
    Export {
        /// This revision instead of the newest.
        #[arg(long, value_name = "REV")]
        revision: Option<u64>,
        /// A directory to write the files into (created if needed).
        #[arg(long, short = 'o', value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Flags that could be removed: past `removeBy`, fully rolled out, or killed for long.
    ///
    /// Example: `pennon stale --days 14`
    Stale {
        /// How many days unchanged counts as stale (server default 30).
        #[arg(long, value_name = "N")]
        days: Option<u32>,
    },
    /// The audit log, newest first; `audit verify` checks its hash chain, `audit export`
    /// prints it as JSON lines.
    ///
    /// Without `-e`/`PENNON_ENV` it lists every environment.
    ///
    /// Example: `pennon audit --flag checkout.new --since 2026-12-01T00:00:00Z`
    Audit {
        #[command(subcommand)]
        action: Option<AuditCommand>,
        #[command(flatten)]
        filters: AuditFilters,
    },
    /// Print a shell completion script.
    ///
    /// Example: `pennon completions bash > /etc/bash_completion.d/pennon`
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `pennon rollout …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum RolloutCommand {
    /// Start a guarded rollout: the canary widens stage by stage while core's judgement
    /// finds it healthy, waits for approval where a stage asks, and rolls back by itself
    /// when it is not.
    ///
    /// `--stages PERCENT:MIN_DURATION,…` (the last stage is 100); `--plan FILE` gives the
    /// whole plan as JSON instead (docs/control-plane.md, "Safe rollouts").
    ///
    /// Example: `pennon rollout start checkout.new --stages 10:PT30M,50:PT2H,100:PT24H
    /// --min-requests 500 --approval 50 --max-error-rate 0.05 --rollback kill -e production -m "4.2"`
    Start {
        /// The flag key.
        flag: String,
        /// Stages `percentage:minDuration,…`; the last may omit its duration.
        #[arg(long, value_name = "STAGES", value_parser = parse_stages,
              required_unless_present = "plan", conflicts_with = "plan")]
        stages: Option<Stages>,
        /// The plan as a JSON file (`-` for stdin): `{stages, criteria, rollback, …}`.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Requests each cohort needs in a stage before it advances.
        #[arg(long, value_name = "N")]
        min_requests: Option<u64>,
        /// Stages (by percentage) that wait for `pennon rollout promote`.
        #[arg(long, value_name = "PERCENT", value_delimiter = ',', value_parser = parse_percentage)]
        approval: Vec<serde_json::Number>,
        /// Roll back at once when the canary's error rate exceeds this (0–1).
        #[arg(long, value_name = "RATE")]
        max_error_rate: Option<f64>,
        /// What a rollback does: gradual (canary 0 %), immediate (off) or kill.
        #[arg(long, value_enum)]
        rollback: Option<RollbackKind>,
        /// Core's judgement criteria as JSON (`{"alpha":0.05,"minRequests":100,…}`).
        #[arg(long, value_name = "JSON")]
        criteria: Option<String>,
        /// The canary cohort's variant (default: what the on path serves).
        #[arg(long, value_name = "VARIANT")]
        canary_variant: Option<String>,
        /// The control cohort's variant (default: the offVariant).
        #[arg(long, value_name = "VARIANT")]
        control_variant: Option<String>,
        /// How long after each stage begins its window opens (ISO 8601): the SDKs'
        /// metrics interval, e.g. PT10S.
        #[arg(long, value_name = "DURATION")]
        settle: Option<String>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Where a rollout stands, its judgement now, and its history with each stage's metrics.
    ///
    /// Example: `pennon rollout status checkout.new`
    Status {
        /// The flag key.
        flag: String,
    },
    /// Stop advancing (an unhealthy verdict still rolls back).
    Pause {
        /// The flag key.
        flag: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Advance again after a pause.
    Resume {
        /// The flag key.
        flag: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Advance one stage now (the approval a stage waits for), or `--full`: skip to 100 %.
    ///
    /// Example: `pennon rollout promote checkout.new -m "dashboards green"`
    Promote {
        /// The flag key.
        flag: String,
        /// Instant deploy: the flag goes on for everyone now.
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Roll back now, as the plan says or as `--rollback` says.
    Abort {
        /// The flag key.
        flag: String,
        /// What the rollback does instead of the plan's.
        #[arg(long, value_enum)]
        rollback: Option<RollbackKind>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// A time-based rollout, unguarded: a fixed percentage, or progressive stages with
    /// durations that SDKs follow by the clock.
    ///
    /// Examples: `pennon rollout schedule checkout.new --percentage 25`,
    /// `pennon rollout schedule checkout.new --stages 10:PT1H,30:PT2H,100 --start 2026-12-06T09:00:00Z`,
    /// `pennon rollout schedule checkout.new --cohort canary --stages 1:PT30M,5:PT2H,20`
    Schedule {
        /// The flag key.
        flag: String,
        /// A fixed percentage (0–100, up to three decimals).
        #[arg(long, short = 'p', value_name = "N", value_parser = parse_percentage,
              required_unless_present = "stages", conflicts_with = "stages")]
        percentage: Option<serde_json::Number>,
        /// Progressive stages `percentage:duration,…`; the last may omit its duration.
        #[arg(long, value_name = "STAGES", value_parser = parse_stages)]
        stages: Option<Stages>,
        /// What the rollout applies to.
        #[arg(long, value_enum, default_value_t = Cohort::Fallthrough)]
        cohort: Cohort,
        /// When the first stage begins (RFC 3339); default: now, as the server decides.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        start: Option<String>,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

pub use pennon_server::rollout::RollbackKind;

/// `pennon override …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum OverrideCommand {
    /// Serve TENANT the variant VARIANT of FLAG (optionally until `--expires`).
    ///
    /// Example: `pennon override set checkout.new acme on --expires 2026-12-31T00:00:00Z --note "contract 1182"`
    Set {
        /// The flag key.
        flag: String,
        /// The tenant (the context's `tenant` attribute).
        tenant: String,
        /// The variant to serve.
        variant: String,
        /// When the override ends (RFC 3339).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        expires: Option<String>,
        /// A note kept with the override.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Remove TENANT's override of FLAG.
    Rm {
        /// The flag key.
        flag: String,
        /// The tenant.
        tenant: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
}

/// `pennon segment …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum SegmentCommand {
    /// List the segments of the environment.
    List,
    /// Show one segment.
    Get {
        /// The segment key.
        segment: String,
    },
    /// Create or replace a segment from a definition (snapshot format v1).
    ///
    /// Example: `pennon segment put staff --file staff.json`
    Put {
        /// The segment key.
        segment: String,
        /// The definition: a JSON file, or `-` for stdin.
        #[arg(long, short = 'f', value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Delete a segment.
    Rm {
        /// The segment key.
        segment: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

/// `pennon env …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum EnvCommand {
    /// List the environments.
    List,
    /// Create an environment (admin).
    ///
    /// Example: `pennon env create qa`
    Create {
        /// The environment key.
        key: String,
        /// Create it protected: changes by developers become change requests.
        #[arg(long)]
        protected: bool,
    },
    /// Protect an environment: developers' changes become change requests (admin).
    Protect {
        /// The environment key.
        key: String,
    },
    /// Stop protecting an environment (admin).
    Unprotect {
        /// The environment key.
        key: String,
    },
}

pub use pennon_server::auth::Role;

/// `pennon token …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// List the tokens (never their secrets).
    List,
    /// Create a token; its secret is printed once.
    ///
    /// Examples: `pennon token create ci --role developer`,
    /// `pennon token create web-frontend --role sdk -e production`
    Create {
        /// A name for people.
        name: String,
        /// The role.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Revoke a token.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// Filters of `pennon audit` and `pennon audit export`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuditFilters {
    /// Only entries of this flag.
    #[arg(long, value_name = "FLAG")]
    pub flag: Option<String>,
    /// Only entries by this principal (token name).
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
    /// Only entries of this action (state, kill, rollback, change_request…).
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<String>,
    /// Only entries before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<String>,
    /// At most this many entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Only entries with a sequence number below this one (paging).
    #[arg(long, value_name = "SEQ")]
    pub before: Option<u64>,
}

/// `pennon audit verify|export`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum AuditCommand {
    /// Check the audit log's hash chain: `ok: N entries, head HASH`, or exit 9.
    Verify,
    /// Print the audit log as JSON lines, oldest first.
    ///
    /// Example: `pennon audit export --since 2026-01-01T00:00:00Z > audit.ndjson`
    Export {
        #[command(flatten)]
        filters: AuditFilters,
    },
}

/// Pennon: feature flags and progressive rollouts.
#[derive(clap::Parser)]
#[command(name = "pennon", version, propagate_version = true, subcommand_required = true)]
pub struct Cli {
    #[command(flatten)]
    /// Options every client subcommand takes.
    pub global: Global,
    #[command(subcommand)]
    /// What to do.
    pub command: Top,
}

/// `serve`, or one of the client subcommands.
#[derive(clap::Subcommand)]
pub enum Top {
    /// Run the server: admin API, SDK distribution, OFREP and metrics.
    Serve(pennon_server::serve::ServeArgs),
    #[command(flatten)]
    /// A client subcommand.
    Client(Command),
}

/// The whole command tree (for completions and tests).
pub fn top_command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs one client subcommand.
pub async fn run(global: Global, command: Command) -> ExitCode {
    ExitCode::from(commands::run(global, command).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Global, Command), clap::Error> {
        let cli = <Cli as clap::Parser>::try_parse_from(args)?;
        match cli.command {
            Top::Client(command) => Ok((cli.global, command)),
            Top::Serve(_) => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
        }
    }

    #[test]
    fn the_command_tree_is_consistent() {
        top_command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_subcommand() {
        let (global, command) =
            parse(&["pennon", "kill", "x", "--json", "-e", "production", "--url", "http://h"]).unwrap();
        assert!(global.json);
        assert_eq!(global.environment.as_deref(), Some("production"));
        assert_eq!(global.url.as_deref(), Some("http://h"));
        assert!(matches!(command, Command::Kill { .. }));
    }

    #[test]
    fn a_reason_is_a_flag_or_the_last_word() {
        let (_, command) = parse(&["pennon", "set", "x", "on", "Enable for all"]).unwrap();
        let Command::Set { state, said, .. } = command else { panic!() };
        assert_eq!(state, State::On);
        assert_eq!(said.as_deref(), Some("Enable for all"));
        assert!(parse(&["pennon", "kill", "x", "why", "--reason", "why"]).is_err());
    }

    #[test]
    fn stages_parse_with_durations_and_an_open_last() {
        let Stages(stages) = parse_stages("10:PT1H, 30:PT2H,100").unwrap();
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[0].percentage.to_string(), "10");
        assert_eq!(stages[0].duration.as_deref(), Some("PT1H"));
        assert_eq!(stages[2].duration, None);
        assert!(parse_stages("10,100").is_err());
        assert!(parse_stages("10:1h,100").is_err());
        assert!(parse_stages("10:PT1H,101").is_err());
    }

    #[test]
    fn percentages_keep_their_spelling() {
        assert_eq!(parse_percentage("12.5").unwrap().to_string(), "12.5");
        assert_eq!(parse_percentage("25").unwrap().to_string(), "25");
        assert!(parse_percentage("12.3456").is_err());
        assert!(parse_percentage("-1").is_err());
        assert!(parse_percentage("x").is_err());
    }

    #[test]
    fn a_schedule_needs_a_percentage_or_stages_but_not_both() {
        assert!(parse(&["pennon", "rollout", "schedule", "x"]).is_err());
        assert!(parse(&["pennon", "rollout", "schedule", "x", "--percentage", "5", "--stages", "5:PT1H,10"]).is_err());
        let (_, command) =
            parse(&["pennon", "rollout", "schedule", "x", "--stages", "5:PT1H,10", "--cohort", "canary"]).unwrap();
        let Command::Rollout(RolloutCommand::Schedule { cohort, stages, .. }) = command else { panic!() };
        assert_eq!(cohort, Cohort::Canary);
        assert_eq!(stages.map(|s| s.0.len()), Some(2));
    }

    #[test]
    fn a_guarded_rollout_takes_stages_or_a_plan() {
        assert!(parse(&["pennon", "rollout", "start", "x"]).is_err());
        assert!(parse(&["pennon", "rollout", "start", "x", "--stages", "10:PT1M,100", "--plan", "p.json"]).is_err());
        let (_, command) = parse(&[
            "pennon",
            "rollout",
            "start",
            "x",
            "--stages",
            "10:PT1M,50:PT1M,100",
            "--approval",
            "50",
            "--rollback",
            "kill",
            "--min-requests",
            "500",
        ])
        .unwrap();
        let Command::Rollout(RolloutCommand::Start { approval, rollback, min_requests, .. }) = command else {
            panic!()
        };
        assert_eq!(approval, [serde_json::Number::from(50)]);
        assert_eq!(rollback, Some(RollbackKind::Kill));
        assert_eq!(min_requests, Some(500));
        let (_, command) = parse(&["pennon", "rollout", "promote", "x", "--full"]).unwrap();
        assert!(matches!(command, Command::Rollout(RolloutCommand::Promote { full: true, .. })));
        assert!(parse(&["pennon", "rollout", "x", "--percentage", "5"]).is_err(), "the old form is `schedule`");
    }

    #[test]
    fn audit_takes_filters_and_subcommands() {
        let (_, command) = parse(&["pennon", "audit", "--flag", "x", "--limit", "5"]).unwrap();
        let Command::Audit { action: None, filters } = command else { panic!() };
        assert_eq!(filters.flag.as_deref(), Some("x"));
        let (_, command) = parse(&["pennon", "audit", "export", "--since", "2026-01-01T00:00:00Z"]).unwrap();
        assert!(matches!(command, Command::Audit { action: Some(AuditCommand::Export { .. }), .. }));
        assert!(parse(&["pennon", "audit", "--since", "last week"]).is_err());
    }
}
