//! Data science: segmentation, experiment analysis, causal jobs and monitoring.

use std::sync::Arc;

use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::Routes;
use service::settings::CommonSettings;

/// The ds service.
pub struct Ds;

impl Service for Ds {
    const INFO: ServiceInfo = ServiceInfo {
        name: "ds",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("DS_ADDR", 8001);
    const DESCRIPTION: &'static str = "Internal API of the data-science service: segmentation, experiment analysis and monitoring jobs. Every route but the operations ones needs the service token (Bearer).";
    type Settings = CommonSettings;

    fn routes(_: Option<&CommonSettings>) -> Routes {
        Arc::new(|config| {
            config.service(service::jobs::get_job);
        })
    }
}
