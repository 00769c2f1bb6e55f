//! `pennon`: the control plane (`pennon serve`) and the command line that talks to it.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pennon: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        cli::Top::Serve(args) => runtime.block_on(pennon_server::serve::run(args)),
        cli::Top::Client(command) => runtime.block_on(cli::run(cli.global, command)),
    }
}
