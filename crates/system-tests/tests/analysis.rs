//! Experiment analysis through the real entry points: an experiment's history written into the
//! database, the analysis started through the api and run by ds, the stored result read back.
//! Every count is checked against the rules the history was written by, and the tests against
//! the calculators on the same counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl as _;
use serde_json::{Value, json};
use testkit::{ADMIN_KEY, Platform, READ_KEY, wait_for_job};

/// 2,000 customers in an experiment with a 10% holdout: customer `i` is in the holdout when
/// `i % 20` is 0 or 10, in A when it is below 10, else in B (45% each; A aged 35-44, the
/// others 25-34). Every A and B customer was sent the e-mail;
/// A's `i % 50 == 1` bounced. Humans opened when `i % 3 == 0`; image proxies "opened" when
/// `i % 7 == 0` (flagged); humans clicked when `i % 5 == 0`; a scanner clicked when
/// `i % 11 == 0` (flagged). Conversions one day after assignment: A when `i % 10 == 1`,
/// B when `i % 4 == 0`, the holdout when `i % 20 == 0`; and B's `i % 6 == 2` converted 30 days
/// after assignment, outside the 7-day window.
const HISTORY: &str = "
INSERT INTO customers (id, first_name, last_name, email, age_band, region, device)
SELECT i, 'C', i::text, 'c' || i || '@example.com',
       CASE WHEN i % 20 BETWEEN 1 AND 9 THEN '35-44' ELSE '25-34' END, 'North', 'tv'
FROM generate_series(1, 2000) i;
INSERT INTO experiments (id, name, status, phase, goal_metric, holdout_fraction, planned_sample_size, started_at)
VALUES (1, 'Basic for $10', 'running', 'full', 'conversion', 0.1, 2000, now() - interval '40 days');
INSERT INTO variants (id, experiment_id, key, weight, is_control, subject, body_text, body_html)
VALUES (1, 1, 'A', 1, true, 'Hello', 'Hi', '<p>Hi</p>'), (2, 1, 'B', 1, false, 'Hello!', 'Hi!', '<p>Hi!</p>');
INSERT INTO assignments (experiment_id, customer_id, variant_id, bucket, phase, assigned_at, segment_id)
SELECT 1, i, CASE WHEN i % 20 IN (0, 10) THEN NULL WHEN i % 20 < 10 THEN 1 ELSE 2 END, 0.5, 'full',
       now() - interval '40 days', CASE WHEN i <= 500 THEN 4 WHEN i <= 1500 THEN 2 END
FROM generate_series(1, 2000) i;
INSERT INTO messages (id, experiment_id, customer_id, variant_id, email, status, sent_at)
SELECT gen_random_uuid(), 1, a.customer_id, a.variant_id, 'c' || a.customer_id || '@example.com', 'sent', now() - interval '40 days'
FROM assignments a WHERE a.variant_id IS NOT NULL;
INSERT INTO message_events (message_id, kind, is_bot, bot_reason)
SELECT m.id, e.kind, e.is_bot, CASE WHEN e.is_bot THEN 'test' END
FROM messages m
JOIN LATERAL (VALUES ('bounce', false, m.customer_id % 50 = 1 AND m.variant_id = 1),
                     ('open', false, m.customer_id % 3 = 0),
                     ('open', false, m.customer_id % 3 = 0),
                     ('open', true, m.customer_id % 7 = 0),
                     ('click', false, m.customer_id % 5 = 0),
                     ('click', true, m.customer_id % 11 = 0)) AS e(kind, is_bot, happened) ON e.happened;
INSERT INTO conversions (customer_id, kind, revenue_cents, occurred_at)
SELECT a.customer_id, 'upgrade', 1000, a.assigned_at + interval '1 day'
FROM assignments a
WHERE (a.variant_id = 1 AND a.customer_id % 10 = 1) OR (a.variant_id = 2 AND a.customer_id % 4 = 0)
   OR (a.variant_id IS NULL AND a.customer_id % 20 = 0);
INSERT INTO conversions (customer_id, kind, revenue_cents, occurred_at)
SELECT a.customer_id, 'purchase', 500, a.assigned_at + interval '30 days'
FROM assignments a WHERE a.variant_id = 2 AND a.customer_id % 6 = 2;
";

