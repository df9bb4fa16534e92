//! Connections to PostgreSQL: the async pool the services use, and a plain synchronous
//! connection for bulk COPY and migrations.

use std::time::Duration;

use diesel::Connection as _;
use diesel::pg::PgConnection;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use url::Url;

pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
pub type PooledConnection = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// A PostgreSQL URL, checked when read so that a typo fails at start with a clear message.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Url);

/// Never print the password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.endpoint())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("is not a URL ({0}); expected postgres://USER@HOST:PORT/DATABASE")]
    NotAUrl(url::ParseError),
    #[error("has scheme '{0}'; expected postgres:// or postgresql://")]
    WrongScheme(String),
    #[error("names no host; expected postgres://USER@HOST:PORT/DATABASE")]
    NoHost,
    #[error("names no database; expected postgres://USER@HOST:PORT/DATABASE")]
    NoDatabase,
}

impl std::str::FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(text).map_err(DatabaseUrlError::NotAUrl)?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(DatabaseUrlError::WrongScheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(DatabaseUrlError::NoHost);
        }
        if url.path().trim_start_matches('/').is_empty() {
            return Err(DatabaseUrlError::NoDatabase);
        }
        Ok(DatabaseUrl(url))
    }
}

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `host:port` for messages: where we tried to connect, without credentials.
    pub fn endpoint(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        let port = self.0.port().unwrap_or(5432);
        format!("{host}:{port}")
    }

    pub fn database_name(&self) -> &str {
        self.0.path().trim_start_matches('/')
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let mut url = self.0.clone();
        url.set_path(&format!("/{name}"));
        DatabaseUrl(url)
    }
}

/// How the pool behaves; from each service's settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub url: DatabaseUrl,
    pub max_size: usize,
    /// How long a request waits for a free connection (or a new one) before failing.
    pub acquire_timeout: Duration,
    /// Server-side limit on any one statement, so a runaway query cannot hold a connection.
    pub statement_timeout: Duration,
    /// The pool runs short statements only (keyed lookups, keyset pages): plan each prepared
    /// statement once (`plan_cache_mode = force_generic_plan`) rather than for the values of
    /// every execution, and never JIT-compile (`jit = off`): a generic plan with a
    /// parameterised LIMIT can be estimated dear enough to compile on every execution, 12 ms
    /// for a 1 ms page.
    pub short_statements: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database at {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
}

/// Builds the async pool. Connections are opened lazily, each with its `statement_timeout`.
pub fn build_pool(settings: &PoolSettings) -> Result<Pool, DbError> {
    let mut session = format!(
        "SET statement_timeout = {}",
        settings.statement_timeout.as_millis()
    );
    if settings.short_statements {
        session.push_str("; SET plan_cache_mode = force_generic_plan; SET jit = off");
    }
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // Fast: a connection whose socket closed (a restarted server) is already dropped as
    // broken; Verified would add a `SELECT 1` round trip to every checkout, a quarter of a
    // three-query request.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url: &str| {
        let url = url.to_owned();
        let session = session.clone();
        Box::pin(async move {
            let mut connection = AsyncPgConnection::establish(&url).await?;
            connection
                .batch_execute(&session)
                .await
                .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))?;
            Ok(connection)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.as_str(),
        config,
    );
    Pool::builder(manager)
        .max_size(settings.max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.acquire_timeout))
        .create_timeout(Some(settings.acquire_timeout))
        .recycle_timeout(Some(settings.acquire_timeout))
        .build()
        .map_err(|error| DbError::Pool(error.to_string()))
}

/// A synchronous connection (libpq): for COPY, which diesel-async lacks, and for migrations.
/// Call it from a blocking thread.
pub fn connect_sync(url: &DatabaseUrl) -> Result<PgConnection, DbError> {
    PgConnection::establish(url.as_str()).map_err(|error| DbError::Connect {
        endpoint: url.endpoint(),
        reason: one_line(&error.to_string()),
    })
}

/// libpq's messages span lines; a start-up failure should read as one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_postgres_url_and_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:secret@db.local:6543/streamlab"
            .parse()
            .unwrap();
        assert_eq!(url.endpoint(), "db.local:6543");
        assert_eq!(url.database_name(), "streamlab");
        assert!(!format!("{url:?}").contains("secret"));
        assert_eq!(url.with_database("other").database_name(), "other");
    }

    #[test]
    fn default_port_is_5432() {
        let url: DatabaseUrl = "postgresql://app@localhost/streamlab".parse().unwrap();
        assert_eq!(url.endpoint(), "localhost:5432");
    }

    #[test]
    fn rejects_what_is_not_a_postgres_url() {
        assert!(matches!(
            "nonsense".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::NotAUrl(_))
        ));
        assert!(matches!(
            "mysql://app@localhost/x".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::WrongScheme(scheme)) if scheme == "mysql"
        ));
        assert!(matches!(
            "postgres://app@localhost:5432".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::NoDatabase)
        ));
    }
}
