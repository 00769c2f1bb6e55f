//! The command line: every subcommand but `serve` talks to a server over HTTP.

use std::process::ExitCode;

/// Options every client subcommand takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {}

/// The client subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// List the flags of an environment.
    List,
}

/// Runs one client subcommand.
pub async fn run(global: Global, command: Command) -> ExitCode {
    let _ = (global, command);
    ExitCode::SUCCESS
}
