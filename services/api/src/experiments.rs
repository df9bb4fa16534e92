//! `/api/v1/experiments`: experiments and their variants. Designed while `draft`: only then
//! may they be changed or deleted; starting, pausing and deciding are the lifecycle routes.

use std::collections::HashSet;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, SelectableHelper as _,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use models::enums::{ExperimentStatus, Metric};
use models::experiments::{
    Experiment, ExperimentInsertForm, ExperimentUpdateForm, ExperimentView, Variant,
    VariantInsertForm, VariantUpdateForm,
};
use models::page::{Page, PageQuery};
use models::schema::{experiments, variants};
use serde::Deserialize;
use service::Problem;
use service::auth::{AdminAccess, ReadAccess};
use service::json::JsonBody;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::{DeleteErrors, GetErrors, ListErrors, WriteErrors};
use service::validate::{BODY_MAX, Checks, NAME_MAX};
use utoipa::IntoParams;

use crate::paging::{load_page, window};

/// Most variants in one experiment.
const MAX_VARIANTS: usize = 20;

/// Filters of the experiment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExperimentFilter {
    pub status: Option<ExperimentStatus>,
    pub segment_id: Option<i64>,
}

/// Experiments by id (without their variants; read one for those).
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(PageQuery, ExperimentFilter),
    responses((status = 200, description = "A page of experiments", body = Page<Experiment>), ListErrors)
)]
#[get("/experiments")]
pub async fn list_experiments(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<ExperimentFilter>,
) -> Result<web::Json<Page<Experiment>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = experiments::table.into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(experiments::status.eq(status));
        }
        if let Some(segment_id) = filter.segment_id {
            query = query.filter(experiments::segment_id.eq(segment_id));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        experiments::id,
        Experiment,
        id,
        window,
        page_query.total
    )))
}

