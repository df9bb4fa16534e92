//! Customers: the people the business serves and the platform e-mails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::Plan;
use crate::enums::{AcquisitionChannel, AgeBand, Device};
use crate::segmentation::Segment;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::customers, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 1042, "external_id": "crm-1042", "first_name": "Ada", "last_name": "Lovelace",
    "email": "ada@example.com", "email_consent": true, "country": "GB", "region": "England",
    "city": "London", "age_band": "35-44", "device": "tv", "acquisition_channel": "referral",
    "signup_at": "2026-01-15T10:00:00Z", "created_at": "2026-01-15T10:00:00Z",
    "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Customer {
    pub id: i64,
    /// The customer's id in the system the data came from, if any.
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// Lower-case; unique.
    pub email: String,
    /// Whether the customer agreed to marketing e-mail; experiments only e-mail those who did.
    pub email_consent: bool,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub age_band: Option<AgeBand>,
    pub device: Option<Device>,
    pub acquisition_channel: Option<AcquisitionChannel>,
    pub signup_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::customers, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct CustomerInsertForm {
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Defaults to false: no marketing e-mail without consent.
    pub email_consent: Option<bool>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub age_band: Option<AgeBand>,
    pub device: Option<Device>,
    pub acquisition_channel: Option<AcquisitionChannel>,
    /// Defaults to now.
    pub signup_at: Option<DateTime<Utc>>,
}

/// A partial update: absent fields stay as they are; for optional columns `null` clears them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::customers, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdateForm {
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub external_id: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub first_name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub last_name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub email: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub email_consent: Option<bool>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub device: Option<Option<Device>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub acquisition_channel: Option<Option<AcquisitionChannel>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub signup_at: Option<DateTime<Utc>>,
}

/// A customer with the plan they pay for now and the segment they were last scored into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    #[serde(flatten)]
    pub customer: Customer,
    /// The plan of the customer's latest trial or active subscription; `null` when none.
    pub current_plan: Option<Plan>,
    /// The segment of the customer's latest segmentation run; `null` when never scored.
    pub latest_segment: Option<Segment>,
}
