//! `/`: the overview page, drawn from the same overview as `GET /api/v1/reports/overview`.

use actix_web::{HttpResponse, get};
use askama::Template;
use models::reports::{Overview, RunningExperiment};

use super::charts::{Chart, Shape};
use super::error_page::unavailable;
use super::login::html;
use super::signed_in::SignedIn;

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    page: &'static str,
    as_of: String,
    computed_at: String,
    customers: i64,
    active_subscribers: i64,
    mrr: String,
    last_churn: String,
    last_churn_month: String,
    charts: Vec<Chart>,
    experiments: Vec<RunningExperiment>,
}

impl OverviewPage {
    fn of(overview: Overview) -> OverviewPage {
        let last = overview.monthly_churn.last();
        let weeks = |value: fn(&models::reports::WeeklyActivity) -> i64| -> Vec<(String, f64)> {
            overview
                .weekly
                .iter()
                .map(|week| (week.week.format("%Y-%m-%d").to_string(), value(week) as f64))
                .collect()
        };
        let charts = vec![
            Chart::new(
                "Active users by week",
                "Week starting",
                "Customers who watched",
                weeks(|week| week.active_users),
                Shape::Line,
            ),
            Chart::new(
                "Sign-ups by week",
                "Week starting",
                "Customers",
                weeks(|week| week.signups),
                Shape::Bars,
            ),
            Chart::new(
                "Churn by week",
                "Week starting",
                "Subscriptions churned",
                weeks(|week| week.churned),
                Shape::Bars,
            ),
            Chart::new(
                "Monthly churn rate",
                "Month",
                "% churned",
                overview
                    .monthly_churn
                    .iter()
                    .map(|month| {
                        (
                            month.month.format("%Y-%m").to_string(),
                            (month.rate.unwrap_or(0.0) * 10_000.0).round() / 100.0,
                        )
                    })
                    .collect(),
                Shape::Bars,
            ),
            Chart::new(
                "Segment mix (latest segmentation run)",
                "Segment",
                "Customers",
                overview
                    .segment_mix
                    .iter()
                    .map(|segment| (segment.segment.clone(), segment.customers as f64))
                    .collect(),
                Shape::Bars,
            ),
        ];
        OverviewPage {
            page: "overview",
            as_of: overview.as_of.format("%Y-%m-%d %H:%M UTC").to_string(),
            computed_at: overview
                .computed_at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
            customers: overview.customers,
            active_subscribers: overview.active_subscribers,
            mrr: models::render::dollars(overview.mrr_cents),
            last_churn: last
                .and_then(|month| month.rate)
                .map_or("-".to_owned(), |rate| format!("{:.2}%", rate * 100.0)),
            last_churn_month: last.map_or("-".to_owned(), |month| {
                month.month.format("%B %Y").to_string()
            }),
            charts,
            experiments: overview.running_experiments,
        }
    }
}

#[get("/")]
pub async fn overview_page(signed_in: SignedIn) -> HttpResponse {
    let mut connection = signed_in.connection;
    match crate::reports::current_overview(&mut connection).await {
        Ok(overview) => html(&OverviewPage::of(overview)),
        Err(problem) => unavailable(&problem.detail),
    }
}
