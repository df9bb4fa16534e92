//! The public tracking routes: open pixel, click redirect, honeypot, conversion beacon and
//! unsubscribe. Every one needs a genuine signed token: a forged or altered one gets 404 and
//! records nothing. A click redirects only to a link of the message's own template.

use std::collections::HashMap;
use std::sync::RwLock;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, get, post, route, web};
use chrono::Utc;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension as _, QueryDsl as _, QueryableByName, sql_query};
use diesel_async::RunQueryDsl as _;
use models::enums::ConversionKind;
use models::schema::variants;
use serde::Deserialize;
use service::Problem;
use service::problem::connection;
use utoipa::ToSchema;

use super::classify::{click_bot_reason, open_bot_reason};
use super::writer::{EventWriter, NewEvent};
use crate::tokens::{Claims, Purpose, TrackingKeys};

/// A transparent 1x1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The query parameter a click adds to its target, for the landing page's conversion beacon.
pub const TOKEN_PARAMETER: &str = "streamlab_token";

/// Variants' links by variant id: a variant's links never change once it is sending.
#[derive(Default)]
pub struct LinkCache {
    links: RwLock<HashMap<i64, serde_json::Value>>,
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("not found")
}

fn user_agent(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(512).collect())
}

fn client_ip(request: &HttpRequest) -> Option<String> {
    request
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned)
}

fn event(
    claims: Claims,
    kind: &'static str,
    request: &HttpRequest,
    link: Option<String>,
    bot_reason: Option<&'static str>,
) -> NewEvent {
    NewEvent {
        message_id: claims.message_id,
        kind,
        occurred_at: Utc::now(),
        user_agent: user_agent(request),
        ip: client_ip(request),
        link,
        bot_reason,
    }
}

fn unavailable(error: String) -> HttpResponse {
    tracing::warn!(%error, "cannot record a tracked hit");
    HttpResponse::ServiceUnavailable().finish()
}

/// The open pixel.
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The message's signed token")),
    responses((status = 200, description = "A 1x1 GIF", content_type = "image/gif"), (status = 404, description = "Not a genuine token"))
)]
#[get("/t/o/{token}")]
pub async fn open_pixel(
    keys: web::Data<TrackingKeys>,
    writer: web::Data<EventWriter>,
    request: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let Some(claims) = keys.verify(&token, Purpose::Open) else {
        return not_found();
    };
    let bot = open_bot_reason(user_agent(&request).as_deref());
    match writer
        .record(event(claims, "open", &request, None, bot))
        .await
    {
        Ok(()) => HttpResponse::Ok()
            .content_type("image/gif")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(PIXEL),
        Err(error) => unavailable(error),
    }
}

/// A click: recorded, then redirected to the template's link of that name.
#[utoipa::path(
    tag = "tracking",
    params(
        ("token" = String, Path, description = "The message's signed token"),
        ("link" = String, Path, description = "The link's name in the template"),
    ),
    responses((status = 302, description = "To the link's target"), (status = 404, description = "Not a genuine token, or no such link"))
)]
#[route("/t/c/{token}/{link}", method = "GET", method = "HEAD")]
pub async fn click(
    keys: web::Data<TrackingKeys>,
    writer: web::Data<EventWriter>,
    cache: web::Data<LinkCache>,
    pool: web::Data<models::db::Pool>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (token, link) = path.into_inner();
    let Some(claims) = keys.verify(&token, Purpose::Click) else {
        return not_found();
    };
    let target = match link_target(&cache, &pool, claims.variant_id, &link).await {
        Ok(Some(target)) => target,
        Ok(None) => return not_found(),
        Err(error) => return unavailable(error),
    };
    let Ok(mut location) = url::Url::parse(&target) else {
        return not_found();
    };
    // The landing page gets a token that can only report a conversion.
    location
        .query_pairs_mut()
        .append_pair(TOKEN_PARAMETER, &keys.sign(claims, Purpose::Convert));
    let bot = click_bot_reason(
        request.method() == Method::HEAD,
        user_agent(&request).as_deref(),
    );
    match writer
        .record(event(claims, "click", &request, Some(link), bot))
        .await
    {
        Ok(()) => HttpResponse::Found()
            .insert_header((header::LOCATION, location.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(error) => unavailable(error),
    }
}

async fn link_target(
    cache: &LinkCache,
    pool: &models::db::Pool,
    variant_id: i64,
    link: &str,
) -> Result<Option<String>, String> {
    let cached = cache
        .links
        .read()
        .ok()
        .and_then(|links| links.get(&variant_id).cloned());
    let links = match cached {
        Some(links) => links,
        None => {
            let mut connection = pool.get().await.map_err(|error| error.to_string())?;
            let Some(links) = variants::table
                .find(variant_id)
                .select(variants::links)
                .first::<serde_json::Value>(&mut connection)
                .await
                .optional()
                .map_err(|error| error.to_string())?
            else {
                return Ok(None);
            };
            if let Ok(mut cached) = cache.links.write() {
                cached.insert(variant_id, links.clone());
            }
            links
        }
    };
    Ok(links
        .get(link)
        .and_then(|target| target.as_str())
        .map(str::to_owned))
}

/// The hidden honeypot link: only a machine following every link reaches it.
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The message's signed token")),
    responses((status = 204, description = "Recorded as a link scanner's click"), (status = 404, description = "Not a genuine token"))
)]
#[route("/t/h/{token}", method = "GET", method = "HEAD")]
pub async fn honeypot(
    keys: web::Data<TrackingKeys>,
    writer: web::Data<EventWriter>,
    request: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let Some(claims) = keys.verify(&token, Purpose::Click) else {
        return not_found();
    };
    match writer
        .record(event(
            claims,
            "click",
            &request,
            Some("honeypot".to_owned()),
            Some("honeypot"),
        ))
        .await
    {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => unavailable(error),
    }
}

