//! The test harness.
//!
//! - `TestDatabase`: a fresh database per test, cloned from a migrated template (or empty),
//!   dropped when the test ends.
//! - `spawn_app::<S>()`: service `S` started in-process on a random port against its own
//!   fresh database, as zero2prod does.
//! - `Platform::start()`: all four services as real processes (the dev-profile binaries),
//!   talking to each other over HTTP, for system tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod database;
pub mod process;
pub mod smtp;

use std::time::Duration;

use service::binary::{Service, ServiceSettings};
use service::settings::Env;
use sha2::{Digest, Sha256};

pub use database::TestDatabase;
pub use process::{Platform, ServiceProcess};

pub const SERVICE_TOKEN: &str = "test-service-token-0123456789";
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";
pub const READ_KEY: &str = "test-read-key-0123456789";
pub const TRACKING_KEYS: &str = "t1:test-tracking-secret-0123456789abcdef";

/// The settings every service gets in tests, for a database; listeners on random ports.
pub fn service_env(database_url: &str) -> Vec<(String, String)> {
    let hash = |key: &str| hex::encode(Sha256::digest(key.as_bytes()));
    [
        ("DATABASE_URL", database_url.to_owned()),
        ("SERVICE_TOKEN", SERVICE_TOKEN.to_owned()),
        (
            "API_KEYS",
            format!("admin:{},read:{}", hash(ADMIN_KEY), hash(READ_KEY)),
        ),
        ("API_ADDR", "127.0.0.1:0".to_owned()),
        ("DS_ADDR", "127.0.0.1:0".to_owned()),
        ("MAILER_ADDR", "127.0.0.1:0".to_owned()),
        ("ETL_ADDR", "127.0.0.1:0".to_owned()),
        ("DB_POOL_SIZE", "4".to_owned()),
        ("TRACKING_KEYS", TRACKING_KEYS.to_owned()),
        ("DB_ACQUIRE_TIMEOUT_MS", "1000".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// A service running in this test process.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub database: TestDatabase,
    pub http: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("send the request")
    }
}

/// Starts service `S` in-process against a fresh migrated database.
pub async fn spawn_app<S: Service>() -> TestApp {
    spawn_app_with::<S>(TestDatabase::migrated(), &[]).await
}

/// Starts service `S` in-process against `database`, with settings overridden by `extra`.
pub async fn spawn_app_with<S: Service>(database: TestDatabase, extra: &[(&str, &str)]) -> TestApp {
    let mut env = Env::from_pairs(service_env(database.url().as_str()));
    for (name, value) in extra {
        env.set(*name, *value);
    }
    let settings = S::Settings::from_env(&env, S::LISTEN).expect("test settings are valid");
    let running = S::start(&settings).await.expect("the service starts");
    let address = format!("http://127.0.0.1:{}", running.port);
    tokio::spawn(running.run_until_stopped());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build an HTTP client");
    TestApp {
        address,
        database,
        http,
    }
}

/// Polls `{jobs_url}/{id}` until the job has succeeded or failed (two minutes at most).
pub async fn wait_for_job(
    http: &reqwest::Client,
    jobs_url: &str,
    token: &str,
    id: i64,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let job = job_status(http, jobs_url, token, id).await;
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} did not finish: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The job at `{jobs_url}/{id}`, as JSON.
pub async fn job_status(
    http: &reqwest::Client,
    jobs_url: &str,
    token: &str,
    id: i64,
) -> serde_json::Value {
    let response = http
        .get(format!("{jobs_url}/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the jobs route answers");
    response.json().await.expect("the jobs route answers")
}

/// Files as a `multipart/form-data` body (each a `file` field named by its file name), and
/// the content type that goes with it: what the api's import upload takes.
pub fn multipart_files(files: &[(&str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "streamlab-test-upload-boundary";
    let mut body = Vec::new();
    for (name, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
