//! The API-key check on public routes and the service-token check on internal ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl as _;
use testkit::{ADMIN_KEY, READ_KEY, SERVICE_TOKEN, spawn_app};

async fn problem(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn public_routes_need_a_valid_api_key() {
    let app = spawn_app::<api::Api>().await;

    let missing = app.get("/api/v1/plans", None).await;
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let (status, body) = problem(missing).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["detail"],
        "this route needs an API key: send Authorization: Bearer <key>, or log in"
    );

    let (status, body) = problem(app.get("/api/v1/plans", Some("not-a-key")).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "the API key is not valid");

    let basic = app
        .http
        .get(app.url("/api/v1/plans"))
        .basic_auth("user", Some(READ_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "only Bearer carries a key");

    let plans = app.get("/api/v1/plans", Some(READ_KEY)).await;
    assert_eq!(plans.status(), 200);
    let page: serde_json::Value = plans.json().await.unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| plan["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Student", "Family", "Basic", "Premium"],
        "seeded plans, by id"
    );
    assert_eq!(page["items"][1]["monthly_price_cents"], 1000);
}

#[tokio::test]
async fn writes_need_an_admin_key() {
    let app = spawn_app::<api::Api>().await;
    let body = serde_json::json!({"name": "Ultra", "monthly_price_cents": 1299});

    let (status, problem_body) = problem(
        app.http
            .post(app.url("/api/v1/plans"))
            .bearer_auth(READ_KEY)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(problem_body["detail"], "this route needs an admin API key");

    let created = app
        .http
        .post(app.url("/api/v1/plans"))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    assert_eq!(created["name"], "Ultra");
    assert_eq!(created["monthly_price_cents"], 1299);
    assert!(
        created["id"].as_i64().unwrap() > 4,
        "after the seeded plans"
    );
}

#[tokio::test]
async fn internal_routes_need_the_service_token() {
    let app = spawn_app::<ds::Ds>().await;

    let (status, body) = problem(app.get("/v1/jobs/4242", None).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["detail"],
        "this route needs the service token as a Bearer token"
    );

    let (status, body) = problem(
        app.get("/v1/jobs/4242", Some("wrong-token-wrong-token"))
            .await,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "the service token is not valid");

    // An API key is not a service token.
    assert_eq!(
        app.get("/v1/jobs/4242", Some(ADMIN_KEY)).await.status(),
        401
    );

    let (status, body) = problem(app.get("/v1/jobs/4242", Some(SERVICE_TOKEN)).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["detail"], "no job 4242");

    // A high id: ds queues jobs of its own (the overview report) as it starts.
    let mut connection = app.database.connect();
    diesel::sql_query("INSERT INTO jobs (id, kind, payload) VALUES (4242, 'segmentation', '{\"scheme\": \"classic\"}')")
        .execute(&mut connection)
        .unwrap();
    let job = app.get("/v1/jobs/4242", Some(SERVICE_TOKEN)).await;
    assert_eq!(job.status(), 200);
    let job: serde_json::Value = job.json().await.unwrap();
    assert_eq!(job["kind"], "segmentation");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["payload"]["scheme"], "classic");
}
