//! `/api/v1/stats/*`: the statistics calculators, computed by ds. They change nothing, so a
//! read key is enough. Every interval is `[low, high]`; `alpha` is 0.05 unless given; a test
//! the data leave undefined (a zero cell where it needs none) answers `"p_value": null` with
//! a `note` saying why.

use actix_web::{HttpResponse, post, web};
use models::stats::{
    AdjustAnswer, AdjustRequest, ChiSquareOutcome, MeansAnswer, MeansRequest, PowerAnswer,
    PowerRequest, ProportionsAnswer, ProportionsRequest, SrmRequest,
};
use service::Problem;
use service::auth::ReadAccess;
use service::json::JsonBody;
use service::responses::WriteErrors;

use crate::peer_answers::forward_json;
use crate::status::Peers;

/// Conversion rates of two or more variants, the first the control: per variant the rate and
/// its Wilson interval; per treatment the absolute lift (Newcombe interval), the relative lift
/// (delta-method interval), the pooled z-test, chi-square with and without Yates, G-test,
/// Fisher's exact test, the exact Bayesian chance to win and expected loss (Beta(1,1) prior
/// unless `prior`), the always-valid sequential test; and the sample-ratio check.
#[utoipa::path(
    tag = "stats",
    security(("api_key" = [])),
    request_body = ProportionsRequest,
    responses(
        (status = 200, description = "Per variant and per comparison with the control", body = ProportionsAnswer),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/proportions")]
pub async fn proportions(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<ProportionsRequest>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.ds, "v1/stats/proportions", &request).await
}

/// A metric's mean in two or more variants (as `n`, `sum`, `sum_squares` or raw `values`),
/// the first the control: Welch and Student t-tests with the interval of the difference, the
/// relative lift with its delta-method interval, Mann-Whitney U when values are given, the
/// normal Bayesian summary and the sequential test.
#[utoipa::path(
    tag = "stats",
    security(("api_key" = [])),
    request_body = MeansRequest,
    responses(
        (status = 200, description = "Per variant and per comparison with the control", body = MeansAnswer),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/means")]
pub async fn means(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<MeansRequest>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.ds, "v1/stats/means", &request).await
}

/// Sizing: give two of `mde`, `power` and `n_per_variant` (the control arm's size) and get the
/// third. Rates by default; `"kind": "means"` with `sd` for a mean; `relative` for an effect
/// as a fraction of `baseline`; `ratio` for a treatment arm that many times the control's.
#[utoipa::path(
    tag = "stats",
    security(("api_key" = [])),
    request_body = PowerRequest,
    responses(
        (status = 200, description = "The design, completed", body = PowerAnswer),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/power")]
pub async fn power(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<PowerRequest>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.ds, "v1/stats/power", &request).await
}

/// Sample-ratio mismatch: a chi-square goodness of fit of the observed counts against the
/// planned weights (equal unless given).
#[utoipa::path(
    tag = "stats",
    security(("api_key" = [])),
    request_body = SrmRequest,
    responses(
        (status = 200, description = "The test", body = ChiSquareOutcome),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/srm")]
pub async fn srm(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<SrmRequest>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.ds, "v1/stats/srm", &request).await
}

/// Adjusted p-values for multiple comparisons: Holm-Bonferroni (`holm`) or
/// Benjamini-Hochberg (`bh`), in the input's order.
#[utoipa::path(
    tag = "stats",
    security(("api_key" = [])),
    request_body = AdjustRequest,
    responses(
        (status = 200, description = "The adjusted p-values", body = AdjustAnswer),
        WriteErrors,
        (status = 502, description = "ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ds is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/adjust")]
pub async fn adjust(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<AdjustRequest>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.ds, "v1/stats/adjust", &request).await
}