/// One experiment with its variants.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses((status = 200, description = "The experiment", body = ExperimentView), GetErrors)
)]
#[get("/experiments/{id}")]
pub async fn get_experiment(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<ExperimentView>, Problem> {
    let mut connection = connection(&pool).await?;
    view(&mut connection, id.into_inner()).await.map(web::Json)
}

/// Designs an experiment, with its variants, as a `draft`.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    request_body(content = ExperimentInsertForm, example = json!({
        "name": "Basic for $10 to Vulnerable Customers",
        "hypothesis": "A $10 Basic offer wins back vulnerable customers",
        "goal_metric": "conversion", "guardrail_metrics": ["open"], "segment_id": 2,
        "holdout_fraction": 0.1, "attribution_window_days": 7, "alpha": 0.05,
        "planned_sample_size": 4000,
        "variants": [
            {"key": "control", "name": "Plain reminder", "is_control": true,
             "subject": "We miss you, {{first_name}}", "body_text": "Come back: {{link:home}}",
             "body_html": "<p>Come back: <a href=\"{{link:home}}\">home</a></p>",
             "links": {"home": "https://example.com/"}},
            {"key": "offer", "name": "Basic for $10",
             "subject": "Basic for $10, {{first_name}}", "body_text": "Switch: {{link:offer}}",
             "body_html": "<p><a href=\"{{link:offer}}\">Switch to Basic for $10</a></p>",
             "links": {"offer": "https://example.com/offer/basic"}}
        ]
    })),
    responses((status = 201, description = "The experiment created", body = ExperimentView), WriteErrors)
)]
#[post("/experiments")]
pub async fn create_experiment(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    JsonBody(form): JsonBody<ExperimentInsertForm>,
) -> Result<HttpResponse, Problem> {
    let mut checks = Checks::new();
    check_experiment(&mut checks, &ExperimentFields::of_insert(&form));
    check_variants(&mut checks, &form.variants);
    checks.finish()?;
    let mut connection = connection(&pool).await?;
    let created = connection
        .transaction(async |connection| {
            let experiment = diesel::insert_into(experiments::table)
                .values(&form)
                .returning(Experiment::as_returning())
                .get_result(connection)
                .await?;
            for variant in &form.variants {
                insert_variant(connection, experiment.id, variant).await?;
            }
            view(connection, experiment.id).await
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Changes a draft; absent fields stay, `null` clears an optional one. 409 once it has started.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    request_body(content = ExperimentUpdateForm, example = json!({"planned_sample_size": 6000, "alpha": 0.01})),
    responses((status = 200, description = "The experiment changed", body = ExperimentView), WriteErrors)
)]
#[patch("/experiments/{id}")]
pub async fn update_experiment(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    JsonBody(form): JsonBody<ExperimentUpdateForm>,
) -> Result<web::Json<ExperimentView>, Problem> {
    let id = id.into_inner();
    check_experiment(&mut Checks::new(), &ExperimentFields::of_update(&form)).finish()?;
    let mut connection = connection(&pool).await?;
    let changed = connection
        .transaction(async |connection| {
            lock_draft(connection, id).await?;
            if form != ExperimentUpdateForm::default() {
                diesel::update(experiments::table.find(id))
                    .set(&form)
                    .execute(connection)
                    .await?;
            }
            view(connection, id).await
        })
        .await?;
    Ok(web::Json(changed))
}

/// Deletes a draft with its variants; 409 once it has started (its data is evidence).
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses((status = 204, description = "Deleted"), DeleteErrors)
)]
#[delete("/experiments/{id}")]
pub async fn delete_experiment(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let mut connection = connection(&pool).await?;
    connection
        .transaction(async |connection| {
            lock_draft(connection, id).await?;
            diesel::delete(experiments::table.find(id))
                .execute(connection)
                .await?;
            Ok::<_, Problem>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a variant to a draft.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    request_body(content = VariantInsertForm, example = json!({
        "key": "offer-b", "name": "Basic for $10, urgent", "weight": 1.0,
        "subject": "48 hours: Basic for $10", "body_text": "Switch: {{link:offer}}",
        "body_html": "<p><a href=\"{{link:offer}}\">Switch now</a></p>",
        "links": {"offer": "https://example.com/offer/basic"}
    })),
    responses((status = 201, description = "The variant created", body = Variant), WriteErrors)
)]
#[post("/experiments/{id}/variants")]
pub async fn create_variant(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
    JsonBody(form): JsonBody<VariantInsertForm>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    check_variants(&mut Checks::new(), std::slice::from_ref(&form)).finish()?;
    let mut connection = connection(&pool).await?;
    let variant = connection
        .transaction(async |connection| {
            lock_draft(connection, id).await?;
            let existing: i64 = variants::table
                .filter(variants::experiment_id.eq(id))
                .count()
                .get_result(connection)
                .await?;
            if existing >= MAX_VARIANTS as i64 {
                return Err(Problem::conflict(format!(
                    "experiment {id} has {MAX_VARIANTS} variants, the most it may have"
                )));
            }
            insert_variant(connection, id, &form).await
        })
        .await?;
    Ok(HttpResponse::Created().json(variant))
}

/// Changes a variant of a draft; absent fields stay.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(
        ("id" = i64, Path, description = "The experiment's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body(content = VariantUpdateForm, example = json!({"weight": 2.0})),
    responses((status = 200, description = "The variant changed", body = Variant), WriteErrors)
)]
#[patch("/experiments/{id}/variants/{variant_id}")]
pub async fn update_variant(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    path: web::Path<(i64, i64)>,
    JsonBody(form): JsonBody<VariantUpdateForm>,
) -> Result<web::Json<Variant>, Problem> {
    let (id, variant_id) = path.into_inner();
    check_variant_update(&form)?;
    let mut connection = connection(&pool).await?;
    let variant = connection
        .transaction(async |connection| {
            lock_draft(connection, id).await?;
            let row = variants::table
                .find(variant_id)
                .filter(variants::experiment_id.eq(id));
            let variant = if form == VariantUpdateForm::default() {
                row.select(Variant::as_select())
                    .first(connection)
                    .await
                    .optional()?
            } else {
                diesel::update(row)
                    .set(&form)
                    .returning(Variant::as_returning())
                    .get_result(connection)
                    .await
                    .optional()?
            };
            let variant = variant.ok_or_else(|| no_variant(id, variant_id))?;
            // The texts and links as they now stand together: a patch of one side alone must
            // not leave a {{link:NAME}} naming no link (the start would refuse it later).
            let mut checks = Checks::new();
            crate::links::check_texts(
                &mut checks,
                &[
                    ("subject".to_owned(), Some(variant.subject.as_str())),
                    ("body_text".to_owned(), Some(variant.body_text.as_str())),
                    ("body_html".to_owned(), Some(variant.body_html.as_str())),
                ],
                Some(&variant.links),
            );
            checks.finish()?;
            Ok::<_, Problem>(variant)
        })
        .await?;
    Ok(web::Json(variant))
}

