//! The job worker of an etl replica: claims generate and import jobs from the shared queue,
//! runs each on a blocking thread while a heartbeat renews its lease and records progress,
//! then records the outcome. A replica that dies stops renewing; another claims the job once
//! the lease runs out, and since each job loads in one transaction, nothing is half done.

use std::path::PathBuf;
use std::sync::Arc;

use models::db::{DatabaseUrl, Pool};
use models::enums::JobKind;
use models::jobs::{GenerateRequest, Job};
use models::queue;
use serde_json::{Value, json};

use crate::Settings;
use crate::generate::{Progress, Scenario, generate};
use crate::import::{ImportError, import};

const KINDS: [JobKind; 2] = [JobKind::Generate, JobKind::Import];

/// Works through the queue until the process stops.
pub async fn run(pool: Pool, settings: Settings) {
    let owner = format!(
        "etl-{}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_nanos())
            .unwrap_or_default()
    );
    loop {
        match step(&pool, &settings, &owner).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(settings.job_poll).await,
            Err(error) => {
                tracing::warn!(%error, "job worker: will try again");
                tokio::time::sleep(settings.job_poll).await;
            }
        }
    }
}

/// Claims and runs one job; false when there was none.
async fn step(pool: &Pool, settings: &Settings, owner: &str) -> Result<bool, String> {
    let lease = settings.job_lease;
    let job = {
        let mut connection = pool.get().await.map_err(|error| error.to_string())?;
        queue::fail_abandoned(&mut connection, &KINDS)
            .await
            .map_err(|error| error.to_string())?;
        queue::claim(&mut connection, &KINDS, owner, lease)
            .await
            .map_err(|error| error.to_string())?
    };
    let Some(job) = job else { return Ok(false) };
    tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job claimed");
    let id = job.id;
    let progress = Arc::new(Progress::default());
    let url = settings.common.database.url.clone();
    let watched = progress.clone();
    let work = tokio::task::spawn_blocking(move || execute(&job, &url, &watched));
    tokio::pin!(work);
    let mut heartbeat = tokio::time::interval(lease / 3);
    heartbeat.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = heartbeat.tick() => {
                if let Ok(mut connection) = pool.get().await {
                    match queue::renew(&mut connection, id, owner, lease, progress.fraction()).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = id, "job lease lost: another worker may run it"),
                        Err(error) => tracing::warn!(job = id, %error, "cannot renew the job lease"),
                    }
                }
            }
        }
    };
    let (counts, error) = match outcome {
        Ok(Ok(counts)) => (counts, None),
        Ok(Err((counts, error))) => (counts, Some(error)),
        Err(error) => (
            json!({}),
            Some(format!("the job stopped unexpectedly: {error}")),
        ),
    };
    tracing::info!(job = id, failed = error.is_some(), "job finished");
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    let finished = queue::finish(&mut connection, id, owner, counts, error)
        .await
        .map_err(|error| error.to_string())?;
    if finished {
        // An import's uploads are needed only until the job ends; they may be large.
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        use diesel_async::RunQueryDsl as _;
        use models::schema::job_files;
        diesel::delete(job_files::table.filter(job_files::job_id.eq(id)))
            .execute(&mut connection)
            .await
            .map_err(|error| error.to_string())?;
    }
    Ok(true)
}

/// Runs a job to its counts, or to its error (with whatever counts it has).
fn execute(job: &Job, url: &DatabaseUrl, progress: &Progress) -> Result<Value, (Value, String)> {
    match job.kind {
        JobKind::Generate => run_generate(job, url, progress),
        JobKind::Import => run_import(job, url),
        other => Err((json!({}), format!("etl does not run {other} jobs"))),
    }
}

fn run_generate(
    job: &Job,
    url: &DatabaseUrl,
    progress: &Progress,
) -> Result<Value, (Value, String)> {
    let fail = |error: &dyn std::fmt::Display| (json!({}), error.to_string());
    let request: GenerateRequest =
        serde_json::from_value(job.payload.clone()).map_err(|e| fail(&e))?;
    let mut scenario = Scenario::with_overrides(None).map_err(|e| fail(&e))?;
    scenario.customers = request.customers.unwrap_or(scenario.customers);
    scenario.seed = request.seed.unwrap_or(scenario.seed);
    let scenario = Scenario::validated(scenario).map_err(|e| fail(&e))?;
    let summary = generate(url, scenario, request.reset, false, progress).map_err(|e| fail(&e))?;
    let tables: Vec<Value> = summary
        .tables
        .iter()
        .map(|table| json!({"table": table.table, "rows": table.rows, "seconds": table.seconds}))
        .collect();
    Ok(
        json!({"rows": summary.rows(), "seconds": summary.seconds, "scenario_id": summary.scenario_id, "tables": tables}),
    )
}

fn run_import(job: &Job, url: &DatabaseUrl) -> Result<Value, (Value, String)> {
    let skip_invalid = job
        .payload
        .get("skip_invalid")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let folder = std::env::temp_dir().join(format!(
        "streamlab-import-job-{}-{}",
        job.id,
        std::process::id()
    ));
    let written = write_job_files(job.id, url, &folder);
    let outcome = written.and_then(|_| {
        import(url, std::slice::from_ref(&folder), skip_invalid).map_err(|error| {
            let counts = match &error {
                ImportError::Rejected(report) => {
                    json!({"errors": report.errors.iter().take(1000).map(ToString::to_string).collect::<Vec<_>>()})
                }
                _ => json!({}),
            };
            (counts, error.to_string())
        })
    });
    let _ = std::fs::remove_dir_all(&folder);
    let report = outcome?;
    let tables: Vec<Value> = report
        .tables
        .iter()
        .map(|table| {
            json!({"table": table.table, "inserted": table.inserted, "updated": table.updated,
                   "unchanged": table.unchanged, "invalid": table.invalid})
        })
        .collect();
    let errors: Vec<String> = report
        .errors
        .iter()
        .take(1000)
        .map(ToString::to_string)
        .collect();
    Ok(json!({"tables": tables, "errors": errors}))
}

/// The job's uploaded files, written to `folder` for the importer.
fn write_job_files(
    job_id: i64,
    url: &DatabaseUrl,
    folder: &PathBuf,
) -> Result<(), (Value, String)> {
    use diesel::{ExpressionMethods as _, QueryDsl as _};
    use models::schema::job_files;

    let fail = |error: &dyn std::fmt::Display| (json!({}), error.to_string());
    let mut connection = models::db::connect_sync(url).map_err(|e| fail(&e))?;
    let files: Vec<(String, Vec<u8>)> = diesel::RunQueryDsl::load(
        job_files::table
            .filter(job_files::job_id.eq(job_id))
            .select((job_files::file_name, job_files::content)),
        &mut connection,
    )
    .map_err(|e| fail(&e))?;
    std::fs::create_dir_all(folder).map_err(|e| fail(&e))?;
    for (name, content) in files {
        std::fs::write(folder.join(name), content).map_err(|e| fail(&e))?;
    }
    Ok(())
}
