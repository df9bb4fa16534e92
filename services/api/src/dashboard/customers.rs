//! `/customers`: the customer table (search, filters, pages over the whole data through the
//! list route's own query).

use actix_web::{HttpResponse, get, web};
use askama::Template;
use models::page::PageQuery;
use serde::Deserialize;

use super::error_page::unavailable;
use super::login::html;
use super::signed_in::SignedIn;
use crate::customers::{CustomerFilter, find_customers};

/// One row of the table, as shown.
struct Row {
    id: i64,
    name: String,
    email: String,
    country: String,
    plan: String,
    segment: String,
    signup: String,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    page: &'static str,
    email: String,
    country: String,
    segment_id: String,
    segments: Vec<(i64, String)>,
    rows: Vec<Row>,
    next: Option<String>,
    error: Option<String>,
}

/// The page's query: the filters, as a form sends them (empty fields are absent).
#[derive(Debug, Default, Deserialize)]
pub struct CustomersQuery {
    email: Option<String>,
    country: Option<String>,
    segment_id: Option<String>,
    cursor: Option<String>,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

#[get("/customers")]
pub async fn customers_page(
    signed_in: SignedIn,
    query: web::Query<CustomersQuery>,
) -> HttpResponse {
    let mut connection = signed_in.connection;
    let segment_id = present(&query.segment_id);
    let filter = CustomerFilter {
        segment_id: segment_id.as_deref().and_then(|id| id.parse().ok()),
        plan_id: None,
        country: present(&query.country).map(|country| country.to_uppercase()),
        signup_from: None,
        signup_before: None,
        email: present(&query.email),
    };
    let page_query = PageQuery {
        limit: Some(50),
        cursor: present(&query.cursor),
        total: false,
    };
    let segments: Vec<(i64, String)> = match crate::segments::segment_names(&mut connection).await {
        Ok(segments) => segments,
        Err(error) => return unavailable(&error),
    };
    let (rows, next, error) = match find_customers(&mut connection, &page_query, &filter).await {
        Ok(found) => {
            let next = found.next.map(|cursor| {
                let mut link = url::Url::parse("http://page/customers").ok();
                if let Some(link) = link.as_mut() {
                    let mut pairs = link.query_pairs_mut();
                    for (name, value) in [
                        ("email", &filter.email),
                        ("country", &filter.country),
                        ("segment_id", &segment_id),
                    ] {
                        if let Some(value) = value {
                            pairs.append_pair(name, value);
                        }
                    }
                    pairs.append_pair("cursor", &cursor);
                }
                link.map_or_else(String::new, |link| {
                    format!("/customers?{}", link.query().unwrap_or_default())
                })
            });
            let rows = found
                .items
                .into_iter()
                .map(|view| Row {
                    id: view.customer.id,
                    name: format!("{} {}", view.customer.first_name, view.customer.last_name),
                    email: view.customer.email,
                    country: view.customer.country.unwrap_or_default(),
                    plan: view.current_plan.map(|plan| plan.name).unwrap_or_default(),
                    segment: view
                        .latest_segment
                        .map(|segment| segment.name)
                        .unwrap_or_default(),
                    signup: view.customer.signup_at.format("%Y-%m-%d").to_string(),
                })
                .collect();
            (rows, next, None)
        }
        // A bad cursor or filter is the API's 4xx: say it, do not fail the page.
        Err(problem) => (Vec::new(), None, Some(problem.detail)),
    };
    html(&CustomersPage {
        page: "customers",
        email: filter.email.clone().unwrap_or_default(),
        country: filter.country.clone().unwrap_or_default(),
        segment_id: segment_id.unwrap_or_default(),
        segments,
        rows,
        next,
        error,
    })
}
