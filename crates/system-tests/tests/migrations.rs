//! The migration runner: concurrent runners on one empty database, readiness, and the
//! data model's constraints matching the Rust enums.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl as _;
use models::enums::*;
use models::migrate::{embedded_versions, run_pending_migrations};
use testkit::TestDatabase;

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[test]
fn concurrent_runners_on_an_empty_database_apply_each_migration_once() {
    let database = TestDatabase::empty();
    let runners: Vec<_> = (0..6)
        .map(|_| {
            let url = database.url().clone();
            std::thread::spawn(move || run_pending_migrations(&url))
        })
        .collect();
    let applied: Vec<Vec<String>> = runners
        .into_iter()
        .map(|runner| runner.join().unwrap().unwrap())
        .collect();

    let expected = embedded_versions();
    assert!(expected.len() >= 6, "{expected:?}");
    let mut all: Vec<String> = applied.iter().flatten().cloned().collect();
    all.sort();
    assert_eq!(
        all, expected,
        "every migration applied exactly once across the runners"
    );
    assert_eq!(
        applied
            .iter()
            .filter(|versions| !versions.is_empty())
            .count(),
        1,
        "one runner did the work"
    );

    let mut connection = database.connect();
    let recorded: Vec<Text> = diesel::sql_query(
        "SELECT version AS value FROM __diesel_schema_migrations ORDER BY version",
    )
    .load(&mut connection)
    .unwrap();
    assert_eq!(
        recorded
            .into_iter()
            .map(|row| row.value)
            .collect::<Vec<_>>(),
        expected
    );

    // And again: nothing left to do.
    assert!(run_pending_migrations(database.url()).unwrap().is_empty());
}

#[test]
fn the_seed_rows_are_the_original_systems() {
    let database = TestDatabase::migrated();
    let mut connection = database.connect();
    let plans: Vec<Text> = diesel::sql_query(
        "SELECT id || ':' || name || ':' || monthly_price_cents AS value FROM plans ORDER BY id",
    )
    .load(&mut connection)
    .unwrap();
    let plans: Vec<String> = plans.into_iter().map(|row| row.value).collect();
    assert_eq!(
        plans,
        [
            "1:Student:500",
            "2:Family:1000",
            "3:Basic:700",
            "4:Premium:900"
        ]
    );
    let segments: Vec<Text> =
        diesel::sql_query("SELECT id || ':' || name AS value FROM segments ORDER BY id")
            .load(&mut connection)
            .unwrap();
    let segments: Vec<String> = segments.into_iter().map(|row| row.value).collect();
    assert_eq!(
        segments,
        [
            "1:Lost Cause",
            "2:Vulnerable Customers",
            "3:Free Riders",
            "4:Star Customers"
        ]
    );
    // A new row after the seeded ids gets the next id, not a duplicate.
    let next: Vec<Text> = diesel::sql_query("INSERT INTO plans (name, monthly_price_cents) VALUES ('Ultra', 1299) RETURNING id::text AS value")
        .load(&mut connection)
        .unwrap();
    assert_eq!(next[0].value, "5");
}

/// The values a CHECK constraint on `table.column` allows, as its definition lists them.
fn allowed_values(connection: &mut diesel::PgConnection, table: &str, column: &str) -> Vec<String> {
    let definitions: Vec<Text> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS value FROM pg_constraint c
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
         WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2 AND array_length(c.conkey, 1) = 1",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .bind::<diesel::sql_types::Text, _>(column)
    .load(connection)
    .unwrap();
    let definition = definitions
        .into_iter()
        .map(|row| row.value)
        .find(|text| text.contains("ANY"))
        .unwrap();
    definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn texts<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

#[test]
fn check_constraints_allow_exactly_the_enum_values() {
    let database = TestDatabase::migrated();
    let mut connection = database.connect();
    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        ("jobs", "kind", texts(JobKind::ALL)),
        ("jobs", "status", texts(JobStatus::ALL)),
        ("customers", "age_band", texts(AgeBand::ALL)),
        ("customers", "device", texts(Device::ALL)),
        (
            "customers",
            "acquisition_channel",
            texts(AcquisitionChannel::ALL),
        ),
        ("subscriptions", "status", texts(SubscriptionStatus::ALL)),
        ("watch_sessions", "like_status", texts(LikeStatus::ALL)),
        ("conversions", "kind", texts(ConversionKind::ALL)),
        ("conversions", "source", texts(ConversionSource::ALL)),
        (
            "segmentation_rule_sets",
            "scheme",
            texts(SegmentationScheme::ALL),
        ),
        (
            "segmentation_runs",
            "status",
            texts(SegmentationRunStatus::ALL),
        ),
        ("message_templates", "kind", texts(TemplateKind::ALL)),
        ("experiments", "status", texts(ExperimentStatus::ALL)),
        ("experiments", "phase", texts(ExperimentPhase::ALL)),
        (
            "experiments",
            "no_winner_action",
            texts(NoWinnerAction::ALL),
        ),
        ("experiments", "goal_metric", texts(Metric::ALL)),
        ("messages", "status", texts(MessageStatus::ALL)),
        ("message_events", "kind", texts(MessageEventKind::ALL)),
        ("suppressions", "reason", texts(SuppressionReason::ALL)),
        ("scenario_effects", "scale", texts(EffectScale::ALL)),
    ];
    for (table, column, expected) in cases {
        assert_eq!(
            allowed_values(&mut connection, table, column),
            expected,
            "{table}.{column}"
        );
    }
}

