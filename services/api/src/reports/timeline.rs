//! `GET /api/v1/reports/experiments/{id}/timeline`: each arm's assigned customers and goal
//! successes, added up day by day since the first assignment, for the cumulative chart.

use actix_web::{get, web};
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
use diesel::{OptionalExtension as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;
use models::enums::Metric;
use models::schema::experiments;
use serde::Serialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::responses::GetErrors;
use utoipa::ToSchema;

/// One arm on one day (UTC), counts up to the day's end.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, diesel::QueryableByName)]
pub struct TimelinePoint {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    /// Absent for the holdout.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub variant_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub assigned: i64,
    /// Customers with the goal metric's success so far: a human open or click, or a
    /// conversion within the attribution window (revenue goals count conversions).
    #[diesel(sql_type = BigInt)]
    pub successes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Timeline {
    pub experiment_id: i64,
    /// What `successes` counts: `open`, `click` or `conversion`.
    pub metric: Metric,
    /// By day, then variant (the holdout last).
    pub points: Vec<TimelinePoint>,
}

/// The same units and windows as ds's analysis (assignments outside the winner phase, each
/// message's first human open and click, a conversion within the window after assignment).
const TIMELINE_SQL: &str = "\
WITH units AS (
    SELECT a.variant_id, a.assigned_at,
           CASE $3 WHEN 'open' THEN m.opened_at
                   WHEN 'click' THEN m.clicked_at
                   ELSE (SELECT min(c.occurred_at) FROM conversions c
                         WHERE c.customer_id = a.customer_id AND c.occurred_at >= a.assigned_at
                           AND c.occurred_at < a.assigned_at + make_interval(days => $2))
           END AS success_at
    FROM assignments a
    LEFT JOIN messages m ON m.experiment_id = a.experiment_id AND m.customer_id = a.customer_id
    WHERE a.experiment_id = $1 AND a.phase <> 'winner'
), per_day AS (
    SELECT variant_id, (assigned_at AT TIME ZONE 'UTC')::date AS day, 1 AS assigned, 0 AS successes
    FROM units
    UNION ALL
    SELECT variant_id, (success_at AT TIME ZONE 'UTC')::date, 0, 1 FROM units
    WHERE success_at IS NOT NULL
), totals AS (
    SELECT variant_id, day, sum(assigned) AS assigned, sum(successes) AS successes
    FROM per_day GROUP BY variant_id, day
), grid AS (
    SELECT d::date AS day, v.variant_id
    FROM (SELECT min(day) AS first, max(day) AS last FROM totals) bounds,
         generate_series(bounds.first, bounds.last, interval '1 day') AS d,
         (SELECT DISTINCT variant_id FROM units) v
)
SELECT g.day, g.variant_id,
       (sum(coalesce(t.assigned, 0)) OVER w)::bigint AS assigned,
       (sum(coalesce(t.successes, 0)) OVER w)::bigint AS successes
FROM grid g
LEFT JOIN totals t ON t.day = g.day AND t.variant_id IS NOT DISTINCT FROM g.variant_id
WINDOW w AS (PARTITION BY g.variant_id ORDER BY g.day)
ORDER BY day, variant_id NULLS LAST";

/// Each arm's assigned customers and goal successes, cumulative by day (UTC).
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        GetErrors,
    )
)]
#[get("/reports/experiments/{id}/timeline")]
pub async fn get_timeline(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<Timeline>, Problem> {
    let mut connection = connection(&pool).await?;
    timeline(&mut connection, id.into_inner())
        .await
        .map(web::Json)
}

pub async fn timeline(
    connection: &mut diesel_async::AsyncPgConnection,
    experiment_id: i64,
) -> Result<Timeline, Problem> {
    let (goal_metric, window_days): (Metric, i32) = experiments::table
        .find(experiment_id)
        .select((
            experiments::goal_metric,
            experiments::attribution_window_days,
        ))
        .first(connection)
        .await
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("experiment {experiment_id} does not exist")))?;
    let metric = match goal_metric {
        Metric::Revenue => Metric::Conversion,
        other => other,
    };
    let points = diesel::sql_query(TIMELINE_SQL)
        .bind::<BigInt, _>(experiment_id)
        .bind::<Integer, _>(window_days)
        .bind::<Text, _>(metric.as_str())
        .load::<TimelinePoint>(connection)
        .await?;
    Ok(Timeline {
        experiment_id,
        metric,
        points,
    })
}
