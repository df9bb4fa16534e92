//! `/health`, `/ready`, `/metrics`, OpenAPI and Swagger UI, and problem+json for unknown
//! routes, on every service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use service::binary::Service;
use testkit::{TestApp, spawn_app};

async fn check_operations_routes<S: Service>() {
    let app: TestApp = spawn_app::<S>().await;
    let name = S::INFO.name;

    let health = app.get("/health", None).await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], name);

    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), 200, "{name} not ready");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");

    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    let expected = format!(
        r#"http_requests_total{{method="GET",route="/health",status="200",service="{name}"}} 1"#
    );
    assert!(
        text.contains(&expected),
        "{name} metrics lack {expected}:\n{text}"
    );
    assert!(text.contains(&format!(r#"http_request_duration_seconds_bucket{{method="GET",route="/ready",service="{name}",le="0.005"}}"#)));

    let spec = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(spec.status(), 200);
    let spec: serde_json::Value = spec.json().await.unwrap();
    assert_eq!(spec["info"]["title"], format!("streamlab {name}"));
    assert!(
        spec["paths"]["/ready"]["get"].is_object(),
        "{name} spec lacks /ready"
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );

    let no_slash = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_slash.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
    // Served from the binary itself: Swagger UI works with no internet.
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    let unknown = app.get("/no/such/route", None).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["detail"], "no route matches GET /no/such/route");
    // The unmatched request is counted under one label, not under its raw path.
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains(&format!(
        r#"http_requests_total{{method="GET",route="unmatched",status="404",service="{name}"}} 1"#
    )));
}

#[tokio::test]
async fn api_serves_the_operations_routes() {
    check_operations_routes::<api::Api>().await;
}

#[tokio::test]
async fn ds_serves_the_operations_routes() {
    check_operations_routes::<ds::Ds>().await;
}

#[tokio::test]
async fn mailer_serves_the_operations_routes() {
    check_operations_routes::<mailer::Mailer>().await;
}

#[tokio::test]
async fn etl_serves_the_operations_routes() {
    check_operations_routes::<etl::Etl>().await;
}

#[tokio::test]
async fn ready_is_503_while_the_database_is_down_and_recovers_by_itself() {
    let app = spawn_app::<api::Api>().await;
    assert_eq!(app.get("/ready", None).await.status(), 200);

    app.database.take_offline();
    let down = app.get("/ready", None).await;
    assert_eq!(down.status(), 503);
    assert_eq!(down.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = down.json().await.unwrap();
    assert_eq!(problem["title"], "Service unavailable");
    // The process itself is still up.
    assert_eq!(app.get("/health", None).await.status(), 200);

    app.database.bring_online();
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/ready", None).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 200,
        "/ready did not recover after the database came back"
    );
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405() {
    let app = spawn_app::<api::Api>().await;
    let response = app.http.post(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["detail"], "/health does not take POST");
    let response = app
        .http
        .put(app.url("/api/v1/api-keys/3"))
        .bearer_auth(testkit::ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        app.http
            .post(app.url("/nowhere"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
