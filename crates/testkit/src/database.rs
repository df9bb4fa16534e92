//! A fresh database per test, cloned from a migrated template so no test pays for migrations.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use diesel::RunQueryDsl as _;
use diesel::pg::PgConnection;
use models::db::{DatabaseUrl, connect_sync};
use sha2::{Digest, Sha256};

/// Advisory lock key serialising template creation across test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x5354_524d_5445_4d50;

/// The workspace root (where `scripts/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The server to create test databases on: `DATABASE_URL` if set, else the private cluster
/// that `scripts/pg-up` starts (or finds running).
pub fn server_url() -> DatabaseUrl {
    static URL: OnceLock<DatabaseUrl> = OnceLock::new();
    URL.get_or_init(|| {
        let text = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                let output = Command::new(workspace_root().join("scripts/pg-up"))
                    .output()
                    .expect("run scripts/pg-up to start the test database server");
                assert!(
                    output.status.success(),
                    "scripts/pg-up failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                String::from_utf8_lossy(&output.stdout).trim().to_owned()
            }
        };
        text.parse()
            .expect("DATABASE_URL must be a postgres:// URL")
    })
    .clone()
}

fn admin_connection() -> PgConnection {
    connect_sync(&server_url().with_database("postgres"))
        .expect("connect to the test database server")
}

fn execute(connection: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(connection)
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// A name that changes whenever any migration file does, so an edited migration gets a
/// new template rather than a stale one.
fn template_name() -> String {
    let directory = workspace_root().join("crates/models/migrations");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![directory.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)
            .expect("read the migrations folder")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path)
            } else {
                files.push(path)
            }
        }
    }
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&directory)
                .unwrap_or(&file)
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).expect("read a migration file"));
    }
    format!(
        "streamlab_template_{}",
        &hex::encode(hasher.finalize())[..16]
    )
}

fn database_exists(connection: &mut PgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        found: i32,
    }
    let rows: Vec<Found> =
        diesel::sql_query("SELECT 1 AS found FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(name)
            .load(connection)
            .expect("query pg_database");
    !rows.is_empty()
}

/// The migrated template, created once per migration set across all test processes.
fn template() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = template_name();
        let mut admin = admin_connection();
        execute(
            &mut admin,
            &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"),
        );
        if !database_exists(&mut admin, &name) {
            // Build under another name, then rename: nobody ever sees a half-migrated template.
            let building = format!("{name}_building");
            execute(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            );
            execute(&mut admin, &format!("CREATE DATABASE {building}"));
            models::migrate::run_pending_migrations(&server_url().with_database(&building))
                .expect("migrate the template database");
            execute(
                &mut admin,
                &format!("ALTER DATABASE {building} RENAME TO {name}"),
            );
            // No one may connect to a template: a connection would block every clone.
            execute(
                &mut admin,
                &format!("ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
            );
        }
        execute(
            &mut admin,
            &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"),
        );
        name
    })
    .clone()
}

/// A database that exists for one test and is dropped when this value is.
pub struct TestDatabase {
    name: String,
    url: DatabaseUrl,
}

impl TestDatabase {
    /// A fresh database with every migration applied (cloned from the template).
    pub fn migrated() -> TestDatabase {
        TestDatabase::create(Some(&template()))
    }

    /// A fresh, empty database: no migrations applied.
    pub fn empty() -> TestDatabase {
        TestDatabase::create(None)
    }

    fn create(template: Option<&str>) -> TestDatabase {
        let name = format!("streamlab_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection();
        match template {
            Some(template) => execute(
                &mut admin,
                &format!("CREATE DATABASE {name} TEMPLATE {template}"),
            ),
            None => execute(&mut admin, &format!("CREATE DATABASE {name}")),
        }
        let url = server_url().with_database(&name);
        TestDatabase { name, url }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain connection for a test's own setup and checks.
    pub fn connect(&self) -> PgConnection {
        connect_sync(&self.url).expect("connect to the test database")
    }

    /// Refuses new connections and ends the open ones: to the services, the database is down.
    pub fn take_offline(&self) {
        let mut admin = admin_connection();
        execute(
            &mut admin,
            &format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", self.name),
        );
        execute(
            &mut admin,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ),
        );
    }

    /// Undoes `take_offline`.
    pub fn bring_online(&self) {
        execute(
            &mut admin_connection(),
            &format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name),
        );
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = connect_sync(&server_url().with_database("postgres")) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}
