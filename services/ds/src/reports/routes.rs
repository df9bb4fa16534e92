//! `POST /v1/reports/overview`: queues a refresh of the dashboard's overview.

use actix_web::{HttpResponse, post, web};
use models::jobs::Job;
use service::Problem;
use service::auth::InternalCaller;
use service::problem::connection;

/// Queues a computation of the overview (or answers with the one already waiting); the new
/// snapshot is what the api serves once the job has succeeded.
#[utoipa::path(
    tag = "reports",
    security(("service_token" = [])),
    responses(
        (status = 202, description = "The report job, queued", body = Job),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/reports/overview")]
pub async fn refresh_overview(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
) -> Result<HttpResponse, Problem> {
    let mut connection = connection(&pool).await?;
    match super::queue_refresh(&mut connection, None).await? {
        Some(job) => Ok(service::jobs::accepted(&job)),
        None => Err(Problem::internal(&"no report job was queued")),
    }
}
