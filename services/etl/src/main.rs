use std::process::ExitCode;

use clap::{Parser, Subcommand};
use service::settings::{Env, pool_settings};

/// The streamlab etl service: migrations, data generation, import and export.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations, then exit (the one-shot step before the services).
    Migrate,
    /// Serve the internal jobs API.
    Serve {
        /// Ask the running service's /health and exit 0 if it answers (for container health checks).
        #[arg(long)]
        healthcheck: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Migrate => migrate(),
        Command::Serve { healthcheck } => service::binary::run::<etl::Etl>(healthcheck),
    }
}

fn migrate() -> ExitCode {
    let database = match pool_settings(&Env::from_process()) {
        Ok(database) => database,
        Err(error) => {
            eprintln!("etl migrate: {error}");
            return ExitCode::from(2);
        }
    };
    match models::migrate::run_pending_migrations(&database.url) {
        Ok(applied) => {
            println!(
                "etl migrate: {} migration(s) applied to {}",
                applied.len(),
                database.url.endpoint()
            );
            for version in applied {
                println!("  {version}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("etl migrate: {error}");
            ExitCode::FAILURE
        }
    }
}
