//! The dashboard's error pages: the reason in words, on a page with the way back, never a
//! blank page or a JSON document.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page saying `message`, with `status`.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = ErrorPage { title, message }
        .render()
        .unwrap_or_else(|_| message.to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The page when the database cannot be reached (or a query failed): the cause is logged,
/// the reader gets a sentence.
pub fn unavailable(cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::warn!(%cause, "a page cannot be shown");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "This page cannot be shown right now: the database is unavailable. Try again in a moment.",
    )
}
