//! Operations answers every service gives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer of `/health` and `/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` from `/health`, `ready` from `/ready`.
    #[schema(example = "ready")]
    pub status: String,
    #[schema(example = "api")]
    pub service: String,
    #[schema(example = "0.1.0")]
    pub version: String,
}

/// Whether a peer service can do its work, as seen by the api.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeerStatus {
    #[schema(example = "ds")]
    pub service: String,
    #[schema(example = "http://127.0.0.1:8001")]
    pub url: String,
    pub ready: bool,
    /// The peer's version when it answered.
    pub version: Option<String>,
    /// Why it is not ready.
    pub problem: Option<String>,
}

/// The platform's state: this service and its peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlatformStatus {
    pub api: HealthStatus,
    pub peers: Vec<PeerStatus>,
    /// Where the mailer sends e-mail (`smtp://host:port`, never a password, or `file://` for
    /// the outbox folder); absent when the mailer did not say.
    pub mail_transport: Option<String>,
}
