//! Keyset pagination: every list is ordered by a unique key, a page holds the rows after the
//! cursor, and `next` is the key of the page's last row. Unlike OFFSET, a page costs the same
//! at row 10 and at row 1,000,000, and no row is repeated or skipped for rows inserted or
//! deleted meanwhile. (A row inserted meanwhile with a key below the cursor, such as a new
//! message's random UUID, is not on a later page: a walk is a snapshot, not a change feed.)

use std::str::FromStr;

use models::page::{DEFAULT_LIMIT, MAX_LIMIT, Page, PageQuery};
use service::validate::Checks;
use service::{FieldError, Problem};

/// A page request, checked: how many rows, and the key to start after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window<K> {
    pub limit: i64,
    pub after: Option<K>,
}

impl<K> Window<K> {
    /// Rows to fetch: one more than the page holds tells whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

pub fn window<K: FromStr>(query: &PageQuery) -> Result<Window<K>, Problem> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    Checks::new().range("limit", limit, 1, MAX_LIMIT).finish()?;
    // `cursor=` (empty) is the first page, as an absent cursor is.
    let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(cursor) => Some(cursor.parse().map_err(|_| {
            Problem::validation(vec![FieldError::new(
                "cursor",
                "is not a cursor this list gave out; pass a page's `next` unchanged",
            )])
        })?),
    };
    Ok(Window { limit, after })
}

/// The page made of `rows` (fetched with `window.fetch()`), keyed by `key`.
pub fn page<T, K: ToString>(
    mut rows: Vec<T>,
    window: &Window<impl Sized>,
    total: Option<i64>,
    key: impl Fn(&T) -> K,
) -> Page<T> {
    let limit = usize::try_from(window.limit).unwrap_or(usize::MAX);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|row| key(row).to_string())
    } else {
        None
    };
    Page {
        items: rows,
        next,
        total,
    }
}

/// Loads one page of a keyset-ordered list and, when asked, its total: `$filtered` is a
/// closure giving the filtered boxed query (called again for the count), `$key` the unique
/// ordering column, `$field` the row field holding it.
macro_rules! load_page {
    ($connection:expr, $filtered:expr, $key:expr, $row:ident, $field:ident, $window:expr, $want_total:expr) => {{
        use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
        use diesel_async::RunQueryDsl as _;
        let mut rows = $filtered();
        if let Some(after) = $window.after {
            rows = rows.filter($key.gt(after));
        }
        let rows: Vec<$row> = rows
            .order($key)
            .limit($window.fetch())
            .select($row::as_select())
            .load($connection)
            .await?;
        let total = if $want_total {
            Some($filtered().count().get_result($connection).await?)
        } else {
            None
        };
        $crate::paging::page(rows, &$window, total, |row| row.$field)
    }};
}

pub(crate) use load_page;

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<i64>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            cursor: cursor.map(str::to_owned),
            total: false,
        }
    }

    #[test]
    fn a_full_fetch_gives_a_next_cursor() {
        let window: Window<i64> = window(&query(Some(2), None)).unwrap();
        assert_eq!(window.fetch(), 3);
        let page = page(vec![10_i64, 11, 12], &window, None, |row| *row);
        assert_eq!(page.items, [10, 11]);
        assert_eq!(page.next.as_deref(), Some("11"));
    }

    #[test]
    fn the_last_page_has_no_next() {
        let window: Window<i64> = window(&query(Some(2), Some("11"))).unwrap();
        assert_eq!(window.after, Some(11));
        let page = page(vec![12_i64], &window, Some(3), |row| *row);
        assert_eq!(page.next, None);
        assert_eq!(page.total, Some(3));
    }

    #[test]
    fn refuses_bad_limits_and_cursors() {
        for bad in [Some(0), Some(1001)] {
            let problem = window::<i64>(&query(bad, None)).unwrap_err();
            assert_eq!(problem.errors[0].field, "limit");
        }
        let problem = window::<i64>(&query(None, Some("abc"))).unwrap_err();
        assert_eq!(problem.errors[0].field, "cursor");
    }
}
