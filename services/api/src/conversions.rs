//! `/api/v1/conversions`: purchases, subscriptions and upgrades, with their revenue.

use actix_web::{delete, get, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::activity::{Conversion, ConversionInsertForm};
use models::enums::ConversionKind;
use models::page::{Page, PageQuery};
use models::schema::conversions;
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

/// Largest revenue of one conversion, in cents: above is a typo.
const MAX_REVENUE_CENTS: i64 = 100_000_000;

/// Filters of the conversion list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversionFilter {
    pub customer_id: Option<i64>,
    pub experiment_id: Option<i64>,
    pub kind: Option<ConversionKind>,
}

/// Conversions by id.
#[utoipa::path(
    tag = "conversions",
    security(("api_key" = [])),
    params(PageQuery, ConversionFilter),
    responses((status = 200, description = "A page of conversions", body = Page<Conversion>), ListErrors)
)]
#[get("/conversions")]
pub async fn list_conversions(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<ConversionFilter>,
) -> Result<web::Json<Page<Conversion>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = conversions::table.into_boxed();
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(conversions::customer_id.eq(customer_id));
        }
        if let Some(experiment_id) = filter.experiment_id {
            query = query.filter(conversions::experiment_id.eq(experiment_id));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(conversions::kind.eq(kind));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        conversions::id,
        Conversion,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_conversion,
    "/conversions/{id}",
    "conversions",
    conversions,
    Conversion,
    "One conversion."
);

create_row!(
    create_conversion,
    "/conversions",
    "conversions",
    conversions,
    Conversion,
    ConversionInsertForm,
    prepare_insert,
    {"customer_id": 1, "kind": "upgrade", "revenue_cents": 1000,
     "occurred_at": "2026-03-02T09:00:00Z", "experiment_id": null, "message_id": null,
     "source": "api"},
    "Records a conversion; the same customer, time and kind twice is a 409."
);

delete_by_id!(
    delete_conversion,
    "/conversions/{id}",
    "conversions",
    conversions,
    "Deletes a conversion."
);

fn prepare_insert(form: ConversionInsertForm) -> Result<ConversionInsertForm, Problem> {
    Checks::new()
        .time("occurred_at", Some(form.occurred_at))
        .range("revenue_cents", form.revenue_cents, 0, MAX_REVENUE_CENTS)
        .finish()?;
    Ok(form)
}
