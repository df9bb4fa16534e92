//! `/api/v1/customers`: the people who subscribe, with their current plan and latest segment.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, PgTextExpressionMethods as _, QueryDsl as _,
    SelectableHelper as _,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use models::catalogue::Plan;
use models::customers::{Customer, CustomerInsertForm, CustomerUpdateForm, CustomerView};
use models::page::{Page, PageQuery};
use models::schema::customers;
use models::segmentation::Segment;
use models::views::customer_views;
use serde::Deserialize;
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{GetErrors, ListErrors, WriteErrors};
use service::validate::{Checks, NAME_MAX};
use utoipa::IntoParams;

use crate::crud::delete_by_id;
use crate::paging::{page, window};

/// Filters of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilter {
    /// Only customers whose latest segment (in the latest succeeded run they were scored
    /// in) is this one.
    pub segment_id: Option<i64>,
    /// Only customers whose current plan (that of their latest trial or active
    /// subscription) is this one.
    pub plan_id: Option<i64>,
    /// ISO 3166-1 alpha-2 code.
    #[param(example = "NO")]
    pub country: Option<String>,
    /// Signed up at or after this time.
    pub signup_from: Option<DateTime<Utc>>,
    /// Signed up before this time.
    pub signup_before: Option<DateTime<Utc>>,
    /// Part of the e-mail address, any case.
    #[param(example = "example.com")]
    pub email: Option<String>,
}

/// Customers by id, each with current plan and latest segment.
#[utoipa::path(
    tag = "customers",
    security(("api_key" = [])),
    params(PageQuery, CustomerFilter),
    responses((status = 200, description = "A page of customers", body = Page<CustomerView>), ListErrors)
)]
#[get("/customers")]
pub async fn list_customers(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<CustomerFilter>,
) -> Result<web::Json<Page<CustomerView>>, Problem> {
    let mut connection = connection(&pool).await?;
    find_customers(&mut connection, &page_query, &filter)
        .await
        .map(web::Json)
}

/// A page of the customers `filter` selects: the list route's answer, and the dashboard's.
pub async fn find_customers(
    connection: &mut AsyncPgConnection,
    page_query: &PageQuery,
    filter: &CustomerFilter,
) -> Result<Page<CustomerView>, Problem> {
    if filter.email.is_none() {
        return find_customers_planned(connection, page_query, filter).await;
    }
    // The api's sessions plan each statement once for any values; a search for part of an
    // address is planned for the part given, so that a rare one uses the trigram index
    // instead of reading every customer in id order.
    connection
        .transaction(async |connection| {
            diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan")
                .execute(connection)
                .await?;
            find_customers_planned(connection, page_query, filter).await
        })
        .await
}

async fn find_customers_planned(
    connection: &mut AsyncPgConnection,
    page_query: &PageQuery,
    filter: &CustomerFilter,
) -> Result<Page<CustomerView>, Problem> {
    let window = window::<i64>(page_query)?;
    let filtered = || {
        let mut query = customer_views::table.into_boxed();
        if let Some(segment_id) = filter.segment_id {
            query = query.filter(customer_views::latest_segment_id.eq(segment_id));
        }
        if let Some(plan_id) = filter.plan_id {
            query = query.filter(customer_views::current_plan_id.eq(plan_id));
        }
        if let Some(country) = &filter.country {
            query = query.filter(customer_views::country.eq(country.to_uppercase()));
        }
        if let Some(from) = filter.signup_from {
            query = query.filter(customer_views::signup_at.ge(from));
        }
        if let Some(before) = filter.signup_before {
            query = query.filter(customer_views::signup_at.lt(before));
        }
        if let Some(email) = &filter.email {
            query = query.filter(customer_views::email.ilike(format!("%{}%", like_escaped(email))));
        }
        query
    };
    let mut rows = filtered();
    if let Some(after) = window.after {
        rows = rows.filter(customer_views::id.gt(after));
    }
    let rows = rows
        .order(customer_views::id)
        .limit(window.fetch())
        .select(view_columns())
        .load::<ViewRow>(connection)
        .await?;
    let total = match page_query.total {
        true => Some(filtered().count().get_result(connection).await?),
        false => None,
    };
    let page = page(rows, &window, total, |(customer, _, _)| customer.id);
    let items = page
        .items
        .into_iter()
        .map(view)
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(Page {
        items,
        next: page.next,
        total: page.total,
    })
}

