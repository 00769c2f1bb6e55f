//! `pennon serve`.

use std::process::ExitCode;

/// Options of `pennon serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PENNON_LISTEN", default_value = "127.0.0.1:7070")]
    pub listen: String,
    /// Database: `sqlite://FILE` (default: `pennon.db` in the working directory) or `postgres://…`.
    #[arg(long, env = "PENNON_DATABASE_URL", default_value = "sqlite://pennon.db")]
    pub database_url: String,
}

/// Runs the server until it is interrupted.
pub async fn run(args: ServeArgs) -> ExitCode {
    let _ = args;
    ExitCode::SUCCESS
}
