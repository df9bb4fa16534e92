//! `/customers/{id}`: one customer with plan and segment history, viewing and every
//! experiment they were in.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamptz};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::error_page::{error_page, unavailable};
use super::login::html;
use super::signed_in::SignedIn;

#[derive(QueryableByName)]
struct SubscriptionRow {
    #[diesel(sql_type = Text)]
    plan: String,
    #[diesel(sql_type = Integer)]
    price_cents: i32,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Timestamptz)]
    started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ended_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct SegmentRow {
    #[diesel(sql_type = BigInt)]
    run_id: i64,
    #[diesel(sql_type = Text)]
    segment: String,
    #[diesel(sql_type = Double)]
    score: f64,
}

#[derive(QueryableByName)]
struct SessionRow {
    #[diesel(sql_type = Timestamptz)]
    started_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Integer)]
    minutes: i32,
    #[diesel(sql_type = Text)]
    like: String,
}

#[derive(QueryableByName)]
struct ExperimentRow {
    #[diesel(sql_type = Text)]
    experiment: String,
    #[diesel(sql_type = Text)]
    arm: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    events: String,
}

struct Subscription {
    plan: String,
    price: String,
    status: String,
    started: String,
    ended: String,
}

struct Segment {
    run_id: i64,
    segment: String,
    score: String,
}

struct Session {
    started: String,
    title: String,
    minutes: i32,
    like: String,
}

struct Experiment {
    experiment: String,
    arm: String,
    status: String,
    sent: String,
    events: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    page: &'static str,
    id: i64,
    name: String,
    email: String,
    consent: bool,
    country: String,
    signup: String,
    plan: String,
    segment: String,
    subscriptions: Vec<Subscription>,
    segments: Vec<Segment>,
    sessions: Vec<Session>,
    experiments: Vec<Experiment>,
}

fn day(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d").to_string()
}

/// Most viewing sessions shown.
const SESSIONS_SHOWN: i64 = 50;

#[get("/customers/{id}")]
pub async fn customer_page(signed_in: SignedIn, id: web::Path<i64>) -> HttpResponse {
    let mut connection = signed_in.connection;
    let id = id.into_inner();
    let view = match crate::customers::one_view(&mut connection, id).await {
        Ok(view) => view,
        Err(problem) if problem.status_code().as_u16() == 404 => {
            return error_page(
                actix_web::http::StatusCode::NOT_FOUND,
                &format!("There is no customer {id}."),
            );
        }
        Err(error) => return unavailable(&error),
    };
    match history(&mut connection, id).await {
        Ok((subscriptions, segments, sessions, experiments)) => html(&CustomerPage {
            page: "customers",
            id,
            name: format!("{} {}", view.customer.first_name, view.customer.last_name),
            email: view.customer.email,
            consent: view.customer.email_consent,
            country: view.customer.country.unwrap_or_default(),
            signup: day(view.customer.signup_at),
            plan: view
                .current_plan
                .map(|plan| plan.name)
                .unwrap_or_else(|| "none".to_owned()),
            segment: view
                .latest_segment
                .map(|segment| segment.name)
                .unwrap_or_else(|| "never scored".to_owned()),
            subscriptions,
            segments,
            sessions,
            experiments,
        }),
        Err(error) => unavailable(&error),
    }
}

type History = (
    Vec<Subscription>,
    Vec<Segment>,
    Vec<Session>,
    Vec<Experiment>,
);

async fn history(
    connection: &mut AsyncPgConnection,
    id: i64,
) -> Result<History, diesel::result::Error> {
    let subscriptions: Vec<SubscriptionRow> = sql_query(
        "SELECT p.name AS plan, p.monthly_price_cents AS price_cents, s.status, s.started_at, s.ended_at
         FROM subscriptions s JOIN plans p ON p.id = s.plan_id
         WHERE s.customer_id = $1 ORDER BY s.started_at, s.id",
    )
    .bind::<BigInt, _>(id)
    .load(connection)
    .await?;
    let segments: Vec<SegmentRow> = sql_query(
        "SELECT m.run_id, s.name AS segment, m.total_score AS score
         FROM segment_memberships m JOIN segments s ON s.id = m.segment_id
         WHERE m.customer_id = $1 ORDER BY m.run_id",
    )
    .bind::<BigInt, _>(id)
    .load(connection)
    .await?;
    let sessions: Vec<SessionRow> = sql_query(
        "SELECT w.started_at, t.name AS title, w.minutes, w.like_status AS like
         FROM watch_sessions w JOIN titles t ON t.id = w.title_id
         WHERE w.customer_id = $1 ORDER BY w.started_at DESC LIMIT $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(SESSIONS_SHOWN)
    .load(connection)
    .await?;
    let experiments: Vec<ExperimentRow> = sql_query(
        "SELECT e.name AS experiment, coalesce(v.key, 'holdout') AS arm,
                coalesce(m.status, 'not e-mailed') AS status, m.sent_at,
                coalesce((SELECT string_agg(ev.kind || CASE WHEN ev.is_bot THEN ' (machine)' ELSE '' END,
                                            ', ' ORDER BY ev.occurred_at)
                          FROM message_events ev WHERE ev.message_id = m.id), '') AS events
         FROM assignments a
         JOIN experiments e ON e.id = a.experiment_id
         LEFT JOIN variants v ON v.id = a.variant_id
         LEFT JOIN messages m ON m.experiment_id = a.experiment_id AND m.customer_id = a.customer_id
         WHERE a.customer_id = $1 ORDER BY a.assigned_at DESC",
    )
    .bind::<BigInt, _>(id)
    .load(connection)
    .await?;
    Ok((
        subscriptions
            .into_iter()
            .map(|row| Subscription {
                plan: row.plan,
                price: models::render::dollars(i64::from(row.price_cents)),
                status: row.status,
                started: day(row.started_at),
                ended: row.ended_at.map(day).unwrap_or_default(),
            })
            .collect(),
        segments
            .into_iter()
            .map(|row| Segment {
                run_id: row.run_id,
                segment: row.segment,
                score: format!("{:.1}", row.score),
            })
            .collect(),
        sessions
            .into_iter()
            .map(|row| Session {
                started: row.started_at.format("%Y-%m-%d %H:%M").to_string(),
                title: row.title,
                minutes: row.minutes,
                like: row.like,
            })
            .collect(),
        experiments
            .into_iter()
            .map(|row| Experiment {
                experiment: row.experiment,
                arm: row.arm,
                status: row.status,
                sent: row.sent_at.map(day).unwrap_or_default(),
                events: row.events,
            })
            .collect(),
    ))
}
