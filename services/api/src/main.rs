use std::process::ExitCode;

use clap::{Parser, Subcommand};
use models::enums::ApiKeyScope;
use service::settings::{Env, pool_settings};

/// The streamlab public API. Without a command, serves it.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Ask the running api's /health and exit 0 if it answers (for container health checks).
    #[arg(long)]
    healthcheck: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Manage API keys in the database (DATABASE_URL).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create a key and print it: the only time it is shown.
    Create {
        #[arg(long)]
        name: String,
        /// read or admin
        #[arg(long)]
        scope: ApiKeyScope,
    },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke a key: it stops working at once.
    Revoke { id: i64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => service::binary::run::<api::Api>(cli.healthcheck),
        Some(Command::Keys { action }) => match keys(action) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err((code, message)) => {
                eprintln!("api keys: {message}");
                ExitCode::from(code)
            }
        },
    }
}

fn keys(action: KeysAction) -> Result<String, (u8, String)> {
    let database = pool_settings(&Env::from_process()).map_err(|error| (2, error.to_string()))?;
    let pool = models::db::build_pool(&models::db::PoolSettings {
        max_size: 1,
        ..database
    })
    .map_err(|error| (1, error.to_string()))?;
    let work = async move {
        let mut connection = service::problem::connection(&pool).await?;
        let text = match action {
            KeysAction::Create { name, scope } => {
                let created = api::api_keys::create(
                    &mut connection,
                    models::api_keys::ApiKeyCreateRequest { name, scope },
                )
                .await?;
                format!(
                    "{}\nid {} ({}, {}): store the key now, it is not shown again\n",
                    created.key, created.api_key.id, created.api_key.name, created.api_key.scope
                )
            }
            KeysAction::List => {
                let mut text = format!(
                    "{:>5}  {:<6}  {:<10}  {:<26}  {}\n",
                    "id", "scope", "prefix", "revoked", "name"
                );
                for key in api::api_keys::list(&mut connection).await? {
                    let revoked = key
                        .revoked_at
                        .map(|at| at.to_rfc3339())
                        .unwrap_or_else(|| "-".to_owned());
                    text.push_str(&format!(
                        "{:>5}  {:<6}  {:<10}  {:<26}  {}\n",
                        key.id, key.scope, key.key_prefix, revoked, key.name
                    ));
                }
                text
            }
            KeysAction::Revoke { id } => {
                let key = api::api_keys::revoke(&mut connection, id).await?;
                format!("revoked key {} ({})\n", key.id, key.name)
            }
        };
        Ok::<_, service::Problem>(text)
    };
    actix_web::rt::System::new()
        .block_on(work)
        .map_err(|problem| {
            let code = if problem.status < 500 { 2 } else { 1 };
            let detail = match problem.errors.first() {
                Some(error) => format!("{}: {}", error.field, error.message),
                None => problem.detail,
            };
            (code, detail)
        })
}
