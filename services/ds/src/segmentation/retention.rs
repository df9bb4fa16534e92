//! Keeping the number of membership partitions bounded: every read of `segment_memberships`
//! (a customer's latest segment among them) plans and locks each partition, so the memberships
//! of all but the newest `keep` succeeded runs are dropped after a run succeeds. Their run rows
//! stay, marked `archived`, with their counts and rules.

use diesel::RunQueryDsl as _;
use diesel::connection::SimpleConnection as _;
use diesel::sql_types::BigInt;
use models::db::DatabaseUrl;

use super::run::{RunError, partition_name};

#[derive(Debug, diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Archives the succeeded runs older than the newest `keep`; returns their ids. Each partition
/// is detached concurrently (readers and writers of the other runs never wait), then dropped.
pub fn archive_old_runs(url: &DatabaseUrl, keep: u32) -> Result<Vec<i64>, RunError> {
    let mut connection = models::db::connect_sync(url)?;
    let old: Vec<Id> = diesel::sql_query(
        "SELECT id FROM segmentation_runs WHERE status = 'succeeded' ORDER BY id DESC OFFSET $1",
    )
    .bind::<BigInt, _>(i64::from(keep))
    .load(&mut connection)?;
    let mut archived = Vec::with_capacity(old.len());
    for Id { id } in old {
        // One run that cannot be archived now is tried again after the next run; the others
        // go ahead.
        match archive(&mut connection, id) {
            Ok(()) => archived.push(id),
            Err(error) => {
                tracing::warn!(run = id, %error, "cannot archive this run yet");
                // A statement that failed inside the transaction leaves it aborted.
                let _ = connection.batch_execute("ROLLBACK");
            }
        }
    }
    Ok(archived)
}

/// Detaches and drops run `id`'s partition and marks the run archived. A partition left
/// detached, or dropped, by an earlier attempt that stopped half-way is taken as it is.
fn archive(connection: &mut diesel::PgConnection, id: i64) -> Result<(), RunError> {
    let partition = partition_name(id);
    let attached: Vec<Id> = diesel::sql_query(
        "SELECT 1::bigint AS id FROM pg_inherits
         WHERE inhparent = 'segment_memberships'::regclass AND inhrelid = to_regclass($1)",
    )
    .bind::<diesel::sql_types::Text, _>(&partition)
    .load(connection)?;
    if !attached.is_empty() {
        // DETACH ... CONCURRENTLY cannot run inside a transaction: each statement stands
        // alone. One interrupted half-way (its session gone) leaves it pending: finish it.
        let detach = format!("ALTER TABLE segment_memberships DETACH PARTITION {partition}");
        if let Err(error) = connection.batch_execute(&format!("{detach} CONCURRENTLY")) {
            tracing::warn!(run = id, %error, "detaching concurrently failed; finalizing a pending detach");
            connection.batch_execute(&format!("{detach} FINALIZE"))?;
        }
    }
    connection.batch_execute(&format!(
        "BEGIN; DROP TABLE IF EXISTS {partition}; \
         UPDATE segmentation_runs SET status = 'archived' WHERE id = {id}; COMMIT"
    ))?;
    Ok(())
}
