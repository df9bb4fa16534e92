//! A segmentation run: the database aggregates each customer's metrics, the rows stream here,
//! each is scored, and the memberships go back in binary COPY batches into a table of the
//! run's own, which then becomes the run's partition of `segment_memberships`. The run row, its
//! partition and its `succeeded` status commit together, so readers see the previous run until
//! this one is whole, and a run killed half-way leaves nothing. Runs take turns (an advisory
//! lock): each attaches a partition, and two at once would deadlock on the tables its foreign
//! keys name.

use std::time::Instant;

use diesel::connection::SimpleConnection as _;
use diesel::pg::{CopyFormat, PgConnection, PgRowByRowLoadingMode};
use diesel::sql_types::{BigInt, Double, Integer, Jsonb, Nullable, Text};
use diesel::{Connection as _, ExecuteCopyFromDsl as _, OptionalExtension as _, RunQueryDsl as _};
use models::db::DatabaseUrl;
use models::enums::SegmentationScheme;
use models::segmentation::SegmentationRunRequest;
use models::segmentation_rules::{ClassicRules, Metric, Rules};
use serde_json::{Value, json};
use service::worker::Progress;

use models::views::segment_memberships_loading;

use super::score::{CustomerMetrics, Quintiles, Scored, quintile_rules, score};

/// Memberships per binary COPY: memory stays flat in the number of customers.
const BATCH: u64 = 10_000;

/// The advisory lock key that makes runs take turns (any constant no other code uses).
const RUN_LOCK: i64 = 0x5345_474d_454e_5453; // "SEGMENTS"

/// How long a run waits for the locks attaching its partition needs (customer writes wait
/// behind a waiting run, so it gives up rather than hold them for long).
const ATTACH_LOCK_TIMEOUT: &str = "10s";

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Connect(#[from] models::db::DbError),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("rule set {0} does not exist")]
    NoRuleSet(i64),
    #[error("rule set {id} is not valid: {field}: {message}")]
    BadRules {
        id: i64,
        field: String,
        message: String,
    },
}

/// Each customer's metrics over the window, one row per customer (see the file's comment).
pub const METRICS_SQL: &str = include_str!("metrics.sql");

/// The metrics query for a window of `window_days` (all history when `None`).
pub fn metrics_sql(window_days: Option<i32>) -> String {
    let window = match window_days {
        // An i32 formatted into the text: nothing a caller writes reaches the SQL.
        Some(days) => format!("started_at >= now() - make_interval(days => {days})"),
        None => "true".to_owned(),
    };
    METRICS_SQL.replace("{window}", &window)
}

#[derive(Debug, diesel::QueryableByName)]
struct MetricsRow {
    #[diesel(sql_type = BigInt)]
    customer_id: i64,
    #[diesel(sql_type = BigInt)]
    frequency: i64,
    #[diesel(sql_type = BigInt)]
    minutes: i64,
    #[diesel(sql_type = BigInt)]
    likes: i64,
    #[diesel(sql_type = BigInt)]
    dislikes: i64,
    #[diesel(sql_type = Nullable<Integer>)]
    recency_days: Option<i32>,
    #[diesel(sql_type = Integer)]
    price_cents: i32,
}

impl MetricsRow {
    fn metrics(&self) -> CustomerMetrics {
        CustomerMetrics {
            frequency: self.frequency,
            minutes: self.minutes,
            monetary: f64::from(self.price_cents) / 100.0,
            likes: self.likes,
            dislikes: self.dislikes,
            recency_days: self.recency_days.map(i64::from),
        }
    }
}

#[derive(Debug, diesel::QueryableByName)]
struct RuleSetRow {
    #[diesel(sql_type = Text)]
    scheme: String,
    #[diesel(sql_type = Jsonb)]
    rules: Value,
}

#[derive(Debug, diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(Debug, diesel::QueryableByName)]
struct Cuts {
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<Nullable<Double>>>)]
    cuts: Option<Vec<Option<f64>>>,
}

