//! The jobs API of etl: generation and import jobs run by the worker, leases, listing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use etl::Etl;
use testkit::{SERVICE_TOKEN, TestApp, TestDatabase, spawn_app_with};

async fn spawn() -> TestApp {
    spawn_app_with::<Etl>(
        TestDatabase::migrated(),
        &[
            ("ETL_MAX_CUSTOMERS", "5000"),
            ("JOB_POLL_MS", "50"),
            ("JOB_LEASE_MS", "1500"),
        ],
    )
    .await
}

async fn wait_for(app: &TestApp, id: i64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job: serde_json::Value = app
            .get(&format!("/v1/jobs/{id}"), Some(SERVICE_TOKEN))
            .await
            .json()
            .await
            .unwrap();
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_json(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.http
        .post(app.url("/v1/jobs"))
        .bearer_auth(SERVICE_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn multipart(files: &[(&str, Vec<u8>)], skip_invalid: bool) -> (String, Vec<u8>) {
    let boundary = "streamlab-test-boundary";
    let mut body = Vec::new();
    for (name, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    if skip_invalid {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"skip_invalid\"\r\n\r\ntrue\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn fixture_files(set: &str) -> Vec<(String, Vec<u8>)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(set);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter(|entry| {
            entry
                .path()
                .extension()
                .is_some_and(|extension| extension == "csv")
        })
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

async fn upload(app: &TestApp, set: &str, skip_invalid: bool) -> reqwest::Response {
    let files = fixture_files(set);
    let refs: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, content)| (name.as_str(), content.clone()))
        .collect();
    let (content_type, body) = multipart(&refs, skip_invalid);
    app.http
        .post(app.url("/v1/jobs"))
        .bearer_auth(SERVICE_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_generate_job_runs_to_completion() {
    let app = spawn().await;
    let created = post_json(&app, serde_json::json!({"customers": 300, "seed": 3})).await;
    assert_eq!(created.status(), 202);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let job: serde_json::Value = created.json().await.unwrap();
    assert_eq!(job["kind"], "generate");
    assert_eq!(job["status"], "queued");
    assert_eq!(location, format!("/v1/jobs/{}", job["id"]));

    let done = wait_for(&app, job["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["counts"]["tables"][1]["table"], "customers");
    assert_eq!(done["counts"]["tables"][1]["rows"], 300);
    assert_eq!(done["attempts"], 1);
    assert!(done["lease_owner"].is_null());

    // A second one without reset fails, saying why.
    let second: serde_json::Value = post_json(&app, serde_json::json!({"customers": 10}))
        .await
        .json()
        .await
        .unwrap();
    let failed = wait_for(&app, second["id"].as_i64().unwrap()).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["error"],
        "the database already holds customers or titles; run with --reset to replace all data"
    );
}

#[tokio::test]
async fn bad_generate_requests_are_422_naming_the_field() {
    let app = spawn().await;
    let response = post_json(&app, serde_json::json!({"customers": 5001})).await;
    assert_eq!(response.status(), 422);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "customers");
    assert_eq!(
        problem["errors"][0]["message"],
        "must be at most 5000 (ETL_MAX_CUSTOMERS)"
    );
    let response = post_json(&app, serde_json::json!({"customers": -1})).await;
    assert_eq!(response.status(), 422);
    let response = post_json(&app, serde_json::json!({"customerz": 3})).await;
    assert_eq!(response.status(), 422);
    let text = app
        .http
        .post(app.url("/v1/jobs"))
        .bearer_auth(SERVICE_TOKEN)
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let jobs: serde_json::Value = app
        .get("/v1/jobs", Some(SERVICE_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        jobs["jobs"].as_array().unwrap().len(),
        0,
        "nothing was queued"
    );
}

#[tokio::test]
async fn import_jobs_take_a_multipart_upload() {
    let app = spawn().await;
    let broken = upload(&app, "broken", false).await;
    assert_eq!(broken.status(), 202);
    let broken: serde_json::Value = broken.json().await.unwrap();
    assert_eq!(broken["kind"], "import");
    let failed = wait_for(&app, broken["id"].as_i64().unwrap()).await;
    assert_eq!(failed["status"], "failed");
    let errors: Vec<&str> = failed["counts"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 3);
    assert!(
        errors[0].starts_with("customers.csv line 7: email"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("watch_sessions.csv line 3: customer"),
        "{errors:?}"
    );

    let example: serde_json::Value = upload(&app, "example", false).await.json().await.unwrap();
    let done = wait_for(&app, example["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["tables"][1]["table"], "customers");
    assert_eq!(done["counts"]["tables"][1]["inserted"], 4);
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let files: Count = diesel::sql_query("SELECT count(*) AS count FROM job_files")
        .get_result(&mut app.database.connect())
        .unwrap();
    assert_eq!(files.count, 0, "uploads are deleted once their jobs end");

    let (content_type, body) = multipart(&[("people.csv", b"email\n".to_vec())], false);
    let wrong = app
        .http
        .post(app.url("/v1/jobs"))
        .bearer_auth(SERVICE_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
}

#[tokio::test]
async fn a_job_whose_worker_died_is_picked_up_again() {
    let app = spawn().await;
    // A generate job held by a worker that stopped renewing its lease.
    diesel::sql_query(
        "INSERT INTO jobs (kind, status, payload, attempts, lease_owner, lease_expires_at, started_at) \
         VALUES ('generate', 'running', '{\"customers\": 40}', 1, 'etl-dead', now() - interval '1 second', now())",
    )
    .execute(&mut app.database.connect())
    .unwrap();
    let done = wait_for(&app, 1).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2);
    assert_eq!(done["counts"]["tables"][1]["rows"], 40);

    // One whose attempts are used up is failed, not retried for ever.
    diesel::sql_query(
        "INSERT INTO jobs (kind, status, payload, attempts, max_attempts, lease_owner, lease_expires_at) \
         VALUES ('import', 'running', '{}', 3, 3, 'etl-dead', now() - interval '1 second')",
    )
    .execute(&mut app.database.connect())
    .unwrap();
    let abandoned = wait_for(&app, 2).await;
    assert_eq!(abandoned["status"], "failed");
    assert_eq!(
        abandoned["error"],
        "abandoned: its worker stopped answering on each of 3 attempts"
    );
}

#[tokio::test]
async fn concurrent_claims_never_take_the_same_job() {
    let database = TestDatabase::migrated();
    diesel::sql_query(
        "INSERT INTO jobs (kind, payload) SELECT 'analysis', '{}' FROM generate_series(1, 40)",
    )
    .execute(&mut database.connect())
    .unwrap();
    let pool = models::db::build_pool(&models::db::PoolSettings {
        url: database.url().clone(),
        max_size: 4,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
        short_statements: false,
    })
    .unwrap();
    let claimers: Vec<_> = (0..4)
        .map(|worker| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                let mut connection = pool.get().await.unwrap();
                let owner = format!("worker-{worker}");
                while let Some(job) = models::queue::claim(
                    &mut connection,
                    &[models::enums::JobKind::Analysis],
                    &owner,
                    Duration::from_secs(60),
                )
                .await
                .unwrap()
                {
                    claimed.push(job.id);
                }
                claimed
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    all.sort();
    assert_eq!(
        all,
        (1..=40).collect::<Vec<i64>>(),
        "each job claimed exactly once"
    );
}

#[tokio::test]
async fn the_job_list_pages_newest_first() {
    let app = spawn().await;
    diesel::sql_query(
        "INSERT INTO jobs (kind, payload) SELECT 'analysis', '{}' FROM generate_series(1, 5)",
    )
    .execute(&mut app.database.connect())
    .unwrap();
    let first: serde_json::Value = app
        .get("/v1/jobs?limit=3", Some(SERVICE_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = first["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [5, 4, 3]);
    assert_eq!(first["next"], 3);
    let second: serde_json::Value = app
        .get("/v1/jobs?limit=3&before=3", Some(SERVICE_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = second["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1]);
    assert!(second["next"].is_null());
    assert_eq!(
        app.get("/v1/jobs?limit=0", Some(SERVICE_TOKEN))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/v1/jobs?limit=abc", Some(SERVICE_TOKEN))
            .await
            .status(),
        400
    );
}
