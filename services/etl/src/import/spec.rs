//! What each import file may contain: its columns, which are required, and how each value is
//! checked and normalised before it goes near the database.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The tables an import loads, in the order they load (references point backwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImportTable {
    Titles,
    Customers,
    Subscriptions,
    WatchSessions,
    Events,
    Conversions,
}

impl ImportTable {
    pub const ALL: [ImportTable; 6] = [
        ImportTable::Titles,
        ImportTable::Customers,
        ImportTable::Subscriptions,
        ImportTable::WatchSessions,
        ImportTable::Events,
        ImportTable::Conversions,
    ];

    /// The file name (without `.csv`) that holds this table.
    pub fn name(self) -> &'static str {
        match self {
            ImportTable::Titles => "titles",
            ImportTable::Customers => "customers",
            ImportTable::Subscriptions => "subscriptions",
            ImportTable::WatchSessions => "watch_sessions",
            ImportTable::Events => "events",
            ImportTable::Conversions => "conversions",
        }
    }

    pub fn from_name(name: &str) -> Option<ImportTable> {
        ImportTable::ALL
            .into_iter()
            .find(|table| table.name() == name)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportTable::Titles => &TITLES,
            ImportTable::Customers => &CUSTOMERS,
            ImportTable::Subscriptions => &SUBSCRIPTIONS,
            ImportTable::WatchSessions => &WATCH_SESSIONS,
            ImportTable::Events => &EVENTS,
            ImportTable::Conversions => &CONVERSIONS,
        }
    }
}

/// How a value is checked.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Email,
    Boolean,
    /// A whole number in [min, max].
    Integer {
        min: i64,
        max: i64,
    },
    /// A number in [min, max].
    Number {
        min: f64,
        max: f64,
    },
    /// A date-time (RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or a date).
    Timestamp,
    OneOf(&'static [&'static str]),
    CountryCode,
    /// A JSON object.
    JsonObject,
    /// A snake_case name.
    Name,
    /// A customer: an e-mail address, or else the customer's external id.
    CustomerRef,
    /// A title: its external id.
    TitleRef,
    /// A plan: its name.
    PlanRef,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
}

const fn required(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        required: true,
        kind,
    }
}

const fn optional(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        required: false,
        kind,
    }
}

