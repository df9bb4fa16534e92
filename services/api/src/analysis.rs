//! `/api/v1/experiments/{id}/analyze` and `/analyses`: an experiment's analysis, computed by
//! ds as a job and stored with everything it read.

use actix_web::{HttpResponse, get, post, web};
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;
use models::experiments::Analysis;
use models::jobs::Job;
use models::page::{Page, PageQuery};
use models::schema::{analyses, experiments};
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{ListErrors, WriteErrors};

use crate::paging::{load_page, window};
use crate::peer_answers::job_accepted;
use crate::status::Peers;

/// Analyses the experiment as it stands, on ds: per arm by assignment (intention to treat,
/// holdout included) the assigned and delivered counts, unique opens, unique human clicks,
/// conversions within the attribution window and revenue per assigned customer; each metric
/// tested against control (goal metric first, the others Holm-adjusted together), the
/// sample-ratio checks on assignments and deliveries, the Bayesian summary, a recommendation
/// in words, and the goal metric by segment, age band, region and device. Follow the job at
/// `/api/v1/jobs/{id}`; the result is then the newest of the experiment's analyses.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 202, description = "The analysis job, queued", body = Job),
        WriteErrors,
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/experiments/{id}/analyze")]
pub async fn analyze_experiment(
    _: AdminAccess,
    peers: web::Data<Peers>,
    id: web::Path<i64>,
) -> HttpResponse {
    let path = format!("v1/experiments/{}/analyze", id.into_inner());
    job_accepted(
        peers
            .ds
            .post_raw::<Job>(&path, "application/json", Vec::new())
            .await,
    )
}

/// The experiment's stored analyses, oldest first (`results` holds the report, `inputs` the
/// design and counts it was computed from).
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id"), PageQuery),
    responses(
        (status = 200, description = "A page of analyses", body = Page<Analysis>),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        ListErrors,
    )
)]
#[get("/experiments/{id}/analyses")]
pub async fn list_experiment_analyses(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<web::Json<Page<Analysis>>, Problem> {
    let experiment_id = id.into_inner();
    let window = window::<i64>(&page_query)?;
    let mut connection = connection(&pool).await?;
    experiments::table
        .find(experiment_id)
        .select(experiments::id)
        .first::<i64>(&mut connection)
        .await
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("no experiment {experiment_id}")))?;
    let filtered = || {
        analyses::table
            .filter(analyses::experiment_id.eq(experiment_id))
            .into_boxed()
    };
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        analyses::id,
        Analysis,
        id,
        window,
        page_query.total
    )))
}
