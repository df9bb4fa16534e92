//! Campaign sending, public tracking and unsubscribe.

use std::sync::Arc;

use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::Routes;
use service::settings::CommonSettings;

/// The mailer service.
pub struct Mailer;

impl Service for Mailer {
    const INFO: ServiceInfo = ServiceInfo {
        name: "mailer",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("MAILER_ADDR", 8002);
    const DESCRIPTION: &'static str = "Internal API of the mailer: campaign sending, plus the public tracking and unsubscribe routes. Internal routes need the service token (Bearer).";
    type Settings = CommonSettings;

    fn routes(_: Option<&CommonSettings>) -> Routes {
        Arc::new(|config| {
            config.service(service::jobs::get_job);
        })
    }
}
