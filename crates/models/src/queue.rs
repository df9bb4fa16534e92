//! The job queue on the shared `jobs` table. A worker claims the oldest claimable job of its
//! kinds with `FOR UPDATE SKIP LOCKED` (so replicas never take the same one) and holds it with
//! a lease it renews while working; a job whose lease ran out (its worker died) is claimable
//! again, until its attempts are used up.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Double, Jsonb, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::enums::JobKind;
use crate::jobs::Job;

const CLAIM: &str = "UPDATE jobs SET status = 'running', lease_owner = $2, \
    lease_expires_at = now() + make_interval(secs => $3), attempts = attempts + 1, \
    started_at = coalesce(started_at, now()), error = NULL \
    WHERE id = (SELECT id FROM jobs \
                WHERE kind = ANY($1) AND attempts < max_attempts \
                  AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now())) \
                ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
    RETURNING *";

/// Claims the oldest claimable job of `kinds` for `owner`, if there is one.
pub async fn claim(
    connection: &mut AsyncPgConnection,
    kinds: &[JobKind],
    owner: &str,
    lease: Duration,
) -> diesel::QueryResult<Option<Job>> {
    let kinds: Vec<String> = kinds.iter().map(|kind| kind.as_str().to_owned()).collect();
    let claimed: Vec<Job> = diesel::sql_query(CLAIM)
        .bind::<Array<Text>, _>(kinds)
        .bind::<Text, _>(owner)
        .bind::<Double, _>(lease.as_secs_f64())
        .load(connection)
        .await?;
    Ok(claimed.into_iter().next())
}

/// Extends the lease and records progress; false when the job is no longer ours.
pub async fn renew(
    connection: &mut AsyncPgConnection,
    id: i64,
    owner: &str,
    lease: Duration,
    progress: f64,
) -> diesel::QueryResult<bool> {
    let updated = diesel::sql_query(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3), progress = $4 \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<Double, _>(progress.clamp(0.0, 1.0))
    .execute(connection)
    .await?;
    Ok(updated == 1)
}

/// Ends a job we hold: succeeded with its counts, or failed with its error (and the counts
/// so far). False when the job is no longer ours.
pub async fn finish(
    connection: &mut AsyncPgConnection,
    id: i64,
    owner: &str,
    counts: serde_json::Value,
    error: Option<String>,
) -> diesel::QueryResult<bool> {
    let updated = diesel::sql_query(
        "UPDATE jobs SET status = CASE WHEN $4::text IS NULL THEN 'succeeded' ELSE 'failed' END, \
         progress = CASE WHEN $4::text IS NULL THEN 1 ELSE progress END, counts = $3, error = $4, \
         lease_owner = NULL, lease_expires_at = NULL, finished_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Jsonb, _>(counts)
    .bind::<Nullable<Text>, _>(error)
    .execute(connection)
    .await?;
    Ok(updated == 1)
}

/// Jobs whose worker died on their last attempt: failed, with the reason.
pub async fn fail_abandoned(
    connection: &mut AsyncPgConnection,
    kinds: &[JobKind],
) -> diesel::QueryResult<usize> {
    let kinds: Vec<String> = kinds.iter().map(|kind| kind.as_str().to_owned()).collect();
    diesel::sql_query(
        "UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), \
         error = 'abandoned: its worker stopped answering on each of ' || attempts || ' attempts' \
         WHERE kind = ANY($1) AND status = 'running' AND lease_expires_at < now() AND attempts >= max_attempts",
    )
    .bind::<Array<Text>, _>(kinds)
    .execute(connection)
    .await
}
