//! Migrations, synthetic data generation, CSV import and export, and the jobs API that runs
//! generations and imports for the other services.

pub mod export;
pub mod generate;
pub mod import;
pub mod jobs_api;
pub mod settings;
pub mod worker;

use std::sync::Arc;

use actix_web::web;
use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::{self, Routes, RunningService, StartError};

pub use settings::Settings;

/// The etl service.
pub struct Etl;

impl Service for Etl {
    const INFO: ServiceInfo = ServiceInfo {
        name: "etl",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("ETL_ADDR", 8003);
    const DESCRIPTION: &'static str = "Internal API of the etl service: generation and import jobs, \
        and the job list of every service. Every route but the operations ones needs the service token (Bearer).";
    type Settings = Settings;

    fn routes(settings: Option<&Settings>) -> Routes {
        let settings = settings.cloned().map(web::Data::new);
        Arc::new(move |config| {
            if let Some(settings) = &settings {
                config.app_data(settings.clone());
            }
            config
                .service(jobs_api::create_job)
                .service(jobs_api::list_jobs)
                .service(service::jobs::get_job);
        })
    }

    /// The HTTP service, and the job worker beside it.
    async fn start(settings: &Settings) -> Result<RunningService, StartError> {
        let running = server::start(
            &settings.common,
            Self::INFO,
            Self::openapi_base(),
            Self::routes(Some(settings)),
        )
        .await?;
        service::worker::spawn(
            &settings.common.database,
            &settings.worker,
            "etl",
            worker::EtlJobs,
        )?;
        Ok(running)
    }
}
