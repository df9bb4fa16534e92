//! What a ds replica does with the jobs it claims (see `service::worker`).

use models::db::DatabaseUrl;
use models::enums::JobKind;
use models::jobs::Job;
use models::segmentation::SegmentationRunRequest;
use serde_json::json;
use service::worker::{JobOutcome, JobRunner, Progress};

use crate::{analysis, segmentation};

/// Runs ds's jobs.
pub struct DsJobs {
    /// Succeeded segmentation runs whose memberships are kept.
    pub keep_runs: u32,
}

impl JobRunner for DsJobs {
    fn kinds(&self) -> &'static [JobKind] {
        &[JobKind::Segmentation, JobKind::Analysis, JobKind::Report]
    }

    fn run(&self, job: &Job, url: &DatabaseUrl, progress: &Progress) -> JobOutcome {
        match job.kind {
            JobKind::Segmentation => run_segmentation(job, url, progress, self.keep_runs),
            JobKind::Analysis => run_analysis(job, url),
            JobKind::Report => crate::reports::run(url, job.id).map_err(|error| (json!({}), error)),
            other => Err((json!({}), format!("ds does not run {other} jobs"))),
        }
    }
}

fn run_segmentation(
    job: &Job,
    url: &DatabaseUrl,
    progress: &Progress,
    keep_runs: u32,
) -> JobOutcome {
    let request: SegmentationRunRequest = serde_json::from_value(job.payload.clone())
        .map_err(|error| (json!({}), format!("bad job payload: {error}")))?;
    match segmentation::run::run(url, Some(job.id), &request, progress) {
        Ok(summary) => {
            let mut counts = summary.counts();
            // The run has committed; archiving older ones is housekeeping that may fail alone.
            match segmentation::retention::archive_old_runs(url, keep_runs) {
                Ok(archived) => {
                    if let Some(counts) = counts.as_object_mut() {
                        counts.insert("archived_runs".to_owned(), json!(archived));
                    }
                }
                Err(error) => tracing::warn!(job = job.id, %error, "cannot archive old runs"),
            }
            Ok(counts)
        }
        Err(error) => {
            if let Err(record) =
                segmentation::run::record_failure(url, Some(job.id), &request, &error)
            {
                tracing::warn!(job = job.id, error = %record, "cannot record the failed run");
            }
            Err((json!({}), error.to_string()))
        }
    }
}

fn run_analysis(job: &Job, url: &DatabaseUrl) -> JobOutcome {
    let experiment_id = job
        .payload
        .get("experiment_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| (json!({}), "bad job payload: no experiment_id".to_owned()))?;
    analysis::analyze(url, experiment_id, Some(job.id))
        .map_err(|error| (json!({}), error.to_string()))
}
