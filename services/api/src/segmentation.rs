//! Segmentation runs: started on ds, then read here: the runs, each run's distribution and
//! memberships, and one customer's history across runs.

use actix_web::{HttpResponse, get, post, web};
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::SegmentationRunStatus;
use models::jobs::Job;
use models::page::{Page, PageQuery};
use models::schema::{customers, segment_memberships, segmentation_runs};
use models::segmentation::{
    SegmentMembership, SegmentMembershipRow, SegmentShare, SegmentationRun, SegmentationRunRequest,
};
use serde::Deserialize;
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{GetErrors, ListErrors, WriteErrors};
use utoipa::IntoParams;

use crate::crud::get_by_id;
use crate::paging::{load_page, window};
use crate::peer_answers::job_accepted;
use crate::status::Peers;

/// Filters of the run list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunFilter {
    pub status: Option<SegmentationRunStatus>,
}

/// Segmentation runs by id.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    params(PageQuery, RunFilter),
    responses((status = 200, description = "A page of runs", body = Page<SegmentationRun>), ListErrors)
)]
#[get("/segmentation-runs")]
pub async fn list_runs(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<RunFilter>,
) -> Result<web::Json<Page<SegmentationRun>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = segmentation_runs::table.into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(segmentation_runs::status.eq(status));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        segmentation_runs::id,
        SegmentationRun,
        id,
        window,
        page_query.total
    )))
}

/// Starts a segmentation run on ds: a rule set by id, or the standard one of a scheme
/// (`classic` by default). Follow the job at `/api/v1/jobs/{id}`; the run appears when it
/// has committed, and customers keep their previous segment until then.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    request_body = SegmentationRunRequest,
    responses(
        (status = 202, description = "The run's job, queued", body = Job),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds or the database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/segmentation-runs")]
pub async fn start_run(
    _: AdminAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<SegmentationRunRequest>,
) -> Result<HttpResponse, Problem> {
    let body = serde_json::to_vec(&request).map_err(|error| Problem::internal(&error))?;
    Ok(job_accepted(
        peers
            .ds
            .post_raw::<Job>("v1/segmentation-runs", "application/json", body)
            .await,
    ))
}

/// How a run's customers spread over the segments, in the segments' order.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Customers per segment", body = Vec<SegmentShare>),
        GetErrors,
    )
)]
#[get("/segmentation-runs/{id}/distribution")]
pub async fn run_distribution(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<SegmentShare>>, Problem> {
    let run_id = id.into_inner();
    let mut connection = connection(&pool).await?;
    run_exists(&mut connection, run_id).await?;
    let shares = diesel::sql_query(
        "SELECT s.id AS segment_id, s.name AS segment_name, count(*) AS customers,                 count(*)::float8 / sum(count(*)) OVER () AS share, avg(m.total_score) AS mean_total_score          FROM segment_memberships m JOIN segments s ON s.id = m.segment_id          WHERE m.run_id = $1 GROUP BY s.id, s.name, s.sort_order ORDER BY s.sort_order",
    )
    .bind::<diesel::sql_types::BigInt, _>(run_id)
    .load::<SegmentShare>(&mut connection)
    .await?;
    Ok(web::Json(shares))
}

get_by_id!(
    get_run,
    "/segmentation-runs/{id}",
    "segmentation",
    segmentation_runs,
    SegmentationRun,
    "One segmentation run."
);

/// Filters of a run's memberships.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembershipFilter {
    pub segment_id: Option<i64>,
}

/// A run's memberships, with each customer's metrics and scores, by customer id.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The run's id"), PageQuery, MembershipFilter),
    responses(
        (status = 200, description = "A page of memberships", body = Page<SegmentMembership>),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        ListErrors,
    )
)]
#[get("/segmentation-runs/{id}/memberships")]
pub async fn list_run_memberships(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<MembershipFilter>,
) -> Result<web::Json<Page<SegmentMembership>>, Problem> {
    let run_id = id.into_inner();
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = segment_memberships::table
            .filter(segment_memberships::run_id.eq(run_id))
            .into_boxed();
        if let Some(segment_id) = filter.segment_id {
            query = query.filter(segment_memberships::segment_id.eq(segment_id));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    run_exists(&mut connection, run_id).await?;
    let page = load_page!(
        &mut connection,
        filtered,
        segment_memberships::customer_id,
        SegmentMembershipRow,
        customer_id,
        window,
        page_query.total
    );
    Ok(web::Json(page.map(SegmentMembership::from)))
}

/// A customer's segments across runs, oldest run first.
#[utoipa::path(
    tag = "customers",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The customer's id"), PageQuery),
    responses(
        (status = 200, description = "A page of memberships", body = Page<SegmentMembership>),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        ListErrors,
    )
)]
#[get("/customers/{id}/segments")]
pub async fn list_customer_segments(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<web::Json<Page<SegmentMembership>>, Problem> {
    let customer_id = id.into_inner();
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        segment_memberships::table
            .filter(segment_memberships::customer_id.eq(customer_id))
            .into_boxed()
    };
    let mut connection = connection(&pool).await?;
    exists(
        &mut connection,
        customers::table.find(customer_id).select(customers::id),
    )
    .await?
    .ok_or_else(|| Problem::not_found(format!("no customer {customer_id}")))?;
    let page = load_page!(
        &mut connection,
        filtered,
        segment_memberships::run_id,
        SegmentMembershipRow,
        run_id,
        window,
        page_query.total
    );
    Ok(web::Json(page.map(SegmentMembership::from)))
}

/// 404 unless run `run_id` exists.
async fn run_exists(connection: &mut AsyncPgConnection, run_id: i64) -> Result<(), Problem> {
    exists(
        connection,
        segmentation_runs::table
            .find(run_id)
            .select(segmentation_runs::id),
    )
    .await?
    .map(|_| ())
    .ok_or_else(|| Problem::not_found(format!("no segmentation run {run_id}")))
}

async fn exists<Q>(connection: &mut AsyncPgConnection, query: Q) -> Result<Option<i64>, Problem>
where
    Q: diesel_async::methods::LoadQuery<'static, AsyncPgConnection, i64> + Send + 'static,
{
    Ok(query.get_result(connection).await.optional()?)
}
