//! `etl generate` and `etl export` against real databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl as _;
use etl::generate::{GenerateError, Progress, Scenario, generate};
use testkit::TestDatabase;

fn scenario(customers: u64, seed: u64) -> Scenario {
    let mut scenario = Scenario::with_overrides(None).unwrap();
    scenario.customers = customers;
    scenario.seed = seed;
    scenario
}

fn export_all(database: &TestDatabase) -> Vec<(String, Vec<u8>)> {
    [
        "customers",
        "titles",
        "subscriptions",
        "watch_sessions",
        "events",
        "feature_exposures",
        "conversions",
        "assignments",
        "messages",
        "message_events",
        "suppressions",
        "scenarios",
        "scenario_effects",
    ]
    .into_iter()
    .map(|table| {
        let mut csv = Vec::new();
        etl::export::export(database.url(), table, &mut csv).unwrap();
        (table.to_owned(), csv)
    })
    .collect()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn count(database: &TestDatabase, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut database.connect())
        .unwrap()
        .count
}

#[test]
fn the_same_seed_exports_the_same_files() {
    let (first, second, other) = (
        TestDatabase::migrated(),
        TestDatabase::migrated(),
        TestDatabase::migrated(),
    );
    let summary = generate(
        first.url(),
        scenario(400, 11),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    generate(
        second.url(),
        scenario(400, 11),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    generate(
        other.url(),
        scenario(400, 12),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();

    let tables: Vec<&str> = summary.tables.iter().map(|table| table.table).collect();
    assert_eq!(
        tables,
        [
            "titles",
            "customers",
            "subscriptions",
            "watch_sessions",
            "events",
            "feature_exposures",
            "assignments",
            "messages",
            "message_events",
            "suppressions",
            "conversions"
        ]
    );
    assert_eq!(summary.tables[1].rows, 400);
    assert!(
        summary.tables[3].rows > 400,
        "sessions: {}",
        summary.tables[3].rows
    );

    let (first, second, other) = (export_all(&first), export_all(&second), export_all(&other));
    for ((table, a), (_, b)) in first.iter().zip(&second) {
        assert!(
            a == b,
            "{table} differs between two runs with the same seed"
        );
    }
    assert!(
        first[0].1 != other[0].1,
        "another seed gives other customers"
    );
    let customers = String::from_utf8(first[0].1.clone()).unwrap();
    assert!(
        customers.starts_with("id,external_id,first_name,last_name,email,"),
        "{customers}"
    );
    assert_eq!(customers.lines().count(), 401);
}

#[test]
fn a_database_with_data_is_refused_unless_reset() {
    let database = TestDatabase::migrated();
    generate(
        database.url(),
        scenario(50, 1),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    let before = export_all(&database);

    let refused = generate(
        database.url(),
        scenario(80, 2),
        false,
        false,
        &Progress::default(),
    )
    .unwrap_err();
    assert!(matches!(refused, GenerateError::NotEmpty(_)), "{refused}");
    assert!(
        export_all(&database) == before,
        "a refused run changed nothing"
    );

    // A segmentation run's partition goes with the reset (run ids start again at 1).
    diesel::connection::SimpleConnection::batch_execute(
        &mut database.connect(),
        "INSERT INTO segmentation_runs (id, scheme, rules, status) VALUES (1, 'classic', '{}', 'succeeded');
         CREATE TABLE segment_memberships_run_1 PARTITION OF segment_memberships FOR VALUES IN (1);
         INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score) VALUES (1, 1, 1, 10)",
    )
    .unwrap();
    generate(
        database.url(),
        scenario(80, 2),
        true,
        false,
        &Progress::default(),
    )
    .unwrap();
    let partitions = count(
        &database,
        "SELECT count(*) AS count FROM pg_inherits WHERE inhparent = 'segment_memberships'::regclass",
    );
    assert_eq!(partitions, 0);
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM customers"),
        80
    );
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM scenarios"),
        1
    );
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM plans"),
        4,
        "reference rows stay"
    );
}

