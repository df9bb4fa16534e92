//! `/api/v1/jobs`: the jobs of every service (generations, imports, segmentation runs,
//! analyses, sends), fronted from etl through `crates/clients`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use clients::ServiceClient;
use models::jobs::{GenerateRequest, ImportUpload, Job, JobPage};
use models::page::{Page, PageQuery};
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::query::QueryParams;
use service::responses::{GetErrors, ListErrors, WriteErrors};

use crate::paging::window;
use crate::peer_answers::{job_accepted, peer_problem};
use crate::status::Peers;

/// The largest upload passed on to etl; etl applies its own limit too.
const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

fn etl(peers: &Peers) -> &ServiceClient {
    &peers.etl
}

/// Every service's jobs, newest first (no `total`).
#[utoipa::path(
    tag = "jobs",
    security(("api_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of jobs", body = Page<Job>),
        ListErrors,
        (status = 502, description = "etl failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "etl or the database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs")]
pub async fn list_jobs(
    _: ReadAccess,
    peers: web::Data<Peers>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let window = window::<i64>(&page_query)?;
    // etl pages its jobs newest first by `before`; the api speaks the common cursor.
    let mut path = format!("v1/jobs?limit={}", window.limit);
    if let Some(before) = window.after {
        path.push_str(&format!("&before={before}"));
    }
    Ok(match etl(&peers).get_json::<JobPage>(&path).await {
        Ok(jobs) => HttpResponse::Ok().json(Page {
            items: jobs.jobs,
            next: jobs.next.map(|next| next.to_string()),
            total: None,
        }),
        Err(error) => peer_problem(error),
    })
}

/// One job: status, progress, counts and error.
#[utoipa::path(
    tag = "jobs",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        GetErrors,
        (status = 502, description = "etl failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "etl or the database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs/{id}")]
pub async fn get_job(_: ReadAccess, peers: web::Data<Peers>, id: web::Path<i64>) -> HttpResponse {
    match etl(&peers)
        .get_json::<Job>(&format!("v1/jobs/{}", id.into_inner()))
        .await
    {
        Ok(job) => HttpResponse::Ok().json(job),
        Err(error) => peer_problem(error),
    }
}

/// Starts a job: JSON (a `GenerateRequest`) generates a synthetic business; a
/// `multipart/form-data` upload of CSV files named after their tables (`customers.csv`, ...),
/// with an optional field `skip_invalid=true`, imports them.
#[utoipa::path(
    tag = "jobs",
    security(("api_key" = [])),
    request_body(
        description = "JSON for a generation, or multipart/form-data CSV files for an import",
        content((GenerateRequest = "application/json"), (ImportUpload = "multipart/form-data"))
    ),
    responses(
        (status = 202, description = "The job, queued", body = Job),
        WriteErrors,
        (status = 502, description = "etl failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "etl or the database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/jobs")]
pub async fn create_job(
    _: AdminAccess,
    peers: web::Data<Peers>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // etl decides what it takes (and answers 415 otherwise): the body goes on as it came.
    let body = payload
        .to_bytes_limited(MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_UPLOAD_BYTES} bytes"),
            )
        })?
        .map_err(|error| Problem::bad_request(format!("cannot read the body: {error}")))?;
    Ok(job_accepted(
        etl(&peers)
            .post_raw::<Job>("v1/jobs", &content_type, body.to_vec())
            .await,
    ))
}
