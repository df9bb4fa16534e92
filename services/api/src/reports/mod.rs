//! `/api/v1/reports/...`: the figures the dashboard shows, for scripts too.

pub mod analysis;
pub mod audience;
pub mod results_csv;
pub mod segments;
pub mod timeline;

use actix_web::{HttpResponse, get, post, web};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use models::jobs::Job;
use models::reports::Overview;
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::problem::connection;
use service::responses::{GetErrors, WriteErrors};

use crate::jobs::job_accepted;
use crate::status::Peers;

/// The business at a glance: customers, active subscribers, monthly recurring revenue, churn
/// by month, weekly active users, sign-ups and churn, the latest segment mix and the running
/// experiments. Served from the newest snapshot ds computed (see `computed_at`; ds refreshes it
/// every `DS_REPORT_EVERY_MS`, or on `POST /reports/overview/refresh`); the first request on a
/// database without one computes it.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    responses((status = 200, description = "The overview", body = Overview), GetErrors)
)]
#[get("/reports/overview")]
pub async fn get_overview(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
) -> Result<web::Json<Overview>, Problem> {
    let mut connection = connection(&pool).await?;
    current_overview(&mut connection).await.map(web::Json)
}

/// The newest overview, computed and stored first when there is none.
pub async fn current_overview(
    connection: &mut diesel_async::AsyncPgConnection,
) -> Result<Overview, Problem> {
    if let Some(stored) = models::reports::latest_overview(connection).await? {
        return Ok(stored);
    }
    // One request computes; the others arriving meanwhile wait for it and read its result.
    connection
        .transaction(async |connection| {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('streamlab.overview'))")
                .execute(connection)
                .await?;
            if let Some(stored) = models::reports::latest_overview(connection).await? {
                return Ok(stored);
            }
            let started = std::time::Instant::now();
            let computed = models::reports::overview(connection).await?;
            let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
            models::reports::store_overview(connection, &computed, None, duration_ms).await?;
            Ok::<_, Problem>(computed)
        })
        .await
}

/// Asks ds to compute the overview again now (a job; follow it at `/api/v1/jobs/{id}`).
#[utoipa::path(
    tag = "reports",
    security(("api_key" = [])),
    responses(
        (status = 202, description = "The report job, queued", body = Job),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/overview/refresh")]
pub async fn refresh_overview(_: AdminAccess, peers: web::Data<Peers>) -> HttpResponse {
    job_accepted(
        peers
            .ds
            .post_raw::<Job>("v1/reports/overview", "application/json", Vec::new())
            .await,
    )
}
