//! `POST /v1/experiments/{id}/analyze`: queues an analysis of an experiment as a job.

use actix_web::{HttpResponse, post, web};
use diesel::{
    ExpressionMethods as _, NullableExpressionMethods as _, OptionalExtension as _, QueryDsl as _,
};
use diesel_async::RunQueryDsl as _;
use models::enums::JobKind;
use models::jobs::Job;
use models::schema::{experiments, variants};
use serde_json::json;
use service::Problem;
use service::auth::InternalCaller;
use service::problem::connection;

/// Queues an analysis of the experiment as it stands; the stored result appears in its
/// analyses when the job has succeeded.
#[utoipa::path(
    tag = "analysis",
    security(("service_token" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 202, description = "The analysis job, queued", body = Job),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The experiment has no variants", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/experiments/{id}/analyze")]
pub async fn analyze_experiment(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let experiment_id = id.into_inner();
    let mut connection = connection(&pool).await?;
    // The experiment and how many variants it has: one without any has nothing to analyse.
    let variant_count: i64 = experiments::table
        .find(experiment_id)
        .select(
            variants::table
                .filter(variants::experiment_id.eq(experiments::id))
                .count()
                .single_value()
                .assume_not_null(),
        )
        .first(&mut connection)
        .await
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("no experiment {experiment_id}")))?;
    if variant_count == 0 {
        return Err(Problem::conflict(format!(
            "experiment {experiment_id} has no variants: there is nothing to analyse"
        )));
    }
    service::jobs::enqueue(
        &mut connection,
        JobKind::Analysis,
        json!({"experiment_id": experiment_id}),
    )
    .await
}
