//! Logging in and out of the dashboard: an API key in, a session cookie out.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use service::auth::ApiKeys;
use service::problem::connection;
use service::session;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

/// Renders a template as an HTML response, or a plain 500 when it cannot.
pub fn html(page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the page cannot be shown")
        }
    }
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

#[get("/login")]
pub async fn login_page() -> HttpResponse {
    html(&LoginPage { error: None })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    key: String,
}

#[post("/login")]
pub async fn login(
    request: HttpRequest,
    pool: web::Data<models::db::Pool>,
    keys: web::Data<ApiKeys>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let failed = |message: &str| {
        html(&LoginPage {
            error: Some(message.to_owned()),
        })
    };
    let mut connection = match connection(&pool).await {
        Ok(connection) => connection,
        Err(_) => return failed("The database is unavailable: try again in a moment."),
    };
    match session::open(&mut connection, &keys, form.key.trim()).await {
        Ok(Some(token)) => {
            let mut response = redirect("/");
            if response
                .add_cookie(&session::cookie(&request, &token))
                .is_err()
            {
                return failed("The session cannot be started.");
            }
            response
        }
        Ok(None) => failed("That is not a valid API key."),
        Err(error) => {
            tracing::error!(%error, "cannot open a session");
            failed("The session cannot be started: try again in a moment.")
        }
    }
}

#[post("/logout")]
pub async fn logout(request: HttpRequest, pool: web::Data<models::db::Pool>) -> HttpResponse {
    if let Some(token) = session::cookie_token(&request)
        && let Ok(mut connection) = connection(&pool).await
        && let Err(error) = session::close(&mut connection, &token).await
    {
        tracing::warn!(%error, "cannot end a session");
    }
    let mut response = redirect("/login");
    let _ = response.add_cookie(&session::cookie(&request, ""));
    response
}
