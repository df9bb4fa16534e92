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

/// GET `path` with session cookie `cookie`: the status and the body.
async fn page_as(http: &reqwest::Client, base: &str, cookie: &str, path: &str) -> (u16, String) {
    let response = http
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Asserts that `html` contains every one of `expected`.
fn assert_shows(html: &str, expected: &[&str]) {
    for text in expected {
        assert!(html.contains(text), "{text} missing from the page");
    }
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

/// A small business with known figures: as of 2026-06-15 12:00 (the latest viewing session),
/// three active subscriptions ($9.99, $19.99, $9.99), one churned on Sunday 2026-05-10 out of
/// three active on May 1st, a trial that does not count, and ten sign-ups in two weeks.
const BUSINESS: &str = "
INSERT INTO plans (id, name, monthly_price_cents) VALUES (101, 'Test Basic', 999), (102, 'Test Premium', 1999);
INSERT INTO customers (id, first_name, last_name, email, signup_at)
SELECT i, 'C', i::text, 'c' || i || '@example.com',
       CASE WHEN i <= 5 THEN timestamptz '2026-06-01 10:00+00' ELSE timestamptz '2026-05-20 10:00+00' END
FROM generate_series(1, 10) i;
INSERT INTO subscriptions (customer_id, plan_id, status, started_at, ended_at, churned_at) VALUES
 (1, 101, 'active', '2026-01-10', NULL, NULL),
 (2, 102, 'active', '2026-02-01', NULL, NULL),
 (3, 101, 'churned', '2026-01-05', '2026-05-10 08:00+00', '2026-05-10 08:00+00'),
 (4, 101, 'trial', '2026-06-01', NULL, NULL),
 (5, 101, 'active', '2026-05-15', NULL, NULL);
INSERT INTO titles (id, name, genre, release_year, duration_minutes) VALUES (1, 'A title', 'Drama', 2020, 90);
INSERT INTO watch_sessions (customer_id, title_id, started_at, minutes, completed, like_status) VALUES
 (1, 1, '2026-06-02 20:00+00', 30, false, 'none'),
 (1, 1, '2026-06-03 20:00+00', 30, false, 'none'),
 (1, 1, '2026-06-09 20:00+00', 30, false, 'none'),
 (2, 1, '2026-06-09 21:00+00', 30, false, 'none'),
 (1, 1, '2026-06-15 12:00+00', 30, false, 'none');
INSERT INTO experiments (id, name, status, phase, started_at) VALUES (1, 'Running one', 'running', 'full', '2026-06-10');
INSERT INTO variants (id, experiment_id, key, subject, body_text, body_html, is_control) VALUES (1, 1, 'a', 'Hi', 'Hi', '<p>Hi</p>', true);
INSERT INTO assignments (experiment_id, customer_id, variant_id, bucket, phase) VALUES (1, 1, 1, 0.5, 'full'), (1, 2, 1, 0.6, 'full');
INSERT INTO messages (experiment_id, customer_id, variant_id, email, status, sent_at) VALUES (1, 1, 1, 'c1@example.com', 'sent', '2026-06-10')
";

#[tokio::test]
async fn the_overview_report_and_page_show_the_same_known_figures() {
    let app = spawn_app::<api::Api>().await;
    let mut connection = app.database.connect();
    for statement in BUSINESS.split(";\n").filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement)
            .execute(&mut connection)
            .unwrap();
    }
    let http = no_redirects();
    let overview: serde_json::Value = http
        .get(app.url("/api/v1/reports/overview"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["as_of"], "2026-06-15T12:00:00Z");
    assert_eq!(overview["customers"], 10);
    assert_eq!(overview["active_subscribers"], 3);
    assert_eq!(overview["mrr_cents"], 3997);
    let months = overview["monthly_churn"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    let may = months.last().unwrap();
    assert_eq!(may["month"], "2026-05-01");
    assert_eq!(
        (may["active_at_start"].as_i64(), may["churned"].as_i64()),
        (Some(3), Some(1))
    );
    assert!((may["rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let weeks = overview["weekly"].as_array().unwrap();
    assert_eq!(weeks.len(), 26);
    let week = |monday: &str| {
        weeks
            .iter()
            .find(|week| week["week"] == monday)
            .unwrap()
            .clone()
    };
    assert_eq!(
        weeks.last().unwrap()["week"],
        "2026-06-08",
        "the week of as_of is not complete"
    );
    assert_eq!(week("2026-06-08")["active_users"], 2);
    assert_eq!(week("2026-06-01")["active_users"], 1);
    assert_eq!(week("2026-06-01")["signups"], 5);
    assert_eq!(week("2026-05-18")["signups"], 5);
    assert_eq!(week("2026-05-04")["churned"], 1);
    assert_eq!(overview["segment_mix"], json!([]));
    assert_eq!(overview["running_experiments"][0]["assigned"], 2);
    assert_eq!(overview["running_experiments"][0]["sent"], 1);

    // The page, after logging in, shows the same figures, each chart with its table.
    assert_eq!(http.get(app.url("/")).send().await.unwrap().status(), 303);
    let cookie = log_in(&http, &app.address, READ_KEY).await;
    let (status, html) = page_as(&http, &app.address, &cookie, "/").await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &[
            "<div class=\"value\">10</div>",
            "<div class=\"value\">3</div>",
            "<div class=\"value\">$39.97</div>",
            "<div class=\"value\">33.33%</div>",
            "churn, May 2026",
            "<title>Active users by week</title>",
            "<summary>Table: Sign-ups by week</summary>",
            "Running one",
        ],
    );
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 5);

    // A customer's page: plan history, viewing, the experiments they were in.
    let (status, html) = page_as(&http, &app.address, &cookie, "/customers/1").await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &[
            "<h1>C 1</h1>",
            "<td>Test Basic</td><td class=\"number\">$9.99</td><td>active</td><td>2026-01-10</td>",
            "<td>2026-06-15 12:00</td><td>A title</td>",
            "<td>Running one</td><td>a</td><td>sent</td><td>2026-06-10</td>",
            "Never scored.",
        ],
    );
    let (status, _) = page_as(&http, &app.address, &cookie, "/customers/999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_customers_page_searches_pages_and_adds_through_the_api() {
    let app = spawn_app::<api::Api>().await;
    let mut connection = app.database.connect();
    diesel::sql_query(
        "INSERT INTO customers (first_name, last_name, email, country)
         SELECT 'Viewer', i::text, 'viewer' || i || '@example.com', CASE WHEN i % 2 = 0 THEN 'NO' ELSE 'SE' END
         FROM generate_series(1, 120) i",
    )
    .execute(&mut connection)
    .unwrap();
    let http = no_redirects();
    assert_eq!(
        http.get(app.url("/customers"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let cookie = log_in(&http, &app.address, ADMIN_KEY).await;
    let page = |path: String| {
        let (http, base, cookie) = (http.clone(), app.address.clone(), cookie.clone());
        async move {
            let (status, html) = page_as(&http, &base, &cookie, &path).await;
            assert_eq!(status, 200);
            html
        }
    };
    let first = page("/customers?country=no".to_owned()).await;
    assert_eq!(first.matches("@example.com</td>").count(), 50, "50 a page");
    assert!(!first.contains("viewer1@example.com"), "only Norway");
    let next = first
        .split("<a href=\"")
        .find_map(|part| {
            part.strip_prefix("/customers?").map(|rest| {
                rest.split('"')
                    .next()
                    .unwrap()
                    .replace("&#38;", "&")
                    .replace("&amp;", "&")
            })
        })
        .unwrap();
    assert!(
        next.contains("country=NO") && next.contains("cursor="),
        "{next}"
    );
    let second = page(format!("/customers?{next}")).await;
    assert_eq!(second.matches("@example.com</td>").count(), 10);
    let bad = page("/customers?cursor=not-a-cursor".to_owned()).await;
    assert!(
        bad.contains("class=\"error\""),
        "a bad cursor is said, not a blank page"
    );

    // The form page carries the session's CSRF token; what its script sends, the API takes.
    let form = page("/customers/new".to_owned()).await;
    let csrf = form
        .split("<meta name=\"csrf-token\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let refused = http
        .post(app.url("/api/v1/customers"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"first_name": "Ada", "last_name": "L", "email": "not-an-address"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        problem["errors"][0]["field"], "email",
        "the form shows it under the field"
    );
    let created = http
        .post(app.url("/api/v1/customers"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "email_consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let found = page("/customers?email=ada%40example.org".to_owned()).await;
    assert!(
        found.contains("Ada Lovelace"),
        "the new customer is in the table"
    );
    let script = http.get(app.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn the_settings_page_shows_the_services_and_the_keys_to_an_admin() {
    // Peers where nothing listens (a platform started by hand may hold the default ports).
    let nowhere = format!("http://127.0.0.1:{}", testkit::process::free_port());
    let app = testkit::spawn_app_with::<api::Api>(
        testkit::TestDatabase::migrated(),
        &[
            ("DS_URL", &nowhere),
            ("MAILER_URL", &nowhere),
            ("ETL_URL", &nowhere),
        ],
    )
    .await;
    let http = no_redirects();
    http.post(app.url("/api/v1/api-keys"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "nightly export", "scope": "read"}))
        .send()
        .await
        .unwrap();
    let admin = log_in(&http, &app.address, ADMIN_KEY).await;
    let (status, html) = page_as(&http, &app.address, &admin, "/settings").await;
    assert_eq!(status, 200);
    // Only the api runs in this test: its peers are reported, not hidden.
    assert_shows(
        &html,
        &[
            "<tr><td>api</td><td>ready</td>",
            "<td>ds</td><td><span class=\"error\">not ready</span>",
            "unknown (the mailer did not answer)",
            "<td>nightly export</td><td>read</td>",
            "data-api=\"/api/v1/api-keys\" data-method=\"POST\"",
            "<meta name=\"csrf-token\"",
        ],
    );
    let reader = log_in(&http, &app.address, READ_KEY).await;
    let (_, html) = page_as(&http, &app.address, &reader, "/settings").await;
    assert!(html.contains("Keys are managed with an admin key."));
    assert!(!html.contains("nightly export"));
}

#[tokio::test]
async fn the_guide_is_served_from_its_built_folder_or_says_how_to_build_it() {
    let book = std::env::temp_dir().join(format!("streamlab-guide-{}", std::process::id()));
    std::fs::create_dir_all(book.join("images")).unwrap();
    std::fs::write(book.join("index.html"), "<h1>StreamLab guide</h1>").unwrap();
    std::fs::write(book.join("statistics.html"), "<h1>Statistics</h1>").unwrap();
    let app = testkit::spawn_app_with::<api::Api>(
        testkit::TestDatabase::migrated(),
        &[("GUIDE_DIR", book.to_str().unwrap())],
    )
    .await;
    let index = app.get("/guide/", None).await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.unwrap(), "<h1>StreamLab guide</h1>");
    let page = app.get("/guide/statistics.html", None).await;
    assert_eq!(page.text().await.unwrap(), "<h1>Statistics</h1>");
    let outside = app.get("/guide/../Cargo.toml", None).await;
    assert_eq!(outside.status(), 404);
    std::fs::remove_dir_all(&book).unwrap();

    let unbuilt = testkit::spawn_app_with::<api::Api>(
        testkit::TestDatabase::migrated(),
        &[("GUIDE_DIR", "/nonexistent/book")],
    )
    .await;
    let missing = unbuilt.get("/guide/", None).await;
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.unwrap();
    assert!(
        missing.contains("Build it with `mdbook build docs`"),
        "{missing}"
    );
}
