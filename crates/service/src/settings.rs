//! Typed settings from environment variables (and a `.env` file, when present).
//!
//! A missing or malformed variable fails at start with the variable's name.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use models::db::{DatabaseUrl, PoolSettings};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {name} is missing")]
    Missing { name: String },
    #[error("setting {name} is malformed: {reason}")]
    Malformed { name: String, reason: String },
}

/// A snapshot of the environment to read settings from.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment, after loading `.env` from the working directory if there is
    /// one (real environment variables win over the file).
    pub fn from_process() -> Env {
        // A missing .env is normal; a broken one is reported when a variable is then missing.
        let _ = dotenvy::dotenv();
        Env {
            vars: std::env::vars().collect(),
        }
    }

    /// An environment made of exactly these pairs: for tests.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        }
    }

    /// Sets one variable, replacing any value it had.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    pub fn required<T>(&self, name: &str) -> Result<T, SettingsError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.optional(name)?.ok_or_else(|| SettingsError::Missing {
            name: name.to_owned(),
        })
    }

    pub fn optional<T>(&self, name: &str) -> Result<Option<T>, SettingsError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.raw(name)
            .map(|value| {
                value
                    .trim()
                    .parse::<T>()
                    .map_err(|error| SettingsError::Malformed {
                        name: name.to_owned(),
                        reason: error.to_string(),
                    })
            })
            .transpose()
    }

    pub fn or<T>(&self, name: &str, default: T) -> Result<T, SettingsError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A duration given in whole milliseconds.
    pub fn millis_or(&self, name: &str, default: Duration) -> Result<Duration, SettingsError> {
        Ok(self
            .optional::<u64>(name)?
            .map(Duration::from_millis)
            .unwrap_or(default))
    }
}

/// `LOG_FORMAT`: human-readable locally, one JSON object per line in containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("'{other}' is neither 'pretty' nor 'json'")),
        }
    }
}

/// The shared secret on internal routes. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceToken(String);

impl ServiceToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken(..)")
    }
}

impl FromStr for ServiceToken {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.len() < 16 {
            return Err("must be at least 16 characters long".to_owned());
        }
        Ok(ServiceToken(value.to_owned()))
    }
}

/// What every service reads.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub listen_addr: SocketAddr,
    /// The variable `listen_addr` came from, for messages.
    pub listen_addr_variable: &'static str,
    pub database: PoolSettings,
    pub service_token: ServiceToken,
    pub log_format: LogFormat,
}

impl CommonSettings {
    /// Reads the common settings; `addr_variable` is the service's own (`API_ADDR`, ...).
    pub fn from_env(
        env: &Env,
        addr_variable: &'static str,
        default_addr: SocketAddr,
    ) -> Result<Self, SettingsError> {
        Ok(CommonSettings {
            listen_addr: env.or(addr_variable, default_addr)?,
            listen_addr_variable: addr_variable,
            database: pool_settings(env)?,
            service_token: env.required("SERVICE_TOKEN")?,
            log_format: env.or("LOG_FORMAT", LogFormat::Pretty)?,
        })
    }
}

/// `DATABASE_URL` and the pool's tuning variables.
pub fn pool_settings(env: &Env) -> Result<PoolSettings, SettingsError> {
    let url: DatabaseUrl = env.required("DATABASE_URL")?;
    let max_size: usize = env.or("DB_POOL_SIZE", 10)?;
    if max_size == 0 {
        return Err(SettingsError::Malformed {
            name: "DB_POOL_SIZE".to_owned(),
            reason: "must be at least 1".to_owned(),
        });
    }
    Ok(PoolSettings {
        url,
        max_size,
        acquire_timeout: env.millis_or("DB_ACQUIRE_TIMEOUT_MS", Duration::from_secs(5))?,
        statement_timeout: env.millis_or("DB_STATEMENT_TIMEOUT_MS", Duration::from_secs(30))?,
        short_statements: false,
    })
}

/// A peer's base URL; always ends in `/` so that joining a relative path keeps any prefix.
pub fn peer_url(env: &Env, name: &str, default: &str) -> Result<Url, SettingsError> {
    let text: String = env.or(name, default.to_owned())?;
    let with_slash = if text.ends_with('/') {
        text
    } else {
        format!("{text}/")
    };
    let url = Url::parse(&with_slash).map_err(|error| SettingsError::Malformed {
        name: name.to_owned(),
        reason: error.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SettingsError::Malformed {
            name: name.to_owned(),
            reason: "must be an http:// or https:// URL".to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Env {
        Env::from_pairs([
            ("DATABASE_URL", "postgres://app@127.0.0.1:5432/streamlab"),
            ("SERVICE_TOKEN", "0123456789abcdef0123"),
        ])
    }

    #[test]
    fn defaults_fill_what_is_unset() {
        let settings =
            CommonSettings::from_env(&base(), "API_ADDR", "127.0.0.1:8000".parse().unwrap())
                .unwrap();
        assert_eq!(settings.listen_addr, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(settings.database.max_size, 10);
        assert_eq!(settings.database.statement_timeout, Duration::from_secs(30));
        assert_eq!(settings.log_format, LogFormat::Pretty);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let env = Env::from_pairs([("SERVICE_TOKEN", "0123456789abcdef0123")]);
        let error = CommonSettings::from_env(&env, "API_ADDR", "127.0.0.1:8000".parse().unwrap())
            .unwrap_err();
        assert_eq!(error.to_string(), "setting DATABASE_URL is missing");
    }

    #[test]
    fn a_malformed_variable_is_named_with_the_reason() {
        let mut env = base();
        env.set("API_ADDR", "localhost-8000");
        let error = CommonSettings::from_env(&env, "API_ADDR", "127.0.0.1:8000".parse().unwrap())
            .unwrap_err();
        assert!(
            matches!(&error, SettingsError::Malformed { name, .. } if name == "API_ADDR"),
            "{error}"
        );

        let mut env = base();
        env.set("DATABASE_URL", "mysql://x@y/z");
        let error = CommonSettings::from_env(&env, "API_ADDR", "127.0.0.1:8000".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "setting DATABASE_URL is malformed: has scheme 'mysql'; expected postgres:// or postgresql://"
        );

        let mut env = base();
        env.set("SERVICE_TOKEN", "short");
        let error = CommonSettings::from_env(&env, "API_ADDR", "127.0.0.1:8000".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "setting SERVICE_TOKEN is malformed: must be at least 16 characters long"
        );
    }

    #[test]
    fn blank_counts_as_unset() {
        let mut env = base();
        env.set("LOG_FORMAT", "  ");
        assert_eq!(
            env.or("LOG_FORMAT", LogFormat::Json).unwrap(),
            LogFormat::Json
        );
    }
}
