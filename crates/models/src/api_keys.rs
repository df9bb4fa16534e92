//! API keys managed through the API: stored hashed, shown once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::ApiKeyScope;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(diesel::prelude::Queryable, diesel::prelude::Selectable)
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::api_keys, check_for_backend(diesel::pg::Pg)))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub scope: ApiKeyScope,
    /// The key's first characters, to tell keys apart.
    #[schema(example = "sl_4f9a2c")]
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set once revoked: the key stopped working then.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreateRequest {
    #[schema(example = "nightly report")]
    pub name: String,
    pub scope: ApiKeyScope,
}

/// A new key: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// Send as `Authorization: Bearer <key>`. Store it now: it cannot be shown again.
    pub key: String,
    pub api_key: ApiKey,
}
