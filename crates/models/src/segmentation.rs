//! Segments, the rule sets that define them, and each run's memberships.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{SegmentationRunStatus, SegmentationScheme};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segments, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 2, "name": "Vulnerable Customers", "description": "Paying, but watching less",
    "sort_order": 2, "created_at": "2026-01-01T00:00:00Z"}))]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Position from least to most valuable.
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segments, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SegmentInsertForm {
    pub name: String,
    pub description: Option<String>,
    /// Position from least to most valuable; unique.
    pub sort_order: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segments, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SegmentUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub sort_order: Option<i32>,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segmentation_rule_sets, check_for_backend(diesel::pg::Pg)))]
pub struct SegmentationRuleSet {
    pub id: i64,
    pub name: String,
    pub scheme: SegmentationScheme,
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segmentation_rule_sets, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "strict", "scheme": "quantile", "rules": {"metrics": ["frequency", "minutes"],
    "segments": {"bands": [{"max_total": 4, "segment_id": 1}, {"max_total": 6, "segment_id": 2}],
    "otherwise_segment_id": 4, "no_sessions_segment_id": 1}}}))]
pub struct SegmentationRuleSetInsertForm {
    pub name: String,
    pub scheme: SegmentationScheme,
    /// `ClassicRules` for the classic scheme, `QuantileRules` for the quantile one.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
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
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segmentation_runs, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 4, "rule_set_id": 1, "job_id": 31, "scheme": "classic", "rules": {},
    "window_days": 90, "status": "succeeded", "customers_scored": 10000,
    "created_at": "2026-03-01T02:00:00Z", "finished_at": "2026-03-01T02:00:09Z"}))]
pub struct SegmentationRun {
    pub id: i64,
    pub rule_set_id: Option<i64>,
    pub job_id: Option<i64>,
    pub scheme: SegmentationScheme,
    /// The rules as they were when the run started.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// Metrics cover this many days back; all history when absent.
    pub window_days: Option<i32>,
    pub status: SegmentationRunStatus,
    pub customers_scored: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segmentation_runs, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SegmentationRunInsertForm {
    pub rule_set_id: Option<i64>,
    pub job_id: Option<i64>,
    pub scheme: SegmentationScheme,
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    pub window_days: Option<i32>,
}

/// A customer's segment in one run, with each metric's value and score (as the API shows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"run_id": 4, "customer_id": 1042, "segment_id": 2,
    "metrics": {"frequency": 9, "minutes": 310, "monetary": 7.0, "likes": 1, "dislikes": 0},
    "scores": {"frequency": 8.0, "minutes": 3.0, "monetary": 3.0, "likes": 3.0, "dislikes": 10.0},
    "total_score": 27.0}))]
pub struct SegmentMembership {
    pub run_id: i64,
    pub customer_id: i64,
    pub segment_id: i64,
    /// The raw value of each metric the scheme scores.
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    /// The score of each metric.
    #[schema(value_type = Object)]
    pub scores: serde_json::Value,
    pub total_score: f64,
}

/// A membership as stored: a typed column per metric and per score (NULL where the run's
/// scheme does not use the metric), in the run's own partition.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "db",
    derive(diesel::prelude::Queryable, diesel::prelude::Selectable)
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segment_memberships, check_for_backend(diesel::pg::Pg)))]
pub struct SegmentMembershipRow {
    pub run_id: i64,
    pub customer_id: i64,
    pub segment_id: i64,
    pub total_score: f64,
    pub frequency: Option<i64>,
    pub minutes: Option<i64>,
    pub monetary: Option<f64>,
    pub likes: Option<i64>,
    pub dislikes: Option<i64>,
    pub recency_days: Option<i32>,
    pub frequency_score: Option<f64>,
    pub minutes_score: Option<f64>,
    pub monetary_score: Option<f64>,
    pub likes_score: Option<f64>,
    pub dislikes_score: Option<f64>,
    pub recency_days_score: Option<f64>,
}

impl From<SegmentMembershipRow> for SegmentMembership {
    fn from(row: SegmentMembershipRow) -> SegmentMembership {
        use serde_json::{Map, Value, json};
        fn object(pairs: [(&str, Option<Value>); 6]) -> Value {
            Value::Object(
                pairs
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
                    .collect::<Map<String, Value>>(),
            )
        }
        let metrics = object([
            ("frequency", row.frequency.map(|v| json!(v))),
            ("minutes", row.minutes.map(|v| json!(v))),
            ("monetary", row.monetary.map(|v| json!(v))),
            ("likes", row.likes.map(|v| json!(v))),
            ("dislikes", row.dislikes.map(|v| json!(v))),
            ("recency_days", row.recency_days.map(|v| json!(v))),
        ]);
        let scores = object([
            ("frequency", row.frequency_score.map(|v| json!(v))),
            ("minutes", row.minutes_score.map(|v| json!(v))),
            ("monetary", row.monetary_score.map(|v| json!(v))),
            ("likes", row.likes_score.map(|v| json!(v))),
            ("dislikes", row.dislikes_score.map(|v| json!(v))),
            ("recency_days", row.recency_days_score.map(|v| json!(v))),
        ]);
        SegmentMembership {
            run_id: row.run_id,
            customer_id: row.customer_id,
            segment_id: row.segment_id,
            metrics,
            scores,
            total_score: row.total_score,
        }
    }
}

/// A segmentation run to start: a rule set by id, or the standard rule set of a scheme
/// (`classic` when neither is given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scheme": "classic", "window_days": 90}))]
pub struct SegmentationRunRequest {
    pub rule_set_id: Option<i64>,
    pub scheme: Option<SegmentationScheme>,
    /// Metrics cover this many days back (1 to 36500); all history when absent.
    pub window_days: Option<i32>,
}

/// How many customers a run put in a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::QueryableByName))]
#[schema(example = json!({"segment_id": 2, "segment_name": "Vulnerable Customers", "customers": 790,
    "share": 0.395, "mean_total_score": 21.3}))]
pub struct SegmentShare {
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::BigInt))]
    pub segment_id: i64,
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::Text))]
    pub segment_name: String,
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::BigInt))]
    pub customers: i64,
    /// Of the run's customers.
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::Double))]
    pub share: f64,
    #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::Double))]
    pub mean_total_score: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::segmentation_rule_sets, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SegmentationRuleSetUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    /// The whole rules of the set's scheme (a scheme never changes).
    #[schema(value_type = Option<Object>, nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub rules: Option<serde_json::Value>,
}
