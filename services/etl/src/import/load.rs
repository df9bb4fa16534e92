//! Loading one parsed file inside the import's transaction: row checks that need the other
//! rows or the database (duplicates, references), then set-based upserts or inserts through
//! `unnest` of one text array per column.

use std::collections::{HashMap, HashSet};

use diesel::RunQueryDsl as _;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Bool, Nullable, Text};

use super::file::{ParsedFile, ParsedRow};
use super::spec::ImportTable;
use super::{RowError, TableOutcome};

/// Rows per statement.
const BATCH: usize = 5_000;

#[derive(diesel::QueryableByName)]
struct Inserted {
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

#[derive(diesel::QueryableByName)]
struct KeyedId {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The SQL type each loaded column is cast to, and the default an empty value takes.
fn sql_type(column: &str) -> (&'static str, Option<&'static str>) {
    match column {
        "email_consent" => ("boolean", Some("false")),
        "completed" => ("boolean", Some("false")),
        "signup_at" => ("timestamptz", Some("now()")),
        "started_at" | "ended_at" | "churned_at" | "occurred_at" => ("timestamptz", None),
        "release_year" | "duration_minutes" | "minutes" => ("integer", None),
        "revenue_cents" => ("bigint", Some("0")),
        "customer_id" | "title_id" | "plan_id" => ("bigint", None),
        "rating" => ("double precision", None),
        "properties" => ("jsonb", Some("'{}'")),
        "like_status" => ("text", Some("'none'")),
        _ => ("text", None),
    }
}

pub fn load(
    connection: &mut PgConnection,
    file: &ParsedFile,
    errors: &mut Vec<RowError>,
) -> Result<TableOutcome, diesel::result::Error> {
    let name = file.file_name();
    let table = file.table;
    let mut rows: Vec<ParsedRow> = file.rows.clone();
    check_rows(file, &mut rows, errors, &name);
    match table {
        ImportTable::Customers | ImportTable::Titles => {
            upsert_dimension(connection, file, rows, errors, &name)
        }
        _ => insert_facts(connection, file, rows, errors, &name),
    }
}

/// Checks of one row across its fields.
fn check_rows(
    file: &ParsedFile,
    rows: &mut Vec<ParsedRow>,
    errors: &mut Vec<RowError>,
    name: &str,
) {
    if file.table != ImportTable::Subscriptions {
        return;
    }
    let value = |row: &ParsedRow, column: &str| {
        file.position(column)
            .and_then(|index| row.values[index].clone())
    };
    rows.retain(|row| {
        let status = value(row, "status").unwrap_or_default();
        let started = value(row, "started_at");
        let ended = value(row, "ended_at");
        let churned = value(row, "churned_at");
        // RFC 3339 in UTC compares correctly as text.
        let problem = if (status == "churned") != churned.is_some() {
            Some(("churned_at", "is given exactly when status is churned"))
        } else if matches!(status.as_str(), "switched" | "churned") && ended.is_none() {
            Some(("ended_at", "is required when status is switched or churned"))
        } else if ended
            .as_ref()
            .is_some_and(|ended| Some(ended) < started.as_ref())
        {
            Some(("ended_at", "is before started_at"))
        } else if churned
            .as_ref()
            .is_some_and(|churned| Some(churned) < started.as_ref())
        {
            Some(("churned_at", "is before started_at"))
        } else {
            None
        };
        if let Some((column, reason)) = problem {
            errors.push(RowError::new(
                name,
                row.line,
                Some(column),
                reason.to_owned(),
            ));
        }
        problem.is_none()
    });
}

/// Customers (on external_id when the file has that column, else on e-mail) and titles (on
/// external_id): new keys are inserted, known ones updated where a value differs.
fn upsert_dimension(
    connection: &mut PgConnection,
    file: &ParsedFile,
    mut rows: Vec<ParsedRow>,
    errors: &mut Vec<RowError>,
    name: &str,
) -> Result<TableOutcome, diesel::result::Error> {
    let (target, key) = match file.table {
        ImportTable::Titles => ("titles", "external_id"),
        _ if file.position("external_id").is_some() => ("customers", "external_id"),
        _ => ("customers", "email"),
    };
    let key_index = file.position(key).unwrap_or_default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    rows.retain(|row| match &row.values[key_index] {
        None => {
            errors.push(RowError::new(
                name,
                row.line,
                Some(key),
                "is required: the file is matched on it".to_owned(),
            ));
            false
        }
        Some(value) => match seen.insert(value.clone(), row.line) {
            Some(first) => {
                errors.push(RowError::new(
                    name,
                    row.line,
                    Some(key),
                    format!("'{value}' repeats line {first}"),
                ));
                false
            }
            None => true,
        },
    });
    if target == "customers" && key == "external_id" {
        reject_emails_of_other_customers(connection, file, &mut rows, errors, name)?;
    }

    let columns: Vec<&str> = file.columns.iter().map(|column| column.name).collect();
    let select: Vec<String> = columns
        .iter()
        .map(|column| match sql_type(column) {
            (sql, Some(default)) => {
                format!("coalesce(s.{column}::{sql}, existing.{column}, {default})")
            }
            (sql, None) => format!("s.{column}::{sql}"),
        })
        .collect();
    let updated: Vec<&&str> = columns.iter().filter(|column| **column != key).collect();
    let set: Vec<String> = updated
        .iter()
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    let current: Vec<String> = updated
        .iter()
        .map(|column| format!("{target}.{column}"))
        .collect();
    let incoming: Vec<String> = updated
        .iter()
        .map(|column| format!("excluded.{column}"))
        .collect();
    let arrays: Vec<String> = (1..=columns.len())
        .map(|index| format!("${index}::text[]"))
        .collect();
    let sql = format!(
        "INSERT INTO {target} ({columns}) \
         SELECT {select} FROM unnest({arrays}) AS s({columns}) \
         LEFT JOIN {target} existing ON existing.{key} = s.{key} \
         ON CONFLICT ({key}) DO UPDATE SET {set} \
         WHERE ({current}) IS DISTINCT FROM ({incoming}) \
         RETURNING (xmax = 0) AS inserted",
        columns = columns.join(", "),
        select = select.join(", "),
        arrays = arrays.join(", "),
        set = set.join(", "),
        current = current.join(", "),
        incoming = incoming.join(", "),
    );
    write_batches(connection, &sql, &rows, columns.len(), file.table)
}

/// When customers are matched on external_id, an e-mail that already belongs to a customer
/// with another external id would break the unique e-mail: that row is bad.
fn reject_emails_of_other_customers(
    connection: &mut PgConnection,
    file: &ParsedFile,
    rows: &mut Vec<ParsedRow>,
    errors: &mut Vec<RowError>,
    name: &str,
) -> Result<(), diesel::result::Error> {
    let (Some(email_index), Some(key_index)) =
        (file.position("email"), file.position("external_id"))
    else {
        return Ok(());
    };
    let mut owners: HashMap<String, Option<String>> = HashMap::new();
    for batch in rows.chunks(BATCH) {
        #[derive(diesel::QueryableByName)]
        struct Owner {
            #[diesel(sql_type = Text)]
            email: String,
            #[diesel(sql_type = Nullable<Text>)]
            external_id: Option<String>,
        }
        let emails: Vec<String> = batch
            .iter()
            .filter_map(|row| row.values[email_index].clone())
            .collect();
        let found: Vec<Owner> =
            diesel::sql_query("SELECT email, external_id FROM customers WHERE email = ANY($1)")
                .bind::<Array<Text>, _>(emails)
                .load(connection)?;
        owners.extend(
            found
                .into_iter()
                .map(|owner| (owner.email, owner.external_id)),
        );
    }
    let mut seen_emails: HashMap<String, u64> = HashMap::new();
    rows.retain(|row| {
        let email = row.values[email_index].clone().unwrap_or_default();
        let problem = match (
            owners.get(&email),
            seen_emails.insert(email.clone(), row.line),
        ) {
            (_, Some(first)) => Some(format!("'{email}' repeats line {first}")),
            (Some(owner), _) if owner.as_ref() != row.values[key_index].as_ref() => {
                Some(format!("'{email}' already belongs to another customer"))
            }
            _ => None,
        };
        if let Some(reason) = &problem {
            errors.push(RowError::new(name, row.line, Some("email"), reason.clone()));
        }
        problem.is_none()
    });
    Ok(())
}

/// Subscriptions, sessions, events and conversions: references resolved to ids, then each
/// fact inserted unless its natural key is already there.
fn insert_facts(
    connection: &mut PgConnection,
    file: &ParsedFile,
    mut rows: Vec<ParsedRow>,
    errors: &mut Vec<RowError>,
    name: &str,
) -> Result<TableOutcome, diesel::result::Error> {
    let customer_index = file.position("customer").unwrap_or_default();
    let customers = resolve(
        connection,
        rows.iter()
            .filter_map(|row| row.values[customer_index].clone())
            .collect(),
        "SELECT k.key, c.id FROM unnest($1::text[]) AS k(key) \
         JOIN customers c ON (position('@' IN k.key) > 0 AND c.email = k.key) OR c.external_id = k.key",
    )?;
    let reference = match file.table {
        ImportTable::WatchSessions => Some((
            "title",
            resolve(
                connection,
                rows.iter()
                    .filter_map(|row| {
                        file.position("title")
                            .and_then(|index| row.values[index].clone())
                    })
                    .collect(),
                "SELECT k.key, t.id FROM unnest($1::text[]) AS k(key) JOIN titles t ON t.external_id = k.key",
            )?,
        )),
        ImportTable::Subscriptions => Some((
            "plan",
            resolve(
                connection,
                rows.iter()
                    .filter_map(|row| {
                        file.position("plan")
                            .and_then(|index| row.values[index].clone())
                    })
                    .collect(),
                "SELECT k.key, p.id FROM unnest($1::text[]) AS k(key) JOIN plans p ON lower(p.name) = lower(k.key)",
            )?,
        )),
        _ => None,
    };
    let reference_index = reference
        .as_ref()
        .and_then(|(column, _)| file.position(column));

    // Resolve each row's references to ids, in place; unknown ones are bad rows.
    rows.retain_mut(|row| {
        let customer = row.values[customer_index].clone().unwrap_or_default();
        let Some(customer_id) = customers.get(&customer) else {
            errors.push(RowError::new(
                name,
                row.line,
                Some("customer"),
                format!("'{customer}' is not a known customer"),
            ));
            return false;
        };
        row.values[customer_index] = Some(customer_id.to_string());
        if let (Some((column, ids)), Some(index)) = (&reference, reference_index) {
            let value = row.values[index].clone().unwrap_or_default();
            let Some(id) = ids.get(&value) else {
                errors.push(RowError::new(
                    name,
                    row.line,
                    Some(column),
                    format!("'{value}' is not a known {column}"),
                ));
                return false;
            };
            row.values[index] = Some(id.to_string());
        }
        true
    });

    let (target, extra) = match file.table {
        ImportTable::Subscriptions => ("subscriptions", None),
        ImportTable::WatchSessions => ("watch_sessions", None),
        ImportTable::Events => ("events", None),
        _ => ("conversions", Some(("source", "'import'"))),
    };
    let renamed = |column: &str| {
        match column {
            "customer" => "customer_id",
            "title" => "title_id",
            "plan" => "plan_id",
            other => other,
        }
        .to_owned()
    };
    let columns: Vec<String> = file
        .columns
        .iter()
        .map(|column| renamed(column.name))
        .collect();
    let mut select: Vec<String> = columns
        .iter()
        .map(|column| match sql_type(column) {
            (sql, Some(default)) => format!("coalesce(s.{column}::{sql}, {default})"),
            (sql, None) => format!("s.{column}::{sql}"),
        })
        .collect();
    let mut targets = columns.clone();
    if let Some((column, value)) = extra {
        targets.push(column.to_owned());
        select.push(value.to_owned());
    }
    let arrays: Vec<String> = (1..=columns.len())
        .map(|index| format!("${index}::text[]"))
        .collect();
    let sql = format!(
        "INSERT INTO {target} ({targets}) SELECT {select} FROM unnest({arrays}) AS s({columns}) \
         ON CONFLICT DO NOTHING RETURNING true AS inserted",
        targets = targets.join(", "),
        select = select.join(", "),
        arrays = arrays.join(", "),
        columns = columns.join(", "),
    );
    write_batches(connection, &sql, &rows, columns.len(), file.table)
}

/// Keys to ids through `sql`, which takes the distinct keys as `$1` and returns (key, id).
fn resolve(
    connection: &mut PgConnection,
    keys: Vec<String>,
    sql: &str,
) -> Result<HashMap<String, i64>, diesel::result::Error> {
    let distinct: Vec<String> = keys
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut ids = HashMap::new();
    for batch in distinct.chunks(BATCH * 4) {
        let found: Vec<KeyedId> = diesel::sql_query(sql)
            .bind::<Array<Text>, _>(batch.to_vec())
            .load(connection)?;
        ids.extend(found.into_iter().map(|row| (row.key, row.id)));
    }
    Ok(ids)
}

/// Runs `sql` (one text array per column, returning `inserted` for each row it wrote) over the
/// rows in batches, and counts: inserted, updated (written but not new), unchanged (not written).
fn write_batches(
    connection: &mut PgConnection,
    sql: &str,
    rows: &[ParsedRow],
    columns: usize,
    table: ImportTable,
) -> Result<TableOutcome, diesel::result::Error> {
    let mut outcome = TableOutcome {
        table: table.name(),
        ..TableOutcome::default()
    };
    for batch in rows.chunks(BATCH) {
        let mut query = diesel::sql_query(sql).into_boxed();
        for index in 0..columns {
            let column: Vec<Option<String>> =
                batch.iter().map(|row| row.values[index].clone()).collect();
            query = query.bind::<Array<Nullable<Text>>, _>(column);
        }
        let written: Vec<Inserted> = query.load(connection)?;
        let inserted = written.iter().filter(|row| row.inserted).count() as u64;
        outcome.inserted += inserted;
        outcome.updated += written.len() as u64 - inserted;
        outcome.unchanged += (batch.len() - written.len()) as u64;
    }
    Ok(outcome)
}
