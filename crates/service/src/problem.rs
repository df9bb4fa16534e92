//! RFC 7807 `application/problem+json`: the one shape every error of every service takes.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One field at fault. `field` is a dotted path with `[i]` for array items: `variants[0].trials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "variants[0].trials")]
    pub field: String,
    #[schema(example = "must be >= successes")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "variants[0].trials", "message": "must be >= successes"}]
}))]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short, the same for every problem of this type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human sentence about this occurrence.
    pub detail: String,
    /// The fields at fault, when the request's content is to blame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem of a kind the HTTP status says all about (`about:blank` in RFC 7807 terms,
    /// but named, so clients can match on it).
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        let (slug, title) = match status.as_u16() {
            400 => ("malformed-request", "Malformed request"),
            401 => ("unauthorized", "Unauthorized"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not-found", "Not found"),
            405 => ("method-not-allowed", "Method not allowed"),
            409 => ("conflict", "Conflict"),
            413 => ("payload-too-large", "Payload too large"),
            415 => ("unsupported-media-type", "Unsupported media type"),
            422 => ("validation-failed", "Validation failed"),
            502 => ("bad-gateway", "Bad gateway"),
            503 => ("unavailable", "Service unavailable"),
            _ if status.is_server_error() => ("internal", "Internal error"),
            _ => ("error", status.canonical_reason().unwrap_or("Error")),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// 422 with the fields at fault.
    pub fn validation(errors: Vec<FieldError>) -> Problem {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Problem {
            errors,
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// A failure that is ours, not the caller's: the cause goes to the log, not to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(%cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error occurred; it has been logged",
        )
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        ));
        if self.status == 401 {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(self)
    }
}

/// A database error as the caller should see it: a constraint the request broke is the
/// caller's problem (409 or 422, never a 500); anything else is ours.
impl From<diesel::result::Error> for Problem {
    fn from(error: diesel::result::Error) -> Problem {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            Error::NotFound => Problem::not_found("no such record"),
            Error::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or("a constraint");
                match kind {
                    DatabaseErrorKind::UniqueViolation => Problem::conflict(format!(
                        "a record with the same value already exists ({constraint})"
                    )),
                    DatabaseErrorKind::ForeignKeyViolation => {
                        let detail = info.details().unwrap_or_default();
                        if detail.contains("is still referenced") {
                            Problem::conflict(format!(
                                "other records still refer to this one: {detail}"
                            ))
                        } else {
                            Problem::validation(vec![FieldError::new(
                                key_column(detail).unwrap_or(constraint),
                                "refers to a record that does not exist",
                            )])
                        }
                    }
                    DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                        Problem::validation(vec![FieldError::new(
                            info.column_name().unwrap_or(constraint),
                            format!("violates {constraint}"),
                        )])
                    }
                    DatabaseErrorKind::SerializationFailure => Problem::unavailable(
                        "the database was busy with a conflicting change; retry",
                    ),
                    _ if info.message().contains("statement timeout") => {
                        tracing::warn!(%error, "statement timed out");
                        Problem::unavailable(
                            "the query took longer than allowed; narrow the filters or retry",
                        )
                    }
                    _ => Problem::internal(&error),
                }
            }
            _ => Problem::internal(&error),
        }
    }
}

/// The column of PostgreSQL's "Key (customer_id)=(7) is not present in table ..." detail.
fn key_column(detail: &str) -> Option<&str> {
    let rest = detail.strip_prefix("Key (")?;
    let (column, _) = rest.split_once(")=")?;
    Some(column)
}

/// A connection from the pool, or a 503 when the database cannot be reached.
pub async fn connection(pool: &models::db::Pool) -> Result<models::db::PooledConnection, Problem> {
    pool.get().await.map_err(|error| {
        tracing::warn!(%error, "no database connection");
        match error {
            // Every connection is in use for longer than a request may wait: overload.
            deadpool::managed::PoolError::Timeout(deadpool::managed::TimeoutType::Wait) => {
                Problem::unavailable(format!(
                    "all {} database connections are busy; retry shortly",
                    pool.status().max_size
                ))
            }
            // The cause (host, credentials) goes to the log, not to the caller.
            _ => Problem::unavailable("the database is unavailable"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_architecture_contract() {
        let problem = Problem::validation(vec![FieldError::new(
            "variants[0].trials",
            "must be >= successes",
        )]);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "/problems/validation-failed",
                "title": "Validation failed",
                "status": 422,
                "detail": "variants[0].trials: must be >= successes",
                "errors": [{"field": "variants[0].trials", "message": "must be >= successes"}]
            })
        );
    }

    #[test]
    fn names_the_column_of_a_foreign_key_detail() {
        assert_eq!(
            key_column("Key (customer_id)=(7) is not present in table \"customers\"."),
            Some("customer_id")
        );
        assert_eq!(key_column("something else"), None);
    }

    #[test]
    fn omits_errors_when_no_field_is_at_fault() {
        let json = serde_json::to_value(Problem::not_found("no customer 7")).unwrap();
        assert!(json.get("errors").is_none());
        assert_eq!(json["status"], 404);
    }

    #[test]
    fn response_has_the_problem_content_type() {
        let response = Problem::conflict("taken").error_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_CONTENT_TYPE
        );
    }
}
