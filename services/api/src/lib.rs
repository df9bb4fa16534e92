//! The public REST API: `/api/v1/...`, its OpenAPI document and Swagger UI.

pub mod plans;
pub mod settings;
pub mod status;

use std::sync::Arc;

use actix_web::web;
use clients::{CallPolicy, ServiceClient};
use service::binary::Service;
use service::health::ServiceInfo;
use service::server::{self, Routes, RunningService, StartError};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::scope;

pub use settings::Settings;

const DESCRIPTION: &str = "The public API of the streamlab experimentation platform. \
    Authorize with an API key (Bearer): `read` keys read, `admin` keys also write. \
    Errors are application/problem+json.";

/// The public api service.
pub struct Api;

impl Service for Api {
    const INFO: ServiceInfo = ServiceInfo {
        name: "api",
        version: env!("CARGO_PKG_VERSION"),
    };
    type Settings = Settings;

    async fn start(settings: &Settings) -> Result<RunningService, StartError> {
        server::start(
            &settings.common,
            Self::INFO,
            server::base_openapi(Self::INFO, DESCRIPTION),
            routes(settings),
        )
        .await
    }
}

/// The OpenAPI document the api serves (for the snapshot test and tooling).
pub fn openapi() -> OpenApi {
    server::openapi_document(
        server::base_openapi(Api::INFO, DESCRIPTION),
        &routes_with(None, None),
    )
}

fn routes(settings: &Settings) -> Routes {
    let policy = CallPolicy::default();
    let token = settings.common.service_token.expose().to_owned();
    let peers: Vec<ServiceClient> = [
        ("ds", &settings.ds_url),
        ("mailer", &settings.mailer_url),
        ("etl", &settings.etl_url),
    ]
    .into_iter()
    .filter_map(|(name, url)| ServiceClient::new(name, url.clone(), token.clone(), policy).ok())
    .collect();
    routes_with(Some(settings.api_keys.clone()), Some(status::Peers(peers)))
}

fn routes_with(api_keys: Option<service::auth::ApiKeys>, peers: Option<status::Peers>) -> Routes {
    let api_keys = web::Data::new(api_keys.unwrap_or_default());
    let peers = web::Data::new(peers.unwrap_or(status::Peers(Vec::new())));
    Arc::new(move |config| {
        config
            .app_data(api_keys.clone())
            .app_data(peers.clone())
            .service(
                scope::scope("/api/v1")
                    .service(plans::list_plans)
                    .service(plans::create_plan)
                    .service(status::platform_status),
            );
    })
}
