//! `/api/v1/status`: whether every service of the platform can do its work.

use actix_web::{get, web};
use clients::ServiceClient;
use futures_util::future::join_all;
use models::ops::{HealthStatus, PeerStatus, PlatformStatus};
use service::Problem;
use service::auth::ReadAccess;
use service::health::ServiceInfo;

/// The clients of the peer services.
pub struct Peers {
    pub ds: ServiceClient,
    pub mailer: ServiceClient,
    /// The mailer for launches (start, winner), which may take minutes; never for checks.
    pub mailer_launches: ServiceClient,
    pub etl: ServiceClient,
}

impl Peers {
    /// In the order they are reported.
    pub fn all(&self) -> [&ServiceClient; 3] {
        [&self.ds, &self.mailer, &self.etl]
    }
}

/// The api and each peer's readiness. Always 200: a peer that is down is reported, not raised.
#[utoipa::path(
    tag = "operations",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Each service's readiness", body = PlatformStatus),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/status")]
pub async fn platform_status(
    _: ReadAccess,
    info: web::Data<ServiceInfo>,
    peers: web::Data<Peers>,
) -> web::Json<PlatformStatus> {
    web::Json(platform(&info, &peers).await)
}

#[derive(serde::Deserialize)]
struct Transport {
    transport: String,
}

/// The api and each peer's readiness, and the mailer's transport: the route's answer, and
/// the settings page's.
pub async fn platform(info: &ServiceInfo, peers: &Peers) -> PlatformStatus {
    let readiness = join_all(peers.all().into_iter().map(|client| async move {
        let outcome = client.ready().await;
        PeerStatus {
            service: client.service().to_owned(),
            url: client.base_url().to_string(),
            ready: outcome.is_ok(),
            version: outcome.as_ref().ok().map(|status| status.version.clone()),
            problem: outcome.err().map(|error| error.to_string()),
        }
    }));
    let transport = peers.mailer.get_json::<Transport>("v1/transport");
    let (answers, transport) = tokio::join!(readiness, transport);
    let mail_transport = transport.ok().map(|answer| answer.transport);
    PlatformStatus {
        api: HealthStatus {
            status: "ok".to_owned(),
            service: info.name.to_owned(),
            version: info.version.to_owned(),
        },
        peers: answers,
        mail_transport,
    }
}
