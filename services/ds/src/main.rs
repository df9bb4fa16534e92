use std::process::ExitCode;

use clap::Parser;

/// The streamlab ds service.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Ask the running service's /health and exit 0 if it answers (for container health checks).
    #[arg(long)]
    healthcheck: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    service::binary::run::<ds::Ds>(cli.healthcheck)
}
