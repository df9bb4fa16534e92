//! `/api/v1/plans`: the subscription plans and their monthly prices.

use actix_web::{delete, get, patch, post, web};
use diesel::QueryDsl as _;
use models::catalogue::{Plan, PlanInsertForm, PlanUpdateForm};
use models::page::{Page, PageQuery};
use models::schema::plans;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::{Checks, NAME_MAX};

use crate::crud::{create_row, delete_by_id, get_by_id, update_by_id};
use crate::paging::{load_page, window};

/// Highest monthly price accepted, in cents: above this is a typo, not a plan.
const MAX_MONTHLY_PRICE_CENTS: i32 = 100_000;

/// Plans by id.
#[utoipa::path(
    tag = "plans",
    security(("api_key" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of plans", body = Page<Plan>), ListErrors)
)]
#[get("/plans")]
pub async fn list_plans(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<web::Json<Page<Plan>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || plans::table.into_boxed();
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        plans::id,
        Plan,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(get_plan, "/plans/{id}", "plans", plans, Plan, "One plan.");

create_row!(
    create_plan,
    "/plans",
    "plans",
    plans,
    Plan,
    PlanInsertForm,
    prepare_insert,
    {"name": "Ultra", "monthly_price_cents": 1299},
    "Adds a plan; its name must be new (409 otherwise)."
);

update_by_id!(
    update_plan,
    "/plans/{id}",
    "plans",
    plans,
    Plan,
    PlanUpdateForm,
    prepare_update,
    {"monthly_price_cents": 1099},
    "Renames or reprices a plan; absent fields stay."
);

delete_by_id!(
    delete_plan,
    "/plans/{id}",
    "plans",
    plans,
    "Deletes a plan nobody subscribed to (409 otherwise)."
);

fn prepare_insert(form: PlanInsertForm) -> Result<PlanInsertForm, Problem> {
    let form = PlanInsertForm {
        name: form.name.trim().to_owned(),
        ..form
    };
    check(Some(&form.name), Some(form.monthly_price_cents))?;
    Ok(form)
}

fn prepare_update(form: PlanUpdateForm) -> Result<PlanUpdateForm, Problem> {
    let form = PlanUpdateForm {
        name: form.name.map(|name| name.trim().to_owned()),
        ..form
    };
    check(form.name.as_deref(), form.monthly_price_cents)?;
    Ok(form)
}

fn check(name: Option<&str>, monthly_price_cents: Option<i32>) -> Result<(), Problem> {
    let mut checks = Checks::new();
    if let Some(name) = name {
        checks.required_text("name", name, NAME_MAX);
    }
    if let Some(price) = monthly_price_cents {
        checks.range("monthly_price_cents", price, 0, MAX_MONTHLY_PRICE_CENTS);
    }
    checks.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_field_at_fault() {
        let problem = prepare_insert(PlanInsertForm {
            name: "  ".to_owned(),
            monthly_price_cents: -1,
        })
        .unwrap_err();
        let fields: Vec<_> = problem
            .errors
            .iter()
            .map(|error| error.field.as_str())
            .collect();
        assert_eq!(fields, ["name", "monthly_price_cents"]);
    }

    #[test]
    fn trims_the_name() {
        let form = prepare_insert(PlanInsertForm {
            name: " Ultra ".to_owned(),
            monthly_price_cents: 1299,
        })
        .unwrap();
        assert_eq!(form.name, "Ultra");
    }
}
