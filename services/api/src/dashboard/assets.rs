//! The dashboard's static files, compiled into the binary: no internet, no file layout to get
//! wrong at deploy time.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

/// Pages name assets with this (`/assets/app.js?v=VERSION`): a hash of every asset's
/// contents, so that a changed script is never served from a browser's cache.
pub const VERSION: u64 = {
    let mut hash = FNV_OFFSET;
    let mut index = 0;
    while index < ASSETS.len() {
        hash = fnv1a(hash, ASSETS[index].2.as_bytes());
        index += 1;
    }
    hash
};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`, continuing from `hash`: enough to tell versions apart, and computed
/// at compile time.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        index += 1;
    }
    hash
}

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
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}
