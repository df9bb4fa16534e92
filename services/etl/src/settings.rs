//! The etl service's settings.

use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError};
use service::worker::WorkerSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `ETL_MAX_CUSTOMERS`: the largest generate job accepted over HTTP.
    pub max_customers: u64,
    /// `ETL_MAX_UPLOAD_BYTES`: the largest import upload, all files together.
    pub max_upload_bytes: usize,
    pub worker: WorkerSettings,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        Ok(Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            max_customers: env.or("ETL_MAX_CUSTOMERS", 1_000_000)?,
            max_upload_bytes: env.or("ETL_MAX_UPLOAD_BYTES", 256 * 1024 * 1024)?,
            worker: WorkerSettings::from_env(env)?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}
