//! Segmentation through the real entry points: the original system's own data loaded by the
//! api's import job, runs started through the api and executed by ds, results read back
//! through the api.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use models::segmentation_rules::{ClassicRules, QuantileRules};
use serde_json::{Value, json};
use testkit::{ADMIN_KEY, Platform, READ_KEY, wait_for_job};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ds223-seed10")
        .join(name)
}

/// The rows of a fixture CSV (none of its values holds a comma), header first.
fn rows(name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

/// The original system's tables as this platform's import files (see PROVENANCE.md): each
/// customer keeps their id as external id and subscribes to their plan from their creation;
/// each engagement is a watch session of a title named after its movie id. The original keeps
/// only the day of an engagement, and a customer may watch one movie twice on a day: each
/// engagement starts its id's number of seconds after midnight, so the two stay two sessions
/// (an import takes customer, start and title as a session's natural key).
fn import_files() -> Vec<(&'static str, String)> {
    let plans: HashMap<String, String> = rows("subscriptions.csv")
        .into_iter()
        .skip(1)
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect();
    let mut customers = String::from("external_id,email,first_name,last_name,signup_at\n");
    let mut subscriptions = String::from("customer,plan,status,started_at\n");
    for row in rows("customers.csv").into_iter().skip(1) {
        let (id, plan, created) = (&row[0], &plans[&row[1]], &row[2]);
        customers.push_str(&format!(
            "ds223-{id},customer{id}@ds223.example,Customer,{id},{created}\n"
        ));
        subscriptions.push_str(&format!("ds223-{id},{plan},active,{created}\n"));
    }
    let engagements = rows("engagements.csv");
    let mut movies: Vec<&String> = engagements.iter().skip(1).map(|row| &row[2]).collect();
    movies.sort();
    movies.dedup();
    let mut titles = String::from("external_id,name,genre,release_year,duration_minutes\n");
    for movie in movies {
        titles.push_str(&format!("movie-{movie},Movie {movie},Unknown,2020,120\n"));
    }
    let mut sessions = String::from("customer,title,started_at,minutes,completed,like_status\n");
    for row in engagements.iter().skip(1) {
        let like = match row[6].as_str() {
            "Liked" => "liked",
            "Disliked" => "disliked",
            _ => "none",
        };
        let day = row[3].trim_end_matches(" 00:00:00");
        let second: u32 = row[0].parse().unwrap();
        assert!(second < 86_400);
        let start = format!(
            "{day} {:02}:{:02}:{:02}",
            second / 3600,
            second / 60 % 60,
            second % 60
        );
        sessions.push_str(&format!(
            "ds223-{},movie-{},{start},{},{},{like}\n",
            row[1], row[2], row[4], row[5]
        ));
    }
    vec![
        ("customers.csv", customers),
        ("subscriptions.csv", subscriptions),
        ("titles.csv", titles),
        ("watch_sessions.csv", sessions),
    ]
}

async fn upload(http: &reqwest::Client, api: &str, files: &[(&str, String)]) -> Value {
    let files: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, content)| (*name, content.clone().into_bytes()))
        .collect();
    let (content_type, body) = testkit::multipart_files(&files);
    let response = http
        .post(format!("{api}/api/v1/jobs"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    wait_for_job(
        http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        job["id"].as_i64().unwrap(),
    )
    .await
}

async fn start_run(http: &reqwest::Client, api: &str, body: Value) -> reqwest::Response {
    http.post(format!("{api}/api/v1/segmentation-runs"))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn run_to_end(http: &reqwest::Client, api: &str, body: Value) -> Value {
    let response = start_run(http, api, body).await;
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["kind"], "segmentation");
    let done = wait_for_job(
        http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        job["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    let response = http.get(&url).bearer_auth(READ_KEY).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

/// Every item of a paged list.
async fn all(http: &reqwest::Client, url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(next) => format!(
                "{url}{}limit=1000&cursor={next}",
                if url.contains('?') { "&" } else { "?" }
            ),
            None => format!(
                "{url}{}limit=1000",
                if url.contains('?') { "&" } else { "?" }
            ),
        };
        let page = get(http, page_url).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn the_classic_scheme_gives_every_customer_the_original_systems_segment_and_scores() {
    let platform = Platform::start().await;
    let http = reqwest::Client::new();
    let api = platform.api.url.clone();

    let imported = upload(&http, &api, &import_files()).await;
    assert_eq!(imported["status"], "succeeded", "{imported}");

    let done = run_to_end(&http, &api, json!({"scheme": "classic"})).await;
    let run_id = done["counts"]["run_id"].as_i64().unwrap();
    assert_eq!(done["counts"]["customers_scored"], 2000);

    let customers = all(&http, &format!("{api}/api/v1/customers")).await;
    let external: HashMap<i64, String> = customers
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["external_id"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("ds223-")
                    .to_owned(),
            )
        })
        .collect();
    let memberships = all(
        &http,
        &format!("{api}/api/v1/segmentation-runs/{run_id}/memberships"),
    )
    .await;
    assert_eq!(memberships.len(), 2000);
    let ours: HashMap<&str, &Value> = memberships
        .iter()
        .map(|m| (external[&m["customer_id"].as_i64().unwrap()].as_str(), m))
        .collect();

    let expected = rows("expected_segments.csv");
    assert_eq!(
        expected[0].join(","),
        "customer_id,segment_id,segment_name,frequency,total_duration,monetary,liked_count,disliked_count,total_score"
    );
    let mut mismatches = Vec::new();
    for row in expected.iter().skip(1) {
        let m = ours[row[0].as_str()];
        let number = |text: &str| text.parse::<f64>().unwrap();
        let got = [
            m["segment_id"].as_f64().unwrap(),
            m["metrics"]["frequency"].as_f64().unwrap(),
            m["metrics"]["minutes"].as_f64().unwrap(),
            m["metrics"]["monetary"].as_f64().unwrap(),
            m["metrics"]["likes"].as_f64().unwrap(),
            m["metrics"]["dislikes"].as_f64().unwrap(),
            m["total_score"].as_f64().unwrap(),
        ];
        let want = [
            row[1].as_str(),
            &row[3],
            &row[4],
            &row[5],
            &row[6],
            &row[7],
            &row[8],
        ]
        .map(number);
        if got != want {
            mismatches.push(format!(
                "customer {}: got {got:?}, the original {want:?}",
                row[0]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of 2000 differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // The distribution the original reported: 69 / 790 / 620 / 521.
    let distribution = get(
        &http,
        format!("{api}/api/v1/segmentation-runs/{run_id}/distribution"),
    )
    .await;
    let counts: Vec<(&str, i64)> = distribution
        .as_array()
        .unwrap()
        .iter()
        .map(|share| {
            (
                share["segment_name"].as_str().unwrap(),
                share["customers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Lost Cause", 69),
            ("Vulnerable Customers", 790),
            ("Free Riders", 620),
            ("Star Customers", 521)
        ]
    );
    // Each customer now shows the run's segment.
    let first = &memberships[0];
    let customer = get(
        &http,
        format!("{api}/api/v1/customers/{}", first["customer_id"]),
    )
    .await;
    assert_eq!(customer["latest_segment"]["id"], first["segment_id"]);
}

#[tokio::test]
async fn rule_sets_are_data_and_runs_keep_the_rules_they_applied() {
    let platform = Platform::start().await;
    let http = reqwest::Client::new();
    let api = platform.api.url.clone();
    let imported = upload(&http, &api, &import_files()).await;
    assert_eq!(imported["status"], "succeeded", "{imported}");

    // The standard rule sets are there, the classic one as the original's thresholds.
    let sets = all(&http, &format!("{api}/api/v1/segmentation-rule-sets")).await;
    let names: Vec<&str> = sets
        .iter()
        .map(|set| set["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["classic", "quantile"]);
    assert_eq!(
        serde_json::from_value::<ClassicRules>(sets[0]["rules"].clone()).unwrap(),
        ClassicRules::original()
    );
    assert_eq!(
        serde_json::from_value::<QuantileRules>(sets[1]["rules"].clone()).unwrap(),
        QuantileRules::standard()
    );
    assert_eq!(
        sets[0]["rules"]["metrics"][0]["bands"][0],
        json!({"op": "<", "value": 2, "score": 1})
    );

    // A stricter copy: everyone above 15 points is a Star.
    let mut rules = sets[0]["rules"].clone();
    rules["segments"]["bands"] = json!([{"max_total": 15, "segment_id": 1}]);
    let created = http
        .post(format!("{api}/api/v1/segmentation-rule-sets"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "two segments", "scheme": "classic", "rules": rules}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let set: Value = created.json().await.unwrap();
    let done = run_to_end(&http, &api, json!({"rule_set_id": set["id"]})).await;
    let run_id = done["counts"]["run_id"].as_i64().unwrap();
    let distribution = get(
        &http,
        format!("{api}/api/v1/segmentation-runs/{run_id}/distribution"),
    )
    .await;
    let counts: Vec<i64> = distribution
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["customers"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [69, 2000 - 69]);

    // Editing the set later does not rewrite the run's record of what it applied.
    let patched = http
        .patch(format!("{api}/api/v1/segmentation-rule-sets/{}", set["id"]))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"rules": sets[0]["rules"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let run = get(&http, format!("{api}/api/v1/segmentation-runs/{run_id}")).await;
    assert_eq!(
        run["rules"]["segments"]["bands"].as_array().unwrap().len(),
        1
    );
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["customers_scored"], 2000);

    // Bad rules and bad requests are 422s naming the field; nothing is queued.
    let mut bad = sets[0]["rules"].clone();
    bad["metrics"][1]["bands"][0]["op"] = json!("!=");
    let refused = http
        .post(format!("{api}/api/v1/segmentation-rule-sets"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "bad", "scheme": "classic", "rules": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem["errors"][0]["field"],
        "rules.metrics[1].bands[0].op"
    );
    let mut unknown_segment = sets[0]["rules"].clone();
    unknown_segment["segments"]["otherwise_segment_id"] = json!(99);
    let refused = http
        .post(format!("{api}/api/v1/segmentation-rule-sets"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "bad", "scheme": "classic", "rules": unknown_segment}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    for (body, field) in [
        (json!({"window_days": 0}), "window_days"),
        (json!({"rule_set_id": 999}), "rule_set_id"),
        (
            json!({"rule_set_id": set["id"], "scheme": "quantile"}),
            "scheme",
        ),
    ] {
        let refused = start_run(&http, &api, body).await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let read_only = http
        .post(format!("{api}/api/v1/segmentation-runs"))
        .bearer_auth(READ_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(read_only.status(), 403);

    // A run that fails half-way leaves nothing: rules naming a segment deleted after they
    // were saved make the memberships' COPY fail; the run is recorded as failed, without
    // memberships, and customers keep the segment of the last good run.
    let before = all(&http, &format!("{api}/api/v1/customers")).await;
    let segment: Value = http
        .post(format!("{api}/api/v1/segments"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "Short-lived", "sort_order": 9}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut doomed = sets[0]["rules"].clone();
    doomed["segments"]["otherwise_segment_id"] = segment["id"].clone();
    let doomed: Value = http
        .post(format!("{api}/api/v1/segmentation-rule-sets"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "doomed", "scheme": "classic", "rules": doomed}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deleted = http
        .delete(format!("{api}/api/v1/segments/{}", segment["id"]))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let response = start_run(&http, &api, json!({"rule_set_id": doomed["id"]})).await;
    let job: Value = response.json().await.unwrap();
    let failed = wait_for_job(
        &http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        job["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let runs = all(
        &http,
        &format!("{api}/api/v1/segmentation-runs?status=failed"),
    )
    .await;
    assert_eq!(runs.len(), 1);
    let failed_run = runs[0]["id"].as_i64().unwrap();
    let memberships = all(
        &http,
        &format!("{api}/api/v1/segmentation-runs/{failed_run}/memberships"),
    )
    .await;
    assert!(memberships.is_empty());
    let after = all(&http, &format!("{api}/api/v1/customers")).await;
    assert_eq!(
        before
            .iter()
            .map(|c| &c["latest_segment"])
            .collect::<Vec<_>>(),
        after
            .iter()
            .map(|c| &c["latest_segment"])
            .collect::<Vec<_>>()
    );

    // The quantile scheme: scores 1..5 per metric, with the cut points kept on the run.
    let done = run_to_end(
        &http,
        &api,
        json!({"scheme": "quantile", "window_days": 3650}),
    )
    .await;
    let run_id = done["counts"]["run_id"].as_i64().unwrap();
    let run = get(&http, format!("{api}/api/v1/segmentation-runs/{run_id}")).await;
    assert_eq!(run["scheme"], "quantile");
    assert_eq!(run["window_days"], 3650);
    let frequency_cuts = run["rules"]["quintiles"]["frequency"].as_array().unwrap();
    assert_eq!(frequency_cuts.len(), 4);
    let memberships = all(
        &http,
        &format!("{api}/api/v1/segmentation-runs/{run_id}/memberships"),
    )
    .await;
    assert_eq!(memberships.len(), 2000);
    for m in &memberships {
        for metric in ["recency_days", "frequency", "minutes", "monetary"] {
            let score = m["scores"][metric].as_f64().unwrap();
            assert!((1.0..=5.0).contains(&score), "{m}");
        }
    }
    // Roughly a fifth of the customers score 5 on minutes (ties aside).
    let top = memberships
        .iter()
        .filter(|m| m["scores"]["minutes"] == 5.0)
        .count();
    assert!((300..=500).contains(&top), "{top} score 5 on minutes");
}

/// Partitions stay bounded: with `DS_KEEP_RUNS=2`, a third run archives the first (its
/// partition dropped, its row kept) and customers read the newest.
#[tokio::test]
async fn runs_beyond_the_kept_number_are_archived() {
    use diesel::RunQueryDsl as _;
    let ds = testkit::spawn_app_with::<ds::Ds>(
        testkit::TestDatabase::migrated(),
        &[("DS_KEEP_RUNS", "2")],
    )
    .await;
    diesel::connection::SimpleConnection::batch_execute(
        &mut ds.database.connect(),
        "INSERT INTO customers (first_name, last_name, email)
         SELECT 'C', i::text, 'c' || i || '@example.com' FROM generate_series(1, 50) i",
    )
    .unwrap();
    let http = reqwest::Client::new();
    let mut last = Value::Null;
    for _ in 0..3 {
        let job: Value = http
            .post(ds.url("/v1/segmentation-runs"))
            .bearer_auth(testkit::SERVICE_TOKEN)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        last = wait_for_job(
            &http,
            &ds.url("/v1/jobs"),
            testkit::SERVICE_TOKEN,
            job["id"].as_i64().unwrap(),
        )
        .await;
        assert_eq!(last["status"], "succeeded", "{last}");
    }
    assert_eq!(last["counts"]["archived_runs"], json!([1]));
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT id || ' ' || status AS value FROM segmentation_runs ORDER BY id")
            .load(&mut ds.database.connect())
            .unwrap();
    let runs: Vec<&str> = rows.iter().map(|row| row.value.as_str()).collect();
    assert_eq!(runs, ["1 archived", "2 succeeded", "3 succeeded"]);
    let partitions: Vec<Row> = diesel::sql_query(
        "SELECT inhrelid::regclass::text AS value FROM pg_inherits
         WHERE inhparent = 'segment_memberships'::regclass ORDER BY 1",
    )
    .load(&mut ds.database.connect())
    .unwrap();
    let partitions: Vec<&str> = partitions.iter().map(|row| row.value.as_str()).collect();
    assert_eq!(
        partitions,
        ["segment_memberships_run_2", "segment_memberships_run_3"]
    );
}
