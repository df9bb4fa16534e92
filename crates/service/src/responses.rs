//! The error answers of the public routes, by kind of route, for the OpenAPI document:
//! `responses((status = 200, body = X), GetErrors)`.

use utoipa::IntoResponses;

use crate::problem::Problem;

/// What a list route may answer besides its page.
#[derive(IntoResponses)]
pub enum ListErrors {
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 422,
        description = "A query parameter is invalid; `errors` names it",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
    #[response(
        status = 503,
        description = "The database is unavailable",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// What a route reading one record may answer besides the record.
#[derive(IntoResponses)]
pub enum GetErrors {
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 404,
        description = "No such record, or an id that does not parse",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 503,
        description = "The database is unavailable",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// What a route creating or changing records may answer besides the record.
#[derive(IntoResponses)]
pub enum WriteErrors {
    #[response(
        status = 400,
        description = "Malformed JSON",
        content_type = "application/problem+json"
    )]
    Malformed(Problem),
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The key is not an admin key",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 404,
        description = "No such record, or an id that does not parse",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 409,
        description = "A record with the same unique value exists, or the record's state forbids the change",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    #[response(
        status = 413,
        description = "The body is over the size limit",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "The body is not JSON",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
    #[response(
        status = 422,
        description = "A field is invalid or refers to a missing record; `errors` names it",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
    #[response(
        status = 503,
        description = "The database is unavailable",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// What a delete route may answer besides 204.
#[derive(IntoResponses)]
pub enum DeleteErrors {
    #[response(
        status = 401,
        description = "No valid API key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The key is not an admin key",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 404,
        description = "No such record, or an id that does not parse",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 409,
        description = "Other records still refer to this one, or its state forbids deleting it",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    #[response(
        status = 503,
        description = "The database is unavailable",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}
