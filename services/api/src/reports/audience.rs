//! `GET /api/v1/reports/audience`: how many customers an experiment on a segment could reach
//! now, and the goal metric's baseline from the control arms of earlier experiments: the two
//! numbers a power calculation needs.

use actix_web::{get, web};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl as _;
use models::enums::Metric;
use serde::{Deserialize, Serialize};
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AudienceQuery {
    /// A segment of the latest segmentation run; everyone when absent.
    pub segment_id: Option<i64>,
    /// The metric whose baseline is wanted; `conversion` when absent.
    pub goal_metric: Option<Metric>,
    /// Whether the experiment would be exclusive (leave out everyone in another running or
    /// paused experiment, as the mailer does); `true` when absent. Either way customers of
    /// other exclusive experiments are left out.
    pub exclusive: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AudienceReport {
    pub segment_id: Option<i64>,
    pub goal_metric: Metric,
    /// Customers who agreed to e-mail, are not suppressed and are not held by another running
    /// or paused experiment (any, for an exclusive one; exclusive ones otherwise). The
    /// frequency cap, applied at start, may leave out a few more.
    pub reachable: i64,
    /// The goal metric's rate in the control arms of earlier experiments on the same segment
    /// (on any segment when there are none), weighted by their size; absent without any, or
    /// for revenue (a mean: give its baseline and spread yourself).
    pub baseline: Option<f64>,
    /// The customers those control arms had.
    pub baseline_customers: i64,
    /// The experiments the baseline comes from.
    pub baseline_experiments: i64,
}

#[derive(diesel::QueryableByName)]
struct Reachable {
    #[diesel(sql_type = BigInt)]
    reachable: i64,
}

#[derive(diesel::QueryableByName)]
struct Baseline {
    #[diesel(sql_type = Nullable<Double>)]
    rate: Option<f64>,
    #[diesel(sql_type = BigInt)]
    customers: i64,
    #[diesel(sql_type = BigInt)]
    experiments: i64,
}

const REACHABLE_SQL: &str = "\
SELECT count(*) AS reachable
FROM customers c
WHERE c.email_consent
  AND ($1::bigint IS NULL OR EXISTS (
          SELECT 1 FROM segment_memberships sm
          WHERE sm.customer_id = c.id AND sm.segment_id = $1
            AND sm.run_id = (SELECT max(id) FROM segmentation_runs WHERE status = 'succeeded')))
  AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email = lower(c.email))
  AND NOT EXISTS (SELECT 1 FROM assignments a JOIN experiments e ON e.id = a.experiment_id
                  WHERE a.customer_id = c.id AND e.status IN ('running', 'paused')
                    AND ($2 OR e.exclusive))";

/// The control arms of each experiment's latest analysis with this goal metric: on the
/// segment when any exist, else on any segment.
const BASELINE_SQL: &str = "\
WITH latest AS (
    SELECT DISTINCT ON (a.experiment_id) a.experiment_id, e.segment_id, a.results
    FROM analyses a JOIN experiments e ON e.id = a.experiment_id
    WHERE e.goal_metric = $2
    ORDER BY a.experiment_id, a.id DESC
), chosen AS (
    SELECT * FROM latest
    WHERE $1::bigint IS NULL OR segment_id = $1
       OR NOT EXISTS (SELECT 1 FROM latest WHERE segment_id = $1)
), controls AS (
    SELECT chosen.experiment_id, (arm->>'assigned')::bigint AS assigned,
           (arm->>$3)::float8 AS rate
    FROM chosen, jsonb_array_elements(chosen.results->'arms') AS arm
    WHERE (arm->>'is_control')::boolean AND arm->>$3 IS NOT NULL
)
SELECT sum(assigned * rate) / nullif(sum(assigned), 0) AS rate,
       coalesce(sum(assigned), 0)::bigint AS customers,
       count(DISTINCT experiment_id) AS experiments
FROM controls";

/// How many customers an experiment on `segment_id` could reach now, and the baseline rate of
/// `goal_metric` seen in earlier experiments' control arms.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    params(AudienceQuery),
    responses((status = 200, description = "The audience and its baseline", body = AudienceReport), ListErrors)
)]
#[get("/reports/audience")]
pub async fn get_audience_report(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(query): QueryParams<AudienceQuery>,
) -> Result<web::Json<AudienceReport>, Problem> {
    let goal_metric = query.goal_metric.unwrap_or(Metric::Conversion);
    let mut connection = connection(&pool).await?;
    let reachable = diesel::sql_query(REACHABLE_SQL)
        .bind::<Nullable<BigInt>, _>(query.segment_id)
        .bind::<diesel::sql_types::Bool, _>(query.exclusive.unwrap_or(true))
        .get_result::<Reachable>(&mut connection)
        .await?
        .reachable;
    let rate_field = match goal_metric {
        Metric::Open => Some("open_rate"),
        Metric::Click => Some("click_rate"),
        Metric::Conversion => Some("conversion_rate"),
        Metric::Revenue => None,
    };
    let baseline = match rate_field {
        Some(field) => {
            diesel::sql_query(BASELINE_SQL)
                .bind::<Nullable<BigInt>, _>(query.segment_id)
                .bind::<Text, _>(goal_metric.as_str())
                .bind::<Text, _>(field)
                .get_result::<Baseline>(&mut connection)
                .await?
        }
        None => Baseline {
            rate: None,
            customers: 0,
            experiments: 0,
        },
    };
    Ok(web::Json(AudienceReport {
        segment_id: query.segment_id,
        goal_metric,
        reachable,
        baseline: baseline.rate,
        baseline_customers: baseline.customers,
        baseline_experiments: baseline.experiments,
    }))
}
