//! The public REST API: `/api/v1/...`, its OpenAPI document and Swagger UI.

pub mod analysis;
pub mod api_keys;
pub mod conversions;
mod crud;
pub mod customers;
pub mod dashboard;
pub mod events;
pub mod experiments;
pub mod jobs;
pub mod lifecycle;
pub mod links;
pub mod mail_preview;
pub mod paging;
pub mod peer_answers;
pub mod plans;
pub mod records;
pub mod reports;
pub mod rule_sets;
pub mod segmentation;
pub mod segments;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod status;
pub mod subscriptions;
pub mod suppressions;
pub mod templates;
pub mod titles;

use std::sync::Arc;

use actix_web::web;
use clients::{CallPolicy, ServiceClient};
use service::binary::{Listen, Service};
use service::health::ServiceInfo;
use service::server::Routes;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use settings::Settings;

/// The public api service.
pub struct Api;

impl Service for Api {
    const INFO: ServiceInfo = ServiceInfo {
        name: "api",
        version: env!("CARGO_PKG_VERSION"),
    };
    const LISTEN: Listen = Listen::loopback("API_ADDR", 8000);
    const DESCRIPTION: &'static str = "The public API of the streamlab experimentation platform. \
        Authorize with an API key (Bearer): `read` keys read, `admin` keys also write. \
        Errors are application/problem+json.";
    type Settings = Settings;

    fn routes(settings: Option<&Settings>) -> Routes {
        let api_keys = web::Data::new(
            settings
                .map(|settings| settings.api_keys.clone())
                .unwrap_or_default(),
        );
        let limits = settings.map(|settings| settings.limits).unwrap_or_default();
        // Shared by every worker of the process: the cap is per process.
        let batch_slots = web::Data::new(events::BatchSlots::new(limits.batch_concurrency));
        let peers = settings.and_then(peer_clients).map(web::Data::new);
        let guide_dir = settings.map_or_else(settings::default_guide_dir, |settings| {
            settings.guide_dir.clone()
        });
        Arc::new(move |config| {
            config.app_data(api_keys.clone());
            config.app_data(web::Data::new(limits));
            config.app_data(batch_slots.clone());
            if let Some(peers) = &peers {
                config.app_data(peers.clone());
            }
            // The dashboard's pages: not part of the API's document.
            config.map(|config| {
                config
                    .service(dashboard::assets::asset)
                    .service(dashboard::login::login_page)
                    .service(dashboard::login::login)
                    .service(dashboard::login::logout)
                    .service(dashboard::overview::overview_page)
                    .service(dashboard::customer_form::new_customer_page)
                    .service(dashboard::customer_form::edit_customer_page)
                    .service(dashboard::customer::customer_page)
                    .service(dashboard::customers::customers_page)
                    .service(dashboard::segments::segments_page)
                    .service(dashboard::experiments::new_experiment_page)
                    .service(dashboard::experiments::experiments_page)
                    .service(dashboard::results::results_page)
                    .service(dashboard::experiment::experiment_page)
                    .service(dashboard::stats::stats_page)
                    .service(dashboard::settings::settings_page)
                    .configure(|config| dashboard::guide::configure(config, &guide_dir))
            });
            config.service(
                scope::scope("/api/v1")
                    .wrap(actix_web::middleware::from_fn(service::auth::check_api_key))
                    .app_data(web::PayloadConfig::new(limits.max_body_bytes))
                    .configure(resources)
                    .service(api_keys::create_key)
                    .service(api_keys::list_keys)
                    .service(api_keys::revoke_key)
                    .service(jobs::list_jobs)
                    .service(jobs::create_job)
                    .service(jobs::get_job)
                    .service(stats::proportions)
                    .service(stats::means)
                    .service(stats::power)
                    .service(stats::srm)
                    .service(stats::adjust)
                    .service(status::platform_status)
                    .service(reports::get_overview)
                    .service(reports::refresh_overview)
                    .service(reports::segments::get_segments_report)
                    .service(reports::audience::get_audience_report)
                    .service(reports::timeline::get_timeline)
                    .service(reports::results_csv::get_results_csv)
                    .service(mail_preview::preview),
            );
        })
    }
}

