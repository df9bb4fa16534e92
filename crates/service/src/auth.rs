//! Who may call: the shared service token on internal routes, API keys on public ones.
//!
//! Both are extractors, so a handler states its requirement in its signature and the
//! OpenAPI document can say the same.

use std::future::{Ready, ready};

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use models::enums::ApiKeyScope;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::Problem;
use crate::settings::ServiceToken;

fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Present in a handler's arguments: the caller sent `Authorization: Bearer <SERVICE_TOKEN>`.
#[derive(Debug)]
pub struct InternalCaller;

impl FromRequest for InternalCaller {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(expected) = request.app_data::<web::Data<ServiceToken>>() else {
            return ready(Err(Problem::internal(
                &"the service token is not configured",
            )));
        };
        let outcome = match bearer_token(request) {
            None => Err(unauthorized(
                "this route needs the service token as a Bearer token",
            )),
            Some(token) if bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())) => {
                Ok(InternalCaller)
            }
            Some(_) => Err(unauthorized("the service token is not valid")),
        };
        ready(outcome)
    }
}

/// The API keys that are valid, each stored as the SHA-256 of the key, never the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    keys: Vec<(ApiKeyScope, [u8; 32])>,
}

impl ApiKeys {
    /// The scope of a presented key, if it is one of ours.
    pub fn scope_of(&self, presented: &str) -> Option<ApiKeyScope> {
        self.scope_of_hash(&sha256(presented))
    }

    /// The scope of the key whose SHA-256 is `digest`, if it is one of ours.
    pub fn scope_of_hash(&self, digest: &[u8; 32]) -> Option<ApiKeyScope> {
        // Compare against every key so the time taken does not depend on which one matched.
        let mut found = None;
        for (scope, hash) in &self.keys {
            if bool::from(hash.ct_eq(digest)) {
                found = Some(*scope);
            }
        }
        found
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// `API_KEYS`: comma-separated `scope:sha256hex`, e.g. `admin:5e88...,read:a3f1...`.
impl FromStr for ApiKeys {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut keys = Vec::new();
        for (index, entry) in value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
        {
            let position = index + 1;
            let (scope, hash) = entry
                .split_once(':')
                .ok_or_else(|| format!("entry {position} is not scope:sha256hex"))?;
            let scope: ApiKeyScope = scope.parse().map_err(|_| {
                format!("entry {position} has scope '{scope}'; expected 'read' or 'admin'")
            })?;
            let bytes = hex::decode(hash)
                .map_err(|_| format!("entry {position}: the hash is not hexadecimal"))?;
            let hash: [u8; 32] = bytes.try_into().map_err(|_| {
                format!("entry {position}: the hash is not 64 hex digits (SHA-256)")
            })?;
            keys.push((scope, hash));
        }
        Ok(ApiKeys { keys })
    }
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, detail)
}

/// A new random API key: 256 bits from the operating system, as text.
pub fn generate_api_key() -> String {
    let first = uuid::Uuid::new_v4();
    let second = uuid::Uuid::new_v4();
    format!("sl_{}{}", first.simple(), second.simple())
}

/// The scope of the request's key: a bootstrap key of `API_KEYS`, or a managed key that is not
/// revoked (looked up on every request, so a revoked key stops working at once); sent as a
/// Bearer token, or held by the browser session of the cookie, whose state-changing requests
/// must also send the session's CSRF token.
async fn api_key_scope(request: HttpRequest) -> Result<ApiKeyScope, Problem> {
    let keys = request
        .app_data::<web::Data<ApiKeys>>()
        .ok_or_else(|| Problem::internal(&"API keys are not configured"))?;
    let pool = request
        .app_data::<web::Data<models::db::Pool>>()
        .ok_or_else(|| Problem::internal(&"the database pool is not configured"))?;
    if let Some(token) = bearer_token(&request) {
        if let Some(scope) = keys.scope_of(token) {
            return Ok(scope);
        }
        let mut connection = crate::problem::connection(pool).await?;
        return key_scope_by_hash(&mut connection, keys, &sha256(token))
            .await?
            .ok_or_else(|| unauthorized("the API key is not valid"));
    }
    let Some(token) = crate::session::cookie_token(&request) else {
        return Err(unauthorized(
            "this route needs an API key: send Authorization: Bearer <key>, or log in",
        ));
    };
    let mut connection = crate::problem::connection(pool).await?;
    let session = crate::session::find(&mut connection, keys, &token)
        .await?
        .ok_or_else(|| unauthorized("the session has ended: log in again"))?;
    let safe = matches!(
        *request.method(),
        actix_web::http::Method::GET
            | actix_web::http::Method::HEAD
            | actix_web::http::Method::OPTIONS
    );
    if !safe {
        let sent = request
            .headers()
            .get(crate::session::CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes())) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "a change made with the session cookie needs the session's X-CSRF-Token header",
            ));
        }
    }
    Ok(session.scope)
}