/// The counts the rules above give each arm: assigned, delivered, opened, clicked, converted.
fn expected(arm: &str) -> [i64; 5] {
    let mut counts = [0; 5];
    for i in 1..=2000_i64 {
        let in_arm = match arm {
            "holdout" => i % 10 == 0,
            "A" => i % 20 < 10 && i % 10 != 0,
            _ => i % 20 > 10,
        };
        if !in_arm {
            continue;
        }
        let sent = arm != "holdout";
        counts[0] += 1;
        counts[1] += i64::from(sent && !(arm == "A" && i % 50 == 1));
        counts[2] += i64::from(sent && i % 3 == 0);
        counts[3] += i64::from(sent && i % 5 == 0);
        counts[4] += i64::from(match arm {
            "A" => i % 10 == 1,
            "B" => i % 4 == 0,
            _ => i % 20 == 0,
        });
    }
    counts
}

async fn analyze(http: &reqwest::Client, api: &str, experiment: i64) -> Value {
    let started = http
        .post(format!("{api}/api/v1/experiments/{experiment}/analyze"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let job: Value = started.json().await.unwrap();
    let done = wait_for_job(
        http,
        &format!("{api}/api/v1/jobs"),
        READ_KEY,
        job["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let analyses: Value = http
        .get(format!("{api}/api/v1/experiments/{experiment}/analyses"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = analyses["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(newest["id"], done["counts"]["analysis_id"]);
    newest
}

#[tokio::test]
async fn an_analysis_counts_by_assignment_tests_each_metric_and_recommends() {
    let platform = Platform::start().await;
    let mut connection = platform.database.connect();
    diesel::sql_query("BEGIN").execute(&mut connection).unwrap();
    for statement in HISTORY.split(";\n").filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement)
            .execute(&mut connection)
            .unwrap();
    }
    diesel::sql_query("COMMIT")
        .execute(&mut connection)
        .unwrap();
    let http = reqwest::Client::new();
    let api = platform.api.url.clone();

    let analysis = analyze(&http, &api, 1).await;
    assert_eq!(analysis["method"], "itt_v1");
    let report = &analysis["results"];
    let arms = report["arms"].as_array().unwrap();
    let keys: Vec<&str> = arms
        .iter()
        .map(|arm| arm["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["A", "B", "holdout"]);
    for arm in arms {
        let key = arm["key"].as_str().unwrap();
        let got = [
            "assigned",
            "delivered",
            "unique_opens",
            "unique_human_clicks",
            "conversions",
        ]
        .map(|field| arm[field].as_i64().unwrap());
        assert_eq!(got, expected(key), "arm {key}");
    }
    // Revenue: 10 per conversion within the window (B's late purchases left out).
    assert_eq!(arms[1]["revenue"], expected("B")[4] as f64 * 10.0);
    assert_eq!(report["assigned"], 2000);

    // The goal metric first, tested as the calculator tests the same counts.
    let goal = &report["metrics"][0];
    assert_eq!(goal["metric"], "conversion");
    assert_eq!(goal["goal"], true);
    // The treatment against control, and the holdout against control on its own (outside
    // the treatments' multiplicity family).
    let [a, b, holdout] = [expected("A"), expected("B"), expected("holdout")];
    for (ours, other) in [(&goal["comparisons"][0], b), (&goal["holdout"], holdout)] {
        let calculator: Value = http
            .post(format!("{api}/api/v1/stats/proportions"))
            .bearer_auth(READ_KEY)
            .json(&json!({"variants": [
                {"name": "A", "successes": a[4], "trials": a[0]},
                {"name": "other", "successes": other[4], "trials": other[0]}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let theirs = &calculator["comparisons"][0];
        assert_eq!(ours["p_value"], theirs["z_test"]["p_value"], "{ours}");
        assert_eq!(ours["p_value_adjusted"], theirs["p_value_adjusted"]);
        assert_eq!(ours["ci_absolute"], theirs["ci_absolute"]);
        assert_eq!(ours["chance_to_win"], theirs["chance_to_win"]);
        assert_eq!(ours["sequential_p_value"], theirs["sequential"]["p_value"]);
    }
    assert_eq!(goal["comparisons"].as_array().unwrap().len(), 1);
    assert_eq!(goal["holdout"]["variant"], "holdout");
    // The other metrics follow, adjusted together.
    let metrics: Vec<&str> = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["conversion", "revenue", "click", "open"]);
    let revenue = &report["metrics"][1]["comparisons"][0];
    assert!(revenue["p_value_adjusted"].as_f64().unwrap() >= revenue["p_value"].as_f64().unwrap());

    // B converts at 22.2% against A's 11.1%: ship B, with the reason in words.
    assert_eq!(report["srm"]["assignments"]["mismatch"], false);
    let recommendation = &report["recommendation"];
    assert_eq!(recommendation["decision"], "ship", "{recommendation}");
    assert_eq!(recommendation["variant"], "B");
    assert!(
        recommendation["reason"]
            .as_str()
            .unwrap()
            .starts_with("ship B: conversion 22.2% against 11.1% for A"),
        "{recommendation}"
    );

    // Breakdowns by segment, age band, region and device: A is all 35-44, B all 25-34.
    let breakdowns = report["breakdowns"].as_array().unwrap();
    let dimensions: Vec<&str> = breakdowns
        .iter()
        .map(|b| b["dimension"].as_str().unwrap())
        .collect();
    for dimension in ["age_band", "device", "region", "segment"] {
        assert!(dimensions.contains(&dimension), "{dimensions:?}");
    }
    // Segments as recorded at assignment: 500 Star Customers, 1,000 Vulnerable, 500 not recorded.
    let segments: Vec<(&str, i64)> = breakdowns
        .iter()
        .filter(|b| b["dimension"] == "segment")
        .map(|b| {
            let customers = b["arms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|arm| arm["assigned"].as_i64().unwrap())
                .sum();
            (b["value"].as_str().unwrap(), customers)
        })
        .collect();
    assert_eq!(
        segments,
        [
            ("(not recorded)", 500),
            ("Star Customers", 500),
            ("Vulnerable Customers", 1000)
        ]
    );
    let young = breakdowns.iter().find(|b| b["value"] == "25-34").unwrap();
    assert_eq!(young["arms"][0]["assigned"], 0);
    assert_eq!(young["arms"][1]["assigned"], b[0]);

    // The inputs are stored: the design and every count the report came from.
    assert_eq!(
        analysis["inputs"]["design"]["arms"][2]["planned_share"],
        0.1
    );
    assert!(analysis["inputs"]["cells"].as_array().unwrap().len() >= 3);

    // A broken split: B's assignments moved to A until it is 1,500 against 300.
    diesel::sql_query(
        "UPDATE assignments SET variant_id = 1 WHERE variant_id = 2 AND customer_id % 3 <> 0",
    )
    .execute(&mut connection)
    .unwrap();
    let broken = analyze(&http, &api, 1).await;
    let recommendation = &broken["results"]["recommendation"];
    assert_eq!(
        recommendation["decision"], "investigate",
        "{recommendation}"
    );
    assert!(
        recommendation["reason"]
            .as_str()
            .unwrap()
            .starts_with("sample ratio mismatch")
    );
    let listed: Value = http
        .get(format!("{api}/api/v1/experiments/1/analyses"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // Unknown experiments: 404 from both routes; a read key cannot start an analysis.
    for (method, path, key, status) in [
        ("POST", "/api/v1/experiments/99/analyze", ADMIN_KEY, 404),
        ("GET", "/api/v1/experiments/99/analyses", READ_KEY, 404),
        ("POST", "/api/v1/experiments/1/analyze", READ_KEY, 403),
    ] {
        let request = if method == "POST" {
            http.post(format!("{api}{path}"))
        } else {
            http.get(format!("{api}{path}"))
        };
        let response = request.bearer_auth(key).send().await.unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
    }
}

#[tokio::test]
async fn too_little_data_says_how_much_of_the_plan_is_in() {
    let platform = Platform::start().await;
    let mut connection = platform.database.connect();
    for statement in HISTORY.split(";\n").filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement)
            .execute(&mut connection)
            .unwrap();
    }
    // Only the first 760 customers, no difference in conversion, a plan of 2,000.
    diesel::sql_query("DELETE FROM assignments WHERE customer_id > 760")
        .execute(&mut connection)
        .unwrap();
    diesel::sql_query("DELETE FROM conversions")
        .execute(&mut connection)
        .unwrap();
    let http = reqwest::Client::new();
    let analysis = analyze(&http, &platform.api.url, 1).await;
    let recommendation = &analysis["results"]["recommendation"];
    assert_eq!(
        recommendation["decision"], "keep_running",
        "{recommendation}"
    );
    assert!(
        recommendation["reason"]
            .as_str()
            .unwrap()
            .contains("not enough data: 38% of the planned sample (760 of 2000)"),
        "{recommendation}"
    );
    // An experiment without variants has nothing to analyse: refused, no job queued.
    diesel::sql_query("INSERT INTO experiments (id, name) VALUES (2, 'empty')")
        .execute(&mut connection)
        .unwrap();
    let refused = http
        .post(format!("{}/api/v1/experiments/2/analyze", platform.api.url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    // Zero conversions everywhere: undefined tests say why instead of failing the analysis.
    let goal = &analysis["results"]["metrics"][0]["comparisons"][0];
    assert_eq!(goal["p_value"], Value::Null);
    assert!(goal["note"].as_str().is_some(), "{goal}");
}
