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
    service::binary::run("ds", cli.healthcheck, |settings: ds::Settings| async move {
        ds::start(&settings).await?.run_until_stopped().await?;
        Ok::<_, anyhow::Error>(())
    })
}
