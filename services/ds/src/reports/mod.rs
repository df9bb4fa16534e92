//! The dashboard's overview, computed as a job (`report`) and stored as a snapshot that the
//! api reads in milliseconds; refreshed on a schedule and on request.

pub mod routes;

use std::time::Duration;

use diesel::sql_types::{Bool, Double, Nullable};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, SelectableHelper as _,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use models::db::{DatabaseUrl, Pool};
use models::enums::{JobKind, JobStatus};
use models::jobs::Job;
use models::schema::jobs;
use serde_json::json;

/// Computes and stores the overview; the job's counts say what it found.
pub fn run(url: &DatabaseUrl, job_id: i64) -> Result<serde_json::Value, String> {
    // Jobs run on a blocking thread inside the runtime: the async model code runs here.
    tokio::runtime::Handle::current().block_on(async {
        let mut connection = AsyncPgConnection::establish(url.as_str())
            .await
            .map_err(|error| error.to_string())?;
        let overview = models::reports::refresh_overview(&mut connection, Some(job_id))
            .await
            .map_err(|error| error.to_string())?;
        Ok(json!({"customers": overview.customers}))
    })
}

#[derive(diesel::QueryableByName)]
struct Due {
    #[diesel(sql_type = Bool)]
    due: bool,
}

/// Queues a refresh, or answers with the one already waiting (a running one may be reading
/// data older than the request). With `older_than`, only when none is waiting or running and
/// the newest snapshot is older than that (or missing). One decision at a time across
/// replicas (an advisory lock), so that a click and the schedule do not queue two.
pub async fn queue_refresh(
    connection: &mut AsyncPgConnection,
    older_than: Option<Duration>,
) -> Result<Option<Job>, diesel::result::Error> {
    connection
        .transaction(async |connection| {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('streamlab.report-queue'))")
                .execute(connection)
                .await?;
            if let Some(age) = older_than {
                let due: Due = diesel::sql_query(
                    "SELECT NOT EXISTS (SELECT 1 FROM jobs WHERE kind = 'report' AND status IN ('queued', 'running'))
                        AND coalesce((SELECT max(computed_at) FROM report_snapshots WHERE kind = 'overview')
                                     < now() - make_interval(secs => $1), true) AS due",
                )
                .bind::<Nullable<Double>, _>(Some(age.as_secs_f64()))
                .get_result(connection)
                .await?;
                if !due.due {
                    return Ok(None);
                }
            }
            let waiting: Option<Job> = jobs::table
                .filter(jobs::kind.eq(JobKind::Report))
                .filter(jobs::status.eq(JobStatus::Queued))
                .order(jobs::id.desc())
                .select(Job::as_select())
                .first(connection)
                .await
                .optional()?;
            match waiting {
                Some(job) => Ok(Some(job)),
                None => service::jobs::insert(connection, JobKind::Report, json!({}))
                    .await
                    .map(Some),
            }
        })
        .await
}

/// Queues a refresh whenever the newest overview is older than `every` and none is pending.
pub fn spawn_schedule(pool: Pool, every: Duration) {
    tokio::spawn(async move {
        loop {
            let checked = match pool.get().await {
                Ok(mut connection) => queue_refresh(&mut connection, Some(every))
                    .await
                    .map(|_| ())
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            };
            if let Err(error) = checked {
                tracing::warn!(%error, "report schedule: will try again");
            }
            tokio::time::sleep(every.min(Duration::from_secs(60))).await;
        }
    });
}
