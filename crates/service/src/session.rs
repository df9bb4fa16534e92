//! Browser sessions: a login with an API key sets an HttpOnly, SameSite=Strict cookie; the
//! api then accepts the cookie as it accepts the key. Only the token's SHA-256 is stored, with
//! the key's hash (revoking the key ends its sessions at once) and a CSRF token that every
//! state-changing request made with the cookie must send back in `X-CSRF-Token`.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use models::enums::ApiKeyScope;
use models::schema::sessions;

use crate::auth::{ApiKeys, key_scope_by_hash, sha256};

/// The session cookie's name.
pub const COOKIE: &str = "sl_session";
/// The header carrying the CSRF token on state-changing requests made with the cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A live session's scope and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub scope: ApiKeyScope,
    pub csrf_token: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.scope == ApiKeyScope::Admin
    }
}

/// Opens a session for `key`: its cookie's token (never stored, only its hash); None when
/// `key` is not a valid key. The page reads the CSRF token from the session when it renders.
pub async fn open(
    connection: &mut AsyncPgConnection,
    keys: &ApiKeys,
    key: &str,
) -> Result<Option<String>, diesel::result::Error> {
    let key_hash = sha256(key);
    if key_scope_by_hash(connection, keys, &key_hash)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let token = crate::auth::generate_api_key();
    let expires_at = chrono::Utc::now()
        + chrono::Duration::from_std(LIFETIME).unwrap_or(chrono::Duration::hours(12));
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(sha256(&token).to_vec()),
            sessions::key_hash.eq(key_hash.to_vec()),
            sessions::csrf_token.eq(crate::auth::generate_api_key()),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(connection)
        .await?;
    // Expired sessions are swept by the logins that come after them.
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(diesel::dsl::now)))
        .execute(connection)
        .await?;
    Ok(Some(token))
}

/// The live session of cookie token `token`, with its key's scope now.
pub async fn find(
    connection: &mut AsyncPgConnection,
    keys: &ApiKeys,
    token: &str,
) -> Result<Option<Session>, diesel::result::Error> {
    let found: Option<(Vec<u8>, String)> = sessions::table
        .find(sha256(token).to_vec())
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .select((sessions::key_hash, sessions::csrf_token))
        .first(connection)
        .await
        .optional()?;
    let Some((key_hash, csrf_token)) = found else {
        return Ok(None);
    };
    let Ok(key_hash) = <[u8; 32]>::try_from(key_hash.as_slice()) else {
        return Ok(None);
    };
    Ok(key_scope_by_hash(connection, keys, &key_hash)
        .await?
        .map(|scope| Session { scope, csrf_token }))
}

/// Ends the session of cookie token `token`.
pub async fn close(
    connection: &mut AsyncPgConnection,
    token: &str,
) -> Result<(), diesel::result::Error> {
    diesel::delete(sessions::table.find(sha256(token).to_vec()))
        .execute(connection)
        .await
        .map(|_| ())
}

/// The request's session cookie token, if any.
pub fn cookie_token(request: &HttpRequest) -> Option<String> {
    request
        .cookie(COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| !token.is_empty())
}

/// The cookie that carries `token` (Secure when the request came over TLS, directly or
/// through the edge proxy); an empty token with no lifetime removes it.
pub fn cookie(request: &HttpRequest, token: &str) -> Cookie<'static> {
    let secure = request.connection_info().scheme() == "https";
    let mut cookie = Cookie::build(COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    if token.is_empty() {
        cookie.make_removal();
    } else {
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
            LIFETIME.as_secs() as i64,
        ));
    }
    cookie
}
