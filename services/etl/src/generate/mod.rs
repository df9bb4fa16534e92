//! `etl generate`: a deterministic synthetic streaming business, loaded with COPY in one
//! transaction, so a failure leaves the database as it was.

pub mod copy;
pub mod email_history;
pub mod rows;
pub mod scenario;
pub mod world;

use std::time::Instant;

use diesel::pg::PgConnection;
use diesel::{Connection as _, ExecuteCopyFromDsl as _, ExpressionMethods as _, RunQueryDsl as _};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use models::db::{DatabaseUrl, DbError, connect_sync};
use models::schema::{
    assignments, conversions, customers, events, feature_exposures, message_events, messages,
    subscriptions, suppressions, titles, watch_sessions,
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

/// Drops every segmentation run's partition of `segment_memberships`.
const DROP_MEMBERSHIP_PARTITIONS: &str = "DO $$ DECLARE part regclass; BEGIN \
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'segment_memberships'::regclass LOOP \
        EXECUTE format('DROP TABLE %s', part); \
    END LOOP; END $$";

/// Tables loaded customer by customer (all but titles), for progress.
const CUSTOMER_TABLES: u64 = 10;

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
        record_experiments(connection, &world.scenario)?;
        tables.push(copy_customer_rows(
            connection,
            assignments::table,
            (
                assignments::id,
                assignments::experiment_id,
                assignments::customer_id,
                assignments::variant_id,
                assignments::bucket,
                assignments::phase,
                assignments::assigned_at,
            ),
            CustomerRows {
                name: "assignments",
                rows_of: World::assignment_rows,
                numbered: true,
            },
            &world,
            &bar("assignments"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            messages::table,
            (
                messages::id,
                messages::experiment_id,
                messages::customer_id,
                messages::variant_id,
                messages::email,
                messages::status,
                messages::attempts,
                messages::next_attempt_at,
                messages::smtp_message_id,
                messages::queued_at,
                messages::sent_at,
            ),
            CustomerRows {
                name: "messages",
                rows_of: World::message_rows,
                numbered: false,
            },
            &world,
            &bar("messages"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            message_events::table,
            (
                message_events::id,
                message_events::message_id,
                message_events::kind,
                message_events::occurred_at,
                message_events::user_agent,
                message_events::link,
                message_events::is_bot,
                message_events::bot_reason,
            ),
            CustomerRows {
                name: "message_events",
                rows_of: World::message_event_rows,
                numbered: true,
            },
            &world,
            &bar("message_events"),
            progress,
        )?);
        tables.push(copy_customer_rows(
            connection,
            suppressions::table,
            (
                suppressions::id,
                suppressions::email,
                suppressions::customer_id,
                suppressions::reason,
                suppressions::message_id,
                suppressions::created_at,
            ),
            CustomerRows {
                name: "suppressions",
                rows_of: World::suppression_rows,
                numbered: true,
            },
            &world,
            &bar("suppressions"),
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
                conversions::experiment_id,
                conversions::message_id,
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
        // The loader wrote the ids; rows inserted later must not collide with them.
        let numbered = tables
            .iter()
            .map(|table| table.table)
            .filter(|table| *table != "messages");
        for table in numbered.chain(["experiments", "variants"]) {
            advance_identity(connection, table)?;
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
        // Run ids start again at 1: the runs' membership partitions go with their runs.
        diesel::sql_query(DROP_MEMBERSHIP_PARTITIONS).execute(connection)?;
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

/// The past e-mail experiments and their variants, with the ids the loader's rows use.
fn record_experiments(
    connection: &mut PgConnection,
    scenario: &Scenario,
) -> Result<(), diesel::result::Error> {
    use models::schema::{experiments, variants};

    const DAY: i64 = 86_400;
    let mut variant_id = 0_i64;
    for (index, experiment) in scenario.email_experiments.iter().enumerate() {
        let send = experiment.send.and_time(chrono::NaiveTime::MIN).and_utc();
        let stopped = send + chrono::Duration::seconds(14 * DAY);
        diesel::insert_into(experiments::table)
            .values((
                experiments::id.eq(index as i64 + 1),
                experiments::name.eq(&experiment.name),
                experiments::hypothesis.eq(&experiment.hypothesis),
                experiments::status.eq("stopped"),
                experiments::phase.eq("full"),
                experiments::goal_metric.eq("conversion"),
                experiments::segment_id.eq(experiment.segment_id),
                experiments::salt.eq(format!("generator-{}-{index}", scenario.seed)),
                experiments::started_at.eq(send),
                experiments::stopped_at.eq(stopped),
                experiments::created_at.eq(send),
                experiments::updated_at.eq(stopped),
            ))
            .execute(connection)?;
        for (position, variant) in experiment.variants.iter().enumerate() {
            variant_id += 1;
            let body = format!("{}\n\nSee the offer: {{{{link:offer}}}}", variant.subject);
            diesel::insert_into(variants::table)
                .values((
                    variants::id.eq(variant_id),
                    variants::experiment_id.eq(index as i64 + 1),
                    variants::key.eq(&variant.key),
                    variants::name.eq(&variant.subject),
                    variants::is_control.eq(position == 0),
                    variants::subject.eq(&variant.subject),
                    variants::body_text.eq(&body),
                    variants::body_html.eq(format!(
                        "<p>{}</p><p><a href=\"{{{{link:offer}}}}\">See the offer</a></p>",
                        variant.subject
                    )),
                    variants::links
                        .eq(serde_json::json!({"offer": "https://streamlab.example/offer"})),
                    variants::created_at.eq(send),
                ))
                .execute(connection)?;
        }
    }
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
    let mut effects = effects.to_vec();
    for experiment in &scenario.email_experiments {
        let Some(control) = experiment.variants.first() else {
            continue;
        };
        for variant in &experiment.variants[1..] {
            let treatment = format!("email: {} / {}", experiment.name, variant.key);
            for (metric, value, base) in [
                ("open_rate", variant.open_rate, control.open_rate),
                ("click_rate", variant.click_rate, control.click_rate),
                (
                    "conversion_rate",
                    variant.conversion_rate,
                    control.conversion_rate,
                ),
            ] {
                let relative = if base > 0.0 { value / base - 1.0 } else { 0.0 };
                let description = format!(
                    "relative change of the {metric} of variant {} against {}",
                    variant.key, control.key
                );
                effects.push(effect(&treatment, metric, relative, &description));
            }
        }
    }
    diesel::insert_into(scenario_effects::table)
        .values(&effects)
        .execute(connection)?;
    Ok(scenario_id)
}