/// One customer with current plan and latest segment.
#[utoipa::path(
    tag = "customers",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The customer's id")),
    responses((status = 200, description = "The customer", body = CustomerView), GetErrors)
)]
#[get("/customers/{id}")]
pub async fn get_customer(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<CustomerView>, Problem> {
    let mut connection = connection(&pool).await?;
    one_view(&mut connection, id.into_inner())
        .await
        .map(web::Json)
}

/// Adds a customer. The e-mail is stored lower-case; a second customer with the same e-mail
/// (any case) is a 409.
#[utoipa::path(
    tag = "customers",
    security(("api_key" = [])),
    request_body(content = CustomerInsertForm, example = json!({
        "external_id": "crm-1042", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "email_consent": true, "country": "GB", "region": "England",
        "city": "London", "age_band": "35-44", "device": "tv", "acquisition_channel": "referral",
        "signup_at": "2026-01-15T10:00:00Z"
    })),
    responses((status = 201, description = "The customer created", body = CustomerView), WriteErrors)
)]
#[post("/customers")]
pub async fn create_customer(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    JsonBody(form): JsonBody<CustomerInsertForm>,
) -> Result<HttpResponse, Problem> {
    let form = prepare_insert(form)?;
    let mut connection = connection(&pool).await?;
    let customer = diesel::insert_into(customers::table)
        .values(&form)
        .returning(Customer::as_returning())
        .get_result(&mut connection)
        .await?;
    // A customer just created has no subscription and was never scored.
    let view = CustomerView {
        customer,
        current_plan: None,
        latest_segment: None,
    };
    Ok(HttpResponse::Created().json(view))
}

/// Changes a customer: absent fields stay, `null` clears an optional one.
#[utoipa::path(
    tag = "customers",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The customer's id")),
    request_body(content = CustomerUpdateForm, example = json!({"city": "Bergen", "email_consent": false})),
    responses((status = 200, description = "The customer changed", body = CustomerView), WriteErrors)
)]
#[patch("/customers/{id}")]
pub async fn update_customer(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    JsonBody(form): JsonBody<CustomerUpdateForm>,
) -> Result<web::Json<CustomerView>, Problem> {
    let id = id.into_inner();
    let form = prepare_update(form)?;
    let mut connection = connection(&pool).await?;
    // The answer is read from the view either way (an empty change is no UPDATE at all):
    // a customer that does not exist is its 404.
    if form != CustomerUpdateForm::default() {
        diesel::update(customers::table.find(id))
            .set(&form)
            .execute(&mut connection)
            .await?;
    }
    one_view(&mut connection, id).await.map(web::Json)
}

delete_by_id!(
    delete_customer,
    "/customers/{id}",
    "customers",
    customers,
    "Deletes a customer and everything recorded about them (subscriptions, sessions, events, \
     assignments, messages, memberships)."
);

fn no_customer(id: i64) -> Problem {
    Problem::not_found(format!("no customer {id}"))
}

/// A customer with their current plan and latest segment as JSON, from one statement on the
/// `customer_views` view (whose lookups run for the rows returned only).
type ViewRow = (
    Customer,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
);

/// The view's customer columns, in `Customer`'s order, then the plan and the segment.
type ViewColumns = (
    (
        customer_views::id,
        customer_views::external_id,
        customer_views::first_name,
        customer_views::last_name,
        customer_views::email,
        customer_views::email_consent,
        customer_views::country,
        customer_views::region,
        customer_views::city,
        customer_views::age_band,
        customer_views::device,
        customer_views::acquisition_channel,
        customer_views::signup_at,
        customer_views::created_at,
        customer_views::updated_at,
    ),
    customer_views::current_plan,
    customer_views::latest_segment,
);

