//! `/api/v1/subscriptions`: who paid for which plan, from when to when.

use actix_web::{delete, get, patch, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::activity::{Subscription, SubscriptionInsertForm, SubscriptionUpdateForm};
use models::enums::SubscriptionStatus;
use models::page::{Page, PageQuery};
use models::schema::subscriptions;
use serde::Deserialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::Checks;
use utoipa::IntoParams;

use crate::crud::{create_row, delete_by_id, get_by_id, update_by_id};
use crate::paging::{load_page, window};

/// Filters of the subscription list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionFilter {
    pub customer_id: Option<i64>,
    pub plan_id: Option<i64>,
    pub status: Option<SubscriptionStatus>,
}

/// Subscriptions by id.
#[utoipa::path(
    tag = "subscriptions",
    security(("api_key" = [])),
    params(PageQuery, SubscriptionFilter),
    responses((status = 200, description = "A page of subscriptions", body = Page<Subscription>), ListErrors)
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<SubscriptionFilter>,
) -> Result<web::Json<Page<Subscription>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = subscriptions::table.into_boxed();
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(subscriptions::customer_id.eq(customer_id));
        }
        if let Some(plan_id) = filter.plan_id {
            query = query.filter(subscriptions::plan_id.eq(plan_id));
        }
        if let Some(status) = filter.status {
            query = query.filter(subscriptions::status.eq(status));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        subscriptions::id,
        Subscription,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_subscription,
    "/subscriptions/{id}",
    "subscriptions",
    subscriptions,
    Subscription,
    "One subscription."
);

create_row!(
    create_subscription,
    "/subscriptions",
    "subscriptions",
    subscriptions,
    Subscription,
    SubscriptionInsertForm,
    prepare_insert,
    {"customer_id": 1, "plan_id": 3, "status": "active", "started_at": "2026-01-05T00:00:00Z",
     "ended_at": null, "churned_at": null},
    "Records a subscription. `churned` needs `churned_at`; `switched` and `churned` need `ended_at`."
);

update_by_id!(
    update_subscription,
    "/subscriptions/{id}",
    "subscriptions",
    subscriptions,
    Subscription,
    SubscriptionUpdateForm,
    prepare_update,
    {"status": "churned", "ended_at": "2026-06-30T00:00:00Z", "churned_at": "2026-06-30T00:00:00Z"},
    "Changes a subscription (ends it, churns it, moves it to another plan); absent fields stay."
);

delete_by_id!(
    delete_subscription,
    "/subscriptions/{id}",
    "subscriptions",
    subscriptions,
    "Deletes a subscription."
);

fn prepare_insert(form: SubscriptionInsertForm) -> Result<SubscriptionInsertForm, Problem> {
    let mut checks = Checks::new();
    checks
        .time("started_at", Some(form.started_at))
        .time("ended_at", form.ended_at)
        .time("churned_at", form.churned_at);
    check_dates(
        &mut checks,
        form.status,
        form.started_at,
        form.ended_at,
        form.churned_at,
    );
    checks.finish()?;
    Ok(form)
}

fn prepare_update(form: SubscriptionUpdateForm) -> Result<SubscriptionUpdateForm, Problem> {
    // The row's own values are not known here: the database's checks catch a mix of old and
    // new that does not hold (422); what the request alone gets wrong is named here.
    let mut checks = Checks::new();
    checks
        .time("started_at", form.started_at)
        .time("ended_at", form.ended_at.flatten())
        .time("churned_at", form.churned_at.flatten());
    if let (Some(status), Some(started_at), Some(ended_at), Some(churned_at)) =
        (form.status, form.started_at, form.ended_at, form.churned_at)
    {
        check_dates(&mut checks, status, started_at, ended_at, churned_at);
    }
    checks.finish()?;
    Ok(form)
}

fn check_dates(
    checks: &mut Checks,
    status: SubscriptionStatus,
    started_at: chrono::DateTime<chrono::Utc>,
    ended_at: Option<chrono::DateTime<chrono::Utc>>,
    churned_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    if ended_at.is_some_and(|ended_at| ended_at < started_at) {
        checks.fail("ended_at", "must not be before started_at");
    }
    if churned_at.is_some_and(|churned_at| churned_at < started_at) {
        checks.fail("churned_at", "must not be before started_at");
    }
    let churned = status == SubscriptionStatus::Churned;
    if churned != churned_at.is_some() {
        checks.fail("churned_at", "is set exactly when the status is churned");
    }
    let open = matches!(
        status,
        SubscriptionStatus::Trial | SubscriptionStatus::Active
    );
    if !open && ended_at.is_none() {
        checks.fail(
            "ended_at",
            "is needed once a subscription has switched or churned",
        );
    }
}
