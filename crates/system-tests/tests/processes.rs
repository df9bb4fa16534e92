//! The real binaries as processes: the whole platform over HTTP, replicas starting together,
//! and start-up failures that must read as one clear line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diesel::RunQueryDsl as _;

use testkit::process::free_port;
use testkit::{
    Platform, READ_KEY, ServiceProcess, TestDatabase, job_status, service_env, wait_for_job,
};

async fn platform_status(http: &reqwest::Client, api_url: &str) -> serde_json::Value {
    let response = http
        .get(format!("{api_url}/api/v1/status"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_whole_platform_starts_and_the_api_reaches_every_peer() {
    let platform = Platform::start().await;
    let http = reqwest::Client::new();

    let status = platform_status(&http, &platform.api.url).await;
    let peers = status["peers"].as_array().unwrap();
    let names: Vec<&str> = peers
        .iter()
        .map(|peer| peer["service"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ds", "mailer", "etl"]);
    for peer in peers {
        assert_eq!(peer["ready"], true, "{peer}");
        assert_eq!(peer["version"], "0.1.0");
    }

    // A peer that goes down is reported as such, not as an api failure.
    drop(platform.ds);
    let status = platform_status(&http, &platform.api.url).await;
    assert_eq!(status["peers"][0]["ready"], false);
    assert!(
        status["peers"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{status}"
    );
    assert_eq!(status["peers"][1]["ready"], true);
}

#[tokio::test]
async fn two_api_replicas_started_together_on_an_empty_database_both_come_up() {
    let database = TestDatabase::empty();
    let mut base = service_env(database.url().as_str());
    base.push(("LOG_FORMAT".to_owned(), "json".to_owned()));
    let mut replicas: Vec<ServiceProcess> = (0..2)
        .map(|_| {
            let port = free_port();
            let mut env = base.clone();
            env.push(("API_ADDR".to_owned(), format!("127.0.0.1:{port}")));
            ServiceProcess::spawn("api", &[], &env, port)
        })
        .collect();
    for replica in &mut replicas {
        replica.wait_ready(Duration::from_secs(30)).await.unwrap();
    }
    let applied: Vec<u64> = replicas
        .iter()
        .map(|replica| {
            let log = replica.log();
            let line = log
                .lines()
                .find(|line| line.contains("migrations applied"))
                .expect("a migrations line");
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            event["applied"].as_u64().unwrap()
        })
        .collect();
    let mut sorted = applied.clone();
    sorted.sort();
    let all = models::migrate::embedded_versions().len() as u64;
    assert_eq!(
        sorted,
        [0, all],
        "one replica migrated, the other found nothing to do: {applied:?}"
    );
}

fn start_failure(name: &str, args: &[&str], env: Vec<(String, String)>) -> (Option<i32>, String) {
    let mut process = ServiceProcess::spawn(name, args, &env, 0);
    let code = process.wait_exit(Duration::from_secs(20));
    (code, process.log())
}

#[test]
fn a_malformed_database_url_is_one_line_naming_the_variable() {
    let mut env = service_env("postgres://x@127.0.0.1:1/db");
    env.retain(|(name, _)| name != "DATABASE_URL");
    env.push((
        "DATABASE_URL".to_owned(),
        "localhost:5432/streamlab".to_owned(),
    ));
    let (code, output) = start_failure("ds", &[], env);
    assert_eq!(code, Some(2));
    assert_eq!(
        output.trim(),
        "ds: setting DATABASE_URL is malformed: has scheme 'localhost'; expected postgres:// or postgresql://"
    );
}

#[test]
fn an_unreachable_database_is_one_line_naming_host_and_port() {
    let port = free_port();
    let env = service_env(&format!("postgres://streamlab@127.0.0.1:{port}/streamlab"));
    let (code, output) = start_failure("mailer", &[], env);
    assert_eq!(code, Some(1));
    let last = output.trim().lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "mailer: cannot connect to the database at 127.0.0.1:{port}: "
        )),
        "{output}"
    );
    assert!(!output.contains("panicked"), "{output}");
}

#[tokio::test]
async fn a_port_in_use_is_one_line_naming_the_address() {
    let database = TestDatabase::migrated();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut env = service_env(database.url().as_str());
    env.push(("ETL_ADDR".to_owned(), addr.to_string()));
    let (code, output) = start_failure("etl", &["serve"], env);
    assert_eq!(code, Some(1));
    let last = output.trim().lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "etl: cannot listen on {addr} (from ETL_ADDR): Address already in use (os error 98)"
        )
    );
}

#[test]
fn etl_migrate_applies_then_finds_nothing_to_do() {
    let database = TestDatabase::empty();
    let env = service_env(database.url().as_str());
    let (code, output) = start_failure("etl", &["migrate"], env.clone());
    assert_eq!(code, Some(0), "{output}");
    let all = models::migrate::embedded_versions().len();
    assert!(
        output.starts_with(&format!("etl migrate: {all} migration(s) applied")),
        "{output}"
    );
    let (code, output) = start_failure("etl", &["migrate"], env);
    assert_eq!(code, Some(0));
    assert!(
        output.starts_with("etl migrate: 0 migration(s) applied"),
        "{output}"
    );
}

#[tokio::test]
async fn healthcheck_flag_probes_the_running_service() {
    let platform = Platform::start().await;
    let port = platform.api.url.rsplit(':').next().unwrap().to_owned();
    let mut env = service_env(platform.database.url().as_str());
    env.push(("API_ADDR".to_owned(), format!("0.0.0.0:{port}")));
    let (code, _) = start_failure("api", &["--healthcheck"], env.clone());
    assert_eq!(code, Some(0));
    env.push(("API_ADDR".to_owned(), format!("127.0.0.1:{}", free_port())));
    let (code, output) = start_failure("api", &["--healthcheck"], env);
    assert_eq!(code, Some(1));
    assert!(
        output.starts_with("api: unhealthy: cannot connect to 127.0.0.1:"),
        "{output}"
    );
}

#[tokio::test]
async fn sigterm_stops_a_service_gracefully() {
    let mut platform = Platform::start().await;
    platform.mailer.terminate();
    assert_eq!(
        platform.mailer.wait_exit(Duration::from_secs(15)),
        Some(0),
        "{}",
        platform.mailer.log()
    );
    assert!(
        platform.mailer.log().contains("graceful shutdown"),
        "{}",
        platform.mailer.log()
    );
}

#[test]
fn etl_generate_then_export_through_the_binary() {
    let database = TestDatabase::migrated();
    let env = service_env(database.url().as_str());
    let (code, output) = start_failure(
        "etl",
        &["generate", "--customers", "250", "--seed", "4"],
        env.clone(),
    );
    assert_eq!(code, Some(0), "{output}");
    let customers_line = output
        .lines()
        .find(|line| line.starts_with("customers"))
        .unwrap();
    assert_eq!(
        customers_line.split_whitespace().nth(1),
        Some("250"),
        "{output}"
    );

    let (code, output) = start_failure("etl", &["generate", "--customers", "10"], env.clone());
    assert_eq!(code, Some(1));
    assert_eq!(
        output.trim(),
        "etl: the database already holds customers or titles; run with --reset to replace all data"
    );

    let (code, output) = start_failure("etl", &["export", "customers"], env.clone());
    assert_eq!(code, Some(0));
    assert_eq!(output.lines().count(), 251, "a header and 250 customers");
    assert!(output.starts_with("id,external_id,first_name,"));

    let (code, output) = start_failure("etl", &["export", "passwords"], env.clone());
    assert_eq!(code, Some(2));
    assert!(
        output.starts_with("etl: unknown table 'passwords'; exportable tables: plans, customers,"),
        "{output}"
    );

    let (code, output) = start_failure("etl", &["generate", "--customers", "0", "--reset"], env);
    assert_eq!(code, Some(2));
    assert_eq!(
        output.trim(),
        "etl: scenario setting customers must be at least 1"
    );
}

#[test]
fn etl_import_through_the_binary_names_the_bad_lines() {
    let database = TestDatabase::migrated();
    let env = service_env(database.url().as_str());
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../services/etl/tests/fixtures/import");
    let broken = fixtures.join("broken");
    let (code, output) = start_failure("etl", &["import", broken.to_str().unwrap()], env.clone());
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.starts_with("etl: 3 bad row(s); nothing was loaded:"),
        "{output}"
    );
    assert!(
        output
            .contains("customers.csv line 7: email 'six-at-example.com' is not an e-mail address"),
        "{output}"
    );
    assert!(
        output.contains("customers.csv line 8: signup_at '07/01/2025' is not a date-time"),
        "{output}"
    );
    assert!(
        output.contains(
            "watch_sessions.csv line 3: customer 'nobody@example.com' is not a known customer"
        ),
        "{output}"
    );

    let example = fixtures.join("example");
    let (code, output) = start_failure("etl", &["import", example.to_str().unwrap()], env.clone());
    assert_eq!(code, Some(0), "{output}");
    let customers = output
        .lines()
        .find(|line| line.starts_with("customers"))
        .unwrap();
    assert_eq!(
        customers.split_whitespace().collect::<Vec<_>>(),
        ["customers", "4", "0", "0", "0"]
    );
    let (code, output) = start_failure("etl", &["import", example.to_str().unwrap()], env);
    assert_eq!(code, Some(0));
    let customers = output
        .lines()
        .find(|line| line.starts_with("customers"))
        .unwrap();
    assert_eq!(
        customers.split_whitespace().collect::<Vec<_>>(),
        ["customers", "0", "0", "4", "0"]
    );
}