#[test]
fn every_foreign_key_has_an_index() {
    let database = TestDatabase::migrated();
    let mut connection = database.connect();
    let unindexed: Vec<Text> = diesel::sql_query(
        "SELECT c.conrelid::regclass || '.' || a.attname AS value
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND NOT EXISTS (
             SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
         -- A partition key needs no index: its rows are whole partitions.
         AND NOT EXISTS (
             SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = c.conrelid AND p.partattrs[0] = c.conkey[1])
         ORDER BY 1",
    )
    .load(&mut connection)
    .unwrap();
    assert_eq!(
        unindexed
            .into_iter()
            .map(|row| row.value)
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
}

#[test]
fn constraints_reject_values_outside_their_domain() {
    let database = TestDatabase::migrated();
    let mut connection = database.connect();
    for statement in [
        "INSERT INTO plans (name, monthly_price_cents) VALUES ('Negative', -1)",
        "INSERT INTO customers (first_name, last_name, email) VALUES ('A', 'B', 'Mixed@Case.com')",
        "INSERT INTO experiments (name, holdout_fraction) VALUES ('x', 1.5)",
        "INSERT INTO jobs (kind, progress) VALUES ('import', 2)",
        "INSERT INTO jobs (kind, status) VALUES ('import', 'running')",
    ] {
        let outcome = diesel::sql_query(statement).execute(&mut connection);
        assert!(
            matches!(
                outcome,
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::CheckViolation,
                    _
                ))
            ),
            "{statement}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn pooled_connections_carry_the_statement_timeout() {
    // Both diesel's and diesel-async's RunQueryDsl are in scope here: name the async one.
    use diesel_async::RunQueryDsl as AsyncRun;

    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
    }

    let database = TestDatabase::migrated();
    let pool = models::db::build_pool(&models::db::PoolSettings {
        url: database.url().clone(),
        max_size: 2,
        acquire_timeout: std::time::Duration::from_secs(2),
        statement_timeout: std::time::Duration::from_millis(1234),
        short_statements: false,
    })
    .unwrap();
    let mut connection = pool.get().await.unwrap();
    let setting: Setting =
        AsyncRun::get_result(diesel::sql_query("SHOW statement_timeout"), &mut connection)
            .await
            .unwrap();
    assert_eq!(setting.statement_timeout, "1234ms");
    let slow = AsyncRun::execute(diesel::sql_query("SELECT pg_sleep(2)"), &mut connection).await;
    assert!(
        format!("{slow:?}").contains("statement timeout"),
        "{slow:?}"
    );
}

#[test]
fn a_message_keeps_its_first_human_open_and_click_and_its_bounce() {
    let database = TestDatabase::migrated();
    let mut connection = database.connect();
    diesel::connection::SimpleConnection::batch_execute(
        &mut connection,
        "INSERT INTO customers (id, first_name, last_name, email) VALUES (1, 'A', 'B', 'a@example.com');
         INSERT INTO experiments (id, name) VALUES (1, 'e');
         INSERT INTO variants (id, experiment_id, key, subject, body_text, body_html) VALUES (1, 1, 'A', 's', 't', 'h');
         INSERT INTO messages (id, experiment_id, customer_id, variant_id, email)
             VALUES ('00000000-0000-0000-0000-000000000001', 1, 1, 1, 'a@example.com');
         -- One statement: a proxy's open (ignored), two human opens, a scanner's click.
         INSERT INTO message_events (message_id, kind, occurred_at, is_bot, bot_reason) VALUES
             ('00000000-0000-0000-0000-000000000001', 'open', '2026-01-01 08:00', true, 'proxy'),
             ('00000000-0000-0000-0000-000000000001', 'open', '2026-01-01 10:00', false, NULL),
             ('00000000-0000-0000-0000-000000000001', 'open', '2026-01-01 09:00', false, NULL),
             ('00000000-0000-0000-0000-000000000001', 'click', '2026-01-01 09:01', true, 'scanner');
         -- Later statements: a later open changes nothing, an earlier one moves it back; a click.
         INSERT INTO message_events (message_id, kind, occurred_at) VALUES
             ('00000000-0000-0000-0000-000000000001', 'open', '2026-01-02 10:00');
         INSERT INTO message_events (message_id, kind, occurred_at) VALUES
             ('00000000-0000-0000-0000-000000000001', 'open', '2026-01-01 08:30'),
             ('00000000-0000-0000-0000-000000000001', 'click', '2026-01-01 12:00');",
    )
    .unwrap();
    let times: Vec<Text> = diesel::sql_query(
        "SELECT concat_ws(' | ', opened_at AT TIME ZONE 'UTC', clicked_at AT TIME ZONE 'UTC',
                          coalesce(bounced_at::text, 'not bounced')) AS value FROM messages",
    )
    .load(&mut connection)
    .unwrap();
    assert_eq!(
        times[0].value,
        "2026-01-01 08:30:00 | 2026-01-01 12:00:00 | not bounced"
    );
}
