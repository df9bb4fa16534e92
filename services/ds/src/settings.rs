//! The ds service's settings.

use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError};
use service::worker::WorkerSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    pub worker: WorkerSettings,
    /// `DS_KEEP_RUNS`: succeeded segmentation runs whose memberships are kept (older ones are
    /// archived: their partitions dropped, their rows kept).
    pub keep_runs: u32,
    /// `DS_REPORT_EVERY_MS`: how old the dashboard's overview may get before ds computes it
    /// again.
    pub report_every: std::time::Duration,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        let settings = Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            worker: WorkerSettings::from_env(env)?,
            keep_runs: env.or("DS_KEEP_RUNS", 30)?,
            report_every: env
                .millis_or("DS_REPORT_EVERY_MS", std::time::Duration::from_secs(600))?,
        };
        if settings.keep_runs == 0 {
            return Err(SettingsError::Malformed {
                name: "DS_KEEP_RUNS".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        if settings.report_every < std::time::Duration::from_secs(1) {
            return Err(SettingsError::Malformed {
                name: "DS_REPORT_EVERY_MS".to_owned(),
                reason: "must be at least 1000".to_owned(),
            });
        }
        Ok(settings)
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}
