//! `/api/v1/api-keys` and `api keys`: managed API keys, created (the key shown once), listed
//! and revoked. A revoked key stops working at the next request: keys are checked against the
//! database on every request.

use actix_web::{HttpResponse, delete, get, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::api_keys::{ApiKey, ApiKeyCreateRequest, ApiKeyCreated};
use models::schema::api_keys;
use service::auth::{AdminAccess, generate_api_key, sha256};
use service::json::JsonBody;
use service::problem::connection;
use service::responses::{DeleteErrors, GetErrors, WriteErrors};
use service::{FieldError, Problem};

/// Characters of a key kept to tell keys apart.
const PREFIX_LENGTH: usize = 9;

pub async fn create(
    connection: &mut AsyncPgConnection,
    request: ApiKeyCreateRequest,
) -> Result<ApiKeyCreated, Problem> {
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(Problem::validation(vec![FieldError::new(
            "name",
            "must be 1 to 200 characters",
        )]));
    }
    let key = generate_api_key();
    let api_key = diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::scope.eq(request.scope),
            api_keys::key_hash.eq(sha256(&key).to_vec()),
            api_keys::key_prefix.eq(&key[..PREFIX_LENGTH]),
        ))
        .returning(ApiKey::as_returning())
        .get_result(connection)
        .await?;
    Ok(ApiKeyCreated { key, api_key })
}

pub async fn list(connection: &mut AsyncPgConnection) -> Result<Vec<ApiKey>, Problem> {
    Ok(api_keys::table
        .select(ApiKey::as_select())
        .order(api_keys::id)
        .load(connection)
        .await?)
}

/// Revokes key `id`; revoking a revoked key changes nothing.
pub async fn revoke(connection: &mut AsyncPgConnection, id: i64) -> Result<ApiKey, Problem> {
    let revoked: Option<ApiKey> = diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(chrono::Utc::now()))
    .returning(ApiKey::as_returning())
    .get_result(connection)
    .await
    .map(Some)
    .or_else(|error| {
        if error == diesel::result::Error::NotFound {
            Ok(None)
        } else {
            Err(error)
        }
    })?;
    match revoked {
        Some(key) => Ok(key),
        None => api_keys::table
            .find(id)
            .select(ApiKey::as_select())
            .get_result(connection)
            .await
            .map_err(|_| Problem::not_found(format!("no API key {id}"))),
    }
}

/// Creates a key. The answer is the only time the key itself is shown.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = [])),
    request_body(content = ApiKeyCreateRequest, example = json!({"name": "nightly report", "scope": "read"})),
    responses((status = 201, description = "The key, shown once", body = ApiKeyCreated), WriteErrors)
)]
#[post("/api-keys")]
pub async fn create_key(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    JsonBody(request): JsonBody<ApiKeyCreateRequest>,
) -> Result<HttpResponse, Problem> {
    let created = create(&mut *connection(&pool).await?, request).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Every managed key (never the keys themselves), revoked ones included.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The keys", body = Vec<ApiKey>),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        GetErrors,
    )
)]
#[get("/api-keys")]
pub async fn list_keys(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
) -> Result<web::Json<Vec<ApiKey>>, Problem> {
    Ok(web::Json(list(&mut *connection(&pool).await?).await?))
}

/// Revokes a key: it stops working at once.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses((status = 200, description = "The revoked key", body = ApiKey), DeleteErrors)
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_key(
    _: AdminAccess,
    pool: web::Data<models::db::Pool>,
    id: web::Path<i64>,
) -> Result<web::Json<ApiKey>, Problem> {
    Ok(web::Json(
        revoke(&mut *connection(&pool).await?, id.into_inner()).await?,
    ))
}
