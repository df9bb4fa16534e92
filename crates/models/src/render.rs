//! Message templates: `{{first_name}}`, `{{plan}}`, `{{link:offer}}`... replaced by a
//! customer's values. The api checks templates with it when they are written; the mailer
//! renders every e-mail with it, HTML-escaping values in the HTML part.

use std::fmt;

/// A value a template may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    FirstName,
    LastName,
    /// The customer's current plan.
    Plan,
    /// Its monthly price, e.g. `$12.99`.
    Price,
    /// A title picked for the customer.
    Title,
    /// The genre the customer watches most.
    Genre,
    UnsubscribeUrl,
}

impl Field {
    const NAMES: &'static [(&'static str, Field)] = &[
        ("first_name", Field::FirstName),
        ("last_name", Field::LastName),
        ("plan", Field::Plan),
        ("price", Field::Price),
        ("title", Field::Title),
        ("genre", Field::Genre),
        ("unsubscribe_url", Field::UnsubscribeUrl),
    ];

    fn parse(name: &str) -> Option<Field> {
        Field::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, field)| *field)
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Field(Field),
    /// `{{link:NAME}}`: the tracked URL of the template's link `NAME`.
    Link(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Splits a template into text and placeholders; unknown placeholders and unclosed braces
/// are errors that name them.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| TemplateError {
            message: format!(
                "'{{{{' at character {} is never closed with '}}}}'",
                template.len() - rest.len() + start
            ),
        })?;
        let name = after[..end].trim();
        let piece = if let Some(link) = name.strip_prefix("link:") {
            Piece::Link(link.trim())
        } else {
            Piece::Field(Field::parse(name).ok_or_else(|| TemplateError {
                message: format!(
                    "unknown placeholder {{{{{name}}}}}; known: {}, link:NAME",
                    Field::NAMES
                        .iter()
                        .map(|(known, _)| *known)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?)
        };
        pieces.push(piece);
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Checks a template against its links: every placeholder known, every `link:NAME` one of
/// `link_names`.
pub fn check<'a>(
    template: &str,
    link_names: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), TemplateError> {
    for piece in parse(template)? {
        if let Piece::Link(name) = piece
            && !link_names.clone().any(|known| known == name)
        {
            return Err(TemplateError {
                message: format!("{{{{link:{name}}}}} names no link of the template's 'links'"),
            });
        }
    }
    Ok(())
}

/// Whether `pieces` ask for any of `fields`.
pub fn uses(pieces: &[Piece<'_>], fields: &[Field]) -> bool {
    pieces
        .iter()
        .any(|piece| matches!(piece, Piece::Field(field) if fields.contains(field)))
}

/// An amount of cents as a price, e.g. `$12.99`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

/// The values one customer's e-mail is rendered with.
pub trait Values {
    fn field(&self, field: Field) -> &str;
    /// The tracked URL of link `name`; None when the template has no such link.
    fn link(&self, name: &str) -> Option<String>;
}

/// How values are written into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text (subject, text part).
    None,
    /// The HTML part: `& < > " '` escaped, template text left as written.
    Html,
}

/// Renders parsed `pieces` with `values`.
pub fn render(pieces: &[Piece<'_>], values: &dyn Values, escape: Escape) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(field) => push(&mut out, values.field(*field), escape),
            Piece::Link(name) => {
                if let Some(url) = values.link(name) {
                    push(&mut out, &url, escape);
                }
            }
        }
    }
    out
}

fn push(out: &mut String, value: &str, escape: Escape) {
    match escape {
        Escape::None => out.push_str(value),
        Escape::Html => html_escape(out, value),
    }
}

/// Appends `value` with the five HTML-significant characters escaped.
pub fn html_escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Ada;

    impl Values for Ada {
        fn field(&self, field: Field) -> &str {
            match field {
                Field::FirstName => "Ada <script>",
                Field::Plan => "Basic",
                _ => "x",
            }
        }

        fn link(&self, name: &str) -> Option<String> {
            (name == "offer").then(|| "https://t.example/t/c/tok/offer?a=1&b=2".to_owned())
        }
    }

    #[test]
    fn html_part_escapes_values_but_not_the_template() {
        let pieces = parse("<p>Hi {{first_name}}, <a href=\"{{link:offer}}\">go</a></p>").unwrap();
        assert_eq!(
            render(&pieces, &Ada, Escape::Html),
            "<p>Hi Ada &lt;script&gt;, <a href=\"https://t.example/t/c/tok/offer?a=1&amp;b=2\">go</a></p>"
        );
        let text = parse("Hi {{ first_name }} on {{plan}}").unwrap();
        assert_eq!(
            render(&text, &Ada, Escape::None),
            "Hi Ada <script> on Basic"
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_named() {
        assert!(
            parse("Hi {{nickname}}")
                .unwrap_err()
                .message
                .contains("{{nickname}}")
        );
        assert!(
            parse("Hi {{first_name")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert_eq!(
            parse("no placeholders").unwrap(),
            vec![Piece::Text("no placeholders")]
        );
    }

    #[test]
    fn placeholders_are_found_however_they_are_spaced() {
        let pieces = parse("Now {{ price }} a month").unwrap();
        assert!(uses(&pieces, &[Field::Plan, Field::Price]));
        assert!(!uses(
            &parse("price: unsubscribe_url").unwrap(),
            &[Field::Price, Field::UnsubscribeUrl]
        ));
        assert_eq!(dollars(1299), "$12.99");
        assert_eq!(dollars(7), "$0.07");
    }

    #[test]
    fn links_must_be_declared() {
        assert!(check("{{link:offer}}", ["offer"].into_iter()).is_ok());
        let error = check("{{link:home}}", ["offer"].into_iter()).unwrap_err();
        assert!(error.message.contains("link:home"));
    }
}
