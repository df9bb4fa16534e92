//! Lists: one page of rows in a stable order, and the query that asks for it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Rows on a page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: i64 = 100;
/// Most rows on a page.
pub const MAX_LIMIT: i64 = 1000;

/// One page of a list, in the list's stable order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "1042")]
    pub next: Option<String>,
    /// How many rows the whole list holds, filters applied; only when asked with `total=true`.
    pub total: Option<i64>,
}

impl<T> Page<T> {
    /// The same page with each item converted.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            next: self.next,
            total: self.total,
        }
    }
}

/// Which page of a list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows on the page, 1 to 1000 (100 by default).
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<i64>,
    /// The `next` of the previous page; absent for the first page.
    pub cursor: Option<String>,
    /// Also count the rows of the whole list (costs a second query).
    #[serde(default)]
    pub total: bool,
}

/// Deserializes a PATCH field that may be absent (`None`: leave it), `null` (`Some(None)`:
/// clear it) or a value (`Some(Some(v))`). Use with `#[serde(default, deserialize_with)]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a PATCH field that may be absent (`None`: leave it) or a value, but not `null`:
/// the column cannot be cleared. Use with `#[serde(default, deserialize_with)]`.
pub fn not_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "double_option")]
        city: Option<Option<String>>,
    }

    #[derive(Debug, Deserialize)]
    struct Rename {
        #[serde(default, deserialize_with = "not_null")]
        name: Option<String>,
    }

    #[test]
    fn a_column_that_cannot_be_cleared_refuses_null() {
        let absent: Rename = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.name, None);
        assert!(serde_json::from_str::<Rename>(r#"{"name": null}"#).is_err());
    }

    #[test]
    fn tells_absent_from_null() {
        let absent: Patch = serde_json::from_str("{}").unwrap();
        let cleared: Patch = serde_json::from_str(r#"{"city": null}"#).unwrap();
        let set: Patch = serde_json::from_str(r#"{"city": "Oslo"}"#).unwrap();
        assert_eq!(absent.city, None);
        assert_eq!(cleared.city, Some(None));
        assert_eq!(set.city, Some(Some("Oslo".to_owned())));
    }
}
