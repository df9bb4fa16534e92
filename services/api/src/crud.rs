//! The routes every resource has in the same shape: create a row, read, change or delete one
//! by id. Written once here; each resource names its table, row and form types, tag, path and
//! the function that checks (and normalises) a form, and brings actix-web's `get`, `post`,
//! `patch` and `delete` into scope (utoipa reads the method from those attributes).

/// `GET {path}`: the row of `$table` with that id, as `$row`; 404 when there is none.
macro_rules! get_by_id {
    ($handler:ident, $path:literal, $tag:literal, $table:ident, $row:ident, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
                                    tag = $tag,
                                    security(("api_key" = [])),
                                    params(("id" = i64, Path, description = "The record's id")),
                                    responses(
                                        (status = 200, description = "The record", body = $row),
                                        service::responses::GetErrors,
                                    )
                                )]
        #[get($path)]
        pub async fn $handler(
            _: service::auth::ReadAccess,
            pool: actix_web::web::Data<models::db::Pool>,
            id: actix_web::web::Path<i64>,
        ) -> Result<actix_web::web::Json<$row>, service::Problem> {
            use diesel::{OptionalExtension as _, QueryDsl as _, SelectableHelper as _};
            use diesel_async::RunQueryDsl as _;
            let id = id.into_inner();
            let mut connection = service::problem::connection(&pool).await?;
            models::schema::$table::table
                .find(id)
                .select($row::as_select())
                .first(&mut connection)
                .await
                .optional()?
                .map(actix_web::web::Json)
                .ok_or_else(|| {
                    service::Problem::not_found(format!("no {} with id {id}", stringify!($table)))
                })
        }
    };
}

/// `DELETE {path}`: deletes the row of `$table` with that id; 404 when there is none, 409 when
/// other rows still refer to it.
macro_rules! delete_by_id {
    ($handler:ident, $path:literal, $tag:literal, $table:ident, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
                                    tag = $tag,
                                    security(("api_key" = [])),
                                    params(("id" = i64, Path, description = "The record's id")),
                                    responses(
                                        (status = 204, description = "Deleted"),
                                        service::responses::DeleteErrors,
                                    )
                                )]
        #[delete($path)]
        pub async fn $handler(
            _: service::auth::AdminAccess,
            pool: actix_web::web::Data<models::db::Pool>,
            id: actix_web::web::Path<i64>,
        ) -> Result<actix_web::HttpResponse, service::Problem> {
            use diesel::QueryDsl as _;
            use diesel_async::RunQueryDsl as _;
            let id = id.into_inner();
            let mut connection = service::problem::connection(&pool).await?;
            let deleted = diesel::delete(models::schema::$table::table.find(id))
                .execute(&mut connection)
                .await?;
            if deleted == 0 {
                return Err(service::Problem::not_found(format!(
                    "no {} with id {id}",
                    stringify!($table)
                )));
            }
            Ok(actix_web::HttpResponse::NoContent().finish())
        }
    };
}

/// `POST {path}`: checks the `$form` with `$prepare` (a `fn($form) -> Result<$form, Problem>`),
/// inserts it and answers 201 with the `$row`.
macro_rules! create_row {
    ($handler:ident, $path:literal, $tag:literal, $table:ident, $row:ident, $form:ident, $prepare:path, $example:tt, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
                            tag = $tag,
                            security(("api_key" = [])),
                            request_body(content = $form, example = json!($example)),
                            responses(
                                (status = 201, description = "The record created", body = $row),
                                service::responses::WriteErrors,
                            )
                        )]
        #[post($path)]
        pub async fn $handler(
            _: service::auth::AdminAccess,
            pool: actix_web::web::Data<models::db::Pool>,
            service::json::JsonBody(form): service::json::JsonBody<$form>,
        ) -> Result<actix_web::HttpResponse, service::Problem> {
            use diesel::SelectableHelper as _;
            use diesel_async::RunQueryDsl as _;
            let form = $prepare(form)?;
            let mut connection = service::problem::connection(&pool).await?;
            let row = diesel::insert_into(models::schema::$table::table)
                .values(&form)
                .returning($row::as_returning())
                .get_result(&mut connection)
                .await?;
            Ok(actix_web::HttpResponse::Created().json(row))
        }
    };
}

/// `PATCH {path}`: checks the `$form` with `$prepare`, sets its present fields on the row of
/// `$table` with that id and answers with the `$row`; 404 when there is none.
macro_rules! update_by_id {
    ($handler:ident, $path:literal, $tag:literal, $table:ident, $row:ident, $form:ident, $prepare:path, $example:tt, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
                            tag = $tag,
                            security(("api_key" = [])),
                            params(("id" = i64, Path, description = "The record's id")),
                            request_body(content = $form, example = json!($example)),
                            responses(
                                (status = 200, description = "The record changed", body = $row),
                                service::responses::WriteErrors,
                            )
                        )]
        #[patch($path)]
        pub async fn $handler(
            _: service::auth::AdminAccess,
            pool: actix_web::web::Data<models::db::Pool>,
            id: actix_web::web::Path<i64>,
            service::json::JsonBody(form): service::json::JsonBody<$form>,
        ) -> Result<actix_web::web::Json<$row>, service::Problem> {
            use diesel::{OptionalExtension as _, QueryDsl as _, SelectableHelper as _};
            use diesel_async::RunQueryDsl as _;
            let id = id.into_inner();
            let form = $prepare(form)?;
            let mut connection = service::problem::connection(&pool).await?;
            let row = models::schema::$table::table.find(id);
            // An empty change is no SQL UPDATE at all (diesel refuses one): answer the row.
            let row = if form == $form::default() {
                row.select($row::as_select())
                    .first(&mut connection)
                    .await
                    .optional()?
            } else {
                diesel::update(row)
                    .set(&form)
                    .returning($row::as_returning())
                    .get_result(&mut connection)
                    .await
                    .optional()?
            };
            row.map(actix_web::web::Json).ok_or_else(|| {
                service::Problem::not_found(format!("no {} with id {id}", stringify!($table)))
            })
        }
    };
}

pub(crate) use {create_row, delete_by_id, get_by_id, update_by_id};
