//! `POST /v1/reports/overview`: queues a refresh of the dashboard's overview.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, SelectableHelper as _,
};
use diesel_async::RunQueryDsl as _;
use models::enums::{JobKind, JobStatus};
use models::jobs::Job;
use models::schema::jobs;
use serde_json::json;
use service::Problem;
use service::auth::InternalCaller;
use service::problem::connection;

/// Queues a computation of the overview (or answers with the one already waiting or running);
/// the new snapshot is what the api serves once the job has succeeded.
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
    // Asking again while a refresh is waiting or under way gets that refresh, not another.
    let pending: Option<Job> = jobs::table
        .filter(jobs::kind.eq(JobKind::Report))
        .filter(jobs::status.eq_any([JobStatus::Queued, JobStatus::Running]))
        .order(jobs::id.desc())
        .select(Job::as_select())
        .first(&mut connection)
        .await
        .optional()?;
    match pending {
        Some(job) => Ok(HttpResponse::Accepted()
            .insert_header((header::LOCATION, format!("/v1/jobs/{}", job.id)))
            .json(job)),
        None => service::jobs::enqueue(&mut connection, JobKind::Report, json!({})).await,
    }
}
