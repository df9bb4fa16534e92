//! Bad input gets a problem+json answer naming what is wrong, and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::{ADMIN_KEY, SERVICE_TOKEN, TestApp, spawn_app};

async fn post_plan(app: &TestApp, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    let response = app
        .http
        .post(app.url("/api/v1/plans"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    (status, response.json().await.unwrap())
}

async fn plan_count(app: &TestApp) -> usize {
    let page: serde_json::Value = app
        .get("/api/v1/plans", Some(ADMIN_KEY))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app::<api::Api>().await;
    let (status, body) = post_plan(&app, "application/json", r#"{"name": "Ultra", "#).await;
    assert_eq!(status, 400);
    assert_eq!(body["title"], "Malformed request");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON: EOF while parsing"),
        "{body}"
    );
    assert_eq!(plan_count(&app).await, 4);
}

#[tokio::test]
async fn a_wrong_value_is_422_naming_the_field() {
    let app = spawn_app::<api::Api>().await;
    let (status, body) = post_plan(
        &app,
        "application/json",
        r#"{"name": "Ultra", "monthly_price_cents": "cheap"}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "monthly_price_cents");
    assert_eq!(
        body["errors"][0]["message"],
        "invalid type: string \"cheap\", expected i32"
    );

    let (status, body) =
        post_plan(&app, "application/json", r#"{"monthly_price_cents": 100}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "name");
    assert_eq!(body["errors"][0]["message"], "missing field `name`");

    let (status, body) = post_plan(
        &app,
        "application/json",
        r#"{"name": " ", "monthly_price_cents": -5}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        serde_json::json!([
            {"field": "name", "message": "must not be empty"},
            {"field": "monthly_price_cents", "message": "must be between 0 and 100000"}
        ])
    );
    assert_eq!(plan_count(&app).await, 4, "nothing was created");
}

#[tokio::test]
async fn another_content_type_is_415() {
    let app = spawn_app::<api::Api>().await;
    let (status, body) = post_plan(
        &app,
        "text/plain",
        r#"{"name": "Ultra", "monthly_price_cents": 1}"#,
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(
        body["detail"],
        "the body must be JSON, sent with Content-Type: application/json"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app::<api::Api>().await;
    let huge = format!(
        r#"{{"name": "{}", "monthly_price_cents": 1}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, body) = post_plan(&app, "application/json", &huge).await;
    assert_eq!(status, 413);
    assert_eq!(body["title"], "Payload too large");
}

#[tokio::test]
async fn a_duplicate_is_409_and_changes_nothing() {
    let app = spawn_app::<api::Api>().await;
    let (status, body) = post_plan(
        &app,
        "application/json",
        r#"{"name": "Basic", "monthly_price_cents": 1}"#,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["detail"],
        "a record with the same value already exists (plans_name_key)"
    );
    let page: serde_json::Value = app
        .get("/api/v1/plans", Some(ADMIN_KEY))
        .await
        .json()
        .await
        .unwrap();
    let plans = page["items"].as_array().unwrap();
    let basic = plans.iter().find(|plan| plan["name"] == "Basic").unwrap();
    assert_eq!(basic["monthly_price_cents"], 700);
}

#[tokio::test]
async fn a_path_id_that_does_not_parse_is_a_problem() {
    let app = spawn_app::<etl::Etl>().await;
    let response = app.get("/v1/jobs/abc", Some(SERVICE_TOKEN)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("abc")
            || body["detail"].as_str().unwrap().contains("invalid"),
        "{body}"
    );
}
