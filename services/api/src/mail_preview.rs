//! `POST /api/v1/mail/preview`: a variant's e-mail as one real customer would get it,
//! rendered by the mailer (the same code that sends), for the experiment wizard's preview.

use actix_web::{HttpResponse, post, web};
use models::messaging::{Preview, PreviewRequest};
use service::Problem;
use service::auth::ReadAccess;
use service::json::JsonBody;
use service::responses::WriteErrors;

use crate::peer_answers::forward_json;
use crate::status::Peers;

/// Renders a variant's subject, text and HTML for a customer (given, or the first who agreed
/// to e-mail in the segment), with their name, plan, price, favourite genre and a title they
/// have not watched; links lead straight to their targets and nothing is recorded.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    request_body = PreviewRequest,
    responses(
        (status = 200, description = "The rendered e-mail", body = Preview),
        WriteErrors,
        (status = 404, description = "No such customer, or nobody in the audience", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The mailer failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The mailer is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/mail/preview")]
pub async fn preview(
    _: ReadAccess,
    peers: web::Data<Peers>,
    JsonBody(request): JsonBody<PreviewRequest>,
) -> Result<HttpResponse, Problem> {
    // Absent links are no links: a {{link:NAME}} then names none.
    let no_links = serde_json::json!({});
    crate::templates::check_message(
        None,
        Some(&request.subject),
        Some(&request.body_text),
        Some(&request.body_html),
        Some(if request.links.is_null() {
            &no_links
        } else {
            &request.links
        }),
    )?;
    forward_json(&peers.mailer, "v1/preview", &request).await
}
