//! Migrations, synthetic data generation, CSV import and export.

pub mod export;
pub mod generate;
pub mod import;

use std::sync::Arc;

use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::Routes;
use service::settings::CommonSettings;

/// The etl service.
pub struct Etl;

impl Service for Etl {
    const INFO: ServiceInfo = ServiceInfo {
        name: "etl",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("ETL_ADDR", 8003);
    const DESCRIPTION: &'static str = "Internal API of the etl service: generation, import and export jobs. Every route but the operations ones needs the service token (Bearer).";
    type Settings = CommonSettings;

    fn routes(_: Option<&CommonSettings>) -> Routes {
        Arc::new(|config| {
            config.service(service::jobs::get_job);
        })
    }
}
