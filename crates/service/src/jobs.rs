//! Internal job routes shared by the services that run jobs (ds, mailer, etl).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use diesel::{OptionalExtension as _, QueryDsl as _, SelectableHelper as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::JobKind;
use models::jobs::{Job, JobInsertForm};
use models::schema::jobs;

use crate::auth::InternalCaller;
use crate::problem::{Problem, connection};

/// One job: status, progress, counts and error.
#[utoipa::path(
    tag = "jobs",
    security(("service_token" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/jobs/{id}")]
pub async fn get_job(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<Job>, Problem> {
    let id = id.into_inner();
    let mut connection = connection(&pool).await?;
    let job = jobs::table
        .find(id)
        .select(Job::as_select())
        .first(&mut connection)
        .await
        .optional()?;
    job.map(web::Json)
        .ok_or_else(|| Problem::not_found(format!("no job {id}")))
}

/// Queues a job of `kind`.
pub async fn insert(
    connection: &mut AsyncPgConnection,
    kind: JobKind,
    payload: serde_json::Value,
) -> Result<Job, diesel::result::Error> {
    diesel::insert_into(jobs::table)
        .values(&JobInsertForm {
            kind,
            payload,
            max_attempts: None,
        })
        .returning(Job::as_returning())
        .get_result(connection)
        .await
}

/// A queued job as its caller sees it: 202 with the job and where to follow it.
pub fn accepted(job: &Job) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/jobs/{}", job.id)))
        .json(job)
}

/// Queues a job of `kind`; the answer is 202 with the job and where to follow it.
pub async fn enqueue(
    connection: &mut AsyncPgConnection,
    kind: JobKind,
    payload: serde_json::Value,
) -> Result<HttpResponse, Problem> {
    let job = insert(connection, kind, payload).await?;
    Ok(accepted(&job))
}
