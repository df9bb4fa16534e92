//! `/experiments/{id}`: one experiment's design, its variants, where its e-mails stand, and the
//! buttons its status allows (start, pause, resume, pick the winner, stop, analyse, decide).

use actix_web::{HttpResponse, get, web};
use askama::Template;
use models::enums::ExperimentStatus;
use models::experiments::ExperimentView;

use super::error_page::{error_page, unavailable};
use super::login::html;
use super::signed_in::SignedIn;
use crate::lifecycle::delivery;

struct VariantRow {
    id: i64,
    key: String,
    name: String,
    subject: String,
    weight: String,
    control: bool,
    winner: bool,
}

#[derive(Template)]
#[template(path = "experiment.html")]
struct ExperimentPage {
    page: &'static str,
    csrf_token: String,
    admin: bool,
    id: i64,
    name: String,
    hypothesis: String,
    status: String,
    phase: String,
    details: Vec<(&'static str, String)>,
    variants: Vec<VariantRow>,
    ledger: Vec<(String, String)>,
    events: Vec<(String, String, String)>,
    can_start: bool,
    can_pause: bool,
    can_resume: bool,
    can_stop: bool,
    can_pick_winner: bool,
    can_decide: bool,
}

fn when(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map_or("-".to_owned(), |time| {
        time.format("%Y-%m-%d %H:%M UTC").to_string()
    })
}

fn details(view: &ExperimentView, segment: String) -> Vec<(&'static str, String)> {
    let experiment = &view.experiment;
    let percent = |fraction: f64| format!("{:.1}%", fraction * 100.0);
    vec![
        ("Goal metric", experiment.goal_metric.to_string()),
        ("Audience", segment),
        (
            "Exclusive",
            if experiment.exclusive { "yes" } else { "no" }.to_owned(),
        ),
        ("Holdout", percent(experiment.holdout_fraction)),
        (
            "Test then winner",
            experiment.test_fraction.map_or("no: everyone is in the test".to_owned(), |share| {
                format!(
                    "{} of the rest in the test; the winner after {} h; without one the rest gets {}",
                    percent(share),
                    experiment.winner_wait_hours.unwrap_or(24),
                    experiment.no_winner_action
                )
            }),
        ),
        ("Alpha", experiment.alpha.to_string()),
        (
            "Attribution window",
            format!("{} days", experiment.attribution_window_days),
        ),
        (
            "Planned sample",
            experiment
                .planned_sample_size
                .map_or("-".to_owned(), |n| n.to_string()),
        ),
        ("Started", when(experiment.started_at)),
        ("Stopped", when(experiment.stopped_at)),
        (
            "Winner note",
            experiment.winner_note.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        (
            "Decision",
            experiment.decision.clone().unwrap_or_else(|| "-".to_owned()),
        ),
    ]
}

/// The experiment with its variants; or the page's answer: 404 in words, or unavailable.
pub async fn experiment_or_answer(
    connection: &mut diesel_async::AsyncPgConnection,
    id: i64,
) -> Result<ExperimentView, HttpResponse> {
    match crate::experiments::view(connection, id).await {
        Ok(experiment) => Ok(experiment),
        Err(problem) if problem.status == actix_web::http::StatusCode::NOT_FOUND => {
            Err(error_page(
                actix_web::http::StatusCode::NOT_FOUND,
                &format!("Experiment {id} does not exist."),
            ))
        }
        Err(problem) => Err(unavailable(&problem.detail)),
    }
}

#[get("/experiments/{id}")]
pub async fn experiment_page(signed_in: SignedIn, id: web::Path<i64>) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let id = id.into_inner();
    let experiment = match experiment_or_answer(&mut connection, id).await {
        Ok(experiment) => experiment,
        Err(response) => return response,
    };
    let counts = match delivery(&mut connection, id).await {
        Ok(counts) => counts,
        Err(error) => return unavailable(&error),
    };
    let segment = match experiment.experiment.segment_id {
        Some(segment_id) => {
            use diesel::QueryDsl as _;
            use diesel_async::RunQueryDsl as _;
            models::schema::segments::table
                .find(segment_id)
                .select(models::schema::segments::name)
                .first::<String>(&mut connection)
                .await
                .unwrap_or_else(|_| format!("segment {segment_id}"))
        }
        None if experiment.experiment.audience_filter.is_some() => "a customer filter".to_owned(),
        None => "everyone who agreed to e-mail".to_owned(),
    };
    let status = experiment.experiment.status;
    let admin = session.is_admin();
    let human = |kind: &str| {
        counts
            .human_events
            .get(kind)
            .map_or("0".to_owned(), ToString::to_string)
    };
    html(&ExperimentPage {
        page: "experiments",
        csrf_token: session.csrf_token,
        admin,
        id,
        name: experiment.experiment.name.clone(),
        hypothesis: experiment.experiment.hypothesis.clone(),
        status: status.to_string(),
        phase: experiment
            .experiment
            .phase
            .map_or(String::new(), |phase| phase.to_string()),
        details: details(&experiment, segment),
        variants: experiment
            .variants
            .iter()
            .map(|variant| VariantRow {
                id: variant.id,
                key: variant.key.clone(),
                name: variant.name.clone(),
                subject: variant.subject.clone(),
                weight: variant.weight.to_string(),
                control: variant.is_control,
                winner: experiment.experiment.winner_variant_id == Some(variant.id),
            })
            .collect(),
        ledger: counts
            .by_status
            .iter()
            .map(|(status, count)| (status.clone(), count.to_string()))
            .collect(),
        events: counts
            .events
            .iter()
            .map(|(kind, count)| (kind.clone(), count.to_string(), human(kind)))
            .collect(),
        can_start: admin && status == ExperimentStatus::Draft,
        can_pause: admin && status == ExperimentStatus::Running,
        can_resume: admin && status == ExperimentStatus::Paused,
        can_stop: admin && matches!(status, ExperimentStatus::Running | ExperimentStatus::Paused),
        can_pick_winner: admin
            && status == ExperimentStatus::Running
            && experiment.experiment.phase == Some(models::enums::ExperimentPhase::Test),
        can_decide: admin && status == ExperimentStatus::Stopped,
    })
}
