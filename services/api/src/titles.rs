//! `/api/v1/titles`: the catalogue of films and series.

use actix_web::{delete, get, patch, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use models::catalogue::{Title, TitleInsertForm, TitleUpdateForm};
use models::page::{Page, PageQuery};
use models::schema::titles;
use serde::Deserialize;
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::{Checks, NAME_MAX};
use utoipa::IntoParams;

use crate::crud::{create_row, delete_by_id, get_by_id, update_by_id};
use crate::paging::{load_page, window};

/// Filters of the title list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TitleFilter {
    /// Only titles of this genre.
    #[param(example = "Drama")]
    pub genre: Option<String>,
}

/// Titles by id.
#[utoipa::path(
    tag = "titles",
    security(("api_key" = [])),
    params(PageQuery, TitleFilter),
    responses((status = 200, description = "A page of titles", body = Page<Title>), ListErrors)
)]
#[get("/titles")]
pub async fn list_titles(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
    QueryParams(filter): QueryParams<TitleFilter>,
) -> Result<web::Json<Page<Title>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || {
        let mut query = titles::table.into_boxed();
        if let Some(genre) = &filter.genre {
            query = query.filter(titles::genre.eq(genre.clone()));
        }
        query
    };
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        titles::id,
        Title,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_title,
    "/titles/{id}",
    "titles",
    titles,
    Title,
    "One title."
);

create_row!(
    create_title,
    "/titles",
    "titles",
    titles,
    Title,
    TitleInsertForm,
    prepare_insert,
    {"name": "The Long Night", "genre": "Drama", "release_year": 2024,
     "duration_minutes": 118, "rating": 7.9, "external_id": "tt0001"},
    "Adds a title."
);

update_by_id!(
    update_title,
    "/titles/{id}",
    "titles",
    titles,
    Title,
    TitleUpdateForm,
    prepare_update,
    {"rating": 8.1},
    "Changes a title: absent fields stay, `null` clears an optional one."
);

delete_by_id!(
    delete_title,
    "/titles/{id}",
    "titles",
    titles,
    "Deletes a title nobody has watched (409 otherwise)."
);

fn prepare_insert(form: TitleInsertForm) -> Result<TitleInsertForm, Problem> {
    check(
        Some(&form.name),
        Some(&form.genre),
        Some(form.release_year),
        Some(form.duration_minutes),
        form.rating,
        form.external_id.as_deref(),
    )?;
    Ok(form)
}

fn prepare_update(form: TitleUpdateForm) -> Result<TitleUpdateForm, Problem> {
    check(
        form.name.as_deref(),
        form.genre.as_deref(),
        form.release_year,
        form.duration_minutes,
        form.rating.flatten(),
        form.external_id.as_ref().and_then(Option::as_deref),
    )?;
    Ok(form)
}

fn check(
    name: Option<&str>,
    genre: Option<&str>,
    release_year: Option<i32>,
    duration_minutes: Option<i32>,
    rating: Option<f64>,
    external_id: Option<&str>,
) -> Result<(), Problem> {
    let mut checks = Checks::new();
    if let Some(name) = name {
        checks.required_text("name", name, NAME_MAX);
    }
    if let Some(genre) = genre {
        checks.required_text("genre", genre, NAME_MAX);
    }
    if let Some(year) = release_year {
        checks.range("release_year", year, 1870, 2200);
    }
    if let Some(minutes) = duration_minutes {
        checks.range("duration_minutes", minutes, 1, 100_000);
    }
    if let Some(rating) = rating {
        checks.range("rating", rating, 0.0, 10.0);
    }
    if let Some(external_id) = external_id {
        checks.required_text("external_id", external_id, NAME_MAX);
    }
    checks.finish()
}