/// What a finished run reports as its job's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run_id: i64,
    pub customers_scored: i64,
    /// Customers per segment id.
    pub segments: Vec<(i64, i64)>,
    pub seconds: f64,
    /// Where the time went: until the first metrics row arrived (PostgreSQL aggregating),
    /// until the last membership was loaded, and the indexes and the attach.
    pub phases: [(&'static str, f64); 3],
}

impl RunSummary {
    pub fn counts(&self) -> Value {
        let segments: serde_json::Map<String, Value> = self
            .segments
            .iter()
            .map(|(segment, customers)| (segment.to_string(), json!(customers)))
            .collect();
        json!({"run_id": self.run_id, "customers_scored": self.customers_scored,
               "segments": segments, "seconds": self.seconds,
               "phases": self.phases.iter().map(|(name, seconds)| json!({"phase": name, "seconds": seconds})).collect::<Vec<_>>()})
    }
}

/// Runs the segmentation `request` asks for (its rule set already resolved to an id).
pub fn run(
    url: &DatabaseUrl,
    job_id: Option<i64>,
    request: &SegmentationRunRequest,
    progress: &Progress,
) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let rule_set_id = request.rule_set_id.unwrap_or_default();
    let mut writer = models::db::connect_sync(url)?;
    let mut reader = models::db::connect_sync(url)?;
    let rule_set: RuleSetRow =
        diesel::sql_query("SELECT scheme, rules FROM segmentation_rule_sets WHERE id = $1")
            .bind::<BigInt, _>(rule_set_id)
            .get_result(&mut writer)
            .optional()?
            .ok_or(RunError::NoRuleSet(rule_set_id))?;
    let scheme = rule_set
        .scheme
        .parse::<SegmentationScheme>()
        .map_err(|_| RunError::BadRules {
            id: rule_set_id,
            field: "scheme".to_owned(),
            message: format!("unknown scheme {}", rule_set.scheme),
        })?;
    let rules = Rules::parse(scheme, &rule_set.rules).map_err(|error| RunError::BadRules {
        id: rule_set_id,
        field: error.field,
        message: error.message,
    })?;
    let sql = metrics_sql(request.window_days);
    // One snapshot for the cut points, the count and the scores: what the run measured is
    // what it scored.
    reader
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run(|reader| {
            let (classic, recorded_rules) = match &rules {
                Rules::Classic(classic) => (classic.clone(), rule_set.rules.clone()),
                Rules::Quantile(quantile) => {
                    let cuts = quintiles(reader, &sql, &quantile.metrics)?;
                    let classic = quintile_rules(quantile, &cuts);
                    let cut_points: serde_json::Map<String, Value> = cuts
                        .iter()
                        .map(|(metric, cut)| (metric.as_str().to_owned(), json!(cut)))
                        .collect();
                    // The run keeps the cut points it measured, so its scores can be traced.
                    let recorded = json!({"quantile": rule_set.rules, "quintiles": cut_points,
                                          "applied": serde_json::to_value(&classic).unwrap_or_default()});
                    (classic, recorded)
                }
            };
            let total: i64 = diesel::sql_query("SELECT count(*) AS id FROM customers")
                .get_result::<Id>(reader)?
                .id;
            progress.start(u64::try_from(total).unwrap_or_default());
            write_run(
                &mut writer,
                reader,
                RunParts {
                    rule_set_id,
                    job_id,
                    scheme,
                    window_days: request.window_days,
                    recorded_rules: &recorded_rules,
                    classic: &classic,
                    sql: &sql,
                    progress,
                    started,
                },
            )
        })
}

/// What `write_run` records and applies.
struct RunParts<'a> {
    rule_set_id: i64,
    job_id: Option<i64>,
    scheme: SegmentationScheme,
    window_days: Option<i32>,
    recorded_rules: &'a Value,
    classic: &'a ClassicRules,
    sql: &'a str,
    progress: &'a Progress,
    started: Instant,
}

