//! The dashboard's static files, compiled into the binary: no internet, no file layout to get
//! wrong at deploy time.

use actix_web::http::header;
use actix_web::{HttpResponse, get};

const APP_CSS: &str = include_str!("../../assets/app.css");

#[get("/assets/app.css")]
pub async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_CSS)
}

const APP_JS: &str = include_str!("../../assets/app.js");

#[get("/assets/app.js")]
pub async fn app_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_JS)
}
