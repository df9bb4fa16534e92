//! Every page but the login needs a live session: `SignedIn` finds it (with a database
//! connection) before the page's handler runs, or answers with the way to the login page.

use std::fmt;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use models::db::{Pool, PooledConnection};
use service::auth::ApiKeys;
use service::session::{self, Session};

use super::error_page::unavailable;

/// The request's session and a connection for the page to read with.
pub struct SignedIn {
    pub session: Session,
    pub connection: PooledConnection,
}

/// Why a page cannot be shown to this request.
#[derive(Debug)]
pub enum NotSignedIn {
    /// No session, or an expired or revoked one.
    ToLogin,
    /// The database cannot be reached.
    Unavailable(String),
}

impl fmt::Display for NotSignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSignedIn::ToLogin => f.write_str("not signed in"),
            NotSignedIn::Unavailable(cause) => write!(f, "the database is unavailable: {cause}"),
        }
    }
}

impl ResponseError for NotSignedIn {
    fn status_code(&self) -> StatusCode {
        match self {
            NotSignedIn::ToLogin => StatusCode::SEE_OTHER,
            NotSignedIn::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            NotSignedIn::ToLogin => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish(),
            NotSignedIn::Unavailable(cause) => unavailable(cause),
        }
    }
}

impl FromRequest for SignedIn {
    type Error = NotSignedIn;
    type Future = LocalBoxFuture<'static, Result<SignedIn, NotSignedIn>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let token = session::cookie_token(&request).ok_or(NotSignedIn::ToLogin)?;
            let pool = request
                .app_data::<web::Data<Pool>>()
                .ok_or_else(|| NotSignedIn::Unavailable("no database pool".to_owned()))?;
            let keys = request
                .app_data::<web::Data<ApiKeys>>()
                .ok_or_else(|| NotSignedIn::Unavailable("no API keys".to_owned()))?;
            let mut connection = pool
                .get()
                .await
                .map_err(|error| NotSignedIn::Unavailable(error.to_string()))?;
            match session::find(&mut connection, keys, &token).await {
                Ok(Some(session)) => Ok(SignedIn {
                    session,
                    connection,
                }),
                Ok(None) => Err(NotSignedIn::ToLogin),
                Err(error) => Err(NotSignedIn::Unavailable(error.to_string())),
            }
        })
    }
}
