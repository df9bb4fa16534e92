//! Every resource of the public API through real HTTP: the round trip of each, the error
//! classes (409, 422 naming the field, 404, 405, 413, 415), draft-only experiments, the
//! all-or-nothing event batch and keyset pagination over 2,500 rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection as _;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{ADMIN_KEY, READ_KEY, TestApp, TestDatabase, spawn_app, spawn_app_with};

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    send_as(app, ADMIN_KEY, method, path, body).await
}

async fn send_as(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

fn sql(app: &TestApp, statement: &str) {
    let mut connection = app.database.connect();
    connection
        .batch_execute(statement)
        .unwrap_or_else(|error| panic!("{statement}: {error}"));
}

async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, created) = send(app, Method::POST, path, Some(body)).await;
    assert_eq!(status, 201, "POST {path}: {created}");
    created
}

async fn customer(app: &TestApp, email: &str) -> i64 {
    let created = create(
        app,
        "/api/v1/customers",
        json!({"first_name": "Ada", "last_name": "Lovelace", "email": email, "country": "gb",
               "signup_at": "2026-01-15T10:00:00Z"}),
    )
    .await;
    created["id"].as_i64().unwrap()
}

fn field_of(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

/// Create, read, list, change, delete and read again: the life of one record of a resource.
async fn round_trip(app: &TestApp, collection: &str, body: Value, change: Option<(Value, &str)>) {
    let created = create(app, collection, body).await;
    let id = created["id"].as_i64().unwrap();
    let one = format!("{collection}/{id}");
    let (status, fetched) = send_as(app, READ_KEY, Method::GET, &one, None).await;
    assert_eq!((status, &fetched), (200, &created), "GET {one}");
    let (status, page) = send_as(app, READ_KEY, Method::GET, collection, None).await;
    assert_eq!(status, 200);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["id"] == id),
        "{collection} lists {id}"
    );
    if let Some((patch, field)) = change {
        let (status, changed) = send(app, Method::PATCH, &one, Some(patch.clone())).await;
        assert_eq!(status, 200, "PATCH {one}: {changed}");
        assert_eq!(changed[field], patch[field], "PATCH {one} changed {field}");
    }
    let (status, _) = send(app, Method::DELETE, &one, None).await;
    assert_eq!(status, 204, "DELETE {one}");
    let (status, gone) = send(app, Method::GET, &one, None).await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(gone["title"], "Not found");
}

