//! `etl generate`: a deterministic synthetic streaming business, loaded with COPY in one
//! transaction, so a failure leaves the database as it was.

pub mod copy;
pub mod rows;
pub mod scenario;
pub mod world;

use std::time::Instant;

use diesel::pg::PgConnection;
use diesel::{Connection as _, ExecuteCopyFromDsl as _, ExpressionMethods as _, RunQueryDsl as _};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use models::db::{DatabaseUrl, DbError, connect_sync};
use models::schema::{
    conversions, customers, events, feature_exposures, subscriptions, titles, watch_sessions,
};

pub use copy::Progress;
use copy::{CustomerRows, TableLoad, copy_customer_rows};
pub use scenario::{Scenario, ScenarioError};
use world::World;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Connect(#[from] DbError),
    #[error("{0}")]
    NotEmpty(String),
    #[error("loading failed, nothing was changed: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What was loaded, table by table.
#[derive(Debug, Clone)]
pub struct Summary {
    pub scenario_id: i64,
    pub tables: Vec<TableLoad>,
    pub seconds: f64,
}

impl Summary {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }
}

/// The data tables `--reset` empties: customers and everything that hangs off them,
/// experiments included. Plans, segments, templates, rule sets and jobs stay.
const DATA_TABLES: &str = "customers, titles, subscriptions, watch_sessions, events, feature_exposures, \
     conversions, experiments, variants, assignments, messages, message_events, analyses, suppressions, \
     segmentation_runs, segment_memberships, scenarios, scenario_effects";

/// Tables loaded customer by customer (all but titles), for progress.
const CUSTOMER_TABLES: u64 = 6;

