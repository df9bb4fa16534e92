//! `/settings`: each service's state and version, where e-mail goes, and the API keys (listed,
//! created and revoked through the API by an admin session).

use actix_web::{HttpResponse, get, web};
use askama::Template;
use models::ops::PeerStatus;
use service::health::ServiceInfo;

use super::error_page::unavailable;
use super::login::html;
use super::signed_in::SignedIn;
use crate::status::{Peers, platform};

struct Key {
    id: i64,
    name: String,
    scope: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: &'static str,
    csrf_token: String,
    api_version: String,
    peers: Vec<PeerStatus>,
    mail_transport: String,
    admin: bool,
    keys: Vec<Key>,
}

#[get("/settings")]
pub async fn settings_page(
    signed_in: SignedIn,
    info: web::Data<ServiceInfo>,
    peers: web::Data<Peers>,
) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let admin = session.is_admin();
    let managed = if admin {
        match crate::api_keys::list(&mut connection).await {
            Ok(managed) => managed,
            Err(error) => return unavailable(&error),
        }
    } else {
        Vec::new()
    };
    // The peers are asked without holding a database connection.
    drop(connection);
    let status = platform(&info, &peers).await;
    let day = |time: chrono::DateTime<chrono::Utc>| time.format("%Y-%m-%d %H:%M").to_string();
    html(&SettingsPage {
        page: "settings",
        csrf_token: session.csrf_token,
        api_version: status.api.version,
        peers: status.peers,
        mail_transport: status
            .mail_transport
            .unwrap_or_else(|| "unknown (the mailer did not answer)".to_owned()),
        admin,
        keys: managed
            .into_iter()
            .map(|key| Key {
                id: key.id,
                name: key.name,
                scope: key.scope.to_string(),
                prefix: key.key_prefix,
                created: day(key.created_at),
                last_used: key
                    .last_used_at
                    .map(day)
                    .unwrap_or_else(|| "never".to_owned()),
                revoked: key.revoked_at.is_some(),
            })
            .collect(),
    })
}
