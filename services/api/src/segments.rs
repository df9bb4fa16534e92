//! `/api/v1/segments`: the segments customers are scored into.

use actix_web::{delete, get, patch, post, web};
use diesel::QueryDsl as _;
use models::page::{Page, PageQuery};
use models::schema::segments;
use models::segmentation::{Segment, SegmentInsertForm, SegmentUpdateForm};
use service::Problem;
use service::auth::ReadAccess;
use service::problem::connection;
use service::query::QueryParams;
use service::responses::ListErrors;
use service::validate::{BODY_MAX, Checks, NAME_MAX};

use crate::crud::{create_row, delete_by_id, get_by_id, update_by_id};
use crate::paging::{load_page, window};

/// Segments by id.
#[utoipa::path(
    tag = "segments",
    security(("api_key" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of segments", body = Page<Segment>), ListErrors)
)]
#[get("/segments")]
pub async fn list_segments(
    _: ReadAccess,
    pool: web::Data<models::db::Pool>,
    QueryParams(page_query): QueryParams<PageQuery>,
) -> Result<web::Json<Page<Segment>>, Problem> {
    let window = window::<i64>(&page_query)?;
    let filtered = || segments::table.into_boxed();
    let mut connection = connection(&pool).await?;
    Ok(web::Json(load_page!(
        &mut connection,
        filtered,
        segments::id,
        Segment,
        id,
        window,
        page_query.total
    )))
}

get_by_id!(
    get_segment,
    "/segments/{id}",
    "segments",
    segments,
    Segment,
    "One segment."
);

create_row!(
    create_segment,
    "/segments",
    "segments",
    segments,
    Segment,
    SegmentInsertForm,
    prepare_insert,
    {"name": "Weekend Bingers", "description": "Watch mostly on weekends", "sort_order": 5},
    "Adds a segment; its name and sort order must be new (409 otherwise)."
);

update_by_id!(
    update_segment,
    "/segments/{id}",
    "segments",
    segments,
    Segment,
    SegmentUpdateForm,
    prepare_update,
    {"description": "Engaged and paying"},
    "Changes a segment; absent fields stay."
);

delete_by_id!(
    delete_segment,
    "/segments/{id}",
    "segments",
    segments,
    "Deletes a segment no membership or experiment refers to (409 otherwise)."
);

fn prepare_insert(form: SegmentInsertForm) -> Result<SegmentInsertForm, Problem> {
    check(Some(&form.name), form.description.as_deref())?;
    Ok(form)
}

fn prepare_update(form: SegmentUpdateForm) -> Result<SegmentUpdateForm, Problem> {
    check(form.name.as_deref(), form.description.as_deref())?;
    Ok(form)
}

fn check(name: Option<&str>, description: Option<&str>) -> Result<(), Problem> {
    let mut checks = Checks::new();
    if let Some(name) = name {
        checks.required_text("name", name, NAME_MAX);
    }
    checks.optional_text("description", description, BODY_MAX);
    checks.finish()
}

/// Every segment's id and name, from least to most valuable: the choices a form offers.
pub async fn segment_names(
    connection: &mut diesel_async::AsyncPgConnection,
) -> diesel::QueryResult<Vec<(i64, String)>> {
    use diesel_async::RunQueryDsl as _;
    segments::table
        .order(segments::sort_order)
        .select((segments::id, segments::name))
        .load(connection)
        .await
}
