//! Campaign sending, public tracking and unsubscribe.

use std::sync::Arc;

use service::binary::{Service, ServiceSettings};
use service::health::ServiceInfo;
use service::server::{self, Routes, RunningService, StartError};
use service::settings::{CommonSettings, Env, SettingsError};
use utoipa::openapi::OpenApi;

const DESCRIPTION: &str = "Internal API of the mailer: campaign sending, plus the public tracking and unsubscribe routes. Internal routes need the service token (Bearer).";

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env) -> Result<Self, SettingsError> {
        Ok(Settings {
            common: CommonSettings::from_env(env, "MAILER_ADDR", ([127, 0, 0, 1], 8002).into())?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}

/// The mailer service.
pub struct Mailer;

impl Service for Mailer {
    const INFO: ServiceInfo = ServiceInfo {
        name: "mailer",
        version: env!("CARGO_PKG_VERSION"),
    };
    type Settings = Settings;

    async fn start(settings: &Settings) -> Result<RunningService, StartError> {
        server::start(
            &settings.common,
            Self::INFO,
            server::base_openapi(Self::INFO, DESCRIPTION),
            routes(),
        )
        .await
    }
}

/// The OpenAPI document the mailer service serves.
pub fn openapi() -> OpenApi {
    server::openapi_document(server::base_openapi(Mailer::INFO, DESCRIPTION), &routes())
}

fn routes() -> Routes {
    Arc::new(|config| {
        config.service(service::jobs::get_job);
    })
}
