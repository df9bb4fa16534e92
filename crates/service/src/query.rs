//! `QueryParams<T>`: a query string whose failures are problems naming the parameter at fault,
//! the query-string twin of `JsonBody`.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::problem::{FieldError, Problem};

#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(request.query_string()).map(QueryParams))
    }
}

/// Parses `a=1&b=x` into `T`: 422 naming the parameter when a value has the wrong type or
/// cannot be text PostgreSQL stores (a NUL character).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    let with_nul = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name.contains('\0') || value.contains('\0'));
    if let Some((name, _)) = with_nul {
        return Err(Problem::validation(vec![FieldError::new(
            name.replace('\0', ""),
            "must not contain the NUL character (%00)",
        )]));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = match message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            Some(name) => name.to_owned(),
            None if field == "." => "query".to_owned(),
            None => field,
        };
        Problem::validation(vec![FieldError::new(field, message)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Filter {
        limit: Option<i64>,
        email: Option<String>,
    }

    #[test]
    fn parses_typed_values() {
        let filter: Filter = parse_query("limit=5&email=a%40b").unwrap();
        assert_eq!(filter.limit, Some(5));
        assert_eq!(filter.email.as_deref(), Some("a@b"));
    }

    #[test]
    fn a_wrong_type_names_the_parameter() {
        let problem = parse_query::<Filter>("limit=many").unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "limit");
    }

    #[test]
    fn a_nul_character_is_refused() {
        let problem = parse_query::<Filter>("email=a%00b").unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "email");
    }
}