/// Inserts the run, streams every customer's scored membership into one COPY and marks the
/// run succeeded, all in one transaction of `writer`; `reader` holds the snapshot.
fn write_run(
    writer: &mut PgConnection,
    reader: &mut PgConnection,
    parts: RunParts<'_>,
) -> Result<RunSummary, RunError> {
    let RunParts {
        rule_set_id,
        job_id,
        scheme,
        window_days,
        recorded_rules,
        classic,
        sql,
        progress,
        started,
    } = parts;
    writer.transaction(|writer| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(RUN_LOCK)
            .execute(writer)?;
        let run_id = diesel::sql_query(
            "INSERT INTO segmentation_runs (rule_set_id, job_id, scheme, rules, window_days, status) \
             VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id",
        )
        .bind::<BigInt, _>(rule_set_id)
        .bind::<Nullable<BigInt>, _>(job_id)
        .bind::<Text, _>(scheme.as_str())
        .bind::<Jsonb, _>(recorded_rules)
        .bind::<Nullable<Integer>, _>(window_days)
        .get_result::<Id>(writer)?
        .id;
        // The run's memberships load into a table of their own, without indexes or foreign
        // keys; it becomes the run's partition below. Its CHECK holds every row to the run,
        // so attaching it need not scan for rows of another.
        writer.batch_execute(&format!(
            "CREATE TABLE segment_memberships_loading (LIKE segment_memberships, \
                 CONSTRAINT segment_memberships_loading_run CHECK (run_id = {run_id}))"
        ))?;
        // The aggregate streams in row by row (a plain query may use parallel workers, a
        // cursor may not); each batch of scored rows goes out as one binary COPY. (Copying on
        // a second thread while this one reads measured no faster on two cores: PostgreSQL's
        // aggregate is what the load waits for.)
        let mut tally = Tally::default();
        let mut first_row: Option<f64> = None;
        let mut batch = binary_batch();
        let mut in_batch: u64 = 0;
        let rows = diesel::sql_query(sql).load_iter::<MetricsRow, PgRowByRowLoadingMode>(reader)?;
        for row in rows {
            let row = row?;
            first_row.get_or_insert_with(|| started.elapsed().as_secs_f64());
            let metrics = row.metrics();
            let result = score(classic, &metrics);
            tally.add(result.segment_id);
            LoadedMembership::new(run_id, row.customer_id, &metrics, &result)
                .write_binary(&mut batch);
            in_batch += 1;
            if in_batch == BATCH {
                copy_binary(writer, &finish_batch(std::mem::replace(&mut batch, binary_batch())))?;
                progress.advance(in_batch);
                in_batch = 0;
            }
        }
        if in_batch > 0 {
            copy_binary(writer, &finish_batch(batch))?;
            progress.advance(in_batch);
        }
        let Tally {
            mut per_segment,
            scored,
        } = tally;
        let loaded = started.elapsed().as_secs_f64();
        // Indexes built once over the loaded rows, statistics taken at once (queries right
        // after the run, an analysis joining it, would otherwise plan blind until autovacuum
        // comes by), and each foreign key checked in one pass when the table is attached
        // (PostgreSQL validates a new partition's keys as a whole).
        let partition = partition_name(run_id);
        writer.batch_execute(&format!(
            "ALTER TABLE segment_memberships_loading RENAME TO {partition}; \
             ALTER TABLE {partition} ADD PRIMARY KEY (customer_id, run_id); \
             CREATE INDEX ON {partition} (segment_id, run_id); \
             ANALYZE {partition}; \
             SET LOCAL lock_timeout = '{ATTACH_LOCK_TIMEOUT}'"
        ))?;
        attach(writer, &partition, run_id)?;
        diesel::sql_query(
            "UPDATE segmentation_runs SET status = 'succeeded', customers_scored = $2, finished_at = clock_timestamp() \
             WHERE id = $1",
        )
        .bind::<BigInt, _>(run_id)
        .bind::<BigInt, _>(scored)
        .execute(writer)?;
        per_segment.sort_unstable();
        Ok::<RunSummary, RunError>(RunSummary {
            run_id,
            customers_scored: scored,
            segments: per_segment,
            seconds: started.elapsed().as_secs_f64(),
            phases: [
                ("aggregate", first_row.unwrap_or(loaded)),
                ("score_and_load", loaded - first_row.unwrap_or(loaded)),
                ("index_and_attach", started.elapsed().as_secs_f64() - loaded),
            ],
        })
    })
}

