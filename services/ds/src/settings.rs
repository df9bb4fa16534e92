//! The ds service's settings.

use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError};
use service::worker::WorkerSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    pub worker: WorkerSettings,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        Ok(Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            worker: WorkerSettings::from_env(env)?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}
