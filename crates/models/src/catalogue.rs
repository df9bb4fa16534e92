//! What the business sells and streams: plans and titles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::plans, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 3, "name": "Basic", "monthly_price_cents": 700, "created_at": "2026-01-01T00:00:00Z"}))]
pub struct Plan {
    pub id: i64,
    pub name: String,
    /// Monthly price in cents (US dollars).
    pub monthly_price_cents: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::plans, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct PlanInsertForm {
    pub name: String,
    pub monthly_price_cents: i32,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::titles, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 7, "name": "The Long Night", "genre": "Drama", "release_year": 2024,
    "duration_minutes": 118, "rating": 7.9, "created_at": "2026-01-01T00:00:00Z", "external_id": "tt0001"}))]
pub struct Title {
    pub id: i64,
    pub name: String,
    pub genre: String,
    pub release_year: i32,
    pub duration_minutes: i32,
    /// From 0 to 10.
    pub rating: Option<f64>,
    pub created_at: DateTime<Utc>,
    /// The title's id in the system the data came from, if any.
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::titles, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct TitleInsertForm {
    pub name: String,
    pub genre: String,
    pub release_year: i32,
    pub duration_minutes: i32,
    pub rating: Option<f64>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::plans, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct PlanUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub monthly_price_cents: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::titles, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct TitleUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub genre: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub release_year: Option<i32>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub duration_minutes: Option<i32>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub rating: Option<Option<f64>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub external_id: Option<Option<String>>,
}
