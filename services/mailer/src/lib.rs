//! Campaign sending, public tracking and unsubscribe.

pub mod bounces;
pub mod campaign;
pub mod preview;
pub mod send;
pub mod settings;
pub mod test_message;
pub mod tokens;
pub mod tracking;

use std::sync::Arc;

use actix_web::web;
use clients::{CallPolicy, ServiceClient};
use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::{self, Routes, RunningService, StartError};

use send::transport::Transport;
pub use settings::Settings;

/// Connections of the sender: its claim loop, its lease heartbeat and its recorder.
const SENDER_POOL_SIZE: usize = 3;

/// The mailer service.
pub struct Mailer;

impl Service for Mailer {
    const INFO: ServiceInfo = ServiceInfo {
        name: "mailer",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("MAILER_ADDR", 8002);
    const DESCRIPTION: &'static str = "Internal API of the mailer: campaign launch, winner picks, bounces and test messages (service token, Bearer), plus the public tracking (`/t/...`) and unsubscribe (`/u/...`) routes, which need a signed token instead.";
    type Settings = Settings;

    fn routes(settings: Option<&Settings>) -> Routes {
        let shared = settings.map(|settings| {
            (
                web::Data::new(settings.clone()),
                web::Data::new(settings.tracking_keys.clone()),
                web::Data::new(transport(settings)),
                web::Data::new(tracking::routes::LinkCache::default()),
                ds_client(settings).ok().map(web::Data::new),
            )
        });
        Arc::new(move |config| {
            if let Some((settings, keys, transport, cache, ds)) = &shared {
                config
                    .app_data(settings.clone())
                    .app_data(keys.clone())
                    .app_data(transport.clone())
                    .app_data(cache.clone());
                if let Some(ds) = ds {
                    config.app_data(ds.clone());
                }
            }
            config
                .service(service::jobs::get_job)
                .service(campaign::routes::start_experiment)
                .service(campaign::winner::pick_winner)
                .service(bounces::routes::report_bounce)
                .service(test_message::send_test_message)
                .service(preview::preview)
                .service(test_message::transport_in_use)
                .service(tracking::routes::open_pixel)
                .service(tracking::routes::click)
                .service(tracking::routes::honeypot)
                .service(tracking::routes::conversion_beacon)
                .service(tracking::routes::conversion_beacon_preflight)
                .service(tracking::routes::unsubscribe_page)
                .service(tracking::routes::unsubscribe);
        })
    }

    /// The HTTP service, with the sender, the event writer and the winner scheduler beside it.
    async fn start(settings: &Settings) -> Result<RunningService, StartError> {
        // Everything that can refuse to start is checked before the port opens.
        let limiter = send::rate_limit::RateLimiter::new(settings.sending.rate_limits.clone())
            .map_err(|error| StartError::Other(error.to_string()))?;
        let transport = transport(settings);
        if let Transport::File(folder) = &transport {
            std::fs::create_dir_all(folder).map_err(|error| {
                StartError::Other(format!(
                    "cannot create the outbox folder {} (MAILER_OUTBOX_DIR): {error}",
                    folder.display()
                ))
            })?;
        }
        let ds = ds_client(settings).map_err(|error| {
            StartError::Other(format!("cannot set up the client for ds (DS_URL): {error}"))
        })?;
        let pool = models::db::build_pool(&settings.common.database)?;
        let writer = web::Data::new(tracking::writer::EventWriter::spawn(pool.clone()));
        let base = Self::routes(Some(settings));
        let routes: Routes = Arc::new(move |config| {
            config.app_data(writer.clone());
            base(config);
        });
        let running =
            server::start(&settings.common, Self::INFO, Self::openapi_base(), routes).await?;
        tracing::info!(transport = %transport.describe(), "mailer sends through");
        // The sender's claims, heartbeat and recorder have connections of their own: public
        // tracking traffic filling the service's pool must not let leases lapse.
        let send_pool = models::db::build_pool(&models::db::PoolSettings {
            max_size: SENDER_POOL_SIZE,
            ..settings.common.database.clone()
        })?;
        send::spawn(send::Engine {
            pool: send_pool,
            settings: settings.sending.clone(),
            composer: send::compose::Composer {
                from: settings.from.clone(),
                tracking_base_url: settings.tracking_base_url.clone(),
                keys: settings.tracking_keys.clone(),
            },
            limiter,
            owner: service::worker::owner_name("mailer"),
            transport,
        });
        campaign::winner::spawn_scheduler(pool, ds, settings.frequency_cap, settings.winner_poll);
        Ok(running)
    }
}

fn transport(settings: &Settings) -> Transport {
    match &settings.smtp {
        Some(smtp) => Transport::Smtp(smtp.clone()),
        None => Transport::File(settings.outbox_dir.clone()),
    }
}

/// ds's analysis of a test phase can take a while on a large audience.
fn ds_client(settings: &Settings) -> Result<ServiceClient, clients::ClientError> {
    let policy = CallPolicy {
        timeout: std::time::Duration::from_secs(60),
        ..CallPolicy::default()
    };
    ServiceClient::new(
        "ds",
        settings.ds_url.clone(),
        settings.common.service_token.expose().to_owned(),
        policy,
    )
}
