//! `JsonBody<T>`: a JSON request body whose failures are problems naming the field at fault.
//!
//! actix's own `Json` says only "Json deserialize error"; this one answers 415 for another
//! content type, 413 over the size limit, 400 for malformed JSON, and 422 with the field's
//! dotted path for a well-formed document with a wrong value.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::problem::{FieldError, Problem};

/// Largest JSON body accepted unless a route sets its own `web::PayloadConfig`.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Problem>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json_content_type(request);
        let bytes = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            let bytes = bytes.await.map_err(|error| {
                let status = error.as_response_error().status_code();
                Problem::new(status, format!("cannot read the body: {error}"))
            })?;
            parse(&bytes).map(JsonBody)
        })
    }
}

/// A JSON body of up to `limit` bytes, for a route whose limit is not the usual one (a batch).
/// Fails as `JsonBody` does.
pub async fn read_json<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, Problem> {
    if !is_json_content_type(request) {
        return Err(not_json());
    }
    let bytes = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over the limit of {limit} bytes"),
            )
        })?
        .map_err(|error| Problem::bad_request(format!("cannot read the body: {error}")))?;
    parse(&bytes)
}

fn not_json() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "the body must be JSON, sent with Content-Type: application/json",
    )
}

/// The request's media type, lower-case and without parameters (`multipart/form-data` for
/// `multipart/form-data; boundary=x`); empty when there is none.
pub fn media_type(request: &HttpRequest) -> String {
    let value = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json_content_type(request: &HttpRequest) -> bool {
    let essence = media_type(request);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON document into `T`, classifying what went wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    refuse_nul_characters(bytes)?;
    // serde would read a struct from an array of its fields in order; every body here is an
    // object, so an array (or any other document) is refused whole.
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{') {
        let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        return Err(match is_json {
            true => Problem::validation(vec![FieldError::new("body", "must be a JSON object")]),
            false => Problem::bad_request("malformed JSON: the body is not a JSON document"),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            let message = strip_position(&inner);
            Problem::validation(vec![FieldError::new(
                field_at_fault(&field, &message),
                message,
            )])
        } else {
            Problem::bad_request(format!("malformed JSON: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|error| Problem::bad_request(format!("malformed JSON: {error}")))?;
    Ok(value)
}

/// PostgreSQL text and jsonb cannot hold U+0000, so a string carrying one is refused here,
/// named, rather than failing in the database. The scan runs only when the escape appears.
fn refuse_nul_characters(bytes: &[u8]) -> Result<(), Problem> {
    let escaped_nul = bytes.windows(6).any(|window| window == br"\u0000");
    if !escaped_nul {
        return Ok(());
    }
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match path_of_nul(&document, String::new()) {
        Some(path) => Err(Problem::validation(vec![FieldError::new(
            if path.is_empty() {
                "body".to_owned()
            } else {
                path
            },
            "must not contain the NUL character (\\u0000)",
        )])),
        None => Ok(()),
    }
}

fn path_of_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| path_of_nul(item, format!("{path}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            if name.contains('\0') {
                return Some(path.clone());
            }
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            path_of_nul(field, child)
        }),
        _ => None,
    }
}

/// The dotted path of the field at fault. serde reports a missing field at its parent's
/// path, so the field's own name is appended; the document root (".") is called "body".
fn field_at_fault(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    match (parent, missing) {
        ("", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        ("", None) => "body".to_owned(),
        (parent, None) => parent.to_owned(),
    }
}

/// "invalid type: string \"x\", expected u64 at line 1 column 12" -> without the position,
/// which the field path already gives more usefully.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Variant {
        name: String,
        trials: u64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        variants: Vec<Variant>,
    }

    #[test]
    fn a_wrong_value_names_its_field() {
        let problem = parse::<Body>(
            br#"{"variants":[{"name":"A","trials":1},{"name":"B","trials":"many"}]}"#,
        )
        .unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[1].trials");
        assert_eq!(
            problem.errors[0].message,
            "invalid type: string \"many\", expected u64"
        );
    }

    #[test]
    fn a_missing_field_is_named_by_its_full_path() {
        let problem = parse::<Body>(br#"{"variants":[{"name":"A"}]}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[0].trials");
        assert_eq!(problem.errors[0].message, "missing field `trials`");
    }

    #[test]
    fn a_wrong_document_type_blames_the_body() {
        let problem = parse::<Body>(b"\"text\"").unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "body");
    }

    #[test]
    fn a_nul_character_is_named() {
        let problem =
            parse::<Body>(br#"{"variants":[{"name":"A\u0000","trials":1}]}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[0].name");
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        assert_eq!(parse::<Body>(br#"{"variants": ["#).unwrap_err().status, 400);
        assert_eq!(
            parse::<Body>(br#"{"variants": []} trailing"#)
                .unwrap_err()
                .status,
            400
        );
    }
}
