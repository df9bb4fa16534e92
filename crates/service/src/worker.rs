//! The job worker of a replica: claims jobs of its kinds from the shared queue, runs each on a
//! blocking thread while a heartbeat renews its lease and records progress, then records the
//! outcome. A replica that dies stops renewing; another claims the job once the lease runs out.
//! Jobs do their work in one transaction, so a killed run leaves nothing half done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use models::db::{DatabaseUrl, Pool};
use models::enums::JobKind;
use models::jobs::Job;
use models::queue;
use serde_json::{Value, json};

use crate::settings::{Env, SettingsError};

/// How a worker holds and looks for jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `JOB_LEASE_MS`: how long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// `JOB_POLL_MS`: how often an idle worker looks for work.
    pub poll: Duration,
}

impl WorkerSettings {
    pub fn from_env(env: &Env) -> Result<WorkerSettings, SettingsError> {
        let settings = WorkerSettings {
            lease: env.millis_or("JOB_LEASE_MS", Duration::from_secs(30))?,
            poll: env.millis_or("JOB_POLL_MS", Duration::from_millis(500))?,
        };
        if settings.lease < Duration::from_millis(300) {
            return Err(SettingsError::Malformed {
                name: "JOB_LEASE_MS".to_owned(),
                reason: "must be at least 300".to_owned(),
            });
        }
        Ok(settings)
    }
}

/// Work done so far, shared between the job's thread and its heartbeat.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    pub fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// From 0 to 1.
    pub fn fraction(&self) -> f64 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            (self.done.load(Ordering::Relaxed) as f64 / total as f64).min(1.0)
        }
    }
}

/// A job's counts when it succeeds; its counts so far and its error when it fails.
pub type JobOutcome = Result<Value, (Value, String)>;

/// What a service does with the jobs it runs.
pub trait JobRunner: Send + Sync + 'static {
    /// The kinds of job this service claims.
    fn kinds(&self) -> &'static [JobKind];

    /// Runs `job` to its outcome on a blocking thread (it may use synchronous connections).
    fn run(&self, job: &Job, url: &DatabaseUrl, progress: &Progress) -> JobOutcome;

    /// Called on a blocking thread once the job's outcome is recorded, to free what it used.
    fn finished(&self, _job_id: i64, _url: &DatabaseUrl) {}
}

/// Connections of a job worker's own pool (its jobs open their own for the heavy work).
const WORKER_POOL_SIZE: usize = 2;

/// Starts a job worker beside a service's HTTP server, with a small pool of its own.
pub fn spawn<R: JobRunner>(
    database: &models::db::PoolSettings,
    settings: &WorkerSettings,
    name: &'static str,
    runner: R,
) -> Result<(), models::db::DbError> {
    let pool = models::db::build_pool(&models::db::PoolSettings {
        max_size: WORKER_POOL_SIZE,
        ..database.clone()
    })?;
    tokio::spawn(run(
        pool,
        database.url.clone(),
        settings.clone(),
        name,
        Arc::new(runner),
    ));
    Ok(())
}

/// Works through the queue until the process stops. `name` prefixes the lease owner.
pub async fn run<R: JobRunner>(
    pool: Pool,
    url: DatabaseUrl,
    settings: WorkerSettings,
    name: &'static str,
    runner: Arc<R>,
) {
    let owner = owner_name(name);
    loop {
        match step(&pool, &url, &settings, &owner, &runner).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(settings.poll).await,
            Err(error) => {
                tracing::warn!(%error, "job worker: will try again");
                tokio::time::sleep(settings.poll).await;
            }
        }
    }
}

/// A name for this process's claims, unique across processes and restarts.
pub fn owner_name(service: &str) -> String {
    format!(
        "{service}-{}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_nanos())
            .unwrap_or_default()
    )
}

/// Claims and runs one job; false when there was none.
async fn step<R: JobRunner>(
    pool: &Pool,
    url: &DatabaseUrl,
    settings: &WorkerSettings,
    owner: &str,
    runner: &Arc<R>,
) -> Result<bool, String> {
    let lease = settings.lease;
    let job = {
        let mut connection = pool.get().await.map_err(|error| error.to_string())?;
        queue::fail_abandoned(&mut connection, runner.kinds())
            .await
            .map_err(|error| error.to_string())?;
        queue::claim(&mut connection, runner.kinds(), owner, lease)
            .await
            .map_err(|error| error.to_string())?
    };
    let Some(job) = job else { return Ok(false) };
    tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job claimed");
    let id = job.id;
    let progress = Arc::new(Progress::default());
    let work = {
        let (runner, url, progress) = (runner.clone(), url.clone(), progress.clone());
        tokio::task::spawn_blocking(move || runner.run(&job, &url, &progress))
    };
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
        let (runner, url) = (runner.clone(), url.clone());
        tokio::task::spawn_blocking(move || runner.finished(id, &url))
            .await
            .map_err(|error| error.to_string())?;
    }
    Ok(true)
}