/// Polls `{jobs_url}/{id}` with `token` until the job succeeded or failed.
#[tokio::test]
async fn the_api_runs_generate_and_import_jobs_on_etl() {
    let platform = Platform::start().await;
    let http = reqwest::Client::new();
    let api = &platform.api.url;

    let refused = http
        .post(format!("{api}/api/v1/jobs"))
        .bearer_auth(READ_KEY)
        .json(&serde_json::json!({"customers": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let created = http
        .post(format!("{api}/api/v1/jobs"))
        .bearer_auth(testkit::ADMIN_KEY)
        .json(&serde_json::json!({"customers": 150, "seed": 8}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 202);
    let job: serde_json::Value = created.json().await.unwrap();
    let done = wait_for_job(
        &http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        job["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["tables"][1]["rows"], 150);

    // A bad value is etl's 422, passed through with the field at fault.
    let bad = http
        .post(format!("{api}/api/v1/jobs"))
        .bearer_auth(testkit::ADMIN_KEY)
        .json(&serde_json::json!({"customers": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "customers");

    // A CSV upload through the api becomes an import job.
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../services/etl/tests/fixtures/import/example");
    let files: Vec<(&str, Vec<u8>)> = ["titles.csv", "customers.csv", "watch_sessions.csv"]
        .into_iter()
        .map(|name| (name, std::fs::read(fixtures.join(name)).unwrap()))
        .collect();
    let (content_type, body) = testkit::multipart_files(&files);
    let uploaded = http
        .post(format!("{api}/api/v1/jobs"))
        .bearer_auth(testkit::ADMIN_KEY)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 202);
    let import: serde_json::Value = uploaded.json().await.unwrap();
    assert_eq!(import["kind"], "import");
    let done = wait_for_job(
        &http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        import["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["tables"][1]["inserted"], 4);

    let page: serde_json::Value = http
        .get(format!("{api}/api/v1/jobs?limit=1"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], import["id"]);
    assert_eq!(page["next"], import["id"].to_string());

    // With etl stopped, the api answers 503 at once rather than hanging.
    drop(platform.etl);
    let down = http
        .get(format!("{api}/api/v1/jobs"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    let problem: serde_json::Value = down.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("etl at http://127.0.0.1:"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_job_of_a_killed_etl_replica_is_finished_by_another() {
    let database = TestDatabase::migrated();
    let mut env = service_env(database.url().as_str());
    env.push(("JOB_LEASE_MS".to_owned(), "1000".to_owned()));
    env.push(("JOB_POLL_MS".to_owned(), "100".to_owned()));
    let replica = |env: &Vec<(String, String)>| {
        let port = free_port();
        let mut env = env.clone();
        env.push(("ETL_ADDR".to_owned(), format!("127.0.0.1:{port}")));
        ServiceProcess::spawn("etl", &["serve"], &env, port)
    };
    let http = reqwest::Client::new();
    let mut first = replica(&env);
    first.wait_ready(Duration::from_secs(30)).await.unwrap();
    let job: serde_json::Value = http
        .post(format!("{}/v1/jobs", first.url))
        .bearer_auth(testkit::SERVICE_TOKEN)
        .json(&serde_json::json!({"customers": 30000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_i64().unwrap();
    let first_jobs = format!("{}/v1/jobs", first.url);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while job_status(&http, &first_jobs, testkit::SERVICE_TOKEN, id).await["status"] != "running" {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first); // SIGKILL, mid-load

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let customers = || {
        diesel::sql_query("SELECT count(*) AS count FROM customers")
            .get_result::<Count>(&mut database.connect())
            .unwrap()
            .count
    };
    assert_eq!(customers(), 0, "the killed load left nothing behind");

    let mut second = replica(&env);
    second.wait_ready(Duration::from_secs(30)).await.unwrap();
    let done = wait_for_job(
        &http,
        &format!("{}/v1/jobs", second.url),
        testkit::SERVICE_TOKEN,
        id,
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "one attempt by each replica");
    assert_eq!(customers(), 30000);
}

#[tokio::test]
async fn api_keys_command_creates_lists_and_revokes() {
    let database = TestDatabase::migrated();
    let env = service_env(database.url().as_str());
    let (code, output) = start_failure(
        "api",
        &["keys", "create", "--name", "cli key", "--scope", "read"],
        env.clone(),
    );
    assert_eq!(code, Some(0), "{output}");
    let key = output.lines().next().unwrap().to_owned();
    assert!(key.starts_with("sl_"), "{output}");

    let app = testkit::spawn_app_with::<api::Api>(
        TestDatabase::migrated(),
        &[("DATABASE_URL", database.url().as_str())],
    )
    .await;
    assert_eq!(app.get("/api/v1/plans", Some(&key)).await.status(), 200);

    let (code, output) = start_failure("api", &["keys", "list"], env.clone());
    assert_eq!(code, Some(0));
    assert!(
        output.lines().nth(1).unwrap().contains("cli key"),
        "{output}"
    );
    assert!(!output.contains(&key), "the key itself is never listed");

    let (code, output) = start_failure("api", &["keys", "revoke", "1"], env.clone());
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(output.trim(), "revoked key 1 (cli key)");
    assert_eq!(
        app.get("/api/v1/plans", Some(&key)).await.status(),
        401,
        "no restart needed"
    );

    let (code, output) = start_failure(
        "api",
        &["keys", "create", "--name", "x", "--scope", "root"],
        env,
    );
    assert_eq!(code, Some(2));
    assert!(output.contains("invalid value 'root'"), "{output}");
}