/// A failed run, recorded so the run list says what happened.
pub fn record_failure(
    url: &DatabaseUrl,
    job_id: Option<i64>,
    request: &SegmentationRunRequest,
    error: &RunError,
) -> Result<(), RunError> {
    let mut connection = models::db::connect_sync(url)?;
    diesel::sql_query(
        "INSERT INTO segmentation_runs (rule_set_id, job_id, scheme, rules, window_days, status, finished_at) \
         VALUES ((SELECT id FROM segmentation_rule_sets WHERE id = $1), $2, $5, \
                 jsonb_build_object('error', $4::text), $3, 'failed', clock_timestamp())",
    )
    .bind::<BigInt, _>(request.rule_set_id.unwrap_or_default())
    .bind::<Nullable<BigInt>, _>(job_id)
    .bind::<Nullable<Integer>, _>(request.window_days)
    .bind::<Text, _>(error.to_string())
    .bind::<Text, _>(request.scheme.unwrap_or(SegmentationScheme::Classic).as_str())
    .execute(&mut connection)?;
    Ok(())
}

/// The quintile cut points of `metrics` over all customers (recency over those with
/// sessions), in one pass; a metric without values (no session in the window) cuts at 0.
fn quintiles(
    connection: &mut PgConnection,
    metrics_sql: &str,
    metrics: &[Metric],
) -> Result<Vec<(Metric, Quintiles)>, RunError> {
    let percentiles: Vec<String> = metrics
        .iter()
        .map(|metric| {
            let column = match metric {
                Metric::Monetary => "price_cents / 100.0",
                other => other.as_str(),
            };
            format!(
                "coalesce(percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY ({column})::float8), \
                 ARRAY[NULL, NULL, NULL, NULL]::float8[])"
            )
        })
        .collect();
    let row: Cuts = diesel::sql_query(format!(
        "WITH metrics AS ({metrics_sql}) SELECT {} AS cuts FROM metrics",
        percentiles.join(" || ")
    ))
    .get_result(connection)?;
    let cuts = row.cuts.unwrap_or_default();
    Ok(metrics
        .iter()
        .enumerate()
        .map(|(index, &metric)| {
            let mut quintile = [0.0; 4];
            for (slot, value) in quintile.iter_mut().zip(cuts.iter().skip(index * 4)) {
                *slot = value.unwrap_or(0.0);
            }
            (metric, quintile)
        })
        .collect())
}

/// One membership as loaded: every metric's value (all six are measured whatever the scheme)
/// and the score of each metric the scheme scores.
#[derive(Debug)]
struct LoadedMembership {
    run_id: i64,
    customer_id: i64,
    segment_id: i64,
    total_score: f64,
    frequency: Option<i64>,
    minutes: Option<i64>,
    monetary: Option<f64>,
    likes: Option<i64>,
    dislikes: Option<i64>,
    recency_days: Option<i32>,
    frequency_score: Option<f64>,
    minutes_score: Option<f64>,
    monetary_score: Option<f64>,
    likes_score: Option<f64>,
    dislikes_score: Option<f64>,
    recency_days_score: Option<f64>,
}

impl LoadedMembership {
    fn new(run_id: i64, customer_id: i64, metrics: &CustomerMetrics, scored: &Scored) -> Self {
        let score = |metric: Metric| {
            scored
                .scores
                .iter()
                .find(|(scored, _)| *scored == metric)
                .map(|(_, score)| *score)
        };
        LoadedMembership {
            run_id,
            customer_id,
            segment_id: scored.segment_id,
            total_score: scored.total,
            frequency: Some(metrics.frequency),
            minutes: Some(metrics.minutes),
            monetary: Some(metrics.monetary),
            likes: Some(metrics.likes),
            dislikes: Some(metrics.dislikes),
            recency_days: metrics
                .recency_days
                .and_then(|days| i32::try_from(days).ok()),
            frequency_score: score(Metric::Frequency),
            minutes_score: score(Metric::Minutes),
            monetary_score: score(Metric::Monetary),
            likes_score: score(Metric::Likes),
            dislikes_score: score(Metric::Dislikes),
            recency_days_score: score(Metric::RecencyDays),
        }
    }
}

