//! `/api/v1/events`: what customers did (invite_sent, co_watch_start, ...), one at a time or
//! in batches of up to `API_MAX_BATCH_EVENTS` stored all or none.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt, Jsonb, Text, Timestamptz};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::activity::{Event, EventBatch, EventBatchResult, EventInsertForm};
use models::page::{Page, PageQuery};
use models::schema::{customers, events};
use serde::Deserialize;
use service::auth::{AdminAccess, ReadAccess};
use service::json::read_json;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{ListErrors, WriteErrors};
use service::validate::Checks;
use service::{FieldError, Problem};
use utoipa::IntoParams;

use crate::crud::{create_row, delete_by_id, get_by_id};
use crate::paging::{load_page, window};
use crate::settings::Limits;

/// Longest event name.
const NAME_MAX: usize = 64;
/// Most fields named in one 422 of a batch: enough to see the pattern, not the whole batch.
const MAX_ERRORS_SHOWN: usize = 20;

/// Turns for writing a batch: see `Limits::batch_concurrency`.
pub struct BatchSlots(tokio::sync::Semaphore);

impl BatchSlots {
    pub fn new(concurrency: usize) -> BatchSlots {
        BatchSlots(tokio::sync::Semaphore::new(concurrency))
    }
}

/// Filters of the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    pub customer_id: Option<i64>,
    #[param(example = "co_watch_start")]
    pub name: Option<String>,
    /// Events at or after this time.
    pub occurred_from: Option<DateTime<Utc>>,
    /// Events before this time.
    pub occurred_before: Option<DateTime<Utc>>,
}

/// Events by id.
#[utoipa::path(
    tag = "events",
    security(("api_key" = [])),
    params(PageQuery, EventFilter),
    responses((status = 200, description = "A page of events", body = Page<Event>), ListErrors)
)]
#[get("/events")]
pub async fn list_events(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<EventFilter>,
) -> Result<web::Json<Page<Event>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = events::table.into_boxed();
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(events::customer_id.eq(customer_id));
        }
        if let Some(name) = &filter.name {
            query = query.filter(events::name.eq(name.clone()));
        }
        if let Some(from) = filter.occurred_from {
            query = query.filter(events::occurred_at.ge(from));
        }
        if let Some(before) = filter.occurred_before {
            query = query.filter(events::occurred_at.lt(before));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        events::id,
        Event,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_event,
    "/events/{id}",
    "events",
    events,
    Event,
    "One event."
);

create_row!(
    create_event,
    "/events",
    "events",
    events,
    Event,
    EventInsertForm,
    prepare_insert,
    {"customer_id": 1, "name": "invite_sent", "occurred_at": "2026-03-01T20:00:00Z",
     "properties": {"channel": "sms"}},
    "Records one event; the same customer, time and name twice is a 409."
);

delete_by_id!(
    delete_event,
    "/events/{id}",
    "events",
    events,
    "Deletes an event."
);

/// Records up to `API_MAX_BATCH_EVENTS` events (10,000 by default) all or none: one bad event
/// refuses the batch with a 422 naming it. An event already stored (same customer, time and
/// name) is skipped, so a batch retried after a timeout is stored once.
#[utoipa::path(
    tag = "events",
    security(("api_key" = [])),
    request_body(content = EventBatch, example = json!({"events": [
        {"customer_id": 1, "name": "invite_sent", "occurred_at": "2026-03-01T20:00:00Z", "properties": {}},
        {"customer_id": 2, "name": "co_watch_start", "occurred_at": "2026-03-01T20:05:00Z", "properties": {"title_id": 7}}
    ]})),
    responses(
        (status = 201, description = "Stored", body = EventBatchResult, example = json!({"inserted": 2})),
        WriteErrors,
    )
)]
#[post("/events:batch")]
pub async fn create_event_batch(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    limits: web::Data<Limits>,
    slots: web::Data<BatchSlots>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let batch: EventBatch = read_json(&request, payload, limits.max_batch_bytes).await?;
    check_batch(&batch, limits.max_batch_events)?;
    // Waits for a turn before taking a database connection, so waiting batches hold none.
    let _turn = slots
        .0
        .acquire()
        .await
        .map_err(|error| Problem::internal(&error))?;
    let mut connection = connection(&pool).await?;
    let inserted = insert_batch(&mut connection, batch.events).await?;
    Ok(HttpResponse::Created().json(EventBatchResult { inserted }))
}

