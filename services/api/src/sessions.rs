//! `/api/v1/sessions`: who watched which title, when, and for how long.

use actix_web::{delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::activity::{WatchSession, WatchSessionInsertForm};
use models::page::{Page, PageQuery};
use models::schema::watch_sessions;
use serde::Deserialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::Checks;
use utoipa::IntoParams;

use crate::crud::{create_row, delete_by_id, get_by_id};
use crate::paging::{load_page, window};

/// Longest session accepted, in minutes (a day).
const MAX_MINUTES: i32 = 24 * 60;

/// Filters of the session list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    pub customer_id: Option<i64>,
    pub title_id: Option<i64>,
    /// Sessions started at or after this time.
    #[param(example = "2026-01-01T00:00:00Z")]
    pub started_from: Option<DateTime<Utc>>,
    /// Sessions started before this time.
    #[param(example = "2026-02-01T00:00:00Z")]
    pub started_before: Option<DateTime<Utc>>,
}

/// Watch sessions by id.
#[utoipa::path(
    tag = "sessions",
    security(("api_key" = [])),
    params(PageQuery, SessionFilter),
    responses((status = 200, description = "A page of sessions", body = Page<WatchSession>), ListErrors)
)]
#[get("/sessions")]
pub async fn list_sessions(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<SessionFilter>,
) -> Result<web::Json<Page<WatchSession>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = watch_sessions::table.into_boxed();
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(watch_sessions::customer_id.eq(customer_id));
        }
        if let Some(title_id) = filter.title_id {
            query = query.filter(watch_sessions::title_id.eq(title_id));
        }
        if let Some(from) = filter.started_from {
            query = query.filter(watch_sessions::started_at.ge(from));
        }
        if let Some(before) = filter.started_before {
            query = query.filter(watch_sessions::started_at.lt(before));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        watch_sessions::id,
        WatchSession,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_session,
    "/sessions/{id}",
    "sessions",
    watch_sessions,
    WatchSession,
    "One watch session."
);

create_row!(
    create_session,
    "/sessions",
    "sessions",
    watch_sessions,
    WatchSession,
    WatchSessionInsertForm,
    prepare_insert,
    {"customer_id": 1, "title_id": 7, "started_at": "2026-03-01T20:15:00Z", "minutes": 42,
     "completed": false, "like_status": "liked"},
    "Records a watch session; the same customer, title and start twice is a 409."
);

delete_by_id!(
    delete_session,
    "/sessions/{id}",
    "sessions",
    watch_sessions,
    "Deletes a watch session."
);

fn prepare_insert(form: WatchSessionInsertForm) -> Result<WatchSessionInsertForm, Problem> {
    Checks::new()
        .time("started_at", Some(form.started_at))
        .range("minutes", form.minutes, 0, MAX_MINUTES)
        .finish()?;
    Ok(form)
}
