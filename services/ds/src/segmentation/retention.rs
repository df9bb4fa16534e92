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
        let partition = partition_name(id);
        // DETACH ... CONCURRENTLY cannot run inside a transaction: each statement stands alone.
        // One interrupted half-way (its session gone) leaves the partition pending: finish it.
        let detach = format!("ALTER TABLE segment_memberships DETACH PARTITION {partition}");
        if let Err(error) = connection.batch_execute(&format!("{detach} CONCURRENTLY")) {
            tracing::warn!(run = id, %error, "detaching concurrently failed; finalizing a pending detach");
            connection.batch_execute(&format!("{detach} FINALIZE"))?;
        }
        connection.batch_execute(&format!(
            "BEGIN; DROP TABLE {partition}; \
             UPDATE segmentation_runs SET status = 'archived' WHERE id = {id}; COMMIT"
        ))?;
        archived.push(id);
    }
    Ok(archived)
}
