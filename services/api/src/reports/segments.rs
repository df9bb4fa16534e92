//! `GET /api/v1/reports/segments`: the latest segmentation run against the one before it:
//! each segment's size and score profile, and who moved from which segment to which.

use actix_web::{get, web};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::SegmentationRunStatus;
use models::schema::segmentation_runs;
use models::segmentation::SegmentationRun;
use serde::Serialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::responses::GetErrors;
use utoipa::ToSchema;

/// One segment of a run: its size and the mean score of each metric of its customers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, diesel::QueryableByName)]
pub struct SegmentProfile {
    #[diesel(sql_type = BigInt)]
    pub segment_id: i64,
    #[diesel(sql_type = Text)]
    pub segment_name: String,
    #[diesel(sql_type = BigInt)]
    pub customers: i64,
    /// Of the run's customers.
    #[diesel(sql_type = Double)]
    pub share: f64,
    #[diesel(sql_type = Double)]
    pub mean_total_score: f64,
    /// Mean score of each metric (absent where the scheme does not score it).
    #[diesel(sql_type = Nullable<Double>)]
    pub frequency: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub minutes: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub monetary: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub likes: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub dislikes: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub recency_days: Option<f64>,
}

/// How many customers went from one segment (in the previous run) to another (in the latest).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, diesel::QueryableByName)]
pub struct SegmentMove {
    /// Absent: the customer was not in the previous run (new, or newly scored).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub from_segment_id: Option<i64>,
    /// Absent: the customer is not in the latest run (deleted, or no longer scored).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub to_segment_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub customers: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SegmentsReport {
    /// The latest succeeded run; absent before the first.
    pub run: Option<SegmentationRun>,
    /// The succeeded run before it, which `moves` compares with.
    pub previous_run: Option<SegmentationRun>,
    /// The latest run's segments, in the segments' order.
    pub segments: Vec<SegmentProfile>,
    /// Customers by (previous segment, latest segment); empty without a previous run.
    pub moves: Vec<SegmentMove>,
}

const PROFILE_SQL: &str = "\
SELECT s.id AS segment_id, s.name AS segment_name, count(*) AS customers,
       count(*)::float8 / sum(count(*)) OVER () AS share,
       avg(m.total_score) AS mean_total_score,
       avg(m.frequency_score) AS frequency, avg(m.minutes_score) AS minutes,
       avg(m.monetary_score) AS monetary, avg(m.likes_score) AS likes,
       avg(m.dislikes_score) AS dislikes, avg(m.recency_days_score) AS recency_days
FROM segment_memberships m JOIN segments s ON s.id = m.segment_id
WHERE m.run_id = $1
GROUP BY s.id, s.name, s.sort_order
ORDER BY s.sort_order";

const MOVES_SQL: &str = "\
SELECT previous.segment_id AS from_segment_id, latest.segment_id AS to_segment_id,
       count(*) AS customers
FROM (SELECT customer_id, segment_id FROM segment_memberships WHERE run_id = $1) latest
FULL JOIN (SELECT customer_id, segment_id FROM segment_memberships WHERE run_id = $2) previous
  USING (customer_id)
GROUP BY previous.segment_id, latest.segment_id
ORDER BY previous.segment_id NULLS FIRST, latest.segment_id NULLS LAST";

/// Segments of the latest segmentation run, each with its score profile, and how customers
/// moved between segments since the run before it.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    responses((status = 200, description = "The segments report", body = SegmentsReport), GetErrors)
)]
#[get("/reports/segments")]
pub async fn get_segments_report(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
) -> Result<web::Json<SegmentsReport>, Problem> {
    let mut connection = connection(&pool).await?;
    segments_report(&mut connection).await.map(web::Json)
}

pub async fn segments_report(
    connection: &mut AsyncPgConnection,
) -> Result<SegmentsReport, Problem> {
    let mut runs: Vec<SegmentationRun> = segmentation_runs::table
        .filter(segmentation_runs::status.eq(SegmentationRunStatus::Succeeded))
        .order(segmentation_runs::id.desc())
        .limit(2)
        .load(connection)
        .await?;
    let previous_run = (runs.len() == 2).then(|| runs.remove(1));
    let run = runs.pop();
    let Some(latest) = &run else {
        return Ok(SegmentsReport {
            run: None,
            previous_run: None,
            segments: Vec::new(),
            moves: Vec::new(),
        });
    };
    let segments = diesel::sql_query(PROFILE_SQL)
        .bind::<BigInt, _>(latest.id)
        .load::<SegmentProfile>(connection)
        .await?;
    let moves = match &previous_run {
        Some(previous) => {
            diesel::sql_query(MOVES_SQL)
                .bind::<BigInt, _>(latest.id)
                .bind::<BigInt, _>(previous.id)
                .load::<SegmentMove>(connection)
                .await?
        }
        None => Vec::new(),
    };
    Ok(SegmentsReport {
        run,
        previous_run,
        segments,
        moves,
    })
}