/// The scope of the key whose SHA-256 is `hash`: a bootstrap key, or a live managed key.
pub async fn key_scope_by_hash(
    connection: &mut diesel_async::AsyncPgConnection,
    keys: &ApiKeys,
    hash: &[u8; 32],
) -> Result<Option<ApiKeyScope>, diesel::result::Error> {
    if let Some(scope) = keys.scope_of_hash(hash) {
        return Ok(Some(scope));
    }
    managed_key_scope(connection, hash).await
}

/// A managed key's scope, recording its use (at most once a minute, to spare writes).
async fn managed_key_scope(
    connection: &mut diesel_async::AsyncPgConnection,
    hash: &[u8; 32],
) -> Result<Option<ApiKeyScope>, diesel::result::Error> {
    use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
    use diesel_async::RunQueryDsl as _;
    use models::schema::api_keys;

    let live = api_keys::table
        .filter(api_keys::key_hash.eq(hash.to_vec()))
        .filter(api_keys::revoked_at.is_null());
    let Some((id, scope, last_used_at)) = live
        .select((api_keys::id, api_keys::scope, api_keys::last_used_at))
        .first::<(i64, ApiKeyScope, Option<chrono::DateTime<chrono::Utc>>)>(connection)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    if last_used_at.is_none_or(|used| now - used > chrono::Duration::seconds(60)) {
        diesel::update(api_keys::table.find(id))
            .set(api_keys::last_used_at.eq(now))
            .execute(connection)
            .await?;
    }
    Ok(Some(scope))
}

/// Present in a handler's arguments: the caller has an API key of any scope.
#[derive(Debug)]
pub struct ReadAccess;

impl FromRequest for ReadAccess {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(checked_scope(request).map(|_| ReadAccess))
    }
}

/// Present in a handler's arguments: the caller has an `admin` API key.
#[derive(Debug)]
pub struct AdminAccess;

impl FromRequest for AdminAccess {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(checked_scope(request).and_then(|scope| match scope {
            ApiKeyScope::Admin => Ok(AdminAccess),
            ApiKeyScope::Read => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "this route needs an admin API key",
            )),
        }))
    }
}

/// The outcome of the API-key check, made once per request by `check_api_key`.
#[derive(Debug, Clone)]
struct KeyCheck(Result<ApiKeyScope, Problem>);

/// Middleware for the routes that take API keys: checks the key (which may take a database
/// lookup) before any extractor runs, so that no answer about the request's content can
/// reach a caller without a valid key.
pub async fn check_api_key(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let outcome = api_key_scope(request.request().clone()).await;
    request.extensions_mut().insert(KeyCheck(outcome));
    next.call(request).await
}

fn checked_scope(request: &HttpRequest) -> Result<ApiKeyScope, Problem> {
    request
        .extensions()
        .get::<KeyCheck>()
        .map(|check| check.0.clone())
        .unwrap_or_else(|| {
            Err(Problem::internal(
                &"the API-key middleware is not installed on this route",
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scoped_hashes_and_finds_the_scope_of_a_key() {
        let admin = hex::encode(sha256("admin-secret"));
        let read = hex::encode(sha256("read-secret"));
        let keys: ApiKeys = format!("admin:{admin}, read:{read}").parse().unwrap();
        assert_eq!(keys.scope_of("admin-secret"), Some(ApiKeyScope::Admin));
        assert_eq!(keys.scope_of("read-secret"), Some(ApiKeyScope::Read));
        assert_eq!(keys.scope_of("guess"), None);
    }

    #[test]
    fn generated_keys_are_long_random_and_distinct() {
        let (first, second) = (generate_api_key(), generate_api_key());
        assert!(first.starts_with("sl_") && first.len() == 67, "{first}");
        assert_ne!(first, second);
    }

    #[test]
    fn empty_means_no_keys() {
        assert!("".parse::<ApiKeys>().unwrap().is_empty());
    }

    #[test]
    fn malformed_entries_are_explained() {
        assert_eq!(
            "root:00".parse::<ApiKeys>().unwrap_err(),
            "entry 1 has scope 'root'; expected 'read' or 'admin'"
        );
        assert_eq!(
            "read:zz".parse::<ApiKeys>().unwrap_err(),
            "entry 1: the hash is not hexadecimal"
        );
        assert_eq!(
            "read:abcd".parse::<ApiKeys>().unwrap_err(),
            "entry 1: the hash is not 64 hex digits (SHA-256)"
        );
        assert_eq!(
            "readonly".parse::<ApiKeys>().unwrap_err(),
            "entry 1 is not scope:sha256hex"
        );
    }
}
