//! Test then winner: when the test phase's wait is over (or when asked through the api), ds
//! analyses the test; a variant that beats the control significantly on the goal metric is
//! the winner and goes to the rest of the audience. Without one, the rest gets the control's
//! e-mail or nothing, as the experiment says. A manual pick overrides the analysis.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::{post, web};
use clients::{ClientError, ServiceClient};
use diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryableByName};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use models::analysis::{ArmResult, Decision, Recommendation, Report};
use models::db::Pool;
use models::enums::{ExperimentPhase, ExperimentStatus, JobStatus, NoWinnerAction};
use models::jobs::Job;
use models::schema::{analyses, experiments, jobs, variants};
use serde::Deserialize;
use service::auth::InternalCaller;
use service::json::JsonBody;
use service::problem::connection;
use service::{FieldError, Problem};
use utoipa::ToSchema;

use super::routes::{launch, lock_experiment, refresh_statistics};
use super::{Pass, lock_launches};
use crate::settings::Settings;
use models::experiments::Launch;

/// The longest a pick waits for ds's analysis.
/// Shorter than the api's wait for the mailer (10 minutes), so that a slow analysis is this
/// route's answer, not a timeout of the api's while the pick may still be applied.
const ANALYSIS_TIMEOUT: Duration = Duration::from_secs(300);
/// Between looks at the analysis job.
const ANALYSIS_POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WinnerRequest {
    /// A manual pick; absent, ds's analysis decides.
    pub variant_id: Option<i64>,
}

/// What the pick decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// The declared winner (significant, or picked by hand).
    pub winner: Option<i64>,
    /// What the rest gets: the winner, the control, or nothing.
    pub send: Option<i64>,
    pub note: String,
}

/// Ends the test phase now: picks the winner (by hand with `variant_id`, else by ds's
/// analysis of the test) and queues the rest of the audience.
#[utoipa::path(
    tag = "campaigns",
    security(("service_token" = [])),
    params(("id" = i64, Path, description = "The experiment's id")),
    request_body = WinnerRequest,
    responses(
        (status = 200, description = "The winner phase, queued", body = Launch),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in its test phase", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The variant is not one of the experiment's", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "ds could not analyse the test", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/experiments/{id}/winner")]
pub async fn pick_winner(
    _caller: InternalCaller,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    ds: web::Data<ServiceClient>,
    id: web::Path<i64>,
    JsonBody(request): JsonBody<WinnerRequest>,
) -> Result<web::Json<Launch>, Problem> {
    let id = id.into_inner();
    let manual = request.variant_id;
    let pick = match manual {
        Some(variant_id) => {
            let mut connection = connection(&pool).await?;
            let belongs: Option<String> = variants::table
                .find(variant_id)
                .filter(variants::experiment_id.eq(id))
                .select(variants::key)
                .first(&mut connection)
                .await
                .optional()?;
            let key = belongs.ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "variant_id",
                    format!("is not a variant of experiment {id}"),
                )])
            })?;
            Pick {
                winner: Some(variant_id),
                send: Some(variant_id),
                note: format!("winner '{key}', picked by hand"),
            }
        }
        None => {
            ensure_test_phase(&pool, id).await?;
            analyse(&pool, &ds, id).await?
        }
    };
    apply(&pool, id, &pick, settings.frequency_cap)
        .await
        .map(web::Json)
}

async fn ensure_test_phase(pool: &Pool, id: i64) -> Result<(), Problem> {
    let mut connection = connection(pool).await?;
    let state: Option<(ExperimentStatus, Option<ExperimentPhase>)> = experiments::table
        .find(id)
        .select((experiments::status, experiments::phase))
        .first(&mut connection)
        .await
        .optional()?;
    match state {
        None => Err(Problem::not_found(format!("no experiment {id}"))),
        Some((
            ExperimentStatus::Running | ExperimentStatus::Paused,
            Some(ExperimentPhase::Test),
        )) => Ok(()),
        Some((status, phase)) => Err(not_in_test(id, status, phase)),
    }
}

fn not_in_test(id: i64, status: ExperimentStatus, phase: Option<ExperimentPhase>) -> Problem {
    let phase = phase.map_or("no phase".to_owned(), |phase| format!("phase {phase}"));
    Problem::conflict(format!(
        "experiment {id} is {status} in {phase}; a winner is picked only in a running test phase"
    ))
}