impl LoadedMembership {
    /// The row in PostgreSQL's binary COPY format, in the loading table's column order: the
    /// column count, then each value as its length and big-endian bytes (-1 for NULL).
    fn write_binary(&self, out: &mut Vec<u8>) {
        fn value(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
            match bytes {
                Some(bytes) => {
                    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    out.extend_from_slice(bytes);
                }
                None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
            }
        }
        let int8 = |v: Option<i64>| v.map(i64::to_be_bytes);
        let float8 = |v: Option<f64>| v.map(f64::to_be_bytes);
        out.extend_from_slice(&16_i16.to_be_bytes());
        value(out, Some(&self.run_id.to_be_bytes()));
        value(out, Some(&self.customer_id.to_be_bytes()));
        value(out, Some(&self.segment_id.to_be_bytes()));
        value(out, Some(&self.total_score.to_be_bytes()));
        value(out, int8(self.frequency).as_ref().map(|b| &b[..]));
        value(out, int8(self.minutes).as_ref().map(|b| &b[..]));
        value(out, float8(self.monetary).as_ref().map(|b| &b[..]));
        value(out, int8(self.likes).as_ref().map(|b| &b[..]));
        value(out, int8(self.dislikes).as_ref().map(|b| &b[..]));
        value(
            out,
            self.recency_days
                .map(i32::to_be_bytes)
                .as_ref()
                .map(|b| &b[..]),
        );
        for score in [
            self.frequency_score,
            self.minutes_score,
            self.monetary_score,
            self.likes_score,
            self.dislikes_score,
            self.recency_days_score,
        ] {
            value(out, float8(score).as_ref().map(|b| &b[..]));
        }
    }
}

/// The binary COPY header: signature, flags, header extension length.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// An empty batch of binary COPY data: the header alone.
fn binary_batch() -> Vec<u8> {
    let mut data = Vec::with_capacity(BINARY_HEADER.len() + BATCH as usize * 200 + 2);
    data.extend_from_slice(BINARY_HEADER);
    data
}

/// A batch with its trailer, ready to copy.
fn finish_batch(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&(-1_i16).to_be_bytes());
    data
}

/// Copies one binary batch into the loading table (nothing to parse on the server's side).
fn copy_binary(writer: &mut PgConnection, data: &[u8]) -> Result<(), diesel::result::Error> {
    diesel::copy_from(segment_memberships_loading::table)
        .from_raw_data(segment_memberships_loading::table, |copy| {
            std::io::Write::write_all(copy, data)
                .map_err(|error| diesel::result::Error::QueryBuilderError(error.into()))
        })
        .with_format(CopyFormat::Binary)
        .execute(writer)?;
    Ok(())
}

/// Customers scored, in all and per segment id.
#[derive(Debug, Default)]
struct Tally {
    per_segment: Vec<(i64, i64)>,
    scored: i64,
}

impl Tally {
    fn add(&mut self, segment_id: i64) {
        self.scored += 1;
        match self
            .per_segment
            .iter_mut()
            .find(|(id, _)| *id == segment_id)
        {
            Some((_, count)) => *count += 1,
            None => self.per_segment.push((segment_id, 1)),
        }
    }
}

/// Attaches `partition` as run `run_id`'s; PostgreSQL checks each foreign key in one pass. A
/// customer deleted since the run's snapshot fails the check: their memberships are dropped
/// (under a lock that keeps customers as they are until the run commits) and it is tried once
/// more. Any other failure (a segment deleted meanwhile) fails the run.
fn attach(
    writer: &mut PgConnection,
    partition: &str,
    run_id: i64,
) -> Result<(), diesel::result::Error> {
    let statement = format!(
        "ALTER TABLE segment_memberships ATTACH PARTITION {partition} FOR VALUES IN ({run_id})"
    );
    match writer.transaction(|writer| writer.batch_execute(&statement)) {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => {
            writer.batch_execute(&format!(
                "LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE; \
                 DELETE FROM {partition} m WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = m.customer_id)"
            ))?;
            writer.batch_execute(&statement)
        }
        other => other,
    }
}

/// The partition holding run `run_id`'s memberships.
pub fn partition_name(run_id: i64) -> String {
    format!("segment_memberships_run_{run_id}")
}
