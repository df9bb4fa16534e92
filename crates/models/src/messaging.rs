//! E-mail: templates, the send ledger, tracked events and the suppression list.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::{MessageEventKind, MessageStatus, SuppressionReason, TemplateKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::message_templates, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 5, "name": "Basic for $10", "kind": "plan_offer",
    "subject": "Basic is $10 this month, {{first_name}}", "body_text": "Switch: {{link:offer}}",
    "body_html": "<p><a href=\"{{link:offer}}\">Switch to Basic</a></p>",
    "links": {"offer": "https://example.com/offer/basic"},
    "created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"}))]
pub struct MessageTemplate {
    pub id: i64,
    pub name: String,
    pub kind: TemplateKind,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Named link targets; click tracking redirects only to these.
    #[schema(value_type = Object)]
    pub links: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::message_templates, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateInsertForm {
    pub name: String,
    pub kind: TemplateKind,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    #[schema(value_type = Option<Object>)]
    pub links: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::AsChangeset))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::message_templates, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateUpdateForm {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub kind: Option<TemplateKind>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub subject: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub body_text: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub body_html: Option<String>,
    #[schema(value_type = Object, nullable = false)]
    #[serde(default, deserialize_with = "crate::page::not_null")]
    pub links: Option<serde_json::Value>,
}

/// One row of the send ledger: one recipient of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::messages, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": "5f0c6a2e-8d3b-4f7a-9b1e-2c4d6e8f0a1b", "experiment_id": 12, "customer_id": 1042,
    "variant_id": 25, "email": "ada@example.com", "status": "sent", "attempts": 1,
    "next_attempt_at": "2026-03-01T09:00:00Z", "smtp_message_id": "<5f0c6a2e@streamlab>",
    "last_error": null, "queued_at": "2026-03-01T09:00:00Z", "sent_at": "2026-03-01T09:00:02Z",
    "opened_at": "2026-03-01T11:40:00Z", "clicked_at": null, "bounced_at": null}))]
pub struct Message {
    pub id: Uuid,
    pub experiment_id: i64,
    pub customer_id: i64,
    pub variant_id: i64,
    pub email: String,
    pub status: MessageStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(skip_serializing)]
    pub lease_owner: Option<String>,
    #[serde(skip_serializing)]
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The Message-ID header sent.
    pub smtp_message_id: Option<String>,
    pub last_error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The first open by a person (image proxies left out).
    pub opened_at: Option<DateTime<Utc>>,
    /// The first click by a person (link scanners left out).
    pub clicked_at: Option<DateTime<Utc>>,
    pub bounced_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::message_events, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 3301, "message_id": "5f0c6a2e-8d3b-4f7a-9b1e-2c4d6e8f0a1b", "kind": "click",
    "occurred_at": "2026-03-01T12:14:00Z", "user_agent": "Mozilla/5.0", "ip": "203.0.113.7",
    "link": "offer", "is_bot": false, "bot_reason": null, "details": {}}))]
pub struct MessageEvent {
    pub id: i64,
    pub message_id: Uuid,
    pub kind: MessageEventKind,
    pub occurred_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The link name of a click.
    pub link: Option<String>,
    /// A machine open or a link scanner rather than a person.
    pub is_bot: bool,
    pub bot_reason: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::message_events, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct MessageEventInsertForm {
    pub message_id: Uuid,
    pub kind: MessageEventKind,
    pub occurred_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub link: Option<String>,
    pub is_bot: bool,
    pub bot_reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "db",
    derive(
        diesel::prelude::Queryable,
        diesel::prelude::Selectable,
        diesel::prelude::Identifiable
    )
)]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::suppressions, check_for_backend(diesel::pg::Pg)))]
#[schema(example = json!({"id": 14, "email": "gone@example.com", "customer_id": 1043, "reason": "unsubscribe",
    "message_id": null, "created_at": "2026-03-03T08:00:00Z"}))]
pub struct Suppression {
    pub id: i64,
    pub email: String,
    pub customer_id: Option<i64>,
    pub reason: SuppressionReason,
    pub message_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "db", derive(diesel::prelude::Insertable))]
#[cfg_attr(feature = "db", diesel(table_name = crate::schema::suppressions, check_for_backend(diesel::pg::Pg)))]
#[serde(deny_unknown_fields)]
pub struct SuppressionInsertForm {
    pub email: String,
    pub customer_id: Option<i64>,
    pub reason: SuppressionReason,
    pub message_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"segment_id": 2, "subject": "Basic for $10, {{first_name}}",
    "body_text": "Switch: {{link:offer}}", "body_html": "<p><a href=\"{{link:offer}}\">Switch</a></p>",
    "links": {"offer": "https://example.com/offer"}}))]
/// A variant's e-mail to render for one customer (`POST /api/v1/mail/preview`).
pub struct PreviewRequest {
    /// The customer to render for; without one, the first (by id) who agreed to e-mail, in
    /// `segment_id` of the latest segmentation run when given.
    pub customer_id: Option<i64>,
    pub segment_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub links: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
/// The e-mail as that customer would get it, links straight to their targets.
pub struct Preview {
    pub customer_id: i64,
    pub customer_name: String,
    pub email: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}