/// Every resource's routes, in the order of the documentation.
fn resources(config: &mut ServiceConfig) {
    config
        .service(customers::list_customers)
        .service(customers::get_customer)
        .service(customers::create_customer)
        .service(customers::update_customer)
        .service(customers::delete_customer)
        .service(segmentation::list_customer_segments)
        .service(plans::list_plans)
        .service(plans::get_plan)
        .service(plans::create_plan)
        .service(plans::update_plan)
        .service(plans::delete_plan)
        .service(subscriptions::list_subscriptions)
        .service(subscriptions::get_subscription)
        .service(subscriptions::create_subscription)
        .service(subscriptions::update_subscription)
        .service(subscriptions::delete_subscription)
        .service(titles::list_titles)
        .service(titles::get_title)
        .service(titles::create_title)
        .service(titles::update_title)
        .service(titles::delete_title)
        .service(sessions::list_sessions)
        .service(sessions::get_session)
        .service(sessions::create_session)
        .service(sessions::delete_session)
        .service(events::list_events)
        .service(events::create_event_batch)
        .service(events::get_event)
        .service(events::create_event)
        .service(events::delete_event)
        .service(conversions::list_conversions)
        .service(conversions::get_conversion)
        .service(conversions::create_conversion)
        .service(conversions::delete_conversion)
        .service(segments::list_segments)
        .service(segments::get_segment)
        .service(segments::create_segment)
        .service(segments::update_segment)
        .service(segments::delete_segment)
        .service(templates::list_templates)
        .service(templates::get_template)
        .service(templates::create_template)
        .service(templates::update_template)
        .service(templates::delete_template)
        .service(experiments::list_experiments)
        .service(experiments::get_experiment)
        .service(experiments::create_experiment)
        .service(experiments::update_experiment)
        .service(experiments::delete_experiment)
        .service(experiments::create_variant)
        .service(experiments::update_variant)
        .service(experiments::delete_variant)
        .service(lifecycle::start_experiment)
        .service(lifecycle::pause_experiment)
        .service(lifecycle::resume_experiment)
        .service(lifecycle::stop_experiment)
        .service(lifecycle::decide_experiment)
        .service(lifecycle::pick_winner)
        .service(lifecycle::experiment_delivery)
        .service(lifecycle::send_test_message)
        .service(analysis::analyze_experiment)
        .service(analysis::list_experiment_analyses)
        .service(suppressions::list_suppressions)
        .service(suppressions::get_suppression)
        .service(suppressions::create_suppression)
        .service(suppressions::delete_suppression)
        .service(records::list_assignments)
        .service(records::get_assignment)
        .service(records::list_messages)
        .service(records::get_message)
        .service(records::list_message_events)
        .service(records::get_message_event)
        .service(records::list_analyses)
        .service(records::get_analysis)
        .service(segmentation::list_runs)
        .service(segmentation::start_run)
        .service(segmentation::get_run)
        .service(segmentation::run_distribution)
        .service(segmentation::list_run_memberships)
        .service(rule_sets::list_rule_sets)
        .service(rule_sets::create_rule_set)
        .service(rule_sets::get_rule_set)
        .service(rule_sets::update_rule_set)
        .service(rule_sets::delete_rule_set);
}

fn peer_clients(settings: &Settings) -> Option<status::Peers> {
    let token = settings.common.service_token.expose();
    let client = |name, url: &url::Url, policy| {
        ServiceClient::new(name, url.clone(), token.to_owned(), policy).ok()
    };
    // Starting an experiment assigns its whole audience, and a winner pick waits for ds's
    // analysis: the mailer may take minutes.
    let mailer_policy = CallPolicy {
        timeout: std::time::Duration::from_secs(600),
        retries: 0,
        ..CallPolicy::default()
    };
    Some(status::Peers {
        ds: client("ds", &settings.ds_url, CallPolicy::default())?,
        mailer: client("mailer", &settings.mailer_url, CallPolicy::default())?,
        mailer_launches: client("mailer", &settings.mailer_url, mailer_policy)?,
        etl: client("etl", &settings.etl_url, CallPolicy::default())?,
    })
}
