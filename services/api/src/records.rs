//! Read-only views of what the platform recorded while running experiments: assignments,
//! messages, message events and analyses. They are written by ds and mailer, never here.

use actix_web::{get, web};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, SelectableHelper as _,
};
use diesel_async::RunQueryDsl as _;
use models::enums::{MessageEventKind, MessageStatus};
use models::experiments::{Analysis, Assignment};
use models::messaging::{Message, MessageEvent};
use models::page::{Page, PageQuery};
use models::schema::{analyses, assignments, message_events, messages};
use serde::Deserialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{GetErrors, ListErrors};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::crud::get_by_id;
use crate::paging::{load_page, window};

/// Filters of the assignment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentFilter {
    pub experiment_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub variant_id: Option<i64>,
}

/// Who was assigned to which variant, by id.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(PageQuery, AssignmentFilter),
    responses((status = 200, description = "A page of assignments", body = Page<Assignment>), ListErrors)
)]
#[get("/assignments")]
pub async fn list_assignments(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<AssignmentFilter>,
) -> Result<web::Json<Page<Assignment>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = assignments::table.into_boxed();
        if let Some(experiment_id) = filter.experiment_id {
            query = query.filter(assignments::experiment_id.eq(experiment_id));
        }
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(assignments::customer_id.eq(customer_id));
        }
        if let Some(variant_id) = filter.variant_id {
            query = query.filter(assignments::variant_id.eq(variant_id));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        assignments::id,
        Assignment,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_assignment,
    "/assignments/{id}",
    "records",
    assignments,
    Assignment,
    "One assignment."
);

/// Filters of the message list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageFilter {
    pub experiment_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub status: Option<MessageStatus>,
}

/// The send ledger, one message per recipient, by id.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(PageQuery, MessageFilter),
    responses((status = 200, description = "A page of messages", body = Page<Message>), ListErrors)
)]
#[get("/messages")]
pub async fn list_messages(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<MessageFilter>,
) -> Result<web::Json<Page<Message>>, Problem> {
    let window = window::<Uuid>(&page_query)?;
    let filtered = || {
        let mut query = messages::table.into_boxed();
        if let Some(experiment_id) = filter.experiment_id {
            query = query.filter(messages::experiment_id.eq(experiment_id));
        }
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(messages::customer_id.eq(customer_id));
        }
        if let Some(status) = filter.status {
            query = query.filter(messages::status.eq(status));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        messages::id,
        Message,
        id,
        window,
        page_query.total
    )))
}

/// One message.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "The message's id")),
    responses((status = 200, description = "The message", body = Message), GetErrors)
)]
#[get("/messages/{id}")]
pub async fn get_message(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<Uuid>,
) -> Result<web::Json<Message>, Problem> {
    let id = id.into_inner();
    let mut connection = connection(&pool).await?;
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(&mut connection)
        .await
        .optional()?
        .map(web::Json)
        .ok_or_else(|| Problem::not_found(format!("no message {id}")))
}

/// Filters of the message event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageEventFilter {
    pub message_id: Option<Uuid>,
    pub kind: Option<MessageEventKind>,
    /// `false` leaves out machine opens and link scanners.
    pub is_bot: Option<bool>,
}

/// Deliveries, opens, clicks, unsubscribes, bounces and complaints, by id.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(PageQuery, MessageEventFilter),
    responses((status = 200, description = "A page of message events", body = Page<MessageEvent>), ListErrors)
)]
#[get("/message-events")]
pub async fn list_message_events(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<MessageEventFilter>,
) -> Result<web::Json<Page<MessageEvent>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = message_events::table.into_boxed();
        if let Some(message_id) = filter.message_id {
            query = query.filter(message_events::message_id.eq(message_id));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(message_events::kind.eq(kind));
        }
        if let Some(is_bot) = filter.is_bot {
            query = query.filter(message_events::is_bot.eq(is_bot));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        message_events::id,
        MessageEvent,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_message_event,
    "/message-events/{id}",
    "records",
    message_events,
    MessageEvent,
    "One message event."
);

/// Filters of the analysis list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalysisFilter {
    pub experiment_id: Option<i64>,
}

/// Every analysis computed, with its inputs and method, by id.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(PageQuery, AnalysisFilter),
    responses((status = 200, description = "A page of analyses", body = Page<Analysis>), ListErrors)
)]
#[get("/analyses")]
pub async fn list_analyses(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<AnalysisFilter>,
) -> Result<web::Json<Page<Analysis>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = analyses::table.into_boxed();
        if let Some(experiment_id) = filter.experiment_id {
            query = query.filter(analyses::experiment_id.eq(experiment_id));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        analyses::id,
        Analysis,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_analysis,
    "/analyses/{id}",
    "records",
    analyses,
    Analysis,
    "One analysis."
);