#[test]
fn a_failure_half_way_leaves_the_database_as_it_was() {
    let database = TestDatabase::migrated();
    // Without the Premium plan the subscriptions fail their foreign key, after titles and
    // customers were already copied.
    diesel::sql_query("DELETE FROM plans WHERE id = 4")
        .execute(&mut database.connect())
        .unwrap();
    let error = generate(
        database.url(),
        scenario(300, 3),
        false,
        false,
        &Progress::default(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("subscriptions_plan_id_fkey"),
        "{error}"
    );
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM customers"),
        0
    );
    assert_eq!(count(&database, "SELECT count(*) AS count FROM titles"), 0);
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM scenarios"),
        0
    );
}

#[test]
fn ids_continue_after_the_load_and_the_truth_is_recorded() {
    let database = TestDatabase::migrated();
    let scenario = scenario(120, 5);
    let summary = generate(
        database.url(),
        scenario.clone(),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    let mut connection = database.connect();
    diesel::sql_query("INSERT INTO customers (first_name, last_name, email) VALUES ('New', 'Person', 'new@example.com')")
        .execute(&mut connection)
        .unwrap();
    assert_eq!(
        count(&database, "SELECT max(id) AS count FROM customers"),
        121
    );
    let sessions = summary.tables[3].rows as i64;
    diesel::sql_query("INSERT INTO watch_sessions (customer_id, title_id, started_at, minutes) VALUES (1, 1, now(), 5)")
        .execute(&mut connection)
        .unwrap();
    assert_eq!(
        count(&database, "SELECT max(id) AS count FROM watch_sessions"),
        sessions + 1
    );

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Effect {
        #[diesel(sql_type = diesel::sql_types::Text)]
        treatment: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        metric: String,
        #[diesel(sql_type = diesel::sql_types::Double)]
        true_effect: f64,
    }
    let effects: Vec<Effect> = diesel::sql_query(
        "SELECT treatment, metric, true_effect FROM scenario_effects ORDER BY id",
    )
    .load(&mut connection)
    .unwrap();
    assert_eq!(
        effects.len(),
        3 + 4 * 3,
        "the programmes' effects, then three per treatment variant"
    );
    assert_eq!(effects[0].treatment, "stream_with_friends");
    assert_eq!(effects[0].metric, "watch_sessions_per_month");
    assert_eq!(
        effects[0].true_effect,
        scenario.stream_with_friends.watch_time_effect
    );
    assert_eq!(
        effects[2].true_effect,
        scenario.subscriber_perks.churn_effect
    );
}

#[test]
fn exposures_follow_the_regional_rollout() {
    let database = TestDatabase::migrated();
    let scenario = scenario(1500, 9);
    generate(
        database.url(),
        scenario.clone(),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    // Every exposure is in a rollout region, on the rollout date, for a customer subscribed then.
    let misplaced = count(
        &database,
        "SELECT count(*) AS count FROM feature_exposures e JOIN customers c ON c.id = e.customer_id
         WHERE (e.feature = 'stream_with_friends' AND (c.region NOT IN ('West', 'Scotland', 'Ontario', 'Bavaria') OR e.exposed_at <> '2026-01-15'))
            OR (e.feature = 'subscriber_perks' AND (c.region NOT IN ('South', 'England', 'Quebec', 'Berlin') OR e.exposed_at <> '2026-04-01'))
            OR NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = e.customer_id
                           AND s.started_at <= e.exposed_at AND (s.ended_at IS NULL OR s.ended_at > e.exposed_at))",
    );
    assert_eq!(misplaced, 0);
    assert!(count(&database, "SELECT count(*) AS count FROM feature_exposures") > 50);
    // Only exposed customers have programme events, none before their exposure.
    let stray = count(
        &database,
        "SELECT count(*) AS count FROM events v WHERE NOT EXISTS (
             SELECT 1 FROM feature_exposures e WHERE e.customer_id = v.customer_id AND e.exposed_at <= v.occurred_at)",
    );
    assert_eq!(stray, 0);
}