#[tokio::test]
async fn every_writable_resource_round_trips() {
    let app = spawn_app::<api::Api>().await;
    let ada = customer(&app, "ada@example.com").await;
    let title = create(
        &app,
        "/api/v1/titles",
        json!({"name": "Dune", "genre": "Sci-Fi", "release_year": 2021, "duration_minutes": 155}),
    )
    .await["id"]
        .clone();

    round_trip(
        &app,
        "/api/v1/customers",
        json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}),
        Some((json!({"city": "Arlington"}), "city")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/plans",
        json!({"name": "Ultra", "monthly_price_cents": 1299}),
        Some((json!({"monthly_price_cents": 1099}), "monthly_price_cents")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/titles",
        json!({"name": "Arrival", "genre": "Drama", "release_year": 2016, "duration_minutes": 116, "rating": 7.9}),
        Some((json!({"rating": null}), "rating")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/subscriptions",
        json!({"customer_id": ada, "plan_id": 3, "status": "active", "started_at": "2026-01-15T10:00:00Z"}),
        Some((json!({"plan_id": 4}), "plan_id")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/sessions",
        json!({"customer_id": ada, "title_id": title, "started_at": "2026-02-01T20:00:00Z",
               "minutes": 90, "completed": true, "like_status": "liked"}),
        None,
    )
    .await;
    round_trip(
        &app,
        "/api/v1/events",
        json!({"customer_id": ada, "name": "invite_sent", "occurred_at": "2026-02-01T20:00:00Z",
               "properties": {"channel": "sms"}}),
        None,
    )
    .await;
    round_trip(
        &app,
        "/api/v1/conversions",
        json!({"customer_id": ada, "kind": "upgrade", "revenue_cents": 1000,
               "occurred_at": "2026-02-02T09:00:00Z", "source": "api"}),
        None,
    )
    .await;
    round_trip(
        &app,
        "/api/v1/segments",
        json!({"name": "Weekend Bingers", "sort_order": 5}),
        Some((json!({"description": "Watch on weekends"}), "description")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/templates",
        json!({"name": "Offer", "kind": "plan_offer", "subject": "Basic for $10", "body_text": "Hi",
               "body_html": "<p>Hi</p>", "links": {"offer": "https://example.com/offer"}}),
        Some((json!({"subject": "Last chance"}), "subject")),
    )
    .await;
    round_trip(
        &app,
        "/api/v1/suppressions",
        json!({"email": "Gone@Example.com", "reason": "manual"}),
        None,
    )
    .await;
    round_trip(
        &app,
        "/api/v1/experiments",
        json!({"name": "Basic for $10", "variants": [
            {"key": "a", "is_control": true, "subject": "A", "body_text": "", "body_html": ""}]}),
        Some((json!({"alpha": 0.01}), "alpha")),
    )
    .await;
}

#[tokio::test]
async fn a_customer_shows_their_current_plan_and_latest_segment_and_lists_filter() {
    let app = spawn_app::<api::Api>().await;
    let ada = customer(&app, "ada@example.com").await;
    let bob = customer(&app, "bob@other.org").await;
    sql(
        &app,
        &format!(
            "INSERT INTO subscriptions (customer_id, plan_id, status, started_at, ended_at) VALUES \
             ({ada}, 1, 'switched', '2025-01-01', '2025-06-01'), ({ada}, 4, 'active', '2025-06-01', NULL);
             INSERT INTO segmentation_runs (id, scheme, rules, status) VALUES (1, 'classic', '{{}}', 'succeeded'), (2, 'classic', '{{}}', 'succeeded'), (3, 'classic', '{{}}', 'failed');
             CREATE TABLE segment_memberships_run_1 PARTITION OF segment_memberships FOR VALUES IN (1);
             CREATE TABLE segment_memberships_run_2 PARTITION OF segment_memberships FOR VALUES IN (2);
             CREATE TABLE segment_memberships_run_3 PARTITION OF segment_memberships FOR VALUES IN (3);
             INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score) VALUES
             (1, {ada}, 1, 1.0), (2, {ada}, 4, 9.0), (1, {bob}, 4, 8.0), (2, {bob}, 2, 4.0), (3, {ada}, 3, 0.0);"
        ),
    );
    let (status, view) = send(&app, Method::GET, &format!("/api/v1/customers/{ada}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(view["email"], "ada@example.com");
    assert_eq!(view["country"], "GB", "stored upper-case");
    assert_eq!(view["current_plan"]["name"], "Premium");
    assert_eq!(
        view["latest_segment"]["id"], 4,
        "a failed run does not count"
    );

    let ids = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["id"].as_i64().unwrap())
            .collect()
    };
    for (query, expected) in [
        ("segment_id=4", vec![ada]),
        ("segment_id=2", vec![bob]),
        ("plan_id=4", vec![ada]),
        ("plan_id=1", vec![]),
        ("email=OTHER.org", vec![bob]),
        ("email=%25", vec![]),
        ("country=gb", vec![ada, bob]),
        ("signup_from=2026-01-16T00:00:00Z", vec![]),
        ("signup_before=2026-01-16T00:00:00Z", vec![ada, bob]),
    ] {
        let (status, page) = send(
            &app,
            Method::GET,
            &format!("/api/v1/customers?{query}&total=true"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(ids(&page), expected, "{query}");
        assert_eq!(page["total"], expected.len(), "{query}");
    }

    let (status, history) = send(
        &app,
        Method::GET,
        &format!("/api/v1/customers/{ada}/segments"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let segments: Vec<i64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["segment_id"].as_i64().unwrap())
        .collect();
    assert_eq!(segments, [1, 4, 3], "oldest run first, every run");
    let (status, _) = send(&app, Method::GET, "/api/v1/customers/999/segments", None).await;
    assert_eq!(status, 404);

    let (status, members) = send(
        &app,
        Method::GET,
        "/api/v1/segmentation-runs/2/memberships?segment_id=2",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(members["items"][0]["customer_id"], bob);
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    let (status, run) = send(&app, Method::GET, "/api/v1/segmentation-runs/2", None).await;
    assert_eq!((status, &run["scheme"]), (200, &json!("classic")));
}

#[tokio::test]
async fn pagination_walks_2500_rows_to_the_end_with_none_lost_or_repeated() {
    let app = spawn_app::<api::Api>().await;
    sql(
        &app,
        "INSERT INTO customers (first_name, last_name, email) \
         SELECT 'C', 'N', 'c' || n || '@example.com' FROM generate_series(1, 2500) AS n",
    );
    for limit in [1000, 333] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(cursor) => {
                    format!("/api/v1/customers?limit={limit}&cursor={cursor}&total=true")
                }
                None => format!("/api/v1/customers?limit={limit}&total=true"),
            };
            let (status, page) = send_as(&app, READ_KEY, Method::GET, &path, None).await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["total"], 2500);
            pages += 1;
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| row["id"].as_i64().unwrap()),
            );
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 2500_usize.div_ceil(limit), "pages of {limit}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            2500,
            "no row repeated or lost with limit {limit}"
        );
        assert_eq!(unique, seen, "in id order");
    }
    for bad in ["limit=0", "limit=1001", "cursor=abc"] {
        let (status, problem) =
            send(&app, Method::GET, &format!("/api/v1/customers?{bad}"), None).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(field_of(&problem), bad.split('=').next().unwrap());
    }
}

