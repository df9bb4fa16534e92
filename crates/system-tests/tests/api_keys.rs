//! Managed API keys: created through the API or `api keys`, shown once, stored hashed,
//! revoked with immediate effect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::{ADMIN_KEY, READ_KEY, TestApp, spawn_app};

async fn create(app: &TestApp, bearer: &str, body: serde_json::Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_created_key_works_at_once_and_stops_when_revoked() {
    let app = spawn_app::<api::Api>().await;
    let created = create(
        &app,
        ADMIN_KEY,
        serde_json::json!({"name": "report", "scope": "read"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sl_") && key.len() == 67, "{key}");
    assert_eq!(created["api_key"]["key_prefix"], key[..9]);
    assert_eq!(created["api_key"]["scope"], "read");
    assert!(created["api_key"].get("key_hash").is_none());
    let id = created["api_key"]["id"].as_i64().unwrap();

    assert_eq!(app.get("/api/v1/plans", Some(&key)).await.status(), 200);
    let write = app
        .http
        .post(app.url("/api/v1/plans"))
        .bearer_auth(&key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403, "a read key cannot write");

    let keys: serde_json::Value = app
        .get("/api/v1/api-keys", Some(ADMIN_KEY))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys[0]["name"], "report");
    assert!(
        keys[0]["last_used_at"].is_string(),
        "use is recorded: {keys}"
    );
    assert!(
        !keys.to_string().contains(&key),
        "the key itself is never listed"
    );

    let revoked = app
        .http
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let revoked: serde_json::Value = revoked.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    let refused = app.get("/api/v1/plans", Some(&key)).await;
    assert_eq!(
        refused.status(),
        401,
        "revoked keys stop working with no restart"
    );

    let again = app
        .http
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "revoking twice changes nothing");
    let missing = app
        .http
        .delete(app.url("/api/v1/api-keys/999"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn an_admin_key_can_manage_keys_and_bad_requests_are_named() {
    let app = spawn_app::<api::Api>().await;
    let created: serde_json::Value = create(
        &app,
        ADMIN_KEY,
        serde_json::json!({"name": "ops", "scope": "admin"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let admin = created["key"].as_str().unwrap().to_owned();
    let second = create(
        &app,
        &admin,
        serde_json::json!({"name": "made by a managed admin key", "scope": "read"}),
    )
    .await;
    assert_eq!(second.status(), 201);

    assert_eq!(
        create(
            &app,
            READ_KEY,
            serde_json::json!({"name": "x", "scope": "read"})
        )
        .await
        .status(),
        403
    );
    let bad_scope = create(
        &app,
        ADMIN_KEY,
        serde_json::json!({"name": "x", "scope": "root"}),
    )
    .await;
    assert_eq!(bad_scope.status(), 422);
    let problem: serde_json::Value = bad_scope.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "scope");
    let no_name = create(
        &app,
        ADMIN_KEY,
        serde_json::json!({"name": " ", "scope": "read"}),
    )
    .await;
    assert_eq!(no_name.status(), 422);
    let problem: serde_json::Value = no_name.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_eq!(
        app.get("/api/v1/api-keys", Some("sl_not-a-key"))
            .await
            .status(),
        401
    );
}
