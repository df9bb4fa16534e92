//! The api's settings.

use std::path::PathBuf;

use service::auth::ApiKeys;
use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError, peer_url};
use url::Url;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `API_KEYS`: the bootstrap keys, as `scope:sha256hex`.
    pub api_keys: ApiKeys,
    pub ds_url: Url,
    pub mailer_url: Url,
    pub etl_url: Url,
    pub limits: Limits,
    /// `GUIDE_DIR`: the built guide (`mdbook build docs`), served at `/guide/`.
    pub guide_dir: PathBuf,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        let mut common = CommonSettings::from_env(env, listen.variable, listen.default)?;
        // Every api statement is a keyed lookup or a keyset page.
        common.database.short_statements = true;
        Ok(Settings {
            common,
            api_keys: env.or("API_KEYS", ApiKeys::default())?,
            ds_url: peer_url(env, "DS_URL", "http://127.0.0.1:8001/")?,
            mailer_url: peer_url(env, "MAILER_URL", "http://127.0.0.1:8002/")?,
            etl_url: peer_url(env, "ETL_URL", "http://127.0.0.1:8003/")?,
            limits: Limits::from_env(env)?,
            guide_dir: env.or("GUIDE_DIR", default_guide_dir())?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}

/// Where `mdbook build docs` writes the guide, from the checkout's root.
pub fn default_guide_dir() -> PathBuf {
    PathBuf::from("target/book")
}

/// How much one request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `API_MAX_BODY_BYTES`: largest JSON body of an ordinary route.
    pub max_body_bytes: usize,
    /// `API_MAX_BATCH_EVENTS`: most events in one `POST /api/v1/events:batch`.
    pub max_batch_events: usize,
    /// `API_MAX_BATCH_BYTES`: largest body of a batch.
    pub max_batch_bytes: usize,
    /// `API_BATCH_CONCURRENCY`: batches written to the database at once by this process; the
    /// others wait their turn. Many batches at once contend on the same index pages and
    /// store fewer events per second than a few in turn.
    pub batch_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_batch_events: 10_000,
            max_batch_bytes: 16 * 1024 * 1024,
            batch_concurrency: 2,
        }
    }
}

impl Limits {
    fn from_env(env: &Env) -> Result<Limits, SettingsError> {
        let default = Limits::default();
        Ok(Limits {
            max_body_bytes: env.or("API_MAX_BODY_BYTES", default.max_body_bytes)?,
            max_batch_events: env.or("API_MAX_BATCH_EVENTS", default.max_batch_events)?,
            max_batch_bytes: env.or("API_MAX_BATCH_BYTES", default.max_batch_bytes)?,
            batch_concurrency: env
                .or("API_BATCH_CONCURRENCY", default.batch_concurrency)?
                .max(1),
        })
    }
}
