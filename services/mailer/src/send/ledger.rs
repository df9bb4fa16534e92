//! The send ledger's statements: claiming due messages under a lease, the values their
//! templates need, and recording what happened to each.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use uuid::Uuid;

/// A message claimed for sending.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub experiment_id: i64,
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
    max_attempts: i32,
    message_id_domain: &str,
) -> Result<Vec<Claimed>, diesel::result::Error> {
    sql_query(
        "WITH due AS (
             SELECT m.id
             FROM messages m
             JOIN experiments e ON e.id = m.experiment_id AND e.status = 'running'
             WHERE m.status IN ('queued', 'sending') AND m.next_attempt_at <= now()
               AND m.attempts < $5
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
         RETURNING m.id, m.experiment_id, m.customer_id, m.variant_id, m.email, m.attempts, m.smtp_message_id,
                   c.first_name, c.last_name,
                   EXISTS (SELECT 1 FROM suppressions s WHERE s.email = lower(m.email)) AS suppressed",
    )
    .bind::<Text, _>(owner)
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
    .bind::<Text, _>(message_id_domain)
    .bind::<Integer, _>(max_attempts)
    .load(connection)
    .await
}

/// Settles what no claim will take again: claims of dead processes in stopped experiments
/// (cancelled) or tried `max_attempts` times (failed: the sender stopped mid-send every time),
/// and queued messages of stopped experiments (a retry or release that crossed the stop).
pub async fn settle_abandoned(
    connection: &mut AsyncPgConnection,
    max_attempts: i32,
) -> Result<usize, diesel::result::Error> {
    let cancelled = sql_query(
        "UPDATE messages m
         SET status = 'cancelled', last_error = 'the experiment was stopped',
             lease_owner = NULL, lease_expires_at = NULL
         FROM experiments e
         WHERE e.id = m.experiment_id AND e.status IN ('stopped', 'decided') AND m.status = 'queued'",
    )
    .execute(connection)
    .await?;
    let abandoned = sql_query(
        "UPDATE messages m
         SET status = CASE WHEN e.status IN ('stopped', 'decided') THEN 'cancelled' ELSE 'failed' END,
             last_error = CASE WHEN e.status IN ('stopped', 'decided') THEN 'the experiment was stopped'
                               ELSE 'gave up after ' || m.attempts || ' attempts: the sender stopped mid-send each time' END,
             lease_owner = NULL, lease_expires_at = NULL
         FROM experiments e
         WHERE e.id = m.experiment_id AND m.status = 'sending' AND m.next_attempt_at <= now()
           AND (e.status IN ('stopped', 'decided') OR m.attempts >= $1)",
    )
    .bind::<Integer, _>(max_attempts)
    .execute(connection)
    .await?;
    Ok(cancelled + abandoned)
}

#[derive(QueryableByName)]
struct ExperimentId {
    #[diesel(sql_type = BigInt)]
    experiment_id: i64,
}

/// Extends the lease of the messages `ids` that `owner` still holds; answers the experiments
/// among them that are no longer running.
pub async fn renew_leases(
    connection: &mut AsyncPgConnection,
    owner: &str,
    ids: &[Uuid],
    lease: Duration,
) -> Result<Vec<i64>, diesel::result::Error> {
    Ok(sql_query(
        "WITH held AS (
             -- Rows being settled right now are skipped, not waited for (their outcome is
             -- being written); NO KEY keeps foreign-key checks of new events from blocking.
             SELECT id FROM messages
             WHERE id = ANY($3) AND lease_owner = $1 AND status = 'sending'
             ORDER BY id
             FOR NO KEY UPDATE SKIP LOCKED
         ),
         renewed AS (
             UPDATE messages m
             SET lease_expires_at = now() + make_interval(secs => $2),
                 next_attempt_at = now() + make_interval(secs => $2)
             FROM held WHERE m.id = held.id
             RETURNING m.experiment_id
         )
         SELECT DISTINCT r.experiment_id FROM renewed r
         JOIN experiments e ON e.id = r.experiment_id WHERE e.status <> 'running'",
    )
    .bind::<Text, _>(owner)
    .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
    .bind::<Array<SqlUuid>, _>(ids)
    .load::<ExperimentId>(connection)
    .await?
    .into_iter()
    .map(|row| row.experiment_id)
    .collect())
}

/// Returns claimed messages to the queue untried (their experiment was paused), or cancels
/// them (it was stopped).
pub async fn release(
    connection: &mut AsyncPgConnection,
    owner: &str,
    ids: &[Uuid],
) -> Result<usize, diesel::result::Error> {
    sql_query(
        "UPDATE messages
         SET status = CASE WHEN (SELECT e.status FROM experiments e WHERE e.id = messages.experiment_id)
                                IN ('stopped', 'decided') THEN 'cancelled' ELSE 'queued' END,
             attempts = greatest(attempts - 1, 0), next_attempt_at = now(),
             lease_owner = NULL, lease_expires_at = NULL
         WHERE id = ANY($1) AND lease_owner = $2 AND status = 'sending'",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Text, _>(owner)
    .execute(connection)
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

/// Records messages the server accepted, at the times it did. Whatever the row's state now
/// (a stop may have cancelled it), the e-mail went out; `lease_owner` stays as the process
/// that sent it.
pub async fn record_sent(
    connection: &mut AsyncPgConnection,
    ids: &[Uuid],
    at: &[DateTime<Utc>],
) -> Result<usize, diesel::result::Error> {
    sql_query(
        "WITH s AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS s(id, at)),
              -- Rows locked in id order, as every multi-row writer of messages here does.
              locked AS (
                  SELECT m.id FROM messages m JOIN s ON s.id = m.id
                  WHERE m.status <> 'sent' ORDER BY m.id FOR NO KEY UPDATE OF m
              )
         UPDATE messages m SET status = 'sent', sent_at = s.at, lease_expires_at = NULL,
                last_error = NULL
         FROM s, locked
         WHERE m.id = s.id AND m.id = locked.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<diesel::sql_types::Timestamptz>, _>(at)
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
    connection
        .transaction(async |connection| {
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
        })
        .await
}