/// Generates `scenario` into the database at `url`; `show_progress` draws bars on the
/// terminal, `progress` counts for a job's heartbeat.
pub fn generate(
    url: &DatabaseUrl,
    scenario: Scenario,
    reset: bool,
    show_progress: bool,
    progress: &Progress,
) -> Result<Summary, GenerateError> {
    let started = Instant::now();
    let mut connection = connect_sync(url)?;
    let world = World::new(scenario);
    progress.start(world.scenario.customers * CUSTOMER_TABLES);
    let bars = MultiProgress::with_draw_target(if show_progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>17} {bar:32} {pos}/{len} customers {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = |name: &'static str| {
        bars.add(
            ProgressBar::new(0)
                .with_style(style.clone())
                .with_prefix(name),
        )
    };

    connection.transaction(|connection| {
        prepare(connection, reset)?;
        let mut tables = vec![copy_titles(connection, &world)?];
        tables.push(copy_customer_rows(
            connection,
            customers::table,
            (
                customers::id,
                customers::first_name,
                customers::last_name,
                customers::email,
                customers::email_consent,
                customers::country,
                customers::region,
                customers::city,
                customers::age_band,
                customers::device,
                customers::acquisition_channel,
                customers::signup_at,
                customers::created_at,
                customers::updated_at,
            ),
            CustomerRows {
                name: "customers",
                rows_of: World::customer_row,
                numbered: false,
            },
            &world,
            &bar("customers"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            subscriptions::table,
            (
                subscriptions::id,
                subscriptions::customer_id,
                subscriptions::plan_id,
                subscriptions::status,
                subscriptions::started_at,
                subscriptions::ended_at,
                subscriptions::churned_at,
                subscriptions::created_at,
            ),
            CustomerRows {
                name: "subscriptions",
                rows_of: World::subscription_rows,
                numbered: true,
            },
            &world,
            &bar("subscriptions"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            watch_sessions::table,
            (
                watch_sessions::id,
                watch_sessions::customer_id,
                watch_sessions::title_id,
                watch_sessions::started_at,
                watch_sessions::minutes,
                watch_sessions::completed,
                watch_sessions::like_status,
            ),
            CustomerRows {
                name: "watch_sessions",
                rows_of: World::session_rows,
                numbered: true,
            },
            &world,
            &bar("watch_sessions"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            events::table,
            (
                events::id,
                events::customer_id,
                events::name,
                events::occurred_at,
                events::properties,
            ),
            CustomerRows {
                name: "events",
                rows_of: World::event_rows,
                numbered: true,
            },
            &world,
            &bar("events"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            feature_exposures::table,
            (
                feature_exposures::id,
                feature_exposures::customer_id,
                feature_exposures::feature,
                feature_exposures::arm,
                feature_exposures::region,
                feature_exposures::exposed_at,
            ),
            CustomerRows {
                name: "feature_exposures",
                rows_of: World::exposure_rows,
                numbered: true,
            },
            &world,
            &bar("feature_exposures"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            conversions::table,
            (
                conversions::id,
                conversions::customer_id,
                conversions::kind,
                conversions::revenue_cents,
                conversions::occurred_at,
                conversions::source,
                conversions::created_at,
            ),
            CustomerRows {
                name: "conversions",
                rows_of: World::conversion_rows,
                numbered: true,
            },
            &world,
            &bar("conversions"),
            progress,
        )?);
        for table in &tables {
            advance_identity(connection, table.table)?;
        }
        let scenario_id = record_scenario(connection, &world.scenario)?;
        Ok(Summary {
            scenario_id,
            tables,
            seconds: started.elapsed().as_secs_f64(),
        })
    })
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// Refuses a database that holds data, unless `reset`, which empties it in this transaction.
fn prepare(connection: &mut PgConnection, reset: bool) -> Result<(), GenerateError> {
    if reset {
        diesel::sql_query(format!("TRUNCATE {DATA_TABLES} RESTART IDENTITY"))
            .execute(connection)?;
        return Ok(());
    }
    let existing: Count = diesel::sql_query(
        "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM titles) AS count",
    )
    .get_result(connection)?;
    if existing.count > 0 {
        return Err(GenerateError::NotEmpty(
            "the database already holds customers or titles; run with --reset to replace all data"
                .to_owned(),
        ));
    }
    Ok(())
}

fn copy_titles(connection: &mut PgConnection, world: &World) -> Result<TableLoad, GenerateError> {
    let started = Instant::now();
    let mut buffer = Vec::new();
    let rows = world.title_rows(&mut buffer);
    diesel::copy_from(titles::table)
        .from_raw_data(
            (
                titles::id,
                titles::name,
                titles::genre,
                titles::release_year,
                titles::duration_minutes,
                titles::rating,
                titles::created_at,
            ),
            |copy| {
                copy.write_all(&buffer)
                    .map_err(|error| diesel::result::Error::QueryBuilderError(error.into()))
            },
        )
        .with_format(diesel::pg::CopyFormat::Text)
        .execute(connection)?;
    Ok(TableLoad {
        table: "titles",
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The loader wrote the ids; the next row inserted normally must not collide with them.
fn advance_identity(
    connection: &mut PgConnection,
    table: &str,
) -> Result<(), diesel::result::Error> {
    diesel::sql_query(format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), 1), \
         (SELECT count(*) > 0 FROM {table}))"
    ))
    .execute(connection)?;
    Ok(())
}

/// The scenario and its planted true effects.
fn record_scenario(
    connection: &mut PgConnection,
    scenario: &Scenario,
) -> Result<i64, GenerateError> {
    use models::enums::EffectScale;
    use models::scenarios::{ScenarioEffectInsertForm, ScenarioInsertForm};
    use models::schema::{scenario_effects, scenarios};

    let config = serde_json::to_value(scenario)
        .map_err(|error| diesel::result::Error::SerializationError(error.into()))?;
    let scenario_id: i64 = diesel::insert_into(scenarios::table)
        .values((
            &ScenarioInsertForm {
                name: scenario.name.clone(),
                seed: scenario.seed as i64,
                config,
                job_id: None,
            },
            // The simulated "now", not the wall clock: the same seed gives the same rows.
            scenarios::created_at.eq(scenario.end().and_time(chrono::NaiveTime::MIN).and_utc()),
        ))
        .returning(scenarios::id)
        .get_result(connection)?;
    let effect =
        |treatment: &str, metric: &str, value: f64, description: &str| ScenarioEffectInsertForm {
            scenario_id,
            treatment: treatment.to_owned(),
            metric: metric.to_owned(),
            true_effect: value,
            scale: EffectScale::Relative,
            description: description.to_owned(),
        };
    let effects = [
        effect(
            "stream_with_friends",
            "watch_sessions_per_month",
            scenario.stream_with_friends.watch_time_effect,
            "relative change of an exposed customer's monthly watch sessions after the rollout",
        ),
        effect(
            "stream_with_friends",
            "monthly_churn_hazard",
            scenario.stream_with_friends.churn_effect,
            "relative change of an exposed customer's monthly churn probability after the rollout",
        ),
        effect(
            "subscriber_perks",
            "monthly_churn_hazard",
            scenario.subscriber_perks.churn_effect,
            "relative change of an exposed customer's monthly churn probability after the rollout",
        ),
    ];
    diesel::insert_into(scenario_effects::table)
        .values(&effects[..])
        .execute(connection)?;
    Ok(scenario_id)
}
