//! The report routes behind the dashboard, on data of known figures: the segments report
//! (profiles and who moved where), the audience an experiment could reach and its baseline,
//! an experiment's timeline, and the results page and CSV of a stored analysis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection as _;
use models::analysis::{
    ArmResult, Breakdown, Decision, MetricComparison, MetricResult, Recommendation, Report,
    SrmChecks, SrmResult,
};
use models::enums::Metric;
use serde_json::{Value, json};
use testkit::{ADMIN_KEY, spawn_app};

fn seed(app: &testkit::TestApp, sql: &str) {
    app.database.connect().batch_execute(sql).unwrap();
}

async fn get_json(app: &testkit::TestApp, path: &str) -> Value {
    let response = app.get(path, Some(ADMIN_KEY)).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Customers 1-11. Run 1: 1-6 Lost Cause (score 10), 7-10 Vulnerable (20). Run 2: 1-3 Lost
/// Cause (12), 4-6 Vulnerable (22), 7-9 Free Riders (27), 11 Star (40); 10 no longer scored.
const TWO_RUNS: &str = "
INSERT INTO customers (id, first_name, last_name, email)
SELECT i, 'C', i::text, 'c' || i || '@example.com' FROM generate_series(1, 11) i;
INSERT INTO segmentation_runs (id, scheme, rules, status, customers_scored, finished_at)
VALUES (1, 'classic', '{}', 'succeeded', 10, now()), (2, 'classic', '{}', 'succeeded', 10, now()),
       (3, 'classic', '{}', 'failed', 0, now());
CREATE TABLE segment_memberships_run_1 PARTITION OF segment_memberships FOR VALUES IN (1);
CREATE TABLE segment_memberships_run_2 PARTITION OF segment_memberships FOR VALUES IN (2);
INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score, frequency_score)
SELECT 1, i, CASE WHEN i <= 6 THEN 1 ELSE 2 END, CASE WHEN i <= 6 THEN 10 ELSE 20 END, i
FROM generate_series(1, 10) i;
INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score, frequency_score)
SELECT 2, i, CASE WHEN i <= 3 THEN 1 WHEN i <= 6 THEN 2 WHEN i <= 9 THEN 3 ELSE 4 END,
       CASE WHEN i <= 3 THEN 12 WHEN i <= 6 THEN 22 WHEN i <= 9 THEN 27 ELSE 40 END, i
FROM generate_series(1, 11) i WHERE i <> 10;
";

#[tokio::test]
async fn the_segments_report_profiles_the_latest_run_and_counts_who_moved_where() {
    let app = spawn_app::<api::Api>().await;
    seed(&app, TWO_RUNS);
    let report = get_json(&app, "/api/v1/reports/segments").await;
    assert_eq!(report["run"]["id"], 2, "the latest succeeded run");
    assert_eq!(report["previous_run"]["id"], 1);
    let segments: Vec<(i64, i64, f64, f64)> = report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["segment_id"].as_i64().unwrap(),
                s["customers"].as_i64().unwrap(),
                s["mean_total_score"].as_f64().unwrap(),
                s["frequency"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        segments,
        vec![
            (1, 3, 12.0, 2.0),
            (2, 3, 22.0, 5.0),
            (3, 3, 27.0, 8.0),
            (4, 1, 40.0, 11.0)
        ]
    );
    assert_eq!(report["segments"][0]["share"], 0.3);
    assert_eq!(report["segments"][0]["minutes"], Value::Null);
    let moves: Vec<(Value, Value, i64)> = report["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from_segment_id"].clone(),
                m["to_segment_id"].clone(),
                m["customers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!(4), 1),
            (json!(1), json!(1), 3),
            (json!(1), json!(2), 3),
            (json!(2), json!(3), 3),
            (json!(2), Value::Null, 1),
        ]
    );
}