fn view_columns() -> ViewColumns {
    use customer_views::*;
    (
        (
            id,
            external_id,
            first_name,
            last_name,
            email,
            email_consent,
            country,
            region,
            city,
            age_band,
            device,
            acquisition_channel,
            signup_at,
            created_at,
            updated_at,
        ),
        current_plan,
        latest_segment,
    )
}

fn view((customer, plan, segment): ViewRow) -> Result<CustomerView, Problem> {
    let internal = |error: serde_json::Error| Problem::internal(&error);
    Ok(CustomerView {
        customer,
        current_plan: plan
            .map(serde_json::from_value::<Plan>)
            .transpose()
            .map_err(internal)?,
        latest_segment: segment
            .map(serde_json::from_value::<Segment>)
            .transpose()
            .map_err(internal)?,
    })
}

pub(crate) async fn one_view(
    connection: &mut AsyncPgConnection,
    id: i64,
) -> Result<CustomerView, Problem> {
    let row = customer_views::table
        .find(id)
        .select(view_columns())
        .first::<ViewRow>(connection)
        .await
        .optional()?
        .ok_or_else(|| no_customer(id))?;
    view(row)
}

/// `text` with LIKE's wildcards taken literally.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn prepare_insert(form: CustomerInsertForm) -> Result<CustomerInsertForm, Problem> {
    let form = CustomerInsertForm {
        email: form.email.trim().to_lowercase(),
        country: form.country.map(|country| country.trim().to_uppercase()),
        ..form
    };
    let mut checks = Checks::new();
    checks
        .email("email", &form.email)
        .optional_text("first_name", Some(&form.first_name), NAME_MAX)
        .optional_text("last_name", Some(&form.last_name), NAME_MAX)
        .optional_text("region", form.region.as_deref(), NAME_MAX)
        .optional_text("city", form.city.as_deref(), NAME_MAX)
        .time("signup_at", form.signup_at);
    check_country(&mut checks, form.country.as_deref());
    if let Some(external_id) = &form.external_id {
        checks.required_text("external_id", external_id, NAME_MAX);
    }
    checks.finish()?;
    Ok(form)
}

fn prepare_update(form: CustomerUpdateForm) -> Result<CustomerUpdateForm, Problem> {
    let form = CustomerUpdateForm {
        email: form.email.map(|email| email.trim().to_lowercase()),
        country: form
            .country
            .map(|country| country.map(|country| country.trim().to_uppercase())),
        ..form
    };
    let mut checks = Checks::new();
    if let Some(email) = &form.email {
        checks.email("email", email);
    }
    checks
        .optional_text("first_name", form.first_name.as_deref(), NAME_MAX)
        .optional_text("last_name", form.last_name.as_deref(), NAME_MAX)
        .optional_text("region", form.region.clone().flatten().as_deref(), NAME_MAX)
        .optional_text("city", form.city.clone().flatten().as_deref(), NAME_MAX)
        .time("signup_at", form.signup_at);
    check_country(&mut checks, form.country.clone().flatten().as_deref());
    if let Some(Some(external_id)) = &form.external_id {
        checks.required_text("external_id", external_id, NAME_MAX);
    }
    checks.finish()?;
    Ok(form)
}

fn check_country(checks: &mut Checks, country: Option<&str>) {
    if let Some(country) = country
        && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()))
    {
        checks.fail("country", "must be a two-letter ISO 3166-1 code such as NO");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(like_escaped("a_b%c\\"), "a\\_b\\%c\\\\");
    }

    #[test]
    fn normalises_email_and_country() {
        let form: CustomerInsertForm = serde_json::from_value(serde_json::json!({
            "first_name": "Ada", "last_name": "L", "email": " Ada@Example.COM ",
            "country": "gb"
        }))
        .unwrap();
        let form = prepare_insert(form).unwrap();
        assert_eq!(form.email, "ada@example.com");
        assert_eq!(form.country.as_deref(), Some("GB"));
    }

    #[test]
    fn a_bad_email_and_country_are_named() {
        let form: CustomerInsertForm = serde_json::from_value(serde_json::json!({
            "first_name": "Ada", "last_name": "L", "email": "nobody", "country": "Norway"
        }))
        .unwrap();
        let problem = prepare_insert(form).unwrap_err();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "country"]);
    }
}