#[test]
fn past_email_experiments_follow_their_rules() {
    let database = TestDatabase::migrated();
    generate(
        database.url(),
        scenario(3000, 21),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    assert_eq!(
        count(
            &database,
            "SELECT count(*) AS count FROM experiments WHERE status = 'stopped'"
        ),
        3
    );
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM variants"),
        7
    );
    assert!(count(&database, "SELECT count(*) AS count FROM messages") > 300);
    // Every message went to a consenting customer subscribed on the send day, with an assignment.
    let stray = count(
        &database,
        "SELECT count(*) AS count FROM messages m JOIN customers c ON c.id = m.customer_id
         WHERE NOT c.email_consent OR m.email <> c.email
            OR NOT EXISTS (SELECT 1 FROM assignments a WHERE a.experiment_id = m.experiment_id
                           AND a.customer_id = m.customer_id AND a.variant_id = m.variant_id)
            OR NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = m.customer_id
                           AND s.started_at <= m.sent_at AND (s.ended_at IS NULL OR s.ended_at > m.sent_at))",
    );
    assert_eq!(stray, 0);
    // Bots are flagged with a reason; scanner clicks come within two seconds of delivery.
    assert!(
        count(
            &database,
            "SELECT count(*) AS count FROM message_events WHERE bot_reason = 'image proxy'"
        ) > 0
    );
    let slow_scanners = count(
        &database,
        "SELECT count(*) AS count FROM message_events c JOIN message_events d ON d.message_id = c.message_id AND d.kind = 'delivered'
         WHERE c.bot_reason = 'link scanner' AND c.occurred_at - d.occurred_at > interval '2 seconds'",
    );
    assert_eq!(slow_scanners, 0);
    // Conversions from e-mail point at a message of the same customer that was clicked.
    let unexplained = count(
        &database,
        "SELECT count(*) AS count FROM conversions v WHERE v.message_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM messages m JOIN message_events e ON e.message_id = m.id AND e.kind = 'click' AND NOT e.is_bot
             WHERE m.id = v.message_id AND m.customer_id = v.customer_id AND m.experiment_id = v.experiment_id)",
    );
    assert_eq!(unexplained, 0);
    // Who unsubscribed is suppressed, and mailed nothing after.
    assert_eq!(
        count(&database, "SELECT count(*) AS count FROM suppressions"),
        count(
            &database,
            "SELECT count(DISTINCT message_id) AS count FROM message_events WHERE kind = 'unsubscribe'"
        )
    );
    let mailed_after = count(
        &database,
        "SELECT count(*) AS count FROM suppressions s JOIN messages m ON m.customer_id = s.customer_id WHERE m.sent_at > s.created_at",
    );
    assert_eq!(mailed_after, 0);
}

#[test]
fn the_latest_segment_memberships_export_with_their_segment_names() {
    let database = TestDatabase::migrated();
    generate(
        database.url(),
        scenario(5, 2),
        false,
        false,
        &Progress::default(),
    )
    .unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut database.connect(),
        "INSERT INTO segmentation_runs (id, scheme, rules, status, finished_at) VALUES
             (1, 'classic', '{}', 'succeeded', '2026-01-01'), (2, 'classic', '{}', 'succeeded', '2026-02-01'),
             (3, 'classic', '{}', 'failed', '2026-03-01');
         CREATE TABLE segment_memberships_run_1 PARTITION OF segment_memberships FOR VALUES IN (1);
         CREATE TABLE segment_memberships_run_2 PARTITION OF segment_memberships FOR VALUES IN (2);
         CREATE TABLE segment_memberships_run_3 PARTITION OF segment_memberships FOR VALUES IN (3);
         INSERT INTO segment_memberships (run_id, customer_id, segment_id, total_score) VALUES
             (1, 1, 1, 10), (2, 2, 4, 33), (2, 1, 2, 18), (3, 1, 3, 29)",
    )
    .unwrap();
    let mut csv = Vec::new();
    etl::export::export(database.url(), "latest_segment_memberships", &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "customer_id,segment_id,segment,total_score,metrics,scores,run_id,run_finished_at",
            "1,2,Vulnerable Customers,18,{},{},2,2026-02-01 00:00:00+00",
            "2,4,Star Customers,33,{},{},2,2026-02-01 00:00:00+00",
        ]
    );
}
