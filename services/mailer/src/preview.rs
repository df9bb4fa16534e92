//! `POST /v1/preview`: a variant's e-mail rendered for one real customer, exactly as the
//! sender would render it, with links leading straight to their targets (no tracking).

use actix_web::{post, web};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl as _;
use service::auth::InternalCaller;
use service::json::JsonBody;
use service::problem::connection;
use service::{FieldError, Problem};

use models::messaging::{Preview, PreviewRequest};

use crate::send::compose::{CustomerValues, Links, Rendered, VariantTemplate, render_email};
use crate::send::ledger::contexts;

#[derive(diesel::QueryableByName)]
struct Recipient {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    first_name: String,
    #[diesel(sql_type = Text)]
    last_name: String,
    #[diesel(sql_type = Text)]
    email: String,
}

const RECIPIENT_SQL: &str = "\
SELECT c.id, c.first_name, c.last_name, c.email FROM customers c
WHERE CASE WHEN $1::bigint IS NOT NULL THEN c.id = $1
           ELSE c.email_consent AND ($2::bigint IS NULL OR EXISTS (
                    SELECT 1 FROM segment_memberships sm
                    WHERE sm.customer_id = c.id AND sm.segment_id = $2
                      AND sm.run_id = (SELECT max(id) FROM segmentation_runs WHERE status = 'succeeded')))
      END
ORDER BY c.id LIMIT 1";

/// Renders a variant's subject, text and HTML for one customer (their name, plan, price,
/// favourite genre and a title they have not watched), as the sender would.
#[utoipa::path(
    tag = "campaigns",
    security(("service_token" = [])),
    request_body = PreviewRequest,
    responses(
        (status = 200, description = "The rendered e-mail", body = Preview),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer, or nobody to render for", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A template that does not parse, or names an undeclared link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/preview")]
pub async fn preview(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    JsonBody(request): JsonBody<PreviewRequest>,
) -> Result<web::Json<Preview>, Problem> {
    if !(request.links.is_null() || request.links.is_object()) {
        return Err(Problem::validation(vec![FieldError::new(
            "links",
            "must be an object of link names and URLs",
        )]));
    }
    let variant = VariantTemplate {
        id: 0,
        is_control: false,
        subject: request.subject,
        body_text: request.body_text,
        body_html: request.body_html,
        links: request.links,
    };
    // The api has checked every field; this answers a caller that did not.
    variant
        .check()
        .map_err(|message| Problem::validation(vec![FieldError::new("body", message)]))?;
    let mut connection = connection(&pool).await?;
    let recipient = diesel::sql_query(RECIPIENT_SQL)
        .bind::<Nullable<BigInt>, _>(request.customer_id)
        .bind::<Nullable<BigInt>, _>(request.segment_id)
        .load::<Recipient>(&mut connection)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| match request.customer_id {
            Some(id) => Problem::not_found(format!("customer {id} does not exist")),
            None => Problem::not_found("no customer who agreed to e-mail is in that audience"),
        })?;
    let context = contexts(&mut connection, &[recipient.id]).await?;
    let values = CustomerValues::new(
        &recipient.first_name,
        &recipient.last_name,
        context.as_slice().first(),
        "#unsubscribe".to_owned(),
        Links::Direct,
        &variant.links,
    );
    let Rendered {
        subject,
        text,
        html,
    } = render_email(&variant, &values)
        .map_err(|message| Problem::validation(vec![FieldError::new("body_html", message)]))?;
    Ok(web::Json(Preview {
        customer_id: recipient.id,
        customer_name: format!("{} {}", recipient.first_name, recipient.last_name),
        email: recipient.email,
        subject,
        text,
        html,
    }))
}
