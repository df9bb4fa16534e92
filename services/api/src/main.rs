use std::process::ExitCode;

use clap::Parser;

/// The streamlab public API.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Ask the running api's /health and exit 0 if it answers (for container health checks).
    #[arg(long)]
    healthcheck: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    service::binary::run::<api::Api>(cli.healthcheck)
}
