//! The send ledger's statements: claiming due messages under a lease, the values their
//! templates need, and recording what happened to each.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use uuid::Uuid;

/// A message claimed for sending.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub customer_id: i64,
    #[diesel(sql_type = BigInt)]
    pub variant_id: i64,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub smtp_message_id: String,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    /// The address was suppressed after the message was queued: it must not go.
    #[diesel(sql_type = Bool)]
    pub suppressed: bool,
}

/// Claims up to `limit` due messages of running experiments for `owner`, oldest due first.
/// A claim is a lease: `next_attempt_at` moves to its end, so messages of a process that
/// died become due again when it runs out, and nothing else takes them before.
pub async fn claim(
    connection: &mut AsyncPgConnection,
    owner: &str,
    limit: i64,
    lease: Duration,
    message_id_domain: &str,
) -> Result<Vec<Claimed>, diesel::result::Error> {
    sql_query(
        "WITH due AS (
             SELECT m.id
             FROM messages m
             JOIN experiments e ON e.id = m.experiment_id AND e.status = 'running'
             WHERE m.status IN ('queued', 'sending') AND m.next_attempt_at <= now()
             ORDER BY m.next_attempt_at
             LIMIT $2
             FOR UPDATE OF m SKIP LOCKED
         )
         UPDATE messages m
         SET status = 'sending', lease_owner = $1, attempts = m.attempts + 1,
             lease_expires_at = now() + make_interval(secs => $3),
             next_attempt_at = now() + make_interval(secs => $3),
             smtp_message_id = coalesce(m.smtp_message_id, '<' || m.id || '@' || $4 || '>')
         FROM due, customers c
         WHERE m.id = due.id AND c.id = m.customer_id
         RETURNING m.id, m.customer_id, m.variant_id, m.email, m.attempts, m.smtp_message_id,
                   c.first_name, c.last_name,
                   EXISTS (SELECT 1 FROM suppressions s WHERE s.email = lower(m.email)) AS suppressed",
    )
    .bind::<Text, _>(owner)
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
    .bind::<Text, _>(message_id_domain)
    .load(connection)
    .await
}

/// What some templates need besides the name: the current plan, the genre watched most and
/// a title of it not yet watched.
#[derive(Debug, Clone, QueryableByName)]
pub struct CustomerContext {
    #[diesel(sql_type = BigInt)]
    pub customer_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub plan: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub price_cents: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub genre: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
}

pub async fn contexts(
    connection: &mut AsyncPgConnection,
    customer_ids: &[i64],
) -> Result<Vec<CustomerContext>, diesel::result::Error> {
    sql_query(
        "SELECT c.id AS customer_id, p.name AS plan, p.monthly_price_cents AS price_cents,
                g.genre, t.name AS title
         FROM unnest($1::bigint[]) AS c(id)
         LEFT JOIN LATERAL (
             SELECT pl.name, pl.monthly_price_cents
             FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id
             WHERE s.customer_id = c.id AND s.status IN ('trial', 'active')
             ORDER BY s.started_at DESC, s.id DESC LIMIT 1
         ) p ON true
         LEFT JOIN LATERAL (
             SELECT ti.genre FROM watch_sessions w JOIN titles ti ON ti.id = w.title_id
             WHERE w.customer_id = c.id
             GROUP BY ti.genre ORDER BY sum(w.minutes) DESC, ti.genre LIMIT 1
         ) g ON true
         LEFT JOIN LATERAL (
             SELECT ti.name FROM titles ti
             WHERE ti.genre = g.genre
               AND NOT EXISTS (SELECT 1 FROM watch_sessions w WHERE w.customer_id = c.id AND w.title_id = ti.id)
             ORDER BY ti.rating DESC NULLS LAST, ti.id LIMIT 1
         ) t ON true",
    )
    .bind::<Array<BigInt>, _>(customer_ids)
    .load(connection)
    .await
}

/// Records messages the server accepted. Whoever holds the lease now, the e-mail went out;
/// `lease_owner` stays as the process that sent it.
pub async fn record_sent(
    connection: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<usize, diesel::result::Error> {
    sql_query(
        "UPDATE messages SET status = 'sent', sent_at = now(), lease_expires_at = NULL,
                last_error = NULL
         WHERE id = ANY($1) AND status <> 'sent'",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(connection)
    .await
}

/// Puts messages back in the queue after a transient failure, due again after `delay`
/// (or fails them for good when they have had `max_attempts`, or cancels them when their
/// experiment has stopped meanwhile). Only while still ours.
pub async fn record_retry(
    connection: &mut AsyncPgConnection,
    owner: &str,
    id: Uuid,
    error: &str,
    delay: Duration,
    max_attempts: i32,
) -> Result<usize, diesel::result::Error> {
    sql_query(
        "UPDATE messages
         SET status = CASE WHEN attempts >= $5 THEN 'failed'
                           WHEN (SELECT e.status FROM experiments e WHERE e.id = messages.experiment_id)
                                IN ('stopped', 'decided') THEN 'cancelled'
                           ELSE 'queued' END,
             next_attempt_at = now() + make_interval(secs => $4),
             lease_owner = NULL, lease_expires_at = NULL, last_error = $3
         WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Text, _>(error)
    .bind::<diesel::sql_types::Double, _>(delay.as_secs_f64())
    .bind::<Integer, _>(max_attempts)
    .execute(connection)
    .await
}

/// Fails a message for good with the server's reply (or why it was not sent); a hard bounce
/// also puts the address on the suppression list and records a bounce event.
pub async fn record_failed(
    connection: &mut AsyncPgConnection,
    owner: &str,
    id: Uuid,
    error: &str,
    hard_bounce: bool,
    cancelled: bool,
) -> Result<usize, diesel::result::Error> {
    let status = if cancelled { "cancelled" } else { "failed" };
    let changed = sql_query(
        "UPDATE messages SET status = $4, lease_owner = NULL, lease_expires_at = NULL, last_error = $3
         WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Text, _>(error)
    .bind::<Text, _>(status)
    .execute(connection)
    .await?;
    if changed > 0 && hard_bounce {
        crate::bounces::record(
            connection,
            id,
            crate::bounces::Outcome::HardBounce,
            &serde_json::json!({"reply": error, "during": "smtp"}),
        )
        .await?;
    }
    Ok(changed)
}
