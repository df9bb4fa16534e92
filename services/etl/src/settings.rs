//! The etl service's settings.

use std::time::Duration;

use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError};

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `ETL_MAX_CUSTOMERS`: the largest generate job accepted over HTTP.
    pub max_customers: u64,
    /// `ETL_MAX_UPLOAD_BYTES`: the largest import upload, all files together.
    pub max_upload_bytes: usize,
    /// `JOB_LEASE_MS`: how long a claimed job stays ours without a heartbeat.
    pub job_lease: Duration,
    /// `JOB_POLL_MS`: how often an idle worker looks for work.
    pub job_poll: Duration,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        let settings = Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            max_customers: env.or("ETL_MAX_CUSTOMERS", 1_000_000)?,
            max_upload_bytes: env.or("ETL_MAX_UPLOAD_BYTES", 256 * 1024 * 1024)?,
            job_lease: env.millis_or("JOB_LEASE_MS", Duration::from_secs(30))?,
            job_poll: env.millis_or("JOB_POLL_MS", Duration::from_millis(500))?,
        };
        if settings.job_lease < Duration::from_millis(300) {
            return Err(SettingsError::Malformed {
                name: "JOB_LEASE_MS".to_owned(),
                reason: "must be at least 300".to_owned(),
            });
        }
        Ok(settings)
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}
