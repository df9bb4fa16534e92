//! `/v1/stats/*`: the calculators over HTTP (service token; the api fronts them).

use actix_web::{post, web};
use models::stats::{
    AdjustAnswer, AdjustRequest, ChiSquareOutcome, MeansAnswer, MeansRequest, PowerAnswer,
    PowerRequest, ProportionsAnswer, ProportionsRequest, SrmRequest,
};
use service::Problem;
use service::auth::InternalCaller;
use service::json::JsonBody;

/// Tests of two or more conversion rates, the first the control.
#[utoipa::path(
    tag = "stats",
    security(("service_token" = [])),
    request_body = ProportionsRequest,
    responses(
        (status = 200, description = "Per variant and per comparison with the control", body = ProportionsAnswer),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/stats/proportions")]
pub async fn proportions(
    _caller: InternalCaller,
    JsonBody(request): JsonBody<ProportionsRequest>,
) -> Result<web::Json<ProportionsAnswer>, Problem> {
    // Fisher's test and the exact chance to win take a while on large counts.
    web::block(move || super::proportions::answer(&request))
        .await
        .map_err(|error| Problem::internal(&error))?
        .map(web::Json)
}

/// Tests of a metric's mean in two or more arms, the first the control.
#[utoipa::path(
    tag = "stats",
    security(("service_token" = [])),
    request_body = MeansRequest,
    responses(
        (status = 200, description = "Per variant and per comparison with the control", body = MeansAnswer),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/stats/means")]
pub async fn means(
    _caller: InternalCaller,
    JsonBody(request): JsonBody<MeansRequest>,
) -> Result<web::Json<MeansAnswer>, Problem> {
    // The exact Mann-Whitney of many values takes a while: off the async threads.
    web::block(move || super::means::answer(&request))
        .await
        .map_err(|error| Problem::internal(&error))?
        .map(web::Json)
}

/// Sample size, power or minimum detectable effect: give two, get the third.
#[utoipa::path(
    tag = "stats",
    security(("service_token" = [])),
    request_body = PowerRequest,
    responses(
        (status = 200, description = "The design, completed", body = PowerAnswer),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/stats/power")]
pub async fn power(
    _caller: InternalCaller,
    JsonBody(request): JsonBody<PowerRequest>,
) -> Result<web::Json<PowerAnswer>, Problem> {
    super::power::answer(&request).map(web::Json)
}

/// Sample-ratio mismatch: observed counts against the planned weights.
#[utoipa::path(
    tag = "stats",
    security(("service_token" = [])),
    request_body = SrmRequest,
    responses(
        (status = 200, description = "The chi-square goodness-of-fit test", body = ChiSquareOutcome),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/stats/srm")]
pub async fn srm(
    _caller: InternalCaller,
    JsonBody(request): JsonBody<SrmRequest>,
) -> Result<web::Json<ChiSquareOutcome>, Problem> {
    super::srm(&request).map(web::Json)
}

/// Multiple-comparison adjusted p-values (Holm or Benjamini-Hochberg), in input order.
#[utoipa::path(
    tag = "stats",
    security(("service_token" = [])),
    request_body = AdjustRequest,
    responses(
        (status = 200, description = "The adjusted p-values", body = AdjustAnswer),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/stats/adjust")]
pub async fn adjust(
    _caller: InternalCaller,
    JsonBody(request): JsonBody<AdjustRequest>,
) -> Result<web::Json<AdjustAnswer>, Problem> {
    super::adjust(&request).map(web::Json)
}
