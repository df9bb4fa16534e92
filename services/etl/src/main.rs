use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use etl::generate::{self, Scenario};
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
    /// Generate a synthetic streaming business: the same seed and options give the same data.
    Generate {
        /// A scenario file (TOML) whose keys override the defaults (services/etl/scenarios/default.toml).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Customers to simulate (overrides the scenario's).
        #[arg(long)]
        customers: Option<u64>,
        /// Seed of the simulation (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Empty every data table first (in the same transaction as the load).
        #[arg(long)]
        reset: bool,
    },
    /// Import CSV files (customers.csv, titles.csv, subscriptions.csv, watch_sessions.csv,
    /// events.csv, conversions.csv; formats in docs/src/importing.md and docs/src/etl.md), or folders of them.
    Import {
        /// Files named after their tables, or folders holding such files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Load the good rows and write the bad ones' report beside each input
        /// (<file>.errors.csv), instead of rejecting the whole import.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Export a table to CSV (with a header) through COPY.
    Export {
        /// The table: plans, customers, titles, subscriptions, watch_sessions, events,
        /// feature_exposures, conversions, experiments, variants, assignments, messages,
        /// message_events, suppressions, segments, segment_memberships, scenarios, scenario_effects.
        table: String,
        /// The file to write; standard output when absent.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

/// Exit status for bad settings or arguments.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve { healthcheck } => service::binary::run::<etl::Etl>(healthcheck),
        command => match one_shot(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err((code, message)) => {
                eprintln!("etl: {message}");
                ExitCode::from(code)
            }
        },
    }
}

/// The commands that run once and exit.
fn one_shot(command: Command) -> Result<(), (u8, String)> {
    let database =
        pool_settings(&Env::from_process()).map_err(|error| (EXIT_USAGE, error.to_string()))?;
    let failed = |error: &dyn std::fmt::Display| (1, error.to_string());
    match command {
        Command::Migrate => {
            let applied =
                models::migrate::run_pending_migrations(&database.url).map_err(|e| failed(&e))?;
            let mut report = format!(
                "etl migrate: {} migration(s) applied to {}\n",
                applied.len(),
                database.url.endpoint()
            );
            for version in applied {
                report.push_str(&format!("  {version}\n"));
            }
            print_quietly(&report);
        }
        Command::Generate {
            scenario,
            customers,
            seed,
            reset,
        } => {
            let text = match &scenario {
                Some(path) => Some(std::fs::read_to_string(path).map_err(|error| {
                    (
                        EXIT_USAGE,
                        format!("cannot read {}: {error}", path.display()),
                    )
                })?),
                None => None,
            };
            let mut scenario = Scenario::with_overrides(text.as_deref())
                .map_err(|error| (EXIT_USAGE, error.to_string()))?;
            scenario.customers = customers.unwrap_or(scenario.customers);
            scenario.seed = seed.unwrap_or(scenario.seed);
            let scenario =
                Scenario::validated(scenario).map_err(|error| (EXIT_USAGE, error.to_string()))?;
            let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let summary = generate::generate(
                &database.url,
                scenario,
                reset,
                show_progress,
                &generate::Progress::default(),
            )
            .map_err(|e| failed(&e))?;
            let mut report = format!(
                "{:<18} {:>12} {:>9} {:>12}\n",
                "table", "rows", "seconds", "rows/s"
            );
            for table in &summary.tables {
                report.push_str(&format!(
                    "{:<18} {:>12} {:>9.2} {:>12.0}\n",
                    table.table,
                    table.rows,
                    table.seconds,
                    table.rows_per_second()
                ));
            }
            report.push_str(&format!(
                "{:<18} {:>12} {:>9.2} {:>12.0}   (scenario {})\n",
                "total",
                summary.rows(),
                summary.seconds,
                summary.rows() as f64 / summary.seconds.max(1e-9),
                summary.scenario_id
            ));
            print_quietly(&report);
        }
        Command::Import {
            paths,
            skip_invalid,
        } => {
            let report =
                etl::import::import(&database.url, &paths, skip_invalid).map_err(|error| {
                    match error {
                        etl::import::ImportError::File(message) => (EXIT_USAGE, message),
                        other => failed(&other),
                    }
                })?;
            let mut text = format!(
                "{:<16} {:>10} {:>10} {:>10} {:>10}\n",
                "table", "inserted", "updated", "unchanged", "invalid"
            );
            for table in &report.tables {
                text.push_str(&format!(
                    "{:<16} {:>10} {:>10} {:>10} {:>10}\n",
                    table.table, table.inserted, table.updated, table.unchanged, table.invalid
                ));
            }
            for path in &report.report_files {
                text.push_str(&format!(
                    "bad rows skipped; their report: {}\n",
                    path.display()
                ));
            }
            print_quietly(&text);
        }
        Command::Export { table, out } => {
            let bytes = match &out {
                Some(path) => {
                    let mut file =
                        std::io::BufWriter::new(std::fs::File::create(path).map_err(|error| {
                            (
                                EXIT_USAGE,
                                format!("cannot create {}: {error}", path.display()),
                            )
                        })?);
                    etl::export::export(&database.url, &table, &mut file)
                }
                None => etl::export::export(&database.url, &table, &mut std::io::stdout().lock()),
            };
            match bytes {
                Ok(bytes) if out.is_some() => eprintln!("etl export: {table}: {bytes} bytes"),
                Ok(_) => {}
                Err(etl::export::ExportError::UnknownTable(name)) => {
                    return Err((
                        EXIT_USAGE,
                        etl::export::ExportError::UnknownTable(name).to_string(),
                    ));
                }
                Err(error) => return Err(failed(&error)),
            }
        }
        Command::Serve { .. } => {}
    }
    Ok(())
}

/// Prints to standard output; a closed pipe (`| head`) is not an error worth a panic.
fn print_quietly(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