/// Queues the rest of the audience with the pick, once.
async fn apply(pool: &Pool, id: i64, pick: &Pick, frequency_cap: i64) -> Result<Launch, Problem> {
    let mut connection = connection(pool).await?;
    let launched = connection
        .transaction(async |connection| {
            lock_launches(connection).await?;
            let experiment = lock_experiment(connection, id).await?;
            let running = matches!(
                experiment.status,
                ExperimentStatus::Running | ExperimentStatus::Paused
            );
            if !running || experiment.phase != Some(ExperimentPhase::Test) {
                return Err(not_in_test(id, experiment.status, experiment.phase));
            }
            let launched = launch(
                connection,
                &experiment,
                Pass::Winner { winner: pick.send },
                ExperimentPhase::Winner,
                frequency_cap,
            )
            .await?;
            diesel::update(experiments::table.find(id))
                .set((
                    experiments::phase.eq(ExperimentPhase::Winner),
                    experiments::winner_variant_id.eq(pick.winner),
                    experiments::winner_note.eq(&pick.note),
                    experiments::winner_picked_at.eq(diesel::dsl::now),
                ))
                .execute(connection)
                .await?;
            tracing::info!(experiment = id, note = %pick.note, queued = launched.queued, "winner phase");
            Ok::<_, Problem>(launched)
        })
        .await?;
    refresh_statistics(&mut connection, launched.queued).await;
    Ok(launched)
}

/// ds failing as this route's caller sees it: down is 503, a refusal keeps its status and
/// words, anything else is 502.
fn ds_problem(error: ClientError) -> Problem {
    match &error {
        ClientError::Unreachable { .. } => Problem::unavailable(error.to_string()),
        ClientError::Refused {
            status, problem, ..
        } => Problem::new(
            actix_web::http::StatusCode::from_u16(*status)
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
            problem["detail"]
                .as_str()
                .map_or_else(|| error.to_string(), |detail| format!("ds: {detail}")),
        ),
        ClientError::Status { .. } | ClientError::BadAnswer { .. } => {
            Problem::new(actix_web::http::StatusCode::BAD_GATEWAY, error.to_string())
        }
    }
}

/// Asks ds to analyse the test, waits for the stored result and reads the pick from it. No
/// connection is held while it waits.
async fn analyse(pool: &Pool, ds: &ServiceClient, id: i64) -> Result<Pick, Problem> {
    let job: Job = ds
        .post_raw(
            &format!("v1/experiments/{id}/analyze"),
            "application/json",
            Vec::new(),
        )
        .await
        .map_err(ds_problem)?;
    let deadline = Instant::now() + ANALYSIS_TIMEOUT;
    loop {
        let (status, error): (JobStatus, Option<String>) = jobs::table
            .find(job.id)
            .select((jobs::status, jobs::error))
            .first(&mut connection(pool).await?)
            .await?;
        match status {
            JobStatus::Succeeded => break,
            JobStatus::Failed | JobStatus::Cancelled => {
                return Err(Problem::new(
                    actix_web::http::StatusCode::BAD_GATEWAY,
                    format!(
                        "ds's analysis (job {}) failed: {}",
                        job.id,
                        error.unwrap_or_default()
                    ),
                ));
            }
            JobStatus::Queued | JobStatus::Running if Instant::now() > deadline => {
                return Err(Problem::unavailable(format!(
                    "ds's analysis (job {}) took longer than {} s; try the pick again later",
                    job.id,
                    ANALYSIS_TIMEOUT.as_secs()
                )));
            }
            JobStatus::Queued | JobStatus::Running => tokio::time::sleep(ANALYSIS_POLL).await,
        }
    }
    let mut connection = connection(pool).await?;
    let results: serde_json::Value = analyses::table
        .filter(analyses::job_id.eq(job.id))
        .select(analyses::results)
        .first(&mut connection)
        .await?;
    let report: Report = serde_json::from_value(results).map_err(|error| {
        Problem::internal(&format!(
            "ds's analysis (job {}) cannot be read: {error}",
            job.id
        ))
    })?;
    let (action, control): (NoWinnerAction, Option<i64>) = experiments::table
        .find(id)
        .select((
            experiments::no_winner_action,
            variants::table
                .filter(variants::experiment_id.eq(id))
                .filter(variants::is_control.eq(true))
                .select(variants::id)
                .single_value(),
        ))
        .first(&mut connection)
        .await?;
    Ok(pick_from_report(
        &report.recommendation,
        &report.arms,
        action,
        control,
    ))
}

/// The winner from an analysis report: the variant ds recommends shipping, by the same rule
/// its recommendation uses (significant and better on the goal metric, the always-valid test
/// before the planned sample is in, nothing when the split fails its sample-ratio check).
pub fn pick_from_report(
    recommendation: &Recommendation,
    arms: &[ArmResult],
    action: NoWinnerAction,
    control: Option<i64>,
) -> Pick {
    let reason = recommendation.reason.as_str();
    let winner = (recommendation.decision == Decision::Ship)
        .then_some(recommendation.variant.as_deref())
        .flatten()
        .and_then(|key| arms.iter().find(|arm| arm.key == key))
        .and_then(|arm| arm.variant_id);
    if let Some(variant_id) = winner {
        return Pick {
            winner: Some(variant_id),
            send: Some(variant_id),
            note: format!("winner: {reason}"),
        };
    }
    let send = match action {
        NoWinnerAction::Control => control,
        NoWinnerAction::Nothing => None,
    };
    let rest = if send.is_some() {
        "the rest gets the control's e-mail"
    } else {
        "the rest gets nothing"
    };
    Pick {
        winner: None,
        send,
        note: format!("no winner: {reason}; {rest}"),
    }
}

