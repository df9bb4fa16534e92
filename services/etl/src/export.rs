//! `etl export`: a table to CSV with a header, through COPY TO, for analysts' notebooks.

use std::io::Write;

use diesel::RunQueryDsl as _;
use diesel::pg::{CopyFormat, CopyTarget, PgConnection};
use models::db::{DatabaseUrl, DbError, connect_sync};
use models::schema;
use models::views::segment_memberships_loading;

/// The tables `etl export` knows, in the order `--help` lists them.
pub const EXPORTABLE: [&str; 19] = [
    "plans",
    "customers",
    "titles",
    "subscriptions",
    "watch_sessions",
    "events",
    "feature_exposures",
    "conversions",
    "experiments",
    "variants",
    "assignments",
    "messages",
    "message_events",
    "suppressions",
    "segments",
    "segment_memberships",
    "latest_segment_memberships",
    "scenarios",
    "scenario_effects",
];

diesel::table! {
    /// Each customer's segment in the latest successful segmentation run: a temporary table
    /// built for the export (COPY TO takes a table).
    latest_segment_memberships (customer_id) {
        customer_id -> Int8,
        segment_id -> Int8,
        segment -> Text,
        total_score -> Float8,
        metrics -> Jsonb,
        scores -> Jsonb,
        run_id -> Int8,
        run_finished_at -> Nullable<Timestamptz>,
    }
}

const LATEST_MEMBERSHIPS: &str = "CREATE TEMPORARY TABLE latest_segment_memberships AS \
    SELECT m.customer_id, m.segment_id, s.name AS segment, m.total_score, \
           jsonb_strip_nulls(jsonb_build_object('frequency', m.frequency, 'minutes', m.minutes, \
               'monetary', m.monetary, 'likes', m.likes, 'dislikes', m.dislikes, \
               'recency_days', m.recency_days)) AS metrics, \
           jsonb_strip_nulls(jsonb_build_object('frequency', m.frequency_score, 'minutes', m.minutes_score, \
               'monetary', m.monetary_score, 'likes', m.likes_score, 'dislikes', m.dislikes_score, \
               'recency_days', m.recency_days_score)) AS scores, \
           r.id AS run_id, r.finished_at AS run_finished_at \
    FROM segment_memberships m JOIN segments s ON s.id = m.segment_id JOIN segmentation_runs r ON r.id = m.run_id \
    WHERE r.id = (SELECT max(id) FROM segmentation_runs WHERE status = 'succeeded') \
    ORDER BY m.customer_id";

/// Every membership of every run, in a temporary table of the loading table's shape.
const ALL_MEMBERSHIPS: &str = "CREATE TEMPORARY TABLE segment_memberships_loading AS \
    SELECT * FROM segment_memberships ORDER BY run_id, customer_id";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown table '{0}'; exportable tables: {list}", list = EXPORTABLE.join(", "))]
    UnknownTable(String),
    #[error(transparent)]
    Connect(#[from] DbError),
    #[error("export failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot write the CSV: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes `table` as CSV to `out`; returns the bytes written.
pub fn export(url: &DatabaseUrl, table: &str, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut connection = connect_sync(url)?;
    // A fresh load is stored in id order; without synchronised scans a plain scan returns
    // it in that order, so the same data exports to the same file.
    diesel::sql_query("SET synchronize_seqscans = off").execute(&mut connection)?;
    // Timestamps in UTC whatever the server's default time zone.
    diesel::sql_query("SET TimeZone = 'UTC'").execute(&mut connection)?;
    match table {
        "plans" => copy_out(&mut connection, schema::plans::table, out),
        "customers" => copy_out(&mut connection, schema::customers::table, out),
        "titles" => copy_out(&mut connection, schema::titles::table, out),
        "subscriptions" => copy_out(&mut connection, schema::subscriptions::table, out),
        "watch_sessions" => copy_out(&mut connection, schema::watch_sessions::table, out),
        "events" => copy_out(&mut connection, schema::events::table, out),
        "feature_exposures" => copy_out(&mut connection, schema::feature_exposures::table, out),
        "conversions" => copy_out(&mut connection, schema::conversions::table, out),
        "experiments" => copy_out(&mut connection, schema::experiments::table, out),
        "variants" => copy_out(&mut connection, schema::variants::table, out),
        "assignments" => copy_out(&mut connection, schema::assignments::table, out),
        "messages" => copy_out(&mut connection, schema::messages::table, out),
        "message_events" => copy_out(&mut connection, schema::message_events::table, out),
        "suppressions" => copy_out(&mut connection, schema::suppressions::table, out),
        "segments" => copy_out(&mut connection, schema::segments::table, out),
        "segment_memberships" => {
            diesel::sql_query(ALL_MEMBERSHIPS).execute(&mut connection)?;
            copy_out(&mut connection, segment_memberships_loading::table, out)
        }
        "latest_segment_memberships" => {
            diesel::sql_query(LATEST_MEMBERSHIPS).execute(&mut connection)?;
            copy_out(&mut connection, latest_segment_memberships::table, out)
        }
        "scenarios" => copy_out(&mut connection, schema::scenarios::table, out),
        "scenario_effects" => copy_out(&mut connection, schema::scenario_effects::table, out),
        other => Err(ExportError::UnknownTable(other.to_owned())),
    }
}

fn copy_out<T: CopyTarget>(
    connection: &mut PgConnection,
    table: T,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut reader = diesel::copy_to(table)
        .with_format(CopyFormat::Csv)
        .with_header(true)
        .load_raw(connection)?;
    let bytes = std::io::copy(&mut reader, out)?;
    out.flush()?;
    Ok(bytes)
}
