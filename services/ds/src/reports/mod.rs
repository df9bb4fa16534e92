//! The dashboard's overview, computed as a job (`report`) and stored as a snapshot that the
//! api reads in milliseconds; refreshed on a schedule and on request.

pub mod routes;

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use models::db::{DatabaseUrl, Pool};
use models::enums::JobKind;
use serde_json::json;

/// Computes and stores the overview; the job's counts say how long it took.
pub fn run(url: &DatabaseUrl, job_id: i64) -> Result<serde_json::Value, String> {
    // Jobs run on a blocking thread inside the runtime: the async model code runs here.
    tokio::runtime::Handle::current().block_on(async {
        let mut connection = AsyncPgConnection::establish(url.as_str())
            .await
            .map_err(|error| error.to_string())?;
        let started = Instant::now();
        let overview = models::reports::overview(&mut connection)
            .await
            .map_err(|error| error.to_string())?;
        let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        models::reports::store_overview(&mut connection, &overview, Some(job_id), duration_ms)
            .await
            .map_err(|error| error.to_string())?;
        Ok(json!({"duration_ms": duration_ms, "customers": overview.customers}))
    })
}

/// Queues a refresh whenever the newest overview is older than `every` and none is queued.
pub fn spawn_schedule(pool: Pool, every: Duration) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = refresh_if_stale(&pool, every).await {
                tracing::warn!(%error, "report schedule: will try again");
            }
            tokio::time::sleep(every.min(Duration::from_secs(60))).await;
        }
    });
}

#[derive(diesel::QueryableByName)]
struct Due {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    due: bool,
}

async fn refresh_if_stale(pool: &Pool, every: Duration) -> Result<(), String> {
    use diesel_async::RunQueryDsl as _;
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    let due: Due = diesel::sql_query(
        "SELECT NOT EXISTS (SELECT 1 FROM jobs WHERE kind = 'report' AND status IN ('queued', 'running'))
            AND coalesce((SELECT max(computed_at) FROM report_snapshots WHERE kind = 'overview')
                         < now() - make_interval(secs => $1), true) AS due",
    )
    .bind::<diesel::sql_types::Double, _>(every.as_secs_f64())
    .get_result(&mut connection)
    .await
    .map_err(|error| error.to_string())?;
    if due.due {
        service::jobs::enqueue(&mut connection, JobKind::Report, json!({}))
            .await
            .map_err(|problem| problem.detail)?;
    }
    Ok(())
}
