//! The public REST API: `/api/v1/...`, its OpenAPI document and Swagger UI.

pub mod plans;
pub mod settings;
pub mod status;

use std::sync::Arc;

use actix_web::web;
use clients::{CallPolicy, ServiceClient};
use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::Routes;
use utoipa_actix_web::scope;

pub use settings::Settings;

/// The public api service.
pub struct Api;

impl Service for Api {
    const INFO: ServiceInfo = ServiceInfo {
        name: "api",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("API_ADDR", 8000);
    const DESCRIPTION: &'static str = "The public API of the streamlab experimentation platform. \
        Authorize with an API key (Bearer): `read` keys read, `admin` keys also write. \
        Errors are application/problem+json.";
    type Settings = Settings;

    fn routes(settings: Option<&Settings>) -> Routes {
        let api_keys = web::Data::new(
            settings
                .map(|settings| settings.api_keys.clone())
                .unwrap_or_default(),
        );
        let peers = web::Data::new(status::Peers(
            settings.map(peer_clients).unwrap_or_default(),
        ));
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
}

fn peer_clients(settings: &Settings) -> Vec<ServiceClient> {
    let token = settings.common.service_token.expose();
    [
        ("ds", &settings.ds_url),
        ("mailer", &settings.mailer_url),
        ("etl", &settings.etl_url),
    ]
    .into_iter()
    .filter_map(|(name, url)| {
        ServiceClient::new(name, url.clone(), token.to_owned(), CallPolicy::default()).ok()
    })
    .collect()
}
