//! Facts about what customers did: subscriptions, viewing, product events, exposures and conversions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::{ConversionKind, ConversionSource, LikeStatus, SubscriptionStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::subscriptions, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 88, "customer_id": 1042, "plan_id": 3, "status": "active",
    "started_at": "2026-01-15T10:00:00Z", "ended_at": null, "churned_at": null,
    "created_at": "2026-01-15T10:00:00Z"}))]
pub struct Subscription {
    pub id: i64,
    pub customer_id: i64,
    pub plan_id: i64,
    pub status: SubscriptionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub churned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::subscriptions, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInsertForm {
    pub customer_id: i64,
    pub plan_id: i64,
    pub status: SubscriptionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub churned_at: Option<DateTime<Utc>>,
}

/// A change to a subscription: a plan switch, an end, a churn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::subscriptions, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub plan_id: Option<i64>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub status: Option<SubscriptionStatus>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub ended_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub churned_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::watch_sessions, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 5120, "customer_id": 1042, "title_id": 7, "started_at": "2026-03-01T20:15:00Z",
    "minutes": 42, "completed": false, "like_status": "liked"}))]
pub struct WatchSession {
    pub id: i64,
    pub customer_id: i64,
    pub title_id: i64,
    pub started_at: DateTime<Utc>,
    pub minutes: i32,
    pub completed: bool,
    pub like_status: LikeStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::watch_sessions, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct WatchSessionInsertForm {
    pub customer_id: i64,
    pub title_id: i64,
    pub started_at: DateTime<Utc>,
    pub minutes: i32,
    pub completed: bool,
    pub like_status: LikeStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::events, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 901, "customer_id": 1042, "name": "co_watch_start",
    "occurred_at": "2026-03-01T20:05:00Z", "properties": {"title_id": 7}}))]
pub struct Event {
    pub id: i64,
    pub customer_id: i64,
    /// snake_case, e.g. `invite_sent`, `co_watch_start`, `perk_redeemed`.
    pub name: String,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::events, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct EventInsertForm {
    pub customer_id: i64,
    pub name: String,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::feature_exposures, check_for_backend(diesel::pg::Pg)))]
pub struct FeatureExposure {
    pub id: i64,
    pub customer_id: i64,
    /// e.g. `stream_with_friends`, `subscriber_perks`.
    pub feature: String,
    pub arm: String,
    pub region: Option<String>,
    pub exposed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::feature_exposures, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct FeatureExposureInsertForm {
    pub customer_id: i64,
    pub feature: String,
    pub arm: Option<String>,
    pub region: Option<String>,
    pub exposed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::conversions, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 77, "customer_id": 1042, "kind": "upgrade", "revenue_cents": 1000,
    "occurred_at": "2026-03-02T09:00:00Z", "experiment_id": 12,
    "message_id": "5f0c6a2e-8d3b-4f7a-9b1e-2c4d6e8f0a1b", "source": "beacon",
    "created_at": "2026-03-02T09:00:01Z"}))]
pub struct Conversion {
    pub id: i64,
    pub customer_id: i64,
    pub kind: ConversionKind,
    pub revenue_cents: i64,
    pub occurred_at: DateTime<Utc>,
    /// Set when the conversion came through a tracked e-mail.
    pub experiment_id: Option<i64>,
    pub message_id: Option<Uuid>,
    pub source: ConversionSource,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::conversions, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct ConversionInsertForm {
    pub customer_id: i64,
    pub kind: ConversionKind,
    pub revenue_cents: i64,
    pub occurred_at: DateTime<Utc>,
    pub experiment_id: Option<i64>,
    pub message_id: Option<Uuid>,
    pub source: ConversionSource,
}

/// Up to the configured maximum (10,000 by default) events, stored all or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<EventInsertForm>,
}

/// What a batch stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventBatchResult {
    /// Events newly stored: the whole batch, less events already stored (same customer,
    /// time and name), which a retried batch skips.
    pub inserted: u64,
}
