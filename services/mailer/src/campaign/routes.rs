//! `POST /v1/experiments/{id}/start`: a draft becomes a running experiment with its
//! audience assigned and its e-mails queued, in one transaction.

use actix_web::{post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use models::enums::{ExperimentPhase, ExperimentStatus, NoWinnerAction};
use models::experiments::{Experiment, Launch};
use models::schema::{experiments, segmentation_runs};
use service::Problem;
use service::auth::InternalCaller;
use service::problem::connection;

use super::{Pass, assign, lock_launches, queue_messages, start_phase};
use crate::send::compose::VariantTemplate;
use crate::settings::Settings;

/// Starts a draft: assigns the audience (consenting customers of the segment or filter, minus
/// suppressed addresses, customers of other running experiments and those over the frequency
/// cap), queues one e-mail per assigned customer outside the holdout, and marks it running.
#[utoipa::path(
    tag = "campaigns",
    security(("service_token" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    responses(
        (status = 200, description = "Started", body = Launch),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft, no variants, a template that cannot render, or no segmentation run for a segment audience", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/experiments/{id}/start")]
pub async fn start_experiment(
    _caller: InternalCaller,
    pool: web::Data<models::db::Pool>,
    settings: web::Data<Settings>,
    id: web::Path<i64>,
) -> Result<web::Json<Launch>, Problem> {
    let id = id.into_inner();
    let frequency_cap = settings.frequency_cap;
    let mut connection = connection(&pool).await?;
    let launch = connection
        .transaction(async |connection| {
            // The launch lock first, then the experiment's row: as a winner pass takes them.
            lock_launches(connection).await?;
            let experiment = lock_experiment(connection, id).await?;
            if experiment.status != ExperimentStatus::Draft {
                return Err(Problem::conflict(format!(
                    "experiment {id} is {}; only a draft can start",
                    experiment.status
                )));
            }
            let needs_control = start_phase(&experiment) == ExperimentPhase::Test
                && experiment.no_winner_action == NoWinnerAction::Control;
            check_variants(connection, id, needs_control).await?;
            if let Some(filter) = &experiment.audience_filter
                && let Err(error) =
                    serde_json::from_value::<models::audience::AudienceFilter>(filter.clone())
            {
                return Err(Problem::conflict(format!(
                    "the audience filter cannot be used ({error}); correct it while the experiment is a draft"
                )));
            }
            if experiment.segment_id.is_some() {
                let runs: i64 = segmentation_runs::table
                    .filter(segmentation_runs::status.eq("succeeded"))
                    .count()
                    .get_result(connection)
                    .await?;
                if runs == 0 {
                    return Err(Problem::conflict(
                        "the audience is a segment, but no segmentation run has succeeded yet",
                    ));
                }
            }
            let phase = start_phase(&experiment);
            let launch = launch(connection, &experiment, Pass::Start, phase, frequency_cap).await?;
            if launch.assigned == 0 {
                return Err(Problem::conflict(
                    "the audience is empty: no customer with e-mail consent, off the suppression \
                     list, outside other running experiments and under the frequency cap matches",
                ));
            }
            diesel::update(experiments::table.find(id))
                .set((
                    experiments::status.eq(ExperimentStatus::Running),
                    experiments::phase.eq(phase),
                    experiments::started_at.eq(diesel::dsl::now),
                ))
                .execute(connection)
                .await?;
            Ok::<_, Problem>(launch)
        })
        .await?;
    refresh_statistics(&mut connection, launch.queued).await;
    tracing::info!(
        experiment = id,
        queued = launch.queued,
        "experiment started"
    );
    Ok(web::Json(launch))
}

/// A large launch changes the ledger's size by more than its statistics know (a new database
/// has none at all) until autovacuum comes by: the sender's keyed lookups would be planned as
/// scans of the whole ledger meanwhile.
pub async fn refresh_statistics(connection: &mut AsyncPgConnection, queued: i64) {
    if queued < LARGE_LAUNCH {
        return;
    }
    if let Err(error) = sql_query("ANALYZE messages, assignments")
        .execute(connection)
        .await
    {
        tracing::warn!(%error, "cannot refresh the ledger's statistics");
    }
}

/// E-mails queued at once from which the ledger's statistics are refreshed.
const LARGE_LAUNCH: i64 = 10_000;

/// Assigns a pass and queues its e-mails.
pub async fn launch(
    connection: &mut AsyncPgConnection,
    experiment: &Experiment,
    pass: Pass,
    phase: ExperimentPhase,
    frequency_cap: i64,
) -> Result<Launch, Problem> {
    let arms = assign(connection, experiment, pass, frequency_cap).await?;
    let queued = queue_messages(connection, experiment.id, phase).await? as i64;
    Ok(Launch {
        experiment_id: experiment.id,
        phase,
        assigned: arms.iter().map(|arm| arm.assigned).sum(),
        holdout: arms
            .iter()
            .filter(|arm| arm.variant_id.is_none())
            .map(|arm| arm.assigned)
            .sum(),
        arms,
        queued,
    })
}

/// The experiment, locked for the transaction; 404 when there is none.
pub async fn lock_experiment(
    connection: &mut AsyncPgConnection,
    id: i64,
) -> Result<Experiment, Problem> {
    models::experiments::lock(connection, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no experiment {id}")))
}

/// At least one variant, and every template renders.
async fn check_variants(
    connection: &mut AsyncPgConnection,
    id: i64,
    needs_control: bool,
) -> Result<(), Problem> {
    let variants: Vec<(String, VariantTemplate)> = sql_query(
        "SELECT id, key, is_control, subject, body_text, body_html, links FROM variants
         WHERE experiment_id = $1 ORDER BY id",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .load::<KeyedTemplate>(connection)
    .await?
    .into_iter()
    .map(|keyed| (keyed.key, keyed.template))
    .collect();
    if variants.is_empty() {
        return Err(Problem::conflict(format!(
            "experiment {id} has no variants: there is nothing to send"
        )));
    }
    if needs_control && !variants.iter().any(|(_, template)| template.is_control) {
        return Err(Problem::conflict(
            "the rest of a test-then-winner audience gets the control's e-mail when there is no \
             winner (no_winner_action 'control'), but no variant is the control",
        ));
    }
    for (key, template) in &variants {
        template.check().map_err(|error| {
            Problem::conflict(format!("variant '{key}' cannot be rendered: {error}"))
        })?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct KeyedTemplate {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(embed)]
    template: VariantTemplate,
}
