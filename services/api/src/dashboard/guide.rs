//! `/guide/`: the user guide, the mdBook built from `docs/` (`mdbook build docs`), served
//! from `GUIDE_DIR`; where it is not built, a page that says how to build it.

use std::path::Path;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::error_page::error_page;

/// The guide's routes for the book in `folder`.
pub fn configure(config: &mut web::ServiceConfig, folder: &Path) {
    if folder.join("index.html").is_file() {
        config.service(
            actix_files::Files::new("/guide", folder)
                .index_file("index.html")
                .redirect_to_slash_directory(),
        );
    } else {
        config
            .service(web::resource(["/guide", "/guide/{rest:.*}"]).route(web::get().to(not_built)));
    }
}

async fn not_built() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        "The guide is not built on this server. Build it with `mdbook build docs` \
         (cargo install mdbook --locked), or point GUIDE_DIR at a built copy; its sources are \
         the Markdown files under docs/src/.",
    )
}
