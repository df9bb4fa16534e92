//! The synthetic business a generator run simulated, and the true effects it planted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::EffectScale;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::scenarios, check_for_backend(diesel::pg::Pg)))]
pub struct Scenario {
    pub id: i64,
    pub name: String,
    pub seed: i64,
    /// The scenario file's settings as the generator used them.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub job_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::scenarios, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct ScenarioInsertForm {
    pub name: String,
    pub seed: i64,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub job_id: Option<i64>,
}

/// A planted truth: what `treatment` really does to `metric`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::scenario_effects, check_for_backend(diesel::pg::Pg)))]
pub struct ScenarioEffect {
    pub id: i64,
    pub scenario_id: i64,
    pub treatment: String,
    pub metric: String,
    pub true_effect: f64,
    pub scale: EffectScale,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::scenario_effects, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct ScenarioEffectInsertForm {
    pub scenario_id: i64,
    pub treatment: String,
    pub metric: String,
    pub true_effect: f64,
    pub scale: EffectScale,
    pub description: String,
}
