//! An experiment's lifecycle: `draft -> running <-> paused -> stopped -> decided`. Starting
//! and picking a test phase's winner are the mailer's work (audience, assignments, ledger);
//! the other moves are status changes here. Illegal moves are 409.

use actix_web::{HttpResponse, get, post, web};
use diesel::sql_types::{BigInt, Text};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, OptionalExtension as _, QueryDsl as _,
    QueryableByName,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use models::enums::ExperimentStatus;
use models::experiments::{ExperimentView, Launch};
use models::schema::{experiments, messages, variants};
use serde::{Deserialize, Serialize};
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::responses::{GetErrors, WriteErrors};
use service::validate::{BODY_MAX, Checks};
use service::{FieldError, Problem};
use utoipa::ToSchema;

use crate::experiments::view;
use crate::peer_answers::forward_json;
use crate::status::Peers;

/// Starts a draft: the mailer assigns the audience (consenting customers of the segment or
/// filter, minus suppressed addresses, customers in other running experiments and those over
/// the frequency cap) by HMAC-SHA256(salt, customer id), writes the send ledger and begins
/// sending. Answers with the counts per arm.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 200, description = "Started: customers assigned per arm, e-mails queued", body = Launch),
        WriteErrors,
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The mailer failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The mailer is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/experiments/{id}/start")]
pub async fn start_experiment(
    _: AdminAccess,
    peers: web::Data<Peers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    forward_json(
        &peers.mailer_launches,
        &format!("v1/experiments/{}/start", id.into_inner()),
        &serde_json::json!({}),
    )
    .await
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WinnerPick {
    /// Pick this variant by hand; absent, ds's analysis of the test decides.
    pub variant_id: Option<i64>,
}

/// Ends a test phase now: the winner (significant on the goal metric in ds's analysis, or
/// `variant_id` by hand) goes to the rest of the audience; without one, the control's e-mail
/// or nothing, as the experiment says.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    request_body(content = WinnerPick, example = json!({})),
    responses(
        (status = 200, description = "The winner phase, queued", body = Launch),
        WriteErrors,
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The mailer or ds failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The mailer is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/experiments/{id}/winner")]
pub async fn pick_winner(
    _: AdminAccess,
    peers: web::Data<Peers>,
    id: web::Path<i64>,
    JsonBody(pick): JsonBody<WinnerPick>,
) -> Result<HttpResponse, Problem> {
    forward_json(
        &peers.mailer_launches,
        &format!("v1/experiments/{}/winner", id.into_inner()),
        &pick,
    )
    .await
}

macro_rules! status_move {
    ($name:ident, $path:literal, $doc:literal, $from:expr, $to:expr) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "experiments",
            security(("api_key" = [])),
            params(("id" = i64, Path, description = "The experiment's id")),
            responses((status = 200, description = "The experiment after the move", body = ExperimentView), WriteErrors,
                (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"))
        )]
        #[post($path)]
        pub async fn $name(
            _: AdminAccess,
            pool: web::Data<models::db::Pool>,
            id: web::Path<i64>,
        ) -> Result<web::Json<ExperimentView>, Problem> {
            let mut connection = connection(&pool).await?;
            move_status(&mut connection, id.into_inner(), $from, $to, None).await.map(web::Json)
        }
    };
}

status_move!(
    pause_experiment,
    "/experiments/{id}/pause",
    "Pauses sending: no new e-mail leaves until resumed (the few in flight finish).",
    &[ExperimentStatus::Running],
    ExperimentStatus::Paused
);

status_move!(
    resume_experiment,
    "/experiments/{id}/resume",
    "Resumes sending where it stopped; no recipient gets a second e-mail.",
    &[ExperimentStatus::Paused],
    ExperimentStatus::Running
);

status_move!(
    stop_experiment,
    "/experiments/{id}/stop",
    "Stops the experiment: e-mails not yet sent are cancelled; tracking and analysis go on.",
    &[ExperimentStatus::Running, ExperimentStatus::Paused],
    ExperimentStatus::Stopped
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "Ship the $10 Basic offer to Vulnerable Customers", "winner_variant_id": 26}))]
pub struct Decision {
    /// The decision in words.
    pub decision: String,
    /// The variant rolled out; absent, a winner picked by the test phase stays.
    pub winner_variant_id: Option<i64>,
}

/// Records the decision on a stopped experiment.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    request_body = Decision,
    responses((status = 200, description = "Decided", body = ExperimentView), WriteErrors,
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"))
)]
#[post("/experiments/{id}/decide")]
pub async fn decide_experiment(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    JsonBody(decision): JsonBody<Decision>,
) -> Result<web::Json<ExperimentView>, Problem> {
    Checks::new()
        .required_text("decision", &decision.decision, BODY_MAX)
        .finish()?;
    let id = id.into_inner();
    let mut connection = connection(&pool).await?;
    if let Some(variant_id) = decision.winner_variant_id {
        let belongs: Option<i64> = variants::table
            .find(variant_id)
            .filter(variants::experiment_id.eq(id))
            .select(variants::id)
            .first(&mut connection)
            .await
            .optional()?;
        if belongs.is_none() {
            return Err(Problem::validation(vec![FieldError::new(
                "winner_variant_id",
                format!("is not a variant of experiment {id}"),
            )]));
        }
    }
    move_status(
        &mut connection,
        id,
        &[ExperimentStatus::Stopped],
        ExperimentStatus::Decided,
        Some(&decision),
    )
    .await
    .map(web::Json)
}

