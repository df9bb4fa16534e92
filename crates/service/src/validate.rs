//! `Checks`: collects every field at fault in a request, so one 422 names them all.
//!
//! The limits keep values inside what PostgreSQL stores and indexes: a btree entry is at most
//! about 2,700 bytes, and a timestamp outside the years below is a typo, not a date.

use chrono::{DateTime, Datelike as _, Utc};

use crate::problem::{FieldError, Problem};

/// Earliest and latest years a timestamp may have.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;
/// Longest e-mail address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest short text: a name, a key, a subject line.
pub const NAME_MAX: usize = 200;
/// Longest long text: a description, an e-mail body.
pub const BODY_MAX: usize = 100_000;

#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Checks {
        self.errors.push(FieldError::new(field, message));
        self
    }

    /// Text that must hold something besides spaces, of at most `max` characters.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> &mut Checks {
        if value.trim().is_empty() {
            return self.fail(field, "must not be empty");
        }
        self.optional_text(field, Some(value), max)
    }

    /// Text of at most `max` characters, when present.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) -> &mut Checks {
        if let Some(value) = value
            && value.chars().count() > max
        {
            self.fail(field, format!("must be at most {max} characters"));
        }
        self
    }

    /// A plausible e-mail address: one `@` with text on both sides and no spaces.
    pub fn email(&mut self, field: &str, value: &str) -> &mut Checks {
        let plausible = value.len() <= EMAIL_MAX
            && !value.chars().any(char::is_whitespace)
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if !plausible {
            self.fail(field, "must be an e-mail address such as ada@example.com");
        }
        self
    }

    pub fn range<T: PartialOrd + std::fmt::Display>(
        &mut self,
        field: &str,
        value: T,
        lowest: T,
        highest: T,
    ) -> &mut Checks {
        if value < lowest || value > highest {
            self.fail(field, format!("must be between {lowest} and {highest}"));
        }
        self
    }

    pub fn time(&mut self, field: &str, value: Option<DateTime<Utc>>) -> &mut Checks {
        if let Some(value) = value
            && !YEARS.contains(&value.year())
        {
            self.fail(
                field,
                format!(
                    "must be between the years {} and {}",
                    YEARS.start(),
                    YEARS.end()
                ),
            );
        }
        self
    }

    /// `Ok` when nothing failed, else the 422 naming every field at fault.
    pub fn finish(&mut self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(std::mem::take(&mut self.errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_field_at_fault() {
        let problem = Checks::new()
            .required_text("name", "  ", NAME_MAX)
            .email("email", "no-at-sign")
            .range("weight", 0.0, 0.001, 1000.0)
            .finish()
            .unwrap_err();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "weight"]);
    }

    #[test]
    fn accepts_good_values() {
        let when = "2026-01-01T00:00:00Z".parse().ok();
        assert!(
            Checks::new()
                .required_text("name", "Ada", NAME_MAX)
                .email("email", "ada@example.com")
                .time("at", when)
                .finish()
                .is_ok()
        );
    }

    #[test]
    fn refuses_long_text_and_distant_years() {
        let far = "9999-01-01T00:00:00Z".parse().ok();
        let problem = Checks::new()
            .optional_text("city", Some(&"x".repeat(NAME_MAX + 1)), NAME_MAX)
            .time("at", far)
            .finish()
            .unwrap_err();
        assert_eq!(problem.errors.len(), 2);
    }
}