const TITLES: [Column; 6] = [
    required("external_id", Kind::Text),
    required("name", Kind::Text),
    required("genre", Kind::Text),
    required(
        "release_year",
        Kind::Integer {
            min: 1870,
            max: 2200,
        },
    ),
    required(
        "duration_minutes",
        Kind::Integer {
            min: 1,
            max: 100_000,
        },
    ),
    optional(
        "rating",
        Kind::Number {
            min: 0.0,
            max: 10.0,
        },
    ),
];
const CUSTOMERS: [Column; 12] = [
    optional("external_id", Kind::Text),
    required("email", Kind::Email),
    required("first_name", Kind::Text),
    required("last_name", Kind::Text),
    optional("email_consent", Kind::Boolean),
    optional("country", Kind::CountryCode),
    optional("region", Kind::Text),
    optional("city", Kind::Text),
    optional(
        "age_band",
        Kind::OneOf(&["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]),
    ),
    optional(
        "device",
        Kind::OneOf(&["tv", "mobile", "tablet", "desktop", "console", "other"]),
    ),
    optional(
        "acquisition_channel",
        Kind::OneOf(&[
            "organic",
            "paid_search",
            "paid_social",
            "referral",
            "partner",
            "email",
            "other",
        ]),
    ),
    optional("signup_at", Kind::Timestamp),
];
const SUBSCRIPTIONS: [Column; 6] = [
    required("customer", Kind::CustomerRef),
    required("plan", Kind::PlanRef),
    required(
        "status",
        Kind::OneOf(&["trial", "active", "switched", "churned"]),
    ),
    required("started_at", Kind::Timestamp),
    optional("ended_at", Kind::Timestamp),
    optional("churned_at", Kind::Timestamp),
];
const WATCH_SESSIONS: [Column; 6] = [
    required("customer", Kind::CustomerRef),
    required("title", Kind::TitleRef),
    required("started_at", Kind::Timestamp),
    required(
        "minutes",
        Kind::Integer {
            min: 0,
            max: 100_000,
        },
    ),
    optional("completed", Kind::Boolean),
    optional("like_status", Kind::OneOf(&["liked", "disliked", "none"])),
];
const EVENTS: [Column; 4] = [
    required("customer", Kind::CustomerRef),
    required("name", Kind::Name),
    required("occurred_at", Kind::Timestamp),
    optional("properties", Kind::JsonObject),
];
const CONVERSIONS: [Column; 4] = [
    required("customer", Kind::CustomerRef),
    required(
        "kind",
        Kind::OneOf(&["subscribe", "upgrade", "reactivate", "purchase", "other"]),
    ),
    optional(
        "revenue_cents",
        Kind::Integer {
            min: 0,
            max: 1_000_000_000,
        },
    ),
    required("occurred_at", Kind::Timestamp),
];

/// Checks `value` (already trimmed, not empty) and returns it as the database will take it.
pub fn normalise(kind: Kind, value: &str) -> Result<String, String> {
    match kind {
        Kind::Text | Kind::TitleRef | Kind::PlanRef => Ok(value.to_owned()),
        Kind::Email => email(value),
        Kind::CustomerRef if value.contains('@') => email(value),
        Kind::CustomerRef => Ok(value.to_owned()),
        Kind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Ok("true".to_owned()),
            "false" | "f" | "no" | "n" | "0" => Ok("false".to_owned()),
            _ => Err(format!("'{value}' is not true or false")),
        },
        Kind::Integer { min, max } => match value.parse::<i64>() {
            Ok(number) if (min..=max).contains(&number) => Ok(number.to_string()),
            Ok(_) => Err(format!("{value} is outside {min}..{max}")),
            Err(_) => Err(format!("'{value}' is not a whole number")),
        },
        Kind::Number { min, max } => match value.parse::<f64>() {
            Ok(number) if number.is_finite() && (min..=max).contains(&number) => {
                Ok(number.to_string())
            }
            Ok(_) => Err(format!("{value} is outside {min}..{max}")),
            Err(_) => Err(format!("'{value}' is not a number")),
        },
        Kind::Timestamp => timestamp(value).map(|instant| instant.to_rfc3339()),
        Kind::OneOf(allowed) => {
            let lower = value.to_ascii_lowercase();
            allowed
                .iter()
                .find(|candidate| **candidate == lower)
                .map(|candidate| (*candidate).to_owned())
                .ok_or_else(|| format!("'{value}' is not one of {}", allowed.join(", ")))
        }
        Kind::CountryCode => {
            let upper = value.to_ascii_uppercase();
            if upper.len() == 2 && upper.bytes().all(|byte| byte.is_ascii_uppercase()) {
                Ok(upper)
            } else {
                Err(format!("'{value}' is not a two-letter country code"))
            }
        }
        Kind::JsonObject => match serde_json::from_str::<serde_json::Value>(value) {
            Ok(object @ serde_json::Value::Object(_)) => Ok(object.to_string()),
            Ok(_) => Err("is not a JSON object".to_owned()),
            Err(error) => Err(format!("is not valid JSON: {error}")),
        },
        Kind::Name => {
            let valid = value.starts_with(|c: char| c.is_ascii_lowercase())
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if valid {
                Ok(value.to_owned())
            } else {
                Err(format!("'{value}' is not a snake_case name"))
            }
        }
    }
}

/// A practical check of an address: one `@`, a local part, a dotted domain, no spaces.
fn email(value: &str) -> Result<String, String> {
    let lower = value.to_lowercase();
    let valid = match lower.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !lower.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(lower)
    } else {
        Err(format!("'{value}' is not an e-mail address"))
    }
}

fn timestamp(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(naive.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "'{value}' is not a date-time (use 2026-03-31T14:00:00Z, 2026-03-31 14:00:00 or 2026-03-31)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_normalises_values() {
        assert_eq!(
            normalise(Kind::Email, "Ann.Lee@Example.COM").unwrap(),
            "ann.lee@example.com"
        );
        assert!(normalise(Kind::Email, "ann.example.com").is_err());
        assert!(normalise(Kind::Email, "ann@localhost").is_err());
        assert_eq!(normalise(Kind::Boolean, "Yes").unwrap(), "true");
        assert_eq!(
            normalise(Kind::Timestamp, "2026-03-31").unwrap(),
            "2026-03-31T00:00:00+00:00"
        );
        assert_eq!(
            normalise(Kind::Timestamp, "2026-03-31 14:05:00").unwrap(),
            "2026-03-31T14:05:00+00:00"
        );
        assert_eq!(
            normalise(Kind::Timestamp, "2026-03-31T14:05:00+02:00").unwrap(),
            "2026-03-31T12:05:00+00:00"
        );
        assert!(normalise(Kind::Timestamp, "31/03/2026").is_err());
        assert_eq!(
            normalise(Kind::Integer { min: 0, max: 10 }, "-1").unwrap_err(),
            "-1 is outside 0..10"
        );
        assert_eq!(
            normalise(Kind::OneOf(&["tv", "mobile"]), "TV").unwrap(),
            "tv"
        );
        assert_eq!(normalise(Kind::CountryCode, "gb").unwrap(), "GB");
        assert!(normalise(Kind::JsonObject, "[1]").is_err());
        assert_eq!(normalise(Kind::CustomerRef, "ext-7").unwrap(), "ext-7");
        assert_eq!(normalise(Kind::CustomerRef, "A@B.co").unwrap(), "a@b.co");
    }
}
