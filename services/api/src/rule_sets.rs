//! `/api/v1/segmentation-rule-sets`: the thresholds segmentation applies, as data. A rule set's
//! rules are checked against its scheme and its segments must exist, so a run never meets a
//! rule it cannot apply.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, SelectableHelper as _,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::SegmentationScheme;
use models::page::{Page, PageQuery};
use models::schema::{segmentation_rule_sets, segments};
use models::segmentation::{
    SegmentationRuleSet, SegmentationRuleSetInsertForm, SegmentationRuleSetUpdateForm,
};
use models::segmentation_rules::Rules;
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{ListErrors, WriteErrors};
use service::validate::{Checks, NAME_MAX};
use service::{FieldError, Problem};

use crate::crud::{delete_by_id, get_by_id};
use crate::paging::{load_page, window};

/// Rule sets by id.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of rule sets", body = Page<SegmentationRuleSet>), ListErrors)
)]
#[get("/segmentation-rule-sets")]
pub async fn list_rule_sets(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<web::Json<Page<SegmentationRuleSet>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || segmentation_rule_sets::table.into_boxed();
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        segmentation_rule_sets::id,
        SegmentationRuleSet,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_rule_set,
    "/segmentation-rule-sets/{id}",
    "segmentation",
    segmentation_rule_sets,
    SegmentationRuleSet,
    "One rule set."
);

delete_by_id!(
    delete_rule_set,
    "/segmentation-rule-sets/{id}",
    "segmentation",
    segmentation_rule_sets,
    "Deletes a rule set; its runs keep their copy of the rules."
);

/// Adds a rule set of a scheme (`ClassicRules` or `QuantileRules`); its name must be new.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    request_body = SegmentationRuleSetInsertForm,
    responses((status = 201, description = "The rule set", body = SegmentationRuleSet), WriteErrors)
)]
#[post("/segmentation-rule-sets")]
pub async fn create_rule_set(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    JsonBody(form): JsonBody<SegmentationRuleSetInsertForm>,
) -> Result<HttpResponse, Problem> {
    Checks::new()
        .required_text("name", &form.name, NAME_MAX)
        .finish()?;
    let mut connection = connection(&pool).await?;
    check_rules(&mut connection, form.scheme, &form.rules).await?;
    let created = diesel::insert_into(segmentation_rule_sets::table)
        .values(&form)
        .returning(SegmentationRuleSet::as_returning())
        .get_result(&mut connection)
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Changes a rule set's name or rules (the whole rules of its scheme); absent fields stay.
#[utoipa::path(
    tag = "segmentation",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The record's id")),
    request_body = SegmentationRuleSetUpdateForm,
    responses((status = 200, description = "The rule set changed", body = SegmentationRuleSet), WriteErrors)
)]
#[patch("/segmentation-rule-sets/{id}")]
pub async fn update_rule_set(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    JsonBody(form): JsonBody<SegmentationRuleSetUpdateForm>,
) -> Result<web::Json<SegmentationRuleSet>, Problem> {
    let id = id.into_inner();
    if let Some(name) = &form.name {
        Checks::new()
            .required_text("name", name, NAME_MAX)
            .finish()?;
    }
    let mut connection = connection(&pool).await?;
    let current = segmentation_rule_sets::table
        .find(id)
        .select(SegmentationRuleSet::as_select())
        .first(&mut connection)
        .await
        .optional()?
        .ok_or_else(|| Problem::not_found(format!("no segmentation_rule_sets with id {id}")))?;
    if let Some(rules) = &form.rules {
        check_rules(&mut connection, current.scheme, rules).await?;
    }
    if form == SegmentationRuleSetUpdateForm::default() {
        return Ok(web::Json(current));
    }
    let updated = diesel::update(segmentation_rule_sets::table.find(id))
        .set(&form)
        .returning(SegmentationRuleSet::as_returning())
        .get_result(&mut connection)
        .await?;
    Ok(web::Json(updated))
}

/// The rules read for `scheme`, with every segment they name existing; else a 422 naming the
/// field under `rules`.
async fn check_rules(
    connection: &mut AsyncPgConnection,
    scheme: SegmentationScheme,
    rules: &serde_json::Value,
) -> Result<(), Problem> {
    let parsed = Rules::parse(scheme, rules).map_err(|error| {
        let field = if error.field.is_empty() || error.field == "." {
            "rules".to_owned()
        } else {
            format!("rules.{}", error.field)
        };
        Problem::validation(vec![FieldError::new(field, error.message)])
    })?;
    let named = parsed.segments().segment_ids();
    let known: Vec<i64> = segments::table
        .filter(segments::id.eq_any(&named))
        .select(segments::id)
        .load(connection)
        .await?;
    if let Some(missing) = named.iter().find(|id| !known.contains(id)) {
        return Err(Problem::validation(vec![FieldError::new(
            "rules.segments",
            format!("names segment {missing}, which does not exist"),
        )]));
    }
    Ok(())
}
