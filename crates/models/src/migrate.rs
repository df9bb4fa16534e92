//! The migration runner every service calls at start.
//!
//! Replicas may start together, so the runner holds a PostgreSQL advisory lock while it
//! applies pending migrations: the first applies them, the others wait, then find none.

use diesel::pg::{Pg, PgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use crate::db::{DatabaseUrl, DbError, connect_sync};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock that serialises migration runs ("STRMLAB1" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x5354_524d_4c41_4231;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the migration task stopped unexpectedly: {0}")]
    Task(String),
}

/// Applies every pending migration under the advisory lock and returns the versions applied.
/// Blocking: call it from a blocking thread or before the runtime starts work.
pub fn run_pending_migrations(url: &DatabaseUrl) -> Result<Vec<String>, MigrationError> {
    let mut connection = connect_sync(url)?;
    lock(&mut connection, true)?;
    let applied = connection
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
        .map_err(|error| MigrationError::Migration(error.to_string()));
    // Unlock whatever happened; closing the connection would release it too.
    let unlocked = lock(&mut connection, false);
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

/// The async form for services: runs the blocking work on tokio's blocking pool.
pub async fn run_pending_migrations_async(url: DatabaseUrl) -> Result<Vec<String>, MigrationError> {
    tokio::task::spawn_blocking(move || run_pending_migrations(&url))
        .await
        .map_err(|error| MigrationError::Task(error.to_string()))?
}

/// Versions of every migration compiled into this binary, oldest first.
pub fn embedded_versions() -> Vec<String> {
    let migrations =
        diesel::migration::MigrationSource::<Pg>::migrations(&MIGRATIONS).unwrap_or_default();
    migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect()
}

fn lock(connection: &mut PgConnection, acquire: bool) -> Result<(), DbError> {
    let function = if acquire {
        "pg_advisory_lock"
    } else {
        "pg_advisory_unlock"
    };
    let statement = diesel::sql_query(format!("SELECT {function}({MIGRATION_LOCK_KEY})"));
    diesel::RunQueryDsl::execute(statement, connection)?;
    Ok(())
}

/// Whether every migration compiled into this binary is recorded as applied in the database
/// behind `connection` (false, not an error, before the first migration ran).
pub async fn all_applied(
    connection: &mut diesel_async::AsyncPgConnection,
) -> Result<bool, diesel::result::Error> {
    use diesel_async::RunQueryDsl as _;

    #[derive(diesel::prelude::QueryableByName)]
    struct AppliedVersion {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }

    let table_exists: Vec<AppliedVersion> = diesel::sql_query(
        "SELECT 'x' AS version WHERE to_regclass('__diesel_schema_migrations') IS NOT NULL",
    )
    .load(connection)
    .await?;
    if table_exists.is_empty() {
        return Ok(false);
    }
    let applied: Vec<AppliedVersion> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load(connection)
            .await?;
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|row| row.version).collect();
    Ok(embedded_versions()
        .iter()
        .all(|version| applied.contains(version)))
}
