//! One customer's e-mail: the variant's templates rendered with their values (HTML-escaped in
//! the HTML part), tracked links, the open pixel, a hidden honeypot link for link scanners,
//! and the headers that let mailbox providers unsubscribe in one click and bounces find
//! their message.

use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use models::render::{self, Escape, Field, Values};
use url::Url;

use crate::send::ledger::{Claimed, CustomerContext};
use crate::tokens::{Claims, Purpose, TrackingKeys};

/// A variant's e-mail as designed.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct VariantTemplate {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub is_control: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub subject: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub body_text: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub body_html: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub links: serde_json::Value,
}

impl VariantTemplate {
    /// Whether rendering needs more than the customer's name.
    pub fn needs_context(&self) -> bool {
        const LOOKED_UP: &[Field] = &[Field::Plan, Field::Price, Field::Genre, Field::Title];
        [&self.subject, &self.body_text, &self.body_html]
            .iter()
            .any(|text| render::parse(text).is_ok_and(|pieces| render::uses(&pieces, LOOKED_UP)))
    }

    /// The link names, for checks before sending.
    pub fn check(&self) -> Result<(), String> {
        let names = self
            .links
            .as_object()
            .map(|links| links.keys().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        for text in [&self.subject, &self.body_text, &self.body_html] {
            render::check(text, names.iter().copied()).map_err(|error| error.message)?;
        }
        Ok(())
    }
}

/// What the composer needs from the settings.
pub struct Composer {
    pub from: Mailbox,
    pub tracking_base_url: Url,
    pub keys: TrackingKeys,
}

/// An e-mail ready for the wire.
pub struct Composed {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

/// An e-mail's three parts, rendered for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where a rendered e-mail's links lead.
pub enum Links {
    /// Through the click tracker under this base (`.../t/c/TOKEN`), then to the target.
    Tracked { click_base: String },
    /// Straight to the variant's targets: previews, where no click may count.
    Direct,
}

/// The values of one customer's e-mail.
pub struct CustomerValues<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub plan: String,
    pub price: String,
    pub title: String,
    pub genre: String,
    pub unsubscribe_url: String,
    pub links: Links,
    pub declared_links: &'a serde_json::Value,
}

impl<'a> CustomerValues<'a> {
    /// The values for a customer, with what ds knows of them (`None`: nothing looked up).
    pub fn new(
        first_name: &'a str,
        last_name: &'a str,
        context: Option<&CustomerContext>,
        unsubscribe_url: String,
        links: Links,
        declared_links: &'a serde_json::Value,
    ) -> CustomerValues<'a> {
        CustomerValues {
            first_name,
            last_name,
            plan: context
                .and_then(|c| c.plan.clone())
                .unwrap_or_else(|| "none".to_owned()),
            price: context
                .and_then(|c| c.price_cents)
                .map(|cents| render::dollars(i64::from(cents)))
                .unwrap_or_else(|| "$0.00".to_owned()),
            title: context
                .and_then(|c| c.title.clone())
                .unwrap_or_else(|| "our newest release".to_owned()),
            genre: context
                .and_then(|c| c.genre.clone())
                .unwrap_or_else(|| "new releases".to_owned()),
            unsubscribe_url,
            links,
            declared_links,
        }
    }
}

impl Values for CustomerValues<'_> {
    fn field(&self, field: Field) -> &str {
        match field {
            Field::FirstName => self.first_name,
            Field::LastName => self.last_name,
            Field::Plan => &self.plan,
            Field::Price => &self.price,
            Field::Title => &self.title,
            Field::Genre => &self.genre,
            Field::UnsubscribeUrl => &self.unsubscribe_url,
        }
    }

    fn link(&self, name: &str) -> Option<String> {
        let target = self.declared_links.get(name)?;
        match &self.links {
            Links::Tracked { click_base } => Some(format!("{click_base}/{}", percent_encode(name))),
            Links::Direct => target.as_str().map(str::to_owned),
        }
    }
}

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Composer {
    /// The tracked URL `path` (`t/o/TOKEN`, ...) under the public base.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.tracking_base_url)
    }

    pub fn compose(
        &self,
        message: &Claimed,
        variant: &VariantTemplate,
        context: Option<&CustomerContext>,
    ) -> Result<Composed, String> {
        let claims = Claims {
            message_id: message.id,
            variant_id: message.variant_id,
        };
        let token = |purpose| self.keys.sign(claims, purpose);
        // The links and the honeypot share one click token.
        let click_token = token(Purpose::Click);
        let values = CustomerValues::new(
            &message.first_name,
            &message.last_name,
            context,
            self.url(&format!("u/{}", token(Purpose::Unsubscribe))),
            Links::Tracked {
                click_base: self.url(&format!("t/c/{click_token}")),
            },
            &variant.links,
        );
        let Rendered {
            subject,
            text,
            mut html,
        } = render_email(variant, &values)?;
        // The pixel counts opens; the honeypot link is invisible to people, so only a
        // machine following every link clicks it.
        html.push_str(&format!(
            "<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">\
             <a href=\"{}\" style=\"display:none\" aria-hidden=\"true\" tabindex=\"-1\"></a>",
            self.url(&format!("t/o/{}", token(Purpose::Open))),
            self.url(&format!("t/h/{click_token}")),
        ));
        let to: Mailbox = message
            .email
            .parse()
            .map_err(|error| format!("'{}' is not a usable address: {error}", message.email))?;
        let header = |name: &str, value: String| {
            HeaderName::new_from_ascii(name.to_owned())
                .map(|name| HeaderValue::new(name, value))
                .map_err(|error| error.to_string())
        };
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message.smtp_message_id.clone()))
            .raw_header(header(
                "List-Unsubscribe",
                format!("<{}>", values.unsubscribe_url),
            )?)
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            )?)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|error| error.to_string())?;
        Ok(Composed {
            envelope: email.envelope().clone(),
            bytes: email.formatted(),
        })
    }
}

/// The variant rendered with a customer's values: the subject, and the text and HTML parts
/// (HTML-escaped values), each with an unsubscribe link whether or not the template placed one.
pub fn render_email(
    variant: &VariantTemplate,
    values: &CustomerValues<'_>,
) -> Result<Rendered, String> {
    let (subject, text, html) = (
        parsed(&variant.subject)?,
        parsed(&variant.body_text)?,
        parsed(&variant.body_html)?,
    );
    let subject = render::render(&subject, values, Escape::None);
    let offers_way_out =
        |pieces: &[render::Piece<'_>]| render::uses(pieces, &[Field::UnsubscribeUrl]);
    let (text_has_way_out, html_has_way_out) = (offers_way_out(&text), offers_way_out(&html));
    let mut text = render::render(&text, values, Escape::None);
    let mut html = render::render(&html, values, Escape::Html);
    // Every e-mail offers a way out, whether or not its template placed one.
    if !text_has_way_out {
        text.push_str(&format!("\n\nUnsubscribe: {}\n", values.unsubscribe_url));
    }
    if !html_has_way_out {
        let mut url = String::new();
        render::html_escape(&mut url, &values.unsubscribe_url);
        html.push_str(&format!("<p><a href=\"{url}\">Unsubscribe</a></p>"));
    }
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

fn parsed(text: &str) -> Result<Vec<render::Piece<'_>>, String> {
    render::parse(text).map_err(|error| error.message)
}