/// Moves `id` from one of `from` to `to` under a row lock, with what the move implies.
async fn move_status(
    connection: &mut AsyncPgConnection,
    id: i64,
    from: &'static [ExperimentStatus],
    to: ExperimentStatus,
    decision: Option<&Decision>,
) -> Result<ExperimentView, Problem> {
    connection
        .transaction(async |connection| {
            let status = models::experiments::lock(connection, id)
                .await?
                .ok_or_else(|| Problem::not_found(format!("no experiment {id}")))?
                .status;
            if !from.contains(&status) {
                let allowed: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
                return Err(Problem::conflict(format!(
                    "experiment {id} is {status}; only a {} experiment can become {to}",
                    allowed.join(" or ")
                )));
            }
            let row = experiments::table.find(id);
            match to {
                ExperimentStatus::Stopped => {
                    diesel::update(row)
                        .set((
                            experiments::status.eq(to),
                            experiments::stopped_at.eq(diesel::dsl::now),
                        ))
                        .execute(connection)
                        .await?;
                    // What is queued, and what a mailer that died had claimed: nothing will
                    // send it now. Claims of live mailers finish and are recorded as they end.
                    diesel::update(
                        messages::table
                            .filter(messages::experiment_id.eq(id))
                            .filter(
                                messages::status.eq("queued").or(messages::status
                                    .eq("sending")
                                    .and(messages::lease_expires_at.lt(diesel::dsl::now))),
                            ),
                    )
                    .set((
                        messages::status.eq("cancelled"),
                        messages::lease_owner.eq(None::<String>),
                        messages::lease_expires_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                        messages::last_error.eq("the experiment was stopped"),
                    ))
                    .execute(connection)
                    .await?;
                }
                ExperimentStatus::Decided => {
                    diesel::update(row)
                        .set((
                            experiments::status.eq(to),
                            experiments::decided_at.eq(diesel::dsl::now),
                            experiments::decision.eq(decision.map(|d| d.decision.clone())),
                        ))
                        .execute(connection)
                        .await?;
                    // Without a variant named, the test phase's pick (if any) stands.
                    if let Some(winner) = decision.and_then(|d| d.winner_variant_id) {
                        diesel::update(row)
                            .set(experiments::winner_variant_id.eq(winner))
                            .execute(connection)
                            .await?;
                    }
                }
                _ => {
                    diesel::update(row)
                        .set(experiments::status.eq(to))
                        .execute(connection)
                        .await?;
                }
            }
            view(connection, id).await
        })
        .await
}

/// How an experiment's e-mails stand.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"experiment_id": 12, "by_status": {"queued": 10, "sent": 1790}, "events": {"open": 700, "click": 150}, "human_events": {"open": 640, "click": 120}}))]
pub struct Delivery {
    pub experiment_id: i64,
    /// Messages by ledger status.
    #[schema(value_type = Object)]
    pub by_status: serde_json::Map<String, serde_json::Value>,
    /// Tracked events by kind, machines included.
    #[schema(value_type = Object)]
    pub events: serde_json::Map<String, serde_json::Value>,
    /// Tracked events by kind, people only.
    #[schema(value_type = Object)]
    pub human_events: serde_json::Map<String, serde_json::Value>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    human: i64,
}

/// The send ledger and tracked events of an experiment, counted.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses((status = 200, description = "Counts", body = Delivery), GetErrors)
)]
#[get("/experiments/{id}/delivery")]
pub async fn experiment_delivery(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<Delivery>, Problem> {
    let id = id.into_inner();
    let mut connection = connection(&pool).await?;
    view(&mut connection, id).await?;
    delivery(&mut connection, id).await.map(web::Json)
}

/// The ledger by status and the tracked events by kind of experiment `id` (nothing at all
/// for one that does not exist: the caller checks).
pub async fn delivery(connection: &mut AsyncPgConnection, id: i64) -> Result<Delivery, Problem> {
    let statuses: Vec<Count> = diesel::sql_query(
        "SELECT status AS name, count(*) AS total, 0::bigint AS human FROM messages
         WHERE experiment_id = $1 GROUP BY status ORDER BY status",
    )
    .bind::<BigInt, _>(id)
    .load(connection)
    .await?;
    let events: Vec<Count> = diesel::sql_query(
        "SELECT e.kind AS name, count(*) AS total, count(*) FILTER (WHERE NOT e.is_bot) AS human
         FROM message_events e JOIN messages m ON m.id = e.message_id
         WHERE m.experiment_id = $1 GROUP BY e.kind ORDER BY e.kind",
    )
    .bind::<BigInt, _>(id)
    .load(connection)
    .await?;
    let map = |counts: &[Count], human: bool| {
        counts
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    serde_json::json!(if human { c.human } else { c.total }),
                )
            })
            .collect()
    };
    Ok(Delivery {
        experiment_id: id,
        by_status: map(&statuses, false),
        events: map(&events, false),
        human_events: map(&events, true),
    })
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "me@example.com"}))]
pub struct TestMessage {
    pub to: String,
    pub subject: Option<String>,
}

/// Sends one test e-mail to `to` through the mailer's transport, to check the settings.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    request_body = TestMessage,
    responses(
        (status = 200, description = "Accepted by the transport", body = Object),
        WriteErrors,
        (status = 502, description = "The server refused it, or the mailer failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The mailer is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/mail/test-message")]
pub async fn send_test_message(
    _: AdminAccess,
    peers: web::Data<Peers>,
    JsonBody(message): JsonBody<TestMessage>,
) -> Result<HttpResponse, Problem> {
    forward_json(&peers.mailer_launches, "v1/test-message", &message).await
}