/// Customers 1-20, 1-16 agreeing to e-mail; 2 suppressed. Run 1: 1-10 Vulnerable. Customer 3
/// is in a running exclusive experiment (1), customer 4 in a running non-exclusive one (2).
/// Earlier analyses: experiment 1 (Vulnerable, conversion) had a control of 100 at 10%,
/// experiment 3 (Free Riders, conversion) a control of 300 at 20%; experiment 2's goal is
/// clicks.
const AUDIENCE: &str = "
INSERT INTO customers (id, first_name, last_name, email, email_consent)
SELECT i, 'C', i::text, 'c' || i || '@example.com', i <= 16 FROM generate_series(1, 20) i;
INSERT INTO suppressions (email, reason) VALUES ('c2@example.com', 'unsubscribe');
INSERT INTO segmentation_runs (id, scheme, rules, status, customers_scored, finished_at)
VALUES (1, 'classic', '{}', 'succeeded', 10, now());
CREATE TABLE segment_memberships_run_1 PARTITION OF segment_memberships FOR VALUES IN (1);
INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score)
SELECT 1, i, 2, 20 FROM generate_series(1, 10) i;
INSERT INTO experiments (id, name, status, phase, goal_metric, segment_id, exclusive) VALUES
    (1, 'Exclusive', 'running', 'full', 'conversion', 2, true),
    (2, 'Shared', 'running', 'full', 'click', 2, false),
    (3, 'Earlier', 'decided', 'full', 'conversion', 3, true);
