//! The `links` of a template or variant: names to target URLs, looked up when a tracked click
//! redirects (the target is never taken from the click's own URL).

use service::validate::{Checks, NAME_MAX};

/// Longest target URL.
const URL_MAX: usize = 2000;

/// `links` must be an object of `"name": "http(s)://..."`.
pub fn check(checks: &mut Checks, field: &str, links: Option<&serde_json::Value>) {
    let Some(links) = links else { return };
    let Some(links) = links.as_object() else {
        checks.fail(field, "must be an object of link names to URLs");
        return;
    };
    for (name, target) in links {
        let field = format!("{field}.{name}");
        if name.is_empty() || name.chars().count() > NAME_MAX {
            checks.fail(
                &field,
                format!("link names must be 1 to {NAME_MAX} characters"),
            );
        }
        let plausible = target.as_str().is_some_and(|url| {
            url.len() <= URL_MAX && (url.starts_with("https://") || url.starts_with("http://"))
        });
        if !plausible {
            checks.fail(&field, "must be an http:// or https:// URL");
        }
    }
}

/// The texts of a template or variant: known placeholders only, and when `links` is given,
/// every `{{link:NAME}}` one of them. `fields` pairs each text with its field name.
pub fn check_texts(
    checks: &mut Checks,
    fields: &[(String, Option<&str>)],
    links: Option<&serde_json::Value>,
) {
    let names = links.and_then(serde_json::Value::as_object);
    for (field, text) in fields {
        let Some(text) = text else { continue };
        let checked = match names {
            Some(names) => models::render::check(text, names.keys().map(String::as_str)),
            None => models::render::parse(text).map(|_| ()),
        };
        if let Err(error) = checked {
            checks.fail(field, error.message);
        }
    }
}