/// What the landing page reports.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "upgrade", "revenue_cents": 1000}))]
pub struct BeaconConversion {
    pub kind: ConversionKind,
    #[serde(default)]
    pub revenue_cents: i64,
}

/// The most a single reported conversion may be worth: $10,000.
const MAX_BEACON_REVENUE_CENTS: i64 = 1_000_000;

/// The conversion beacon: the landing page posts the token the click brought
/// (`streamlab_token`, good for this and nothing else) with what the customer did. Counted
/// only after a person's click on the e-mail, once per message and kind (a repeat answers
/// 204 and changes nothing). Any origin may post it.
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The conversion token a click brought")),
    request_body = BeaconConversion,
    responses(
        (status = 204, description = "Recorded (or recorded before)"),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a genuine token"),
        (status = 409, description = "Nobody clicked this e-mail's links", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown kind or field, or a revenue out of range; `errors` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/t/v/{token}")]
pub async fn conversion_beacon(
    keys: web::Data<TrackingKeys>,
    pool: web::Data<models::db::Pool>,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(claims) = keys.verify(&token, Purpose::Convert) else {
        return with_cors(not_found());
    };
    let conversion: BeaconConversion = match service::json::parse(&body) {
        Ok(conversion) => conversion,
        Err(refused) => return problem(refused),
    };
    if !(0..=MAX_BEACON_REVENUE_CENTS).contains(&conversion.revenue_cents) {
        return problem(Problem::validation(vec![service::FieldError::new(
            "revenue_cents",
            format!("must be 0 to {MAX_BEACON_REVENUE_CENTS}"),
        )]));
    }
    let mut connection = match connection(&pool).await {
        Ok(connection) => connection,
        Err(problem) => return with_cors(unavailable(problem.detail)),
    };
    let stored = sql_query(
        "WITH message AS (SELECT id, customer_id, experiment_id, clicked_at FROM messages WHERE id = $1),
              stored AS (
                  INSERT INTO conversions (customer_id, kind, revenue_cents, occurred_at, experiment_id, message_id, source)
                  SELECT customer_id, $2, $3, now(), experiment_id, id, 'beacon' FROM message
                  WHERE clicked_at IS NOT NULL
                  ON CONFLICT (message_id, kind) WHERE source = 'beacon' DO NOTHING
                  RETURNING id
              )
         SELECT (SELECT count(*) FROM message) AS messages,
                (SELECT count(*) FROM message WHERE clicked_at IS NOT NULL) AS clicked",
    )
    .bind::<SqlUuid, _>(claims.message_id)
    .bind::<Text, _>(conversion.kind.as_str())
    .bind::<BigInt, _>(conversion.revenue_cents)
    .get_result::<BeaconCheck>(&mut connection)
    .await;
    match stored {
        Ok(check) if check.messages == 0 => with_cors(not_found()),
        Ok(check) if check.clicked == 0 => problem(Problem::conflict(
            "nobody has clicked this e-mail's links: a conversion is counted only after a click",
        )),
        Ok(_) => with_cors(HttpResponse::NoContent().finish()),
        Err(error) => with_cors(unavailable(error.to_string())),
    }
}

#[derive(QueryableByName)]
struct BeaconCheck {
    #[diesel(sql_type = BigInt)]
    messages: i64,
    #[diesel(sql_type = BigInt)]
    clicked: i64,
}

/// The browser's preflight for the beacon (a JSON POST from another origin).
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The conversion token a click brought")),
    responses((status = 204, description = "The beacon may be posted from any origin"))
)]
#[route("/t/v/{token}", method = "OPTIONS")]
pub async fn conversion_beacon_preflight() -> HttpResponse {
    with_cors(
        HttpResponse::NoContent()
            .insert_header(("Access-Control-Allow-Methods", "POST"))
            .insert_header(("Access-Control-Allow-Headers", "content-type"))
            .insert_header(("Access-Control-Max-Age", "86400"))
            .finish(),
    )
}

