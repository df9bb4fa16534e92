//! Every page but the login needs a live session: this finds it, or answers with the way to
//! the login page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use models::db::{Pool, PooledConnection};
use service::auth::ApiKeys;
use service::session::{self, Session};

/// The request's session and a connection; or the response to send instead.
pub async fn signed_in(
    request: &HttpRequest,
    pool: &Pool,
    keys: &ApiKeys,
) -> Result<(Session, PooledConnection), HttpResponse> {
    let to_login = || {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish()
    };
    let token = session::cookie_token(request).ok_or_else(to_login)?;
    let mut connection = pool.get().await.map_err(|_| unavailable())?;
    match session::find(&mut connection, keys, &token).await {
        Ok(Some(session)) => Ok((session, connection)),
        Ok(None) => Err(to_login()),
        Err(_) => Err(unavailable()),
    }
}

/// A readable answer when the database cannot be reached: never a blank page.
pub fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body("This page cannot be shown right now: the database is unavailable. Try again in a moment.")
}
