//! The dashboard's login: an API key in, an HttpOnly SameSite=Strict session cookie out, which
//! the api then accepts like the key, with a CSRF token on every change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl as _;
use serde_json::json;
use testkit::{ADMIN_KEY, READ_KEY, spawn_app};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with `key`; the session cookie's `name=value`.
async fn log_in(http: &reqwest::Client, base: &str, key: &str) -> String {
    let response = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

#[derive(diesel::QueryableByName)]
struct Csrf {
    #[diesel(sql_type = diesel::sql_types::Text)]
    csrf_token: String,
}

#[tokio::test]
async fn a_login_sets_a_session_cookie_that_the_api_accepts_with_csrf_on_changes() {
    let app = spawn_app::<api::Api>().await;
    let http = no_redirects();

    let page = http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<form method=\"post\" action=\"/login\">")
    );
    let refused = http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("key=not-a-key")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 200);
    assert!(refused.headers().get("set-cookie").is_none());
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("That is not a valid API key.")
    );

    let cookie = log_in(&http, &app.address, ADMIN_KEY).await;
    let listed = http
        .get(app.url("/api/v1/plans"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    // A change made with the cookie needs the session's CSRF token.
    let plan = json!({"name": "Dashboard test plan", "monthly_price_cents": 1999});
    let forged = http
        .post(app.url("/api/v1/plans"))
        .header("cookie", &cookie)
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let csrf = diesel::sql_query("SELECT csrf_token FROM sessions")
        .get_result::<Csrf>(&mut app.database.connect())
        .unwrap()
        .csrf_token;
    let wrong = http
        .post(app.url("/api/v1/plans"))
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(csrf.len()))
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let created = http
        .post(app.url("/api/v1/plans"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // A read key's session reads but does not write.
    let reader = log_in(&http, &app.address, READ_KEY).await;
    let csrf_reader =
        diesel::sql_query("SELECT csrf_token FROM sessions ORDER BY created_at DESC LIMIT 1")
            .get_result::<Csrf>(&mut app.database.connect())
            .unwrap()
            .csrf_token;
    let denied = http
        .post(app.url("/api/v1/plans"))
        .header("cookie", &reader)
        .header("x-csrf-token", &csrf_reader)
        .json(&json!({"name": "Other", "monthly_price_cents": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);

    // Logging out ends the session: the cookie is cleared and no longer accepted.
    let out = http
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = http
        .get(app.url("/api/v1/plans"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn revoking_a_key_ends_its_sessions() {
    let app = spawn_app::<api::Api>().await;
    let http = no_redirects();
    let created: serde_json::Value = http
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "analyst", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap();
    let cookie = log_in(&http, &app.address, key).await;
    let get = |cookie: String| {
        let http = http.clone();
        let url = app.url("/api/v1/plans");
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(cookie.clone()).await, 200);
    let revoked = http
        .delete(app.url(&format!("/api/v1/api-keys/{}", created["api_key"]["id"])))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    assert_eq!(get(cookie).await, 401);
}