fn with_cors(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::HeaderName::from_static("access-control-allow-origin"),
        header::HeaderValue::from_static("*"),
    );
    response
}

fn problem(problem: Problem) -> HttpResponse {
    with_cors(problem.error_response())
}

/// The unsubscribe page: a confirmation button (a GET must not unsubscribe: link scanners
/// fetch every link).
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The message's signed token")),
    responses((status = 200, description = "The confirmation page", content_type = "text/html"), (status = 404, description = "Not a genuine token"))
)]
#[get("/u/{token}")]
pub async fn unsubscribe_page(
    keys: web::Data<TrackingKeys>,
    settings: web::Data<crate::Settings>,
    token: web::Path<String>,
) -> HttpResponse {
    if keys.verify(&token, Purpose::Unsubscribe).is_none() {
        return not_found();
    }
    let mut action = String::new();
    models::render::html_escape(
        &mut action,
        &format!("{}u/{}", settings.tracking_base_url, token.as_str()),
    );
    page(
        StatusCode::OK,
        &format!(
            "<h1>Unsubscribe</h1><p>Stop receiving these e-mails?</p>\
             <form method=\"post\" action=\"{action}\"><button type=\"submit\">Unsubscribe</button></form>"
        ),
    )
}

/// Unsubscribes: the page's button, or a mailbox provider's one-click POST (RFC 8058).
#[utoipa::path(
    tag = "tracking",
    params(("token" = String, Path, description = "The message's signed token")),
    responses((status = 200, description = "Unsubscribed", content_type = "text/html"), (status = 404, description = "Not a genuine token"))
)]
#[post("/u/{token}")]
pub async fn unsubscribe(
    keys: web::Data<TrackingKeys>,
    pool: web::Data<models::db::Pool>,
    request: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let Some(claims) = keys.verify(&token, Purpose::Unsubscribe) else {
        return not_found();
    };
    let mut connection = match connection(&pool).await {
        Ok(connection) => connection,
        Err(problem) => return unavailable(problem.detail),
    };
    let agent = user_agent(&request);
    let stored = sql_query(
        "WITH message AS (SELECT id, customer_id, lower(email) AS email FROM messages WHERE id = $1),
              event AS (
                  INSERT INTO message_events (message_id, kind, user_agent)
                  SELECT id, 'unsubscribe', $2 FROM message
                  RETURNING message_id
              )
         INSERT INTO suppressions (email, customer_id, reason, message_id)
         SELECT email, customer_id, 'unsubscribe', id FROM message
         ON CONFLICT (email) DO NOTHING",
    )
    .bind::<SqlUuid, _>(claims.message_id)
    .bind::<diesel::sql_types::Nullable<Text>, _>(agent)
    .execute(&mut connection)
    .await;
    match stored {
        Ok(_) => page(
            StatusCode::OK,
            "<h1>Unsubscribed</h1><p>You will not receive these e-mails again.</p>",
        ),
        Err(error) => unavailable(error.to_string()),
    }
}

fn page(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>StreamLab</title></head><body>{body}</body></html>"
        ))
}
