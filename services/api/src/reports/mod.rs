//! `/api/v1/reports/...`: the figures the dashboard shows, for scripts too.

pub mod analysis;
pub mod audience;
pub mod results_csv;
pub mod segments;
pub mod timeline;

use actix_web::{HttpResponse, get, post, web};
use models::jobs::Job;
use models::reports::Overview;
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::problem::connection;
use service::responses::{GetErrors, WriteErrors};

use crate::peer_answers::job_accepted;
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
    Ok(models::reports::overview_or_first(connection).await?)
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
