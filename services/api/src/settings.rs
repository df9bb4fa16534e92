//! The api's settings.

use service::auth::ApiKeys;
use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError};
use url::Url;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `API_KEYS`: the bootstrap keys, as `scope:sha256hex`.
    pub api_keys: ApiKeys,
    pub ds_url: Url,
    pub mailer_url: Url,
    pub etl_url: Url,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        Ok(Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            api_keys: env.or("API_KEYS", ApiKeys::default())?,
            ds_url: peer_url(env, "DS_URL", "http://127.0.0.1:8001/")?,
            mailer_url: peer_url(env, "MAILER_URL", "http://127.0.0.1:8002/")?,
            etl_url: peer_url(env, "ETL_URL", "http://127.0.0.1:8003/")?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}

/// A peer's base URL; always ends in `/` so that joining a relative path keeps any prefix.
fn peer_url(env: &Env, name: &str, default: &str) -> Result<Url, SettingsError> {
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
