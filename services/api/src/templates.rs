//! `/api/v1/templates`: reusable e-mail templates.

use actix_web::{delete, get, patch, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::enums::TemplateKind;
use models::messaging::{MessageTemplate, MessageTemplateInsertForm, MessageTemplateUpdateForm};
use models::page::{Page, PageQuery};
use models::schema::message_templates;
use serde::Deserialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::{BODY_MAX, Checks, NAME_MAX};
use utoipa::IntoParams;

use crate::crud::{create_row, delete_by_id, get_by_id, update_by_id};
use crate::paging::{load_page, window};

/// Filters of the template list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateFilter {
    /// Only templates of this kind.
    pub kind: Option<TemplateKind>,
}

/// Templates by id.
#[utoipa::path(
    tag = "templates",
    security(("api_key" = [])),
    params(PageQuery, TemplateFilter),
    responses((status = 200, description = "A page of templates", body = Page<MessageTemplate>), ListErrors)
)]
#[get("/templates")]
pub async fn list_templates(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<TemplateFilter>,
) -> Result<web::Json<Page<MessageTemplate>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = message_templates::table.into_boxed();
        if let Some(kind) = filter.kind {
            query = query.filter(message_templates::kind.eq(kind));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        message_templates::id,
        MessageTemplate,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_template,
    "/templates/{id}",
    "templates",
    message_templates,
    MessageTemplate,
    "One template."
);

create_row!(
    create_template,
    "/templates",
    "templates",
    message_templates,
    MessageTemplate,
    MessageTemplateInsertForm,
    prepare_insert,
    {"name": "Basic for $10", "kind": "plan_offer", "subject": "Basic is $10 this month, {{first_name}}",
     "body_text": "Hi {{first_name}}, switch to Basic: {{link:offer}}",
     "body_html": "<p>Hi {{first_name}}, <a href=\"{{link:offer}}\">switch to Basic</a></p>",
     "links": {"offer": "https://example.com/offer/basic"}},
    "Adds a template."
);

update_by_id!(
    update_template,
    "/templates/{id}",
    "templates",
    message_templates,
    MessageTemplate,
    MessageTemplateUpdateForm,
    prepare_update,
    {"subject": "Last chance: Basic for $10"},
    "Changes a template; absent fields stay."
);

delete_by_id!(
    delete_template,
    "/templates/{id}",
    "templates",
    message_templates,
    "Deletes a template (variants made from it keep their own copy of the text)."
);

fn prepare_insert(form: MessageTemplateInsertForm) -> Result<MessageTemplateInsertForm, Problem> {
    check_message(
        Some(&form.name),
        Some(&form.subject),
        Some(&form.body_text),
        Some(&form.body_html),
        form.links.as_ref(),
    )?;
    Ok(form)
}

fn prepare_update(form: MessageTemplateUpdateForm) -> Result<MessageTemplateUpdateForm, Problem> {
    check_message(
        form.name.as_deref(),
        form.subject.as_deref(),
        form.body_text.as_deref(),
        form.body_html.as_deref(),
        form.links.as_ref(),
    )?;
    Ok(form)
}

/// A template's (or e-mail's) fields: lengths, link targets, placeholders and link names.
pub fn check_message(
    name: Option<&str>,
    subject: Option<&str>,
    body_text: Option<&str>,
    body_html: Option<&str>,
    links: Option<&serde_json::Value>,
) -> Result<(), Problem> {
    let mut checks = Checks::new();
    if let Some(name) = name {
        checks.required_text("name", name, NAME_MAX);
    }
    if let Some(subject) = subject {
        checks.required_text("subject", subject, NAME_MAX);
    }
    checks
        .optional_text("body_text", body_text, BODY_MAX)
        .optional_text("body_html", body_html, BODY_MAX);
    crate::links::check(&mut checks, "links", links);
    crate::links::check_texts(
        &mut checks,
        &[
            ("subject".to_owned(), subject),
            ("body_text".to_owned(), body_text),
            ("body_html".to_owned(), body_html),
        ],
        links,
    );
    checks.finish()
}