/// Removes a variant from a draft.
#[utoipa::path(
    tag = "experiments",
    security(("api_key" = [])),
    params(
        ("id" = i64, Path, description = "The experiment's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    responses((status = 204, description = "Deleted"), DeleteErrors)
)]
#[delete("/experiments/{id}/variants/{variant_id}")]
pub async fn delete_variant(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Problem> {
    let (id, variant_id) = path.into_inner();
    let mut connection = connection(&pool).await?;
    connection
        .transaction(async |connection| {
            lock_draft(connection, id).await?;
            let deleted = diesel::delete(
                variants::table
                    .find(variant_id)
                    .filter(variants::experiment_id.eq(id)),
            )
            .execute(connection)
            .await?;
            match deleted {
                0 => Err(no_variant(id, variant_id)),
                _ => Ok(()),
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Locks experiment `id` for the transaction: 404 when there is none, 409 unless a draft.
async fn lock_draft(connection: &mut AsyncPgConnection, id: i64) -> Result<(), Problem> {
    let status = models::experiments::lock(connection, id)
        .await?
        .map(|experiment| experiment.status);
    match status {
        None => Err(no_experiment(id)),
        Some(ExperimentStatus::Draft) => Ok(()),
        Some(status) => Err(Problem::conflict(format!(
            "experiment {id} is {status}; only a draft can be changed"
        ))),
    }
}

async fn insert_variant(
    connection: &mut AsyncPgConnection,
    experiment_id: i64,
    form: &VariantInsertForm,
) -> Result<Variant, Problem> {
    Ok(diesel::insert_into(variants::table)
        .values((variants::experiment_id.eq(experiment_id), form))
        .returning(Variant::as_returning())
        .get_result(connection)
        .await?)
}

pub(crate) async fn view(
    connection: &mut AsyncPgConnection,
    id: i64,
) -> Result<ExperimentView, Problem> {
    let experiment = experiments::table
        .find(id)
        .select(Experiment::as_select())
        .first(connection)
        .await
        .optional()?
        .ok_or_else(|| no_experiment(id))?;
    let variants = variants::table
        .filter(variants::experiment_id.eq(id))
        .order(variants::id)
        .select(Variant::as_select())
        .load(connection)
        .await?;
    Ok(ExperimentView {
        experiment,
        variants,
    })
}

fn no_experiment(id: i64) -> Problem {
    Problem::not_found(format!("no experiment {id}"))
}

fn no_variant(id: i64, variant_id: i64) -> Problem {
    Problem::not_found(format!("experiment {id} has no variant {variant_id}"))
}

/// The experiment fields a create and an update share, for one set of checks.
struct ExperimentFields<'a> {
    name: Option<&'a str>,
    hypothesis: Option<&'a str>,
    guardrail_metrics: Option<&'a serde_json::Value>,
    audience_filter: Option<&'a serde_json::Value>,
    holdout_fraction: Option<f64>,
    test_fraction: Option<f64>,
    winner_wait_hours: Option<i32>,
    attribution_window_days: Option<i32>,
    alpha: Option<f64>,
    planned_sample_size: Option<i64>,
    salt: Option<&'a str>,
}

impl<'a> ExperimentFields<'a> {
    fn of_insert(form: &'a ExperimentInsertForm) -> ExperimentFields<'a> {
        ExperimentFields {
            name: Some(&form.name),
            hypothesis: form.hypothesis.as_deref(),
            guardrail_metrics: form.guardrail_metrics.as_ref(),
            audience_filter: form.audience_filter.as_ref(),
            holdout_fraction: form.holdout_fraction,
            test_fraction: form.test_fraction,
            winner_wait_hours: form.winner_wait_hours,
            attribution_window_days: form.attribution_window_days,
            alpha: form.alpha,
            planned_sample_size: form.planned_sample_size,
            salt: form.salt.as_deref(),
        }
    }

    fn of_update(form: &'a ExperimentUpdateForm) -> ExperimentFields<'a> {
        ExperimentFields {
            name: form.name.as_deref(),
            hypothesis: form.hypothesis.as_deref(),
            guardrail_metrics: form.guardrail_metrics.as_ref(),
            audience_filter: form.audience_filter.as_ref().and_then(Option::as_ref),
            holdout_fraction: form.holdout_fraction,
            test_fraction: form.test_fraction.flatten(),
            winner_wait_hours: form.winner_wait_hours.flatten(),
            attribution_window_days: form.attribution_window_days,
            alpha: form.alpha,
            planned_sample_size: form.planned_sample_size.flatten(),
            salt: None,
        }
    }
}

fn check_experiment<'c>(checks: &'c mut Checks, fields: &ExperimentFields) -> &'c mut Checks {
    if let Some(name) = fields.name {
        checks.required_text("name", name, NAME_MAX);
    }
    checks.optional_text("hypothesis", fields.hypothesis, BODY_MAX);
    if let Some(guardrails) = fields.guardrail_metrics
        && serde_json::from_value::<Vec<Metric>>(guardrails.clone()).is_err()
    {
        checks.fail(
            "guardrail_metrics",
            "must be a list of metrics: open, click, conversion, revenue",
        );
    }
    if let Some(filter) = fields.audience_filter
        && let Err(error) =
            serde_json::from_value::<models::audience::AudienceFilter>(filter.clone())
    {
        checks.fail(
            "audience_filter",
            format!("must be an audience filter: {error}"),
        );
    }
    if let Some(salt) = fields.salt
        && !(16..=64).contains(&salt.len())
    {
        checks.fail("salt", "must be 16 to 64 characters");
    }
    if let Some(holdout) = fields.holdout_fraction
        && !(0.0..1.0).contains(&holdout)
    {
        checks.fail("holdout_fraction", "must be at least 0 and below 1");
    }
    if let Some(test) = fields.test_fraction
        && !(test > 0.0 && test <= 1.0)
    {
        checks.fail("test_fraction", "must be above 0 and at most 1");
    }
    if let Some(hours) = fields.winner_wait_hours {
        checks.range("winner_wait_hours", hours, 1, 24 * 90);
    }
    if let Some(days) = fields.attribution_window_days {
        checks.range("attribution_window_days", days, 1, 365);
    }
    if let Some(alpha) = fields.alpha
        && !(models::stats::MIN_ALPHA..0.5).contains(&alpha)
    {
        checks.fail(
            "alpha",
            format!(
                "must be at least {} and below 0.5",
                models::stats::MIN_ALPHA
            ),
        );
    }
    if let Some(size) = fields.planned_sample_size {
        checks.range("planned_sample_size", size, 1, 1_000_000_000);
    }
    checks
}

fn check_variants<'c>(checks: &'c mut Checks, variants: &[VariantInsertForm]) -> &'c mut Checks {
    if variants.len() > MAX_VARIANTS {
        checks.fail("variants", format!("at most {MAX_VARIANTS} variants"));
    }
    let mut keys = HashSet::new();
    let controls = variants
        .iter()
        .filter(|variant| variant.is_control == Some(true))
        .count();
    if controls > 1 {
        checks.fail("variants", "at most one variant is the control");
    }
    for (index, variant) in variants.iter().enumerate() {
        let field = |name: &str| format!("variants[{index}].{name}");
        if !is_variant_key(&variant.key) {
            checks.fail(field("key"), "must be 1 to 32 of A-Z, a-z, 0-9, _ and -");
        }
        if !keys.insert(variant.key.as_str()) {
            checks.fail(field("key"), "is used by another variant");
        }
        checks
            .optional_text(&field("name"), variant.name.as_deref(), NAME_MAX)
            .required_text(&field("subject"), &variant.subject, NAME_MAX)
            .optional_text(&field("body_text"), Some(&variant.body_text), BODY_MAX)
            .optional_text(&field("body_html"), Some(&variant.body_html), BODY_MAX);
        check_weight(checks, &field("weight"), variant.weight);
        crate::links::check(checks, &field("links"), variant.links.as_ref());
        crate::links::check_texts(
            checks,
            &[
                (field("subject"), Some(&variant.subject)),
                (field("body_text"), Some(&variant.body_text)),
                (field("body_html"), Some(&variant.body_html)),
            ],
            Some(variant.links.as_ref().unwrap_or(&serde_json::json!({}))),
        );
    }
    checks
}

fn check_variant_update(form: &VariantUpdateForm) -> Result<(), Problem> {
    let mut checks = Checks::new();
    checks
        .optional_text("name", form.name.as_deref(), NAME_MAX)
        .optional_text("body_text", form.body_text.as_deref(), BODY_MAX)
        .optional_text("body_html", form.body_html.as_deref(), BODY_MAX);
    if let Some(subject) = &form.subject {
        checks.required_text("subject", subject, NAME_MAX);
    }
    check_weight(&mut checks, "weight", form.weight);
    crate::links::check(&mut checks, "links", form.links.as_ref());
    crate::links::check_texts(
        &mut checks,
        &[
            ("subject".to_owned(), form.subject.as_deref()),
            ("body_text".to_owned(), form.body_text.as_deref()),
            ("body_html".to_owned(), form.body_html.as_deref()),
        ],
        form.links.as_ref(),
    );
    checks.finish()
}

fn check_weight(checks: &mut Checks, field: &str, weight: Option<f64>) {
    if let Some(weight) = weight
        && !(weight > 0.0 && weight <= 1000.0)
    {
        checks.fail(field, "must be above 0 and at most 1000");
    }
}

fn is_variant_key(key: &str) -> bool {
    (1..=32).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(key: &str, control: bool) -> VariantInsertForm {
        serde_json::from_value(serde_json::json!({
            "key": key, "is_control": control, "subject": "Hi", "body_text": "", "body_html": ""
        }))
        .unwrap()
    }

    #[test]
    fn variant_keys_must_be_unique_and_well_formed() {
        let problem = check_variants(
            &mut Checks::new(),
            &[
                variant("a", true),
                variant("a", false),
                variant("b c", false),
            ],
        )
        .finish()
        .unwrap_err();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["variants[1].key", "variants[2].key"]);
    }

    #[test]
    fn one_control_at_most() {
        let problem = check_variants(
            &mut Checks::new(),
            &[variant("a", true), variant("b", true)],
        )
        .finish()
        .unwrap_err();
        assert_eq!(problem.errors[0].field, "variants");
    }
}
