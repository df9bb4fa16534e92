//! Long-running work shared by every service.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{JobKind, JobStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::QueryableByName,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::jobs, check_for_backend(diesel::pg::Pg)))]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// What to do: the job kind's own parameters.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// From 0 to 1.
    pub progress: f64,
    /// Rows or items done so far, by name.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    pub error: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The worker holding the job while it runs.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::jobs, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct JobInsertForm {
    pub kind: JobKind,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub max_attempts: Option<i32>,
}

/// A generate job's request: the scenario file's defaults, with these overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// Customers to simulate, at most `ETL_MAX_CUSTOMERS`.
    #[schema(example = 10000)]
    pub customers: Option<u64>,
    pub seed: Option<u64>,
    /// Replace all data; without it a database holding data is refused.
    #[serde(default)]
    pub reset: bool,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<i64>,
}

/// The query of a job list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
pub struct JobListQuery {
    /// At most this many jobs (1 to 1000; 100 by default).
    pub limit: Option<i64>,
    /// Only jobs with a smaller id: the `next` of the previous page.
    pub before: Option<i64>,
}

/// An import, uploaded as `multipart/form-data`: CSV files, each named after its table
/// (`customers.csv`, `titles.csv`, `subscriptions.csv`, `watch_sessions.csv`, `events.csv`,
/// `conversions.csv`), and an optional field `skip_invalid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportUpload {
    /// The CSV files; the file name says the table.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
    /// `true` to load the good rows and report the bad ones instead of refusing the upload.
    pub skip_invalid: Option<bool>,
}
