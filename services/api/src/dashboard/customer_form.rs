//! `/customers/new` and `/customers/{id}/edit`: one form that adds a customer
//! (`POST /api/v1/customers`) or changes one (`PATCH /api/v1/customers/{id}`) through the API,
//! showing the API's own validation messages under their fields.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use askama::Template;
use models::customers::Customer;
use models::enums::{AcquisitionChannel, AgeBand, Device};

use super::error_page::{error_page, unavailable};
use super::login::html;
use super::signed_in::SignedIn;

/// A choice list: its field, label, options and the chosen one.
struct Choice {
    name: &'static str,
    label: &'static str,
    options: Vec<&'static str>,
    chosen: &'static str,
}

#[derive(Template)]
#[template(path = "customer_form.html")]
struct CustomerFormPage {
    page: &'static str,
    csrf_token: String,
    heading: String,
    /// The API route and method the form writes with.
    api: String,
    method: &'static str,
    /// Where the browser goes once the API has accepted it.
    after: String,
    submit: &'static str,
    first_name: String,
    last_name: String,
    email: String,
    country: String,
    region: String,
    city: String,
    email_consent: bool,
    choices: Vec<Choice>,
}

fn choices(customer: Option<&Customer>) -> Vec<Choice> {
    let chosen = |value: Option<&'static str>| value.unwrap_or_default();
    vec![
        Choice {
            name: "age_band",
            label: "Age band",
            options: AgeBand::ALL.iter().map(|value| value.as_str()).collect(),
            chosen: chosen(customer.and_then(|c| c.age_band).map(AgeBand::as_str)),
        },
        Choice {
            name: "device",
            label: "Device",
            options: Device::ALL.iter().map(|value| value.as_str()).collect(),
            chosen: chosen(customer.and_then(|c| c.device).map(Device::as_str)),
        },
        Choice {
            name: "acquisition_channel",
            label: "Acquisition channel",
            options: AcquisitionChannel::ALL
                .iter()
                .map(|value| value.as_str())
                .collect(),
            chosen: chosen(
                customer
                    .and_then(|c| c.acquisition_channel)
                    .map(AcquisitionChannel::as_str),
            ),
        },
    ]
}

#[get("/customers/new")]
pub async fn new_customer_page(signed_in: SignedIn) -> HttpResponse {
    html(&CustomerFormPage {
        page: "customers",
        csrf_token: signed_in.session.csrf_token,
        heading: "Add a customer".to_owned(),
        api: "/api/v1/customers".to_owned(),
        method: "POST",
        after: "/customers?email={email}".to_owned(),
        submit: "Add",
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
        country: String::new(),
        region: String::new(),
        city: String::new(),
        email_consent: false,
        choices: choices(None),
    })
}

#[get("/customers/{id}/edit")]
pub async fn edit_customer_page(signed_in: SignedIn, id: web::Path<i64>) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let id = id.into_inner();
    let customer = match crate::customers::one_view(&mut connection, id).await {
        Ok(view) => view.customer,
        Err(problem) if problem.status == StatusCode::NOT_FOUND => {
            return error_page(
                StatusCode::NOT_FOUND,
                &format!("There is no customer {id}."),
            );
        }
        Err(error) => return unavailable(&error),
    };
    html(&CustomerFormPage {
        page: "customers",
        csrf_token: session.csrf_token,
        heading: format!("Edit {} {}", customer.first_name, customer.last_name),
        api: format!("/api/v1/customers/{id}"),
        method: "PATCH",
        after: format!("/customers/{id}"),
        submit: "Save",
        choices: choices(Some(&customer)),
        first_name: customer.first_name,
        last_name: customer.last_name,
        email: customer.email,
        country: customer.country.unwrap_or_default(),
        region: customer.region.unwrap_or_default(),
        city: customer.city.unwrap_or_default(),
        email_consent: customer.email_consent,
    })
}