#[tokio::test]
async fn conflicts_and_missing_references_are_named_and_change_nothing() {
    let app = spawn_app::<api::Api>().await;
    let ada = customer(&app, "ada@example.com").await;

    let (status, problem) = send(
        &app,
        Method::POST,
        "/api/v1/customers",
        Some(json!({"first_name": "A", "last_name": "B", "email": "ADA@example.com"})),
    )
    .await;
    assert_eq!(status, 409, "same e-mail in another case: {problem}");
    let (_, page) = send(&app, Method::GET, "/api/v1/customers?total=true", None).await;
    assert_eq!(page["total"], 1);

    let (status, problem) = send(
        &app,
        Method::POST,
        "/api/v1/subscriptions",
        Some(
            json!({"customer_id": 999_999, "plan_id": 1, "status": "trial",
                    "started_at": "2026-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(field_of(&problem), "customer_id");

    create(
        &app,
        "/api/v1/subscriptions",
        json!({"customer_id": ada, "plan_id": 1, "status": "trial", "started_at": "2026-01-01T00:00:00Z"}),
    )
    .await;
    let (status, problem) = send(&app, Method::DELETE, "/api/v1/plans/1", None).await;
    assert_eq!(status, 409, "a plan in use: {problem}");
    let (status, _) = send(&app, Method::GET, "/api/v1/plans/1", None).await;
    assert_eq!(status, 200, "still there");

    let (status, problem) = send(
        &app,
        Method::POST,
        "/api/v1/subscriptions",
        Some(
            json!({"customer_id": ada, "plan_id": 1, "status": "churned",
                    "started_at": "2026-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(status, 422, "churned without churned_at: {problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["churned_at", "ended_at"]);

    for (body, field) in [
        (
            json!({"first_name": "A", "last_name": "B", "email": "x"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@b.c", "country": "Norway"}),
            "country",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@b.c", "age_band": "12-17"}),
            "age_band",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@b.c", "signup_at": "9999-01-01T00:00:00Z"}),
            "signup_at",
        ),
        (
            json!({"first_name": "A\u{0}", "last_name": "B", "email": "a@b.c"}),
            "first_name",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@b.c", "emial": "typo"}),
            "emial",
        ),
    ] {
        let (status, problem) = send(&app, Method::POST, "/api/v1/customers", Some(body)).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(field_of(&problem), field, "{problem}");
    }
    let (status, problem) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/customers/{ada}"),
        Some(json!({"email": null})),
    )
    .await;
    assert_eq!(
        (status, field_of(&problem)),
        (422, "email"),
        "e-mail cannot be cleared"
    );
}

#[tokio::test]
async fn the_event_batch_is_stored_all_or_none_and_a_retry_stores_it_once() {
    let app = spawn_app_with::<api::Api>(
        TestDatabase::migrated(),
        &[
            ("API_MAX_BATCH_EVENTS", "3"),
            ("API_MAX_BATCH_BYTES", "2000"),
        ],
    )
    .await;
    let ada = customer(&app, "ada@example.com").await;
    let event = |customer: i64, minute: u32| {
        json!({"customer_id": customer, "name": "co_watch_start",
               "occurred_at": format!("2026-03-01T20:{minute:02}:00Z")})
    };
    let count = || async {
        send(&app, Method::GET, "/api/v1/events?total=true", None)
            .await
            .1["total"]
            .clone()
    };

    let (status, problem) = send(
        &app,
        Method::POST,
        "/api/v1/events:batch",
        Some(json!({"events": [event(ada, 1), event(424_242, 2)]})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(field_of(&problem), "events[1].customer_id");
    assert_eq!(count().await, 0, "nothing stored");

    let batch = json!({"events": [event(ada, 1), event(ada, 2), event(ada, 3)]});
    let (status, stored) = send(
        &app,
        Method::POST,
        "/api/v1/events:batch",
        Some(batch.clone()),
    )
    .await;
    assert_eq!((status, &stored), (201, &json!({"inserted": 3})));
    let (status, again) = send(&app, Method::POST, "/api/v1/events:batch", Some(batch)).await;
    assert_eq!(
        (status, &again),
        (201, &json!({"inserted": 0})),
        "a retry stores nothing twice"
    );
    assert_eq!(count().await, 3);

    let four = json!({"events": [event(ada, 4), event(ada, 5), event(ada, 6), event(ada, 7)]});
    let (status, problem) = send(&app, Method::POST, "/api/v1/events:batch", Some(four)).await;
    assert_eq!((status, field_of(&problem)), (422, "events"));
    let bad_name = json!({"events": [{"customer_id": ada, "name": "Bad Name", "occurred_at": "2026-03-01T20:00:00Z"}]});
    let (status, problem) = send(&app, Method::POST, "/api/v1/events:batch", Some(bad_name)).await;
    assert_eq!((status, field_of(&problem)), (422, "events[0].name"));
    let padded = json!({"events": [{"customer_id": ada, "name": "x", "occurred_at": "2026-03-01T20:00:00Z",
                                    "properties": {"pad": "x".repeat(3000)}}]});
    let (status, problem) = send(&app, Method::POST, "/api/v1/events:batch", Some(padded)).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(count().await, 3);
}

#[tokio::test]
async fn experiments_change_only_while_draft() {
    let app = spawn_app::<api::Api>().await;
    let created = create(
        &app,
        "/api/v1/experiments",
        json!({"name": "Basic for $10", "segment_id": 2, "goal_metric": "conversion",
               "guardrail_metrics": ["open"], "variants": [
            {"key": "control", "is_control": true, "subject": "A", "body_text": "a", "body_html": "<p>a</p>"},
            {"key": "offer", "subject": "B", "body_text": "b", "body_html": "<p>b</p>",
             "links": {"offer": "https://example.com/offer"}}]}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["variants"].as_array().unwrap().len(), 2);
    assert!(created.get("salt").is_none(), "the salt stays inside");
    let variant = created["variants"][1]["id"].as_i64().unwrap();

    let path = format!("/api/v1/experiments/{id}");
    let variant_path = format!("{path}/variants/{variant}");
    let (status, changed) = send(
        &app,
        Method::PATCH,
        &variant_path,
        Some(json!({"weight": 2.0})),
    )
    .await;
    assert_eq!((status, &changed["weight"]), (200, &json!(2.0)));
    // A body naming a link its stored links lack is refused whole, the field named.
    let (status, refused) = send(
        &app,
        Method::PATCH,
        &variant_path,
        Some(json!({"body_text": "Go: {{link:nowhere}}", "weight": 3.0})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "body_text");
    let (_, unchanged) = send(&app, Method::GET, &path, None).await;
    assert_eq!(
        unchanged["variants"][1]["weight"], 2.0,
        "nothing of it was stored"
    );
    let (status, added) = send(
        &app,
        Method::POST,
        &format!("{path}/variants"),
        Some(json!({"key": "offer-b", "subject": "C", "body_text": "", "body_html": ""})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let (status, problem) = send(
        &app,
        Method::POST,
        &format!("{path}/variants"),
        Some(json!({"key": "offer-b", "subject": "D", "body_text": "", "body_html": ""})),
    )
    .await;
    assert_eq!(status, 409, "a key used twice: {problem}");
    let (status, problem) = send(
        &app,
        Method::POST,
        "/api/v1/experiments",
        Some(json!({"name": "x", "alpha": 0.7, "variants": [
            {"key": "a b", "subject": "", "body_text": "", "body_html": ""}]})),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["alpha", "variants[0].key", "variants[0].subject"]);

    sql(
        &app,
        &format!(
            "UPDATE experiments SET status = 'running', phase = 'full', started_at = now() WHERE id = {id}"
        ),
    );
    for (method, target, body) in [
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "renamed"})),
        ),
        (Method::DELETE, path.clone(), None),
        (
            Method::PATCH,
            variant_path.clone(),
            Some(json!({"weight": 3.0})),
        ),
        (Method::DELETE, variant_path.clone(), None),
        (
            Method::POST,
            format!("{path}/variants"),
            Some(json!({"key": "late", "subject": "E", "body_text": "", "body_html": ""})),
        ),
    ] {
        let (status, problem) = send(&app, method.clone(), &target, body).await;
        assert_eq!(status, 409, "{method} {target}: {problem}");
    }
    let (_, unchanged) = send(&app, Method::GET, &path, None).await;
    assert_eq!(unchanged["name"], "Basic for $10");
    assert_eq!(unchanged["variants"].as_array().unwrap().len(), 3);
    let (_, running) = send(
        &app,
        Method::GET,
        "/api/v1/experiments?status=running",
        None,
    )
    .await;
    assert_eq!(running["items"][0]["id"], id);
}

#[tokio::test]
async fn the_records_of_sending_are_read_only() {
    let app = spawn_app::<api::Api>().await;
    let ada = customer(&app, "ada@example.com").await;
    let experiment = create(
        &app,
        "/api/v1/experiments",
        json!({"name": "E", "variants": [{"key": "a", "subject": "A", "body_text": "", "body_html": ""}]}),
    )
    .await;
    let (experiment, variant) = (
        experiment["id"].clone(),
        experiment["variants"][0]["id"].clone(),
    );
    sql(
        &app,
        &format!(
            "INSERT INTO assignments (experiment_id, customer_id, variant_id, bucket, phase) VALUES ({experiment}, {ada}, {variant}, 0.5, 'full');
             INSERT INTO messages (id, experiment_id, customer_id, variant_id, email) VALUES ('00000000-0000-4000-8000-000000000001', {experiment}, {ada}, {variant}, 'ada@example.com');
             INSERT INTO message_events (message_id, kind, is_bot, bot_reason) VALUES ('00000000-0000-4000-8000-000000000001', 'open', true, 'image proxy');
             INSERT INTO analyses (experiment_id, method, inputs, results) VALUES ({experiment}, 'two_proportion_z', '{{}}', '{{\"p_value\": 0.04}}');"
        ),
    );
    for (path, field, value) in [
        (
            format!("/api/v1/assignments?experiment_id={experiment}"),
            "customer_id",
            json!(ada),
        ),
        (
            format!("/api/v1/messages?customer_id={ada}"),
            "status",
            json!("queued"),
        ),
        (
            "/api/v1/message-events?is_bot=true".to_owned(),
            "bot_reason",
            json!("image proxy"),
        ),
        (
            format!("/api/v1/analyses?experiment_id={experiment}"),
            "method",
            json!("two_proportion_z"),
        ),
    ] {
        let (status, page) = send_as(&app, READ_KEY, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}: {page}");
        let first = &page["items"][0];
        assert_eq!(first[field], value, "{path}");
        let collection = path.split('?').next().unwrap();
        let one = format!(
            "{collection}/{}",
            first["id"]
                .as_str()
                .map_or_else(|| first["id"].to_string(), str::to_owned)
        );
        let (status, record) = send_as(&app, READ_KEY, Method::GET, &one, None).await;
        assert_eq!((status, &record), (200, first), "{one}");
    }
    let (status, message) = send(
        &app,
        Method::GET,
        "/api/v1/messages/00000000-0000-4000-8000-000000000001",
        None,
    )
    .await;
    assert_eq!(
        (status, &message["email"]),
        (200, &json!("ada@example.com"))
    );
    assert!(message.get("lease_owner").is_none());
    let (status, _) = send(&app, Method::GET, "/api/v1/messages/not-a-uuid", None).await;
    assert_eq!(status, 404);

    let response = app
        .http
        .post(app.url("/api/v1/assignments"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn writes_need_an_admin_key_json_and_a_body_within_the_limit() {
    let app =
        spawn_app_with::<api::Api>(TestDatabase::migrated(), &[("API_MAX_BODY_BYTES", "512")])
            .await;
    let body = json!({"name": "Drama Night", "genre": "Drama", "release_year": 2020, "duration_minutes": 90});
    let (status, _) = send_as(
        &app,
        READ_KEY,
        Method::POST,
        "/api/v1/titles",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let wrong_type = app
        .http
        .post(app.url("/api/v1/titles"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let big = json!({"name": "x".repeat(600), "genre": "Drama", "release_year": 2020, "duration_minutes": 90});
    let (status, problem) = send(&app, Method::POST, "/api/v1/titles", Some(big)).await;
    assert_eq!(status, 413, "{problem}");
    let (status, problem) = send(&app, Method::GET, "/api/v1/titles/abc", None).await;
    assert_eq!((status, &problem["status"]), (404, &json!(404)));
    let (_, page) = send(&app, Method::GET, "/api/v1/titles?total=true", None).await;
    assert_eq!(page["total"], 0, "nothing was stored");
}
