//! `POST /v1/bounces`: a bounce or complaint reported after the fact.

use actix_web::{HttpRequest, post, web};
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension as _, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use serde::{Deserialize, Serialize};
use service::Problem;
use service::auth::InternalCaller;
use service::problem::connection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::report::{self, ReportKind};
use super::{Outcome, record};

/// The simple form of a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message_id": "<5f0c6a2e-8d3b-4f7a-9b1e-2c4d6e8f0a1b@streamlab.example>",
    "outcome": "hard_bounce", "diagnostic": "550 5.1.1 user unknown"}))]
pub struct BounceForm {
    /// The Message-ID header we sent, or the ledger's message id.
    pub message_id: Option<String>,
    /// Used when `message_id` is absent: the latest e-mail sent to this address.
    pub email: Option<String>,
    pub outcome: Outcome,
    pub diagnostic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BounceRecorded {
    /// The ledger's message the report was matched to.
    pub message_id: Uuid,
    pub outcome: Outcome,
    /// Whether the address is now on the suppression list.
    pub suppressed: bool,
}

#[derive(QueryableByName)]
struct MessageId {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Records a bounce or complaint: JSON (`BounceForm`), or the raw report as received: a
/// delivery status notification (RFC 3464) or a feedback report (ARF, RFC 5965), sent as
/// `message/rfc822`, `multipart/report` or `text/plain`. The report is matched to its
/// message by the Message-ID it quotes.
#[utoipa::path(
    tag = "bounces",
    security(("service_token" = [])),
    request_body(
        description = "JSON, or a DSN / ARF report as raw text",
        content((BounceForm = "application/json"), (String = "message/rfc822"), (String = "multipart/report"), (String = "text/plain"))
    ),
    responses(
        (status = 200, description = "Recorded", body = BounceRecorded),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No message matches the report", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a report that can be read, or not a failure", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/bounces")]
pub async fn report_bounce(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<web::Json<BounceRecorded>, Problem> {
    // What the report says, read before a connection is taken.
    let (lookup, outcome, details) = if service::json::media_type(&request) == "application/json" {
        let form: BounceForm = service::json::parse(&body)?;
        let lookup = match (form.message_id, form.email) {
            (Some(message_id), _) => Lookup::MessageIds(vec![message_id]),
            (None, Some(email)) => Lookup::Email(email),
            (None, None) => {
                return Err(Problem::validation(vec![service::FieldError::new(
                    "message_id",
                    "give message_id or email",
                )]));
            }
        };
        let details = serde_json::json!({"diagnostic": form.diagnostic, "source": "json"});
        (lookup, form.outcome, details)
    } else {
        // PostgreSQL stores no NUL character; a report carrying one keeps the rest.
        let text = String::from_utf8_lossy(&body).replace('\0', "");
        let parsed = report::parse(&text).map_err(|error| {
            Problem::validation(vec![service::FieldError::new("body", error.to_string())])
        })?;
        let outcome = match parsed.kind {
            ReportKind::HardBounce => Outcome::HardBounce,
            ReportKind::SoftBounce => Outcome::SoftBounce,
            ReportKind::Complaint => Outcome::Complaint,
        };
        let details = serde_json::json!({
            "status": parsed.status, "diagnostic": parsed.diagnostic,
            "recipient": parsed.recipient, "source": "report",
        });
        (Lookup::MessageIds(parsed.message_ids), outcome, details)
    };
    let mut connection = connection(&pool).await?;
    let id = match &lookup {
        Lookup::MessageIds(candidates) => by_message_ids(&mut connection, candidates).await?,
        Lookup::Email(email) => by_email(&mut connection, email).await?,
    };
    let id = id.ok_or_else(|| Problem::not_found("no message of the ledger matches the report"))?;
    record(&mut connection, id, outcome, &details).await?;
    Ok(web::Json(BounceRecorded {
        message_id: id,
        outcome,
        suppressed: outcome != Outcome::SoftBounce,
    }))
}

/// How a report names its message.
enum Lookup {
    MessageIds(Vec<String>),
    Email(String),
}

/// The ledger's message among Message-ID header values (or bare message ids).
async fn by_message_ids(
    connection: &mut AsyncPgConnection,
    candidates: &[String],
) -> Result<Option<Uuid>, diesel::result::Error> {
    let ids: Vec<Uuid> = candidates
        .iter()
        .filter_map(|candidate| Uuid::try_parse(candidate.trim()).ok())
        .collect();
    Ok(
        sql_query(
            "SELECT id FROM messages WHERE smtp_message_id = ANY($1) OR id = ANY($2) LIMIT 1",
        )
        .bind::<Array<Text>, _>(candidates)
        .bind::<Array<SqlUuid>, _>(&ids)
        .get_result::<MessageId>(connection)
        .await
        .optional()?
        .map(|row| row.id),
    )
}

async fn by_email(
    connection: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<Uuid>, diesel::result::Error> {
    Ok(sql_query(
        "SELECT m.id FROM customers c JOIN messages m ON m.customer_id = c.id
         WHERE c.email = lower($1) AND m.status = 'sent'
         ORDER BY m.sent_at DESC LIMIT 1",
    )
    .bind::<Text, _>(email)
    .get_result::<MessageId>(connection)
    .await
    .optional()?
    .map(|row| row.id))
}
