//! `/api/v1/plans`: the subscription plans and their monthly prices.

use actix_web::{HttpResponse, get, post, web};
use diesel::{QueryDsl as _, SelectableHelper as _};
use diesel_async::RunQueryDsl as _;
use models::catalogue::{Plan, PlanInsertForm};
use models::schema::plans;
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::{FieldError, Problem};

/// Highest monthly price accepted, in cents: above this is a typo, not a plan.
const MAX_MONTHLY_PRICE_CENTS: i32 = 100_000;

/// Every plan, cheapest first.
#[utoipa::path(
    tag = "plans",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "All plans", body = Vec<Plan>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans")]
pub async fn list_plans(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
) -> Result<web::Json<Vec<Plan>>, Problem> {
    let mut connection = connection(&pool).await?;
    let rows = plans::table
        .order((plans::monthly_price_cents, plans::id))
        .select(Plan::as_select())
        .load(&mut connection)
        .await?;
    Ok(web::Json(rows))
}

/// Adds a plan.
#[utoipa::path(
    tag = "plans",
    security(("api_key" = [])),
    request_body(content = PlanInsertForm, example = json!({"name": "Ultra", "monthly_price_cents": 1299})),
    responses(
        (status = 201, description = "The plan created", body = Plan),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A plan with this name exists", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans")]
pub async fn create_plan(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    JsonBody(form): JsonBody<PlanInsertForm>,
) -> Result<HttpResponse, Problem> {
    let form = validate(form)?;
    let mut connection = connection(&pool).await?;
    let plan = diesel::insert_into(plans::table)
        .values(&form)
        .returning(Plan::as_returning())
        .get_result(&mut connection)
        .await?;
    Ok(HttpResponse::Created().json(plan))
}

fn validate(form: PlanInsertForm) -> Result<PlanInsertForm, Problem> {
    let name = form.name.trim().to_owned();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    if !(0..=MAX_MONTHLY_PRICE_CENTS).contains(&form.monthly_price_cents) {
        errors.push(FieldError::new(
            "monthly_price_cents",
            format!("must be between 0 and {MAX_MONTHLY_PRICE_CENTS}"),
        ));
    }
    if errors.is_empty() {
        Ok(PlanInsertForm { name, ..form })
    } else {
        Err(Problem::validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_field_at_fault() {
        let problem = validate(PlanInsertForm {
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
        let form = validate(PlanInsertForm {
            name: " Ultra ".to_owned(),
            monthly_price_cents: 1299,
        })
        .unwrap();
        assert_eq!(form.name, "Ultra");
    }
}
