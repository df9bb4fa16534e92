//! `/stats`: the power / sample-size calculator and the significance calculator for any
//! counts, both answered by the API's `/api/v1/stats` routes (computed on ds) from
//! `assets/stats.js`.

use actix_web::{HttpResponse, get};
use askama::Template;

use super::login::html;
use super::signed_in::SignedIn;

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    page: &'static str,
    csrf_token: String,
}

#[get("/stats")]
pub async fn stats_page(signed_in: SignedIn) -> HttpResponse {
    html(&StatsPage {
        page: "stats",
        csrf_token: signed_in.session.csrf_token,
    })
}
