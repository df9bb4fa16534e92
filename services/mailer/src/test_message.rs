//! `POST /v1/test-message`: one e-mail to an address, now, to check the transport.

use actix_web::{get, post, web};
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use service::auth::InternalCaller;
use service::json::JsonBody;
use service::{FieldError, Problem};
use utoipa::ToSchema;

use crate::send::transport::{SendFailure, Sender, Transport};
use crate::settings::Settings;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "me@example.com"}))]
pub struct TestMessageRequest {
    pub to: String,
    pub subject: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestMessageSent {
    /// Where it went: the SMTP server (no password) or the outbox folder.
    pub transport: String,
    pub to: String,
}

/// Sends one plain e-mail through the configured transport. A refusal of the server comes
/// back as 502 with its reply.
#[utoipa::path(
    tag = "campaigns",
    security(("service_token" = [])),
    request_body = TestMessageRequest,
    responses(
        (status = 200, description = "Accepted by the transport", body = TestMessageSent),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an address", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The server refused it or could not be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/test-message")]
pub async fn send_test_message(
    _caller: InternalCaller,
    settings: web::Data<Settings>,
    transport: web::Data<Transport>,
    JsonBody(request): JsonBody<TestMessageRequest>,
) -> Result<web::Json<TestMessageSent>, Problem> {
    let to: Mailbox = request.to.trim().parse().map_err(|error| {
        Problem::validation(vec![FieldError::new(
            "to",
            format!("is not an e-mail address: {error}"),
        )])
    })?;
    let subject = request
        .subject
        .clone()
        .unwrap_or_else(|| "StreamLab test message".to_owned());
    if subject.chars().count() > 200 {
        return Err(Problem::validation(vec![FieldError::new(
            "subject",
            "must be at most 200 characters",
        )]));
    }
    let message = lettre::Message::builder()
        .from(settings.from.clone())
        .to(to.clone())
        .subject(subject)
        .body("This is a test message from StreamLab: the mailer's transport works.".to_owned())
        .map_err(|error| Problem::validation(vec![FieldError::new("to", error.to_string())]))?;
    let mut sender = Sender::new(transport.get_ref().clone());
    sender
        .send(message.envelope(), &message.formatted())
        .await
        .map_err(|failure| {
            let reason = match failure {
                SendFailure::NoConnection(reason) | SendFailure::Transient(reason) => reason,
                SendFailure::Permanent { reply, .. } => reply,
            };
            Problem::new(actix_web::http::StatusCode::BAD_GATEWAY, reason)
        })?;
    Ok(web::Json(TestMessageSent {
        transport: transport.describe(),
        to: to.email.to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransportInUse {
    /// `smtp://host:port` (never the password) or `file://folder`.
    pub transport: String,
}

/// Where this mailer sends e-mail.
#[utoipa::path(
    tag = "campaigns",
    security(("service_token" = [])),
    responses(
        (status = 200, description = "The transport", body = TransportInUse),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/transport")]
pub async fn transport_in_use(
    _caller: InternalCaller,
    transport: web::Data<Transport>,
) -> web::Json<TransportInUse> {
    web::Json(TransportInUse {
        transport: transport.describe(),
    })
}