INSERT INTO assignments (experiment_id, customer_id, bucket, phase) VALUES (1, 3, 0.5, 'full'), (2, 4, 0.5, 'full');
INSERT INTO analyses (experiment_id, method, inputs, results) VALUES
    (1, 'test', '{}', '{\"arms\": [{\"is_control\": true, \"assigned\": 100, \"conversion_rate\": 0.1},
                                  {\"is_control\": false, \"assigned\": 100, \"conversion_rate\": 0.5}]}'),
    (3, 'test', '{}', '{\"arms\": [{\"is_control\": true, \"assigned\": 300, \"conversion_rate\": 0.2}]}'),
    (2, 'test', '{}', '{\"arms\": [{\"is_control\": true, \"assigned\": 50, \"click_rate\": 0.9}]}');
";

#[tokio::test]
async fn the_audience_report_counts_who_can_be_reached_and_finds_the_baseline() {
    let app = spawn_app::<api::Api>().await;
    seed(&app, AUDIENCE);
    let audience = |query: &str| {
        let path = format!("/api/v1/reports/audience?{query}");
        let app = &app;
        async move { get_json(app, &path).await }
    };
    // Vulnerable, agreeing: 1-10; minus 2 (suppressed), 3 (exclusive experiment) and, for an
    // exclusive experiment, 4 (in another running one).
    let vulnerable = audience("segment_id=2").await;
    assert_eq!(vulnerable["reachable"], 7);
    assert_eq!(vulnerable["baseline"], 0.1, "experiment 1's control");
    assert_eq!(vulnerable["baseline_experiments"], 1);
    assert_eq!(vulnerable["baseline_customers"], 100);
    assert_eq!(
        audience("segment_id=2&exclusive=false").await["reachable"],
        8
    );
    // Everyone: 16 agreeing minus 2, 3 and 4.
    assert_eq!(audience("").await["reachable"], 13);
    // No experiment on Star Customers: every conversion experiment's control, pooled.
    let stars = audience("segment_id=4&goal_metric=conversion").await;
    assert_eq!(stars["reachable"], 0);
    assert!(
        (stars["baseline"].as_f64().unwrap() - 0.175).abs() < 1e-12,
        "{stars}"
    );
    assert_eq!(stars["baseline_experiments"], 2);
    assert_eq!(stars["baseline_customers"], 400);
    let clicks = audience("goal_metric=click").await;
    assert_eq!(clicks["baseline"], 0.9);
    let revenue = audience("goal_metric=revenue").await;
    assert_eq!(revenue["baseline"], Value::Null, "a mean has no rate");
    let refused = app
        .get(
            "/api/v1/reports/audience?goal_metric=profit",
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(refused.status(), 422);
}

/// Experiment 1 (conversion, 7-day window): A gets customers 1-4 on 1 June, B 5-6 on 2 June,
/// the holdout 7 on 1 June; 8 joined in the winner phase (left out). Conversions: 1 on 1 June,
/// 5 on 3 June, 7 on 3 June, 2 on 20 June (outside the window), 8 on 2 June (winner phase).
const TIMELINE: &str = "
INSERT INTO customers (id, first_name, last_name, email)
SELECT i, 'C', i::text, 'c' || i || '@example.com' FROM generate_series(1, 8) i;
INSERT INTO experiments (id, name, status, phase, goal_metric) VALUES (1, 'Timeline', 'running', 'full', 'conversion');
INSERT INTO variants (id, experiment_id, key, is_control, subject, body_text, body_html)
VALUES (1, 1, 'A', true, 's', 't', 'h'), (2, 1, 'B', false, 's', 't', 'h');
INSERT INTO assignments (experiment_id, customer_id, variant_id, bucket, phase, assigned_at) VALUES
    (1, 1, 1, 0.5, 'full', '2026-06-01 10:00Z'), (1, 2, 1, 0.5, 'full', '2026-06-01 11:00Z'),
    (1, 3, 1, 0.5, 'full', '2026-06-01 12:00Z'), (1, 4, 1, 0.5, 'full', '2026-06-01 13:00Z'),
    (1, 5, 2, 0.5, 'full', '2026-06-02 10:00Z'), (1, 6, 2, 0.5, 'full', '2026-06-02 11:00Z'),
    (1, 7, NULL, 0.05, 'full', '2026-06-01 09:00Z'), (1, 8, 2, 0.5, 'winner', '2026-06-02 09:00Z');
INSERT INTO conversions (customer_id, kind, revenue_cents, occurred_at) VALUES
    (1, 'upgrade', 100, '2026-06-01 20:00Z'), (5, 'upgrade', 100, '2026-06-03 08:00Z'),
    (7, 'upgrade', 100, '2026-06-03 09:00Z'), (2, 'upgrade', 100, '2026-06-20 09:00Z'),
    (8, 'upgrade', 100, '2026-06-02 10:00Z');
";

#[tokio::test]
async fn the_timeline_adds_up_each_arm_by_day_as_the_analysis_counts() {
    let app = spawn_app::<api::Api>().await;
    seed(&app, TIMELINE);
    let timeline = get_json(&app, "/api/v1/reports/experiments/1/timeline").await;
    assert_eq!(timeline["metric"], "conversion");
    let points: Vec<(String, Value, i64, i64)> = timeline["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["day"].as_str().unwrap().to_owned(),
                p["variant_id"].clone(),
                p["assigned"].as_i64().unwrap(),
                p["successes"].as_i64().unwrap(),
            )
        })
        .collect();
    let day = |d: &str, v: Value, a: i64, s: i64| (d.to_owned(), v, a, s);
    assert_eq!(
        points,
        vec![
            day("2026-06-01", json!(1), 4, 1),
            day("2026-06-01", json!(2), 0, 0),
            day("2026-06-01", Value::Null, 1, 0),
            day("2026-06-02", json!(1), 4, 1),
            day("2026-06-02", json!(2), 2, 0),
            day("2026-06-02", Value::Null, 1, 0),
            day("2026-06-03", json!(1), 4, 1),
            day("2026-06-03", json!(2), 2, 1),
            day("2026-06-03", Value::Null, 1, 1),
        ]
    );
    let missing = app
        .get("/api/v1/reports/experiments/99/timeline", Some(ADMIN_KEY))
        .await;
    assert_eq!(missing.status(), 404);
}

fn arm(key: &str, variant_id: i64, control: bool, assigned: i64, conversions: i64) -> ArmResult {
    let revenue = conversions as f64 * 10.0;
    ArmResult {
        key: key.to_owned(),
        variant_id: Some(variant_id),
        is_control: control,
        holdout: false,
        planned_share: 0.5,
        assigned,
        delivered: assigned,
        unique_opens: 0,
        unique_human_clicks: 0,
        conversions,
        revenue,
        revenue_sum_squares: 0.0,
        open_rate: Some(0.0),
        click_rate: Some(0.0),
        conversion_rate: Some(conversions as f64 / assigned as f64),
        revenue_per_assigned: Some(revenue / assigned as f64),
    }
}

#[tokio::test]
async fn the_results_page_warns_of_a_broken_split_and_the_csv_holds_the_counts() {
    let app = spawn_app::<api::Api>().await;
    seed(
        &app,
        "INSERT INTO experiments (id, name, status, phase, goal_metric) VALUES (1, 'Split', 'stopped', 'full', 'conversion');
         INSERT INTO variants (id, experiment_id, key, is_control, subject, body_text, body_html)
         VALUES (1, 1, 'A', true, 's', 't', 'h'), (2, 1, 'B', false, 's', 't', 'h');",
    );
    // A report as ds writes it: B has a third of A's customers against a planned half.
    let results = Report {
        experiment_id: 1,
        alpha: 0.05,
        goal_metric: Metric::Conversion,
        attribution_window_days: 7,
        planned_sample_size: None,
        assigned: 200,
        arms: vec![arm("A", 1, true, 150, 15), arm("B", 2, false, 50, 10)],
        metrics: vec![MetricResult {
            metric: Metric::Conversion,
            goal: true,
            kind: "proportion".to_owned(),
            test: "two_proportion_z_pooled".to_owned(),
            comparisons: vec![MetricComparison {
                variant: "B".to_owned(),
                variant_id: Some(2),
                control_value: Some(0.1),
                value: Some(0.2),
                absolute_lift: Some(0.1),
                relative_lift: Some(1.0),
                ci_absolute: Some([-0.01, 0.21]),
                ci_relative: Some([-0.1, 2.1]),
                p_value: Some(0.06),
                p_value_adjusted: Some(0.06),
                significant: false,
                chance_to_win: Some(0.97),
                expected_loss: Some(0.001),
                sequential_p_value: Some(0.3),
                sequential_p_value_adjusted: Some(0.3),
                note: None,
            }],
            holdout: None,
        }],
        srm: SrmChecks {
            assignments: SrmResult {
                statistic: Some(50.0),
                df: 1,
                p_value: Some(1e-12),
                mismatch: true,
            },
            deliveries: None,
        },
        recommendation: Recommendation {
            decision: Decision::Investigate,
            variant: None,
            reason: "the arms' sizes do not follow the planned split".to_owned(),
            warnings: Vec::new(),
        },
        breakdowns: vec![Breakdown {
            dimension: "region".to_owned(),
            value: "=cmd()".to_owned(),
            arms: vec![arm("A", 1, true, 150, 15)],
            goal: None,
        }],
    };
    let results = serde_json::to_value(&results).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO analyses (experiment_id, method, inputs, results) VALUES (1, 'test', '{}', $1)",
        )
        .bind::<diesel::sql_types::Jsonb, _>(&results),
        &mut app.database.connect(),
    )
    .unwrap();

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={ADMIN_KEY}"))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http
        .get(app.url("/experiments/1/results"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Sample-ratio mismatch: the arms&#39; sizes differ from the planned split (p = &#60; 0.0001)",
        "<h2>Recommendation: investigate</h2>",
        "the arms&#39; sizes do not follow the planned split",
        // Wilson intervals of 15 in 150 and 10 in 50 (statsmodels' proportion_confint).
        "6.15% to 15.84%",
        "11.24% to 33.04%",
        "+10.00 pp [-1.00 pp, +21.00 pp]",
        "<h2>By region</h2>",
    ] {
        assert!(html.contains(expected), "{expected} missing from {html}");
    }
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        1,
        "no timeline without assignments"
    );

    let csv = app
        .get("/api/v1/reports/experiments/1/results.csv", Some(ADMIN_KEY))
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"experiment-1-analysis-")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].starts_with("all,,A,true,false,0.5,150,150,0,0,15,150,0,0,0.1,1"),
        "{csv}"
    );
    assert!(lines[3].starts_with("region,'=cmd(),A,"), "{csv}");
    let none = app
        .get("/api/v1/reports/experiments/2/results.csv", Some(ADMIN_KEY))
        .await;
    assert_eq!(none.status(), 404);
}
