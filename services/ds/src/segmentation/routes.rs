//! `POST /v1/segmentation-runs`: queues a segmentation run as a job.

use actix_web::{HttpResponse, post, web};
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;
use models::enums::{JobKind, SegmentationScheme};
use models::jobs::Job;
use models::schema::segmentation_rule_sets;
use models::segmentation::SegmentationRunRequest;
use service::auth::InternalCaller;
use service::json::JsonBody;
use service::problem::connection;
use service::validate::Checks;
use service::{FieldError, Problem};

/// The longest window a run may look back over: a century.
const MAX_WINDOW_DAYS: i32 = 36_500;

/// Queues a run of a rule set (by id, or the standard one of `scheme`; `classic` by default).
/// The rules are read when the run starts and kept on the run.
#[utoipa::path(
    tag = "segmentation",
    security(("service_token" = [])),
    request_body = SegmentationRunRequest,
    responses(
        (status = 202, description = "The run's job, queued", body = Job),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad value or an unknown rule set, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/segmentation-runs")]
pub async fn start_run(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    JsonBody(request): JsonBody<SegmentationRunRequest>,
) -> Result<HttpResponse, Problem> {
    let mut checks = Checks::new();
    if let Some(days) = request.window_days {
        checks.range("window_days", days, 1, MAX_WINDOW_DAYS);
    }
    checks.finish()?;
    let mut connection = connection(&pool).await?;
    let rule_set: Option<(i64, SegmentationScheme)> = match request.rule_set_id {
        Some(id) => segmentation_rule_sets::table
            .find(id)
            .select((segmentation_rule_sets::id, segmentation_rule_sets::scheme))
            .first(&mut connection)
            .await
            .optional()?,
        None => {
            let scheme = request.scheme.unwrap_or(SegmentationScheme::Classic);
            segmentation_rule_sets::table
                .filter(segmentation_rule_sets::name.eq(scheme.as_str()))
                .select((segmentation_rule_sets::id, segmentation_rule_sets::scheme))
                .first(&mut connection)
                .await
                .optional()?
        }
    };
    let Some((rule_set_id, scheme)) = rule_set else {
        let (field, message) = match request.rule_set_id {
            Some(id) => ("rule_set_id", format!("no rule set {id}")),
            None => ("scheme", "its standard rule set was deleted".to_owned()),
        };
        return Err(Problem::validation(vec![FieldError::new(field, message)]));
    };
    if let Some(asked) = request.scheme
        && asked != scheme
    {
        Checks::new()
            .fail(
                "scheme",
                format!("rule set {rule_set_id} is a {scheme} rule set"),
            )
            .finish()?;
    }
    let payload = serde_json::to_value(SegmentationRunRequest {
        rule_set_id: Some(rule_set_id),
        scheme: Some(scheme),
        window_days: request.window_days,
    })
    .map_err(|error| Problem::internal(&error))?;
    service::jobs::enqueue(&mut connection, JobKind::Segmentation, payload).await
}
