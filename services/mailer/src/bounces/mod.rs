//! Bounces and complaints: from the SMTP exchange itself (a 5xx while sending) or reported
//! later by the receiving side (a delivery status notification, a feedback report or a
//! simple JSON form on `POST /v1/bounces`). Each is recorded as an event of its message;
//! hard bounces and complaints put the address on the suppression list.

pub mod report;
pub mod routes;

use diesel::sql_query;
use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use uuid::Uuid;

/// What the receiving side said.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The address does not exist: suppressed.
    HardBounce,
    /// A temporary failure (mailbox full, try later): recorded only.
    SoftBounce,
    /// The recipient marked the e-mail as spam: suppressed.
    Complaint,
}

/// Records `outcome` for message `id`, the event and the suppression together; false when
/// there is no such message.
pub async fn record(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    outcome: Outcome,
    details: &serde_json::Value,
) -> Result<bool, diesel::result::Error> {
    connection
        .transaction(async |connection| record_in(connection, id, outcome, details).await)
        .await
}

async fn record_in(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    outcome: Outcome,
    details: &serde_json::Value,
) -> Result<bool, diesel::result::Error> {
    let kind = match outcome {
        Outcome::Complaint => "complaint",
        Outcome::HardBounce | Outcome::SoftBounce => "bounce",
    };
    let mut details = details.clone();
    if let Some(object) = details.as_object_mut() {
        object.insert(
            "permanent".to_owned(),
            serde_json::Value::Bool(outcome != Outcome::SoftBounce),
        );
    }
    let recorded = sql_query(
        "INSERT INTO message_events (message_id, kind, details)
         SELECT id, $2, $3 FROM messages WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(kind)
    .bind::<Jsonb, _>(&details)
    .execute(connection)
    .await?;
    if recorded > 0 && outcome != Outcome::SoftBounce {
        let reason = if outcome == Outcome::Complaint {
            "complaint"
        } else {
            "hard_bounce"
        };
        sql_query(
            "INSERT INTO suppressions (email, customer_id, reason, message_id)
             SELECT lower(email), customer_id, $2, id FROM messages WHERE id = $1
             ON CONFLICT (email) DO NOTHING",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(reason)
        .execute(connection)
        .await?;
    }
    Ok(recorded > 0)
}
