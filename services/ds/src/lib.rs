//! Data science: segmentation, experiment analysis, causal jobs and monitoring.

pub mod analysis;
pub mod calculators;
pub mod reports;
pub mod segmentation;
pub mod settings;
pub mod worker;

use std::sync::Arc;

use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::{self, Routes, RunningService, StartError};

pub use settings::Settings;

/// The ds service.
pub struct Ds;

impl Service for Ds {
    const INFO: ServiceInfo = ServiceInfo {
        name: "ds",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("DS_ADDR", 8001);
    const DESCRIPTION: &'static str = "Internal API of the data-science service: statistics calculators, segmentation, experiment analysis and monitoring jobs. Every route but the operations ones needs the service token (Bearer).";
    type Settings = Settings;

    fn routes(_: Option<&Settings>) -> Routes {
        Arc::new(|config| {
            config
                .service(service::jobs::get_job)
                .service(segmentation::routes::start_run)
                .service(calculators::routes::proportions)
                .service(calculators::routes::means)
                .service(calculators::routes::power)
                .service(calculators::routes::srm)
                .service(calculators::routes::adjust)
                .service(analysis::routes::analyze_experiment)
                .service(reports::routes::refresh_overview);
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
        let pool = models::db::build_pool(&models::db::PoolSettings {
            max_size: 1,
            ..settings.common.database.clone()
        })?;
        reports::spawn_schedule(pool, settings.report_every);
        service::worker::spawn(
            &settings.common.database,
            &settings.worker,
            "ds",
            worker::DsJobs {
                keep_runs: settings.keep_runs,
            },
        )?;
        Ok(running)
    }
}
