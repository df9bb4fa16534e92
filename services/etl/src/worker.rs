//! What an etl replica does with the jobs it claims (see `service::worker`): generations and
//! imports, each loaded in one transaction.

use std::path::PathBuf;

use models::db::DatabaseUrl;
use models::enums::JobKind;
use models::jobs::{GenerateRequest, Job};
use serde_json::{Value, json};
use service::worker::{JobOutcome, JobRunner, Progress};

use crate::generate::{Scenario, generate};
use crate::import::{ImportError, import};

/// Runs etl's jobs.
pub struct EtlJobs;

impl JobRunner for EtlJobs {
    fn kinds(&self) -> &'static [JobKind] {
        &[JobKind::Generate, JobKind::Import]
    }

    fn run(&self, job: &Job, url: &DatabaseUrl, progress: &Progress) -> JobOutcome {
        execute(job, url, progress)
    }

    /// An import's uploads are needed only until the job ends; they may be large.
    fn finished(&self, job_id: i64, url: &DatabaseUrl) {
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        use models::schema::job_files;
        let deleted = models::db::connect_sync(url)
            .map_err(|error| error.to_string())
            .and_then(|mut connection| {
                diesel::RunQueryDsl::execute(
                    diesel::delete(job_files::table.filter(job_files::job_id.eq(job_id))),
                    &mut connection,
                )
                .map_err(|error| error.to_string())
            });
        if let Err(error) = deleted {
            tracing::warn!(job = job_id, %error, "cannot delete the job's uploaded files");
        }
    }
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