/// Picks the winners of test phases whose wait is over, every `poll`. One experiment whose
/// pick fails waits longer each time (doubling, up to an hour) and holds up no other.
pub fn spawn_scheduler(pool: Pool, ds: ServiceClient, frequency_cap: i64, poll: Duration) {
    tokio::spawn(async move {
        let mut retry_at: HashMap<i64, (Instant, Duration)> = HashMap::new();
        loop {
            tokio::time::sleep(poll).await;
            let due = match due_experiments(&pool).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "winner scheduler: will try again");
                    continue;
                }
            };
            for id in due {
                if retry_at
                    .get(&id)
                    .is_some_and(|(at, _)| Instant::now() < *at)
                {
                    continue;
                }
                match pick_once(&pool, &ds, id, frequency_cap).await {
                    Ok(()) => {
                        retry_at.remove(&id);
                    }
                    Err(error) => {
                        let wait = retry_at
                            .get(&id)
                            .map_or(poll, |(_, wait)| (*wait * 2).min(MAX_PICK_BACKOFF));
                        tracing::warn!(experiment = id, %error, ?wait, "cannot pick the winner yet");
                        retry_at.insert(id, (Instant::now() + wait, wait));
                    }
                }
            }
        }
    });
}

/// The longest wait between tries of a failing pick.
const MAX_PICK_BACKOFF: Duration = Duration::from_secs(3600);

/// Picks experiment `id`'s winner unless another mailer is at it (a session advisory lock,
/// released when the pick ends or its connection dies).
async fn pick_once(
    pool: &Pool,
    ds: &ServiceClient,
    id: i64,
    frequency_cap: i64,
) -> Result<(), String> {
    let mut guard = pool.get().await.map_err(|error| error.to_string())?;
    let locked: Locked = diesel::sql_query(
        "SELECT pg_try_advisory_lock(hashtextextended('streamlab.winner-pick', $1)) AS locked",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .get_result(&mut guard)
    .await
    .map_err(|error| error.to_string())?;
    if !locked.locked {
        return Ok(());
    }
    let picked = async {
        let pick = analyse(pool, ds, id)
            .await
            .map_err(|problem| problem.detail)?;
        apply(pool, id, &pick, frequency_cap)
            .await
            .map(|_| ())
            .map_err(|problem| problem.detail)
    }
    .await;
    let unlocked = diesel::sql_query(
        "SELECT pg_advisory_unlock(hashtextextended('streamlab.winner-pick', $1))",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .execute(&mut guard)
    .await;
    if unlocked.is_err() {
        // A lock that cannot be released must not go back to the pool with the connection.
        let _ = models::db::PooledConnection::take(guard);
    }
    picked
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

async fn due_experiments(pool: &Pool) -> Result<Vec<i64>, String> {
    let due: Vec<i64> = {
        let mut connection = pool.get().await.map_err(|error| error.to_string())?;
        diesel::sql_query(
            "SELECT id FROM experiments
             WHERE status = 'running' AND phase = 'test' AND winner_picked_at IS NULL
               AND started_at + make_interval(hours => coalesce(winner_wait_hours, 24)) <= now()",
        )
        .load::<DueExperiment>(&mut connection)
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .map(|row| row.id)
        .collect()
    };
    Ok(due)
}

#[derive(QueryableByName)]
struct DueExperiment {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arms() -> Vec<ArmResult> {
        [("a", 1), ("b", 2)]
            .into_iter()
            .map(|(key, id)| ArmResult {
                key: key.to_owned(),
                variant_id: Some(id),
                ..ArmResult::default()
            })
            .collect()
    }

    fn recommendation(decision: Decision, variant: Option<&str>) -> Recommendation {
        Recommendation {
            decision,
            variant: variant.map(str::to_owned),
            reason: "because".to_owned(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn the_winner_is_what_the_analysis_recommends_shipping() {
        let pick = pick_from_report(
            &recommendation(Decision::Ship, Some("b")),
            &arms(),
            NoWinnerAction::Control,
            Some(1),
        );
        assert_eq!((pick.winner, pick.send), (Some(2), Some(2)));
        assert_eq!(pick.note, "winner: because");
        for decision in [
            Decision::KeepRunning,
            Decision::KeepControl,
            Decision::Investigate,
        ] {
            let pick = pick_from_report(
                &recommendation(decision, Some("a")),
                &arms(),
                NoWinnerAction::Control,
                Some(1),
            );
            assert_eq!((pick.winner, pick.send), (None, Some(1)), "{decision:?}");
            assert!(pick.note.starts_with("no winner: because"), "{}", pick.note);
        }
        let nothing = pick_from_report(
            &recommendation(Decision::KeepRunning, None),
            &arms(),
            NoWinnerAction::Nothing,
            Some(1),
        );
        assert_eq!((nothing.winner, nothing.send), (None, None));
        assert!(
            nothing.note.ends_with("the rest gets nothing"),
            "{}",
            nothing.note
        );
    }
}
