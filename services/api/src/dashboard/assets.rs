//! The dashboard's static files, compiled into the binary: no internet, no file layout to get
//! wrong at deploy time.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

/// Name, media type and contents of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
    (
        "wizard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/wizard.js"),
    ),
    (
        "stats.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/stats.js"),
    ),
];

#[get("/assets/{name}")]
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(known, _, _)| *known == name.as_str()) {
        Some((_, media_type, body)) => HttpResponse::Ok()
            .content_type(*media_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}
