//! `/api/v1/suppressions`: addresses that are never e-mailed (unsubscribed, bounced, ...).

use actix_web::{delete, get, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::enums::SuppressionReason;
use models::messaging::{Suppression, SuppressionInsertForm};
use models::page::{Page, PageQuery};
use models::schema::suppressions;
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

/// Filters of the suppression list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionFilter {
    /// Only this address (any case).
    #[param(example = "ada@example.com")]
    pub email: Option<String>,
    pub reason: Option<SuppressionReason>,
}

/// Suppressed addresses by id.
#[utoipa::path(
    tag = "suppressions",
    security(("api_key" = [])),
    params(PageQuery, SuppressionFilter),
    responses((status = 200, description = "A page of suppressions", body = Page<Suppression>), ListErrors)
)]
#[get("/suppressions")]
pub async fn list_suppressions(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<SuppressionFilter>,
) -> Result<web::Json<Page<Suppression>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = suppressions::table.into_boxed();
        if let Some(email) = &filter.email {
            query = query.filter(suppressions::email.eq(email.trim().to_lowercase()));
        }
        if let Some(reason) = filter.reason {
            query = query.filter(suppressions::reason.eq(reason));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        suppressions::id,
        Suppression,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_suppression,
    "/suppressions/{id}",
    "suppressions",
    suppressions,
    Suppression,
    "One suppression."
);

create_row!(
    create_suppression,
    "/suppressions",
    "suppressions",
    suppressions,
    Suppression,
    SuppressionInsertForm,
    prepare_insert,
    {"email": "ada@example.com", "customer_id": null, "reason": "manual", "message_id": null},
    "Suppresses an address; one already suppressed is a 409."
);

delete_by_id!(
    delete_suppression,
    "/suppressions/{id}",
    "suppressions",
    suppressions,
    "Lifts a suppression: the address may be e-mailed again."
);

fn prepare_insert(form: SuppressionInsertForm) -> Result<SuppressionInsertForm, Problem> {
    let email = form.email.trim().to_lowercase();
    Checks::new().email("email", &email).finish()?;
    Ok(SuppressionInsertForm { email, ..form })
}
