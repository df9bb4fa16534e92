//! What the api answers when it passes a request on to a peer (ds, the mailer, etl): the
//! peer's answer, its refusal as it gave it, or 503 / 502 when it is down or failing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError as _};
use clients::{ClientError, ServiceClient};
use models::jobs::Job;
use serde::Serialize;
use service::Problem;

/// A failing peer as the api's caller sees it: a refusal passes through with the peer's
/// problem; a peer that is down is 503, one that fails 502.
pub fn peer_problem(error: ClientError) -> HttpResponse {
    match error {
        ClientError::Refused {
            status, problem, ..
        } => HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
            .content_type(service::problem::PROBLEM_CONTENT_TYPE)
            .json(problem),
        ClientError::Unreachable { .. } => Problem::unavailable(error.to_string()).error_response(),
        ClientError::Status { .. } | ClientError::BadAnswer { .. } => {
            Problem::new(StatusCode::BAD_GATEWAY, error.to_string()).error_response()
        }
    }
}

/// A job a peer queued, as the api's caller sees it: 202 and where to follow it; or the
/// peer's refusal or failure.
pub fn job_accepted(queued: Result<Job, ClientError>) -> HttpResponse {
    match queued {
        Ok(job) => HttpResponse::Accepted()
            .insert_header((header::LOCATION, format!("/api/v1/jobs/{}", job.id)))
            .json(job),
        Err(error) => peer_problem(error),
    }
}

/// Posts `request` as JSON to `path` on `peer` and answers with the peer's JSON answer
/// (200), or its problem.
pub async fn forward_json<T: Serialize>(
    peer: &ServiceClient,
    path: &str,
    request: &T,
) -> Result<HttpResponse, Problem> {
    let body = serde_json::to_vec(request).map_err(|error| Problem::internal(&error))?;
    Ok(
        match peer
            .post_raw::<serde_json::Value>(path, "application/json", body)
            .await
        {
            Ok(answer) => HttpResponse::Ok().json(answer),
            Err(error) => peer_problem(error),
        },
    )
}
