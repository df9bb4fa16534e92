//! Experiments, their variants, who was assigned to which, and the analyses computed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{ExperimentPhase, ExperimentStatus, Metric, NoWinnerAction};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::experiments, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 12, "name": "Basic for $10 to Vulnerable Customers",
    "hypothesis": "A $10 Basic offer wins back vulnerable customers", "status": "draft",
    "phase": null, "goal_metric": "conversion", "guardrail_metrics": ["open"], "segment_id": 2,
    "audience_filter": null, "holdout_fraction": 0.1, "test_fraction": null,
    "winner_wait_hours": null, "attribution_window_days": 7, "alpha": 0.05,
    "planned_sample_size": 4000, "winner_variant_id": null, "decision": null,
    "started_at": null, "stopped_at": null, "decided_at": null,
    "created_at": "2026-02-20T10:00:00Z", "updated_at": "2026-02-20T10:00:00Z",
    "no_winner_action": "control", "exclusive": true, "winner_note": null, "winner_picked_at": null}))]
pub struct Experiment {
    pub id: i64,
    pub name: String,
    pub hypothesis: String,
    pub status: ExperimentStatus,
    /// Absent while draft.
    pub phase: Option<ExperimentPhase>,
    pub goal_metric: Metric,
    /// Metrics that must not get worse, e.g. `["open"]`.
    #[schema(value_type = Vec<String>)]
    pub guardrail_metrics: serde_json::Value,
    /// The audience: a segment of the latest segmentation run...
    pub segment_id: Option<i64>,
    /// ...or a customer filter.
    #[schema(value_type = Option<Object>)]
    pub audience_filter: Option<serde_json::Value>,
    /// Secret input of the assignment hash.
    #[serde(skip_serializing)]
    pub salt: String,
    pub holdout_fraction: f64,
    pub test_fraction: Option<f64>,
    pub winner_wait_hours: Option<i32>,
    pub attribution_window_days: i32,
    pub alpha: f64,
    pub planned_sample_size: Option<i64>,
    pub winner_variant_id: Option<i64>,
    pub decision: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Test then winner: what the rest gets when the test finds no significant winner.
    pub no_winner_action: NoWinnerAction,
    /// Customers already in another running or paused experiment are left out.
    pub exclusive: bool,
    /// The test phase's outcome in words, once picked.
    pub winner_note: Option<String>,
    pub winner_picked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::experiments, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct ExperimentInsertForm {
    pub name: String,
    pub hypothesis: Option<String>,
    pub goal_metric: Option<Metric>,
    #[schema(value_type = Option<Vec<String>>)]
    pub guardrail_metrics: Option<serde_json::Value>,
    pub segment_id: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub audience_filter: Option<serde_json::Value>,
    pub holdout_fraction: Option<f64>,
    pub test_fraction: Option<f64>,
    pub winner_wait_hours: Option<i32>,
    pub attribution_window_days: Option<i32>,
    pub alpha: Option<f64>,
    pub planned_sample_size: Option<i64>,
    pub no_winner_action: Option<NoWinnerAction>,
    pub exclusive: Option<bool>,
    /// The assignment hash's secret; give one to reproduce an earlier split, else it is
    /// drawn at random. Never shown again.
    pub salt: Option<String>,
    /// The arms, created with the experiment.
    #[serde(default)]
    #[cfg_attr(feature = "db", diesel(skip_insertion))]
    pub variants: Vec<VariantInsertForm>,
}

/// A partial update of a draft: absent fields stay; for optional columns `null` clears them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::experiments, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct ExperimentUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub hypothesis: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub goal_metric: Option<Metric>,
    #[schema(value_type = Vec<String>, nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub guardrail_metrics: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub segment_id: Option<Option<i64>>,
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub audience_filter: Option<Option<serde_json::Value>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub holdout_fraction: Option<f64>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub test_fraction: Option<Option<f64>>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub winner_wait_hours: Option<Option<i32>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub attribution_window_days: Option<i32>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub alpha: Option<f64>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub planned_sample_size: Option<Option<i64>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub no_winner_action: Option<NoWinnerAction>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub exclusive: Option<bool>,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::variants, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 25, "experiment_id": 12, "key": "offer", "name": "Basic for $10", "weight": 1.0,
    "is_control": false, "template_id": 5, "subject": "Basic for $10, {{first_name}}",
    "body_text": "Switch: {{link:offer}}", "body_html": "<p><a href=\"{{link:offer}}\">Switch</a></p>",
    "links": {"offer": "https://example.com/offer/basic"}, "created_at": "2026-02-20T10:00:00Z"}))]
