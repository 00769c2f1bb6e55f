//! `pennon`: the control plane (`pennon serve`) and the command line that talks to it.

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Pennon: feature flags and progressive rollouts.
#[derive(Parser)]
#[command(name = "pennon", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: cli::Global,
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Run the server: admin API, SDK distribution, OFREP and metrics.
    Serve(pennon_server::serve::ServeArgs),
    #[command(flatten)]
    Client(cli::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pennon: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Top::Serve(args) => runtime.block_on(pennon_server::serve::run(args)),
        Top::Client(command) => runtime.block_on(cli::run(cli.global, command)),
    }
}