fn check_batch(batch: &EventBatch, max_events: usize) -> Result<(), Problem> {
    let mut checks = Checks::new();
    if batch.events.is_empty() || batch.events.len() > max_events {
        checks.fail("events", format!("must hold 1 to {max_events} events"));
        return checks.finish();
    }
    let mut failures = 0;
    for (index, event) in batch.events.iter().enumerate() {
        if let Err(problem) = check_event(event) {
            for error in problem.errors {
                failures += 1;
                if failures <= MAX_ERRORS_SHOWN {
                    checks.fail(format!("events[{index}].{}", error.field), error.message);
                }
            }
        }
    }
    checks.finish()
}

/// Stores the batch in one statement, so all or none; names the events whose customer does
/// not exist when the foreign key refuses the batch.
async fn insert_batch(
    connection: &mut AsyncPgConnection,
    batch: Vec<EventInsertForm>,
) -> Result<u64, Problem> {
    let customer_ids: Vec<i64> = batch.iter().map(|event| event.customer_id).collect();
    let mut names = Vec::with_capacity(batch.len());
    let mut times = Vec::with_capacity(batch.len());
    let mut properties = Vec::with_capacity(batch.len());
    for event in batch {
        names.push(event.name);
        times.push(event.occurred_at);
        properties.push(event.properties.unwrap_or_else(|| serde_json::json!({})));
    }
    // Arrays unnested server-side: one statement, one round trip, whatever the batch size.
    // Rows go in key order, so two batches sharing keys wait on each other, never deadlock.
    let inserted = diesel::sql_query(
        "INSERT INTO events (customer_id, name, occurred_at, properties) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::jsonb[]) \
         AS e(customer_id, name, occurred_at, properties) \
         ORDER BY customer_id, occurred_at, name \
         ON CONFLICT (customer_id, occurred_at, name) DO NOTHING",
    )
    .bind::<Array<BigInt>, _>(&customer_ids)
    .bind::<Array<Text>, _>(names)
    .bind::<Array<Timestamptz>, _>(times)
    .bind::<Array<Jsonb>, _>(properties)
    .execute(connection)
    .await;
    match inserted {
        Ok(inserted) => Ok(u64::try_from(inserted).unwrap_or_default()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Err(missing_customers(connection, &customer_ids).await)
        }
        Err(error) => Err(error.into()),
    }
}

/// The 422 naming each event (the first few) whose customer does not exist.
async fn missing_customers(connection: &mut AsyncPgConnection, customer_ids: &[i64]) -> Problem {
    let known: HashSet<i64> = match customers::table
        .filter(customers::id.eq_any(customer_ids))
        .select(customers::id)
        .load::<i64>(connection)
        .await
    {
        Ok(known) => known.into_iter().collect(),
        Err(error) => return error.into(),
    };
    let missing: Vec<FieldError> = customer_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(id))
        .take(MAX_ERRORS_SHOWN)
        .map(|(index, id)| {
            FieldError::new(
                format!("events[{index}].customer_id"),
                format!("no customer {id}"),
            )
        })
        .collect();
    match missing.is_empty() {
        // A customer deleted while the batch was stored: try again.
        true => Problem::conflict("a customer of the batch was deleted meanwhile; send it again"),
        false => Problem::validation(missing),
    }
}

fn prepare_insert(form: EventInsertForm) -> Result<EventInsertForm, Problem> {
    check_event(&form)?;
    Ok(form)
}

fn check_event(form: &EventInsertForm) -> Result<(), Problem> {
    let mut checks = Checks::new();
    let well_formed = form
        .name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase())
        && form
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed || form.name.len() > NAME_MAX {
        checks.fail(
            "name",
            format!("must be snake_case: a-z first, then a-z, 0-9 or _, at most {NAME_MAX}"),
        );
    }
    checks.time("occurred_at", Some(form.occurred_at));
    if form
        .properties
        .as_ref()
        .is_some_and(|value| !value.is_object())
    {
        checks.fail("properties", "must be a JSON object");
    }
    checks.finish()
}