pub struct Variant {
    pub id: i64,
    pub experiment_id: i64,
    /// Short label, e.g. `A`, `B`.
    pub key: String,
    pub name: String,
    /// Relative share of the audience; > 0.
    pub weight: f64,
    pub is_control: bool,
    pub template_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Named link targets; click tracking redirects only to these.
    #[schema(value_type = Object)]
    pub links: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::variants, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct VariantInsertForm {
    pub key: String,
    pub name: Option<String>,
    pub weight: Option<f64>,
    pub is_control: Option<bool>,
    pub template_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    #[schema(value_type = Option<Object>)]
    pub links: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::variants, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct VariantUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub weight: Option<f64>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub is_control: Option<bool>,
    #[serde(default, deserialize_with = "crate::page::double_option")]
    pub template_id: Option<Option<i64>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub subject: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub body_text: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub body_html: Option<String>,
    #[schema(value_type = Object, nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub links: Option<serde_json::Value>,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::assignments, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 5001, "experiment_id": 12, "customer_id": 1042, "variant_id": 25,
    "bucket": 0.4137, "phase": "full", "assigned_at": "2026-03-01T09:00:00Z", "segment_id": 2}))]
pub struct Assignment {
    pub id: i64,
    pub experiment_id: i64,
    pub customer_id: i64,
    /// Absent for the holdout, who is measured but sent nothing.
    pub variant_id: Option<i64>,
    /// Position of HMAC-SHA256(salt, customer id) in [0, 1).
    pub bucket: f64,
    pub phase: ExperimentPhase,
    pub assigned_at: DateTime<Utc>,
    /// The customer's segment when assigned (what analyses break results down by).
    pub segment_id: Option<i64>,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::analyses, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 9, "experiment_id": 12, "job_id": 40, "method": "two_proportion_z",
    "inputs": {"alpha": 0.05}, "results": {"lift": 0.21, "p_value": 0.012}, "created_at": "2026-03-09T10:00:00Z"}))]
pub struct Analysis {
    pub id: i64,
    pub experiment_id: i64,
    pub job_id: Option<i64>,
    pub method: String,
    /// Everything the computation read, so every number can be traced.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    #[schema(value_type = Object)]
    pub results: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::analyses, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct AnalysisInsertForm {
    pub experiment_id: i64,
    pub job_id: Option<i64>,
    pub method: String,
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    #[schema(value_type = Object)]
    pub results: serde_json::Value,
}

/// An experiment with its arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExperimentView {
    #[serde(flatten)]
    pub experiment: Experiment,
    pub variants: Vec<Variant>,
}

/// Customers assigned to one arm by a launch (`variant_id` absent: the holdout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::QueryableByName))]
pub struct ArmCount {
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>))]
    pub variant_id: Option<i64>,
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::BigInt))]
    pub assigned: i64,
}

/// What starting an experiment (or its winner phase) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"experiment_id": 12, "phase": "full", "assigned": 2000, "holdout": 200,
    "arms": [{"variant_id": 25, "assigned": 900}, {"variant_id": 26, "assigned": 900}, {"variant_id": null, "assigned": 200}],
    "queued": 1800}))]
pub struct Launch {
    pub experiment_id: i64,
    pub phase: ExperimentPhase,
    /// Customers assigned by this step, holdout included.
    pub assigned: i64,
    pub holdout: i64,
    pub arms: Vec<ArmCount>,
    /// E-mails queued by this step.
    pub queued: i64,
}

/// Experiment `id`, its row locked until the transaction ends (`FOR UPDATE`): every change of
/// an experiment's status or audience takes this lock first, so that they happen one at a
/// time. `None` when there is no such experiment.
#[cfg(feature = "db")]
pub async fn lock(
    connection: &mut diesel_async::AsyncPgConnection,
    id: i64,
) -> diesel::QueryResult<Option<Experiment>> {
    use diesel::{OptionalExtension as _, QueryDsl as _, SelectableHelper as _};
    use diesel_async::RunQueryDsl as _;
    crate::schema::experiments::table
        .find(id)
        .select(Experiment::as_select())
        .for_update()
        .first(connection)
        .await
        .optional()
}
