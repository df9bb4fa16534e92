//! The public REST API: `/api/v1/...`, its OpenAPI document and Swagger UI.

pub mod api_keys;
pub mod jobs;
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
        let peers = settings.and_then(peer_clients).map(web::Data::new);
        Arc::new(move |config| {
            config.app_data(api_keys.clone());
            if let Some(peers) = &peers {
                config.app_data(peers.clone());
            }
            config.service(
                scope::scope("/api/v1")
                    .wrap(actix_web::middleware::from_fn(service::auth::check_api_key))
                    .service(api_keys::create_key)
                    .service(api_keys::list_keys)
                    .service(api_keys::revoke_key)
                    .service(plans::list_plans)
                    .service(plans::create_plan)
                    .service(jobs::list_jobs)
                    .service(jobs::create_job)
                    .service(jobs::get_job)
                    .service(status::platform_status),
            );
        })
    }
}

fn peer_clients(settings: &Settings) -> Option<status::Peers> {
    let token = settings.common.service_token.expose();
    let client = |name, url: &url::Url| {
        ServiceClient::new(name, url.clone(), token.to_owned(), CallPolicy::default()).ok()
    };
    Some(status::Peers {
        ds: client("ds", &settings.ds_url)?,
        mailer: client("mailer", &settings.mailer_url)?,
        etl: client("etl", &settings.etl_url)?,
    })
}
