//! The sender: claims due messages from the ledger in batches (`FOR UPDATE SKIP LOCKED`,
//! under a lease that a heartbeat keeps extending), renders them, and sends them over a fixed
//! number of SMTP connections, one task each. Before each message a task checks that the
//! lease is still ours and the experiment still running; after it, the outcome goes to the
//! recorder, which writes it within milliseconds. A process killed mid-batch leaves its
//! claims to expire: only messages the server accepted in its last milliseconds can go twice.

pub mod compose;
pub mod lease;
pub mod ledger;
pub mod rate_limit;
pub mod recorder;
pub mod transport;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use diesel::sql_types::{Array, BigInt};
use diesel_async::RunQueryDsl as _;
use models::db::Pool;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::settings::SendSettings;
use compose::{Composed, Composer, VariantTemplate};
use lease::Held;
use ledger::{Claimed, CustomerContext};
use rate_limit::RateLimiter;
use recorder::Outcome;
use transport::{SendFailure, Sender, Transport};

/// Everything the sending tasks share.
pub struct Engine {
    pub pool: Pool,
    pub settings: SendSettings,
    pub composer: Composer,
    pub limiter: RateLimiter,
    /// This process's name on its claims.
    pub owner: String,
    pub transport: Transport,
}

/// What a running sender shares between its loop and its tasks.
struct Running {
    engine: Engine,
    held: Arc<Held>,
    outcomes: mpsc::Sender<Outcome>,
    /// When abandoned claims were last settled: a tidy-up, not needed on every claim.
    last_settled: std::sync::Mutex<Option<Instant>>,
}

/// How often abandoned claims are settled.
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a connection that could not reach the server waits before the next claim.
const NO_CONNECTION_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts the sender, its lease heartbeat and its recorder beside the HTTP server.
pub fn spawn(engine: Engine) {
    let held = Arc::new(Held::new());
    lease::spawn_heartbeat(
        engine.pool.clone(),
        engine.owner.clone(),
        engine.settings.lease,
        Arc::clone(&held),
    );
    let outcomes = recorder::spawn(
        engine.pool.clone(),
        Arc::clone(&held),
        recorder::Policy {
            owner: engine.owner.clone(),
            retry_base: engine.settings.retry_base,
            max_attempts: engine.settings.max_attempts,
        },
    );
    let running = Arc::new(Running {
        engine,
        held,
        outcomes,
        last_settled: std::sync::Mutex::new(None),
    });
    tokio::spawn(async move {
        let connections = running.engine.settings.connections;
        let mut senders: Vec<Sender> = (0..connections)
            .map(|_| Sender::new(running.engine.transport.clone()))
            .collect();
        loop {
            let (outcome, back) = step(&running, senders).await;
            senders = back;
            match outcome {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(running.engine.settings.poll).await,
                Err(error) => {
                    tracing::warn!(%error, "sender: will try again");
                    tokio::time::sleep(running.engine.settings.poll).await;
                }
            }
        }
    });
}

/// Claims and sends one batch; false when nothing was due. The connections go in and come
/// back out, so they stay open between batches.
async fn step(running: &Arc<Running>, senders: Vec<Sender>) -> (Result<bool, String>, Vec<Sender>) {
    let batch = match claim_batch(running).await {
        Ok(batch) => batch,
        Err(error) => return (Err(error), senders),
    };
    if batch.is_empty() {
        return (Ok(false), senders);
    }
    let count = senders.len();
    let mut shares: Vec<Vec<(Claimed, Composed)>> = (0..count).map(|_| Vec::new()).collect();
    for (index, item) in batch.into_iter().enumerate() {
        shares[index % count].push(item);
    }
    let tasks: Vec<_> = senders
        .into_iter()
        .zip(shares)
        .map(|(sender, share)| {
            let ids: Vec<Uuid> = share.iter().map(|(message, _)| message.id).collect();
            (
                ids,
                tokio::spawn(send_share(Arc::clone(running), sender, share)),
            )
        })
        .collect();
    let mut back = Vec::with_capacity(count);
    for (ids, task) in tasks {
        match task.await {
            Ok(sender) => back.push(sender),
            Err(error) => {
                // What it had not settled goes back (a release never undoes a recorded send).
                tracing::warn!(%error, "a sending task failed");
                release(running, ids).await;
            }
        }
    }
    // A task that panicked took its connection with it: replace it.
    while back.len() < count {
        back.push(Sender::new(running.engine.transport.clone()));
    }
    (Ok(true), back)
}

/// Claims due messages and renders them; on a failure after the claim, they go back.
async fn claim_batch(running: &Running) -> Result<Vec<(Claimed, Composed)>, String> {
    let engine = &running.engine;
    let mut connection = engine.pool.get().await.map_err(|e| e.to_string())?;
    let settle = running.last_settled.lock().is_ok_and(|mut last| {
        let due = last.is_none_or(|at| at.elapsed() >= SETTLE_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    });
    if settle {
        ledger::settle_abandoned(&mut connection, engine.settings.max_attempts)
            .await
            .map_err(|e| e.to_string())?;
    }
    let claimed_at = Instant::now();
    let limit = claim_limit(&engine.settings);
    let domain = engine.composer.from.email.domain().to_owned();
    let claimed = ledger::claim(
        &mut connection,
        &engine.owner,
        limit,
        engine.settings.lease,
        engine.settings.max_attempts,
        &domain,
    )
    .await
    .map_err(|e| e.to_string())?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    running.held.renewed(claimed_at, engine.settings.lease);
    running.held.claimed(
        claimed.iter().map(|message| message.id),
        &claimed
            .iter()
            .map(|message| message.experiment_id)
            .collect(),
    );
    let ids: Vec<Uuid> = claimed.iter().map(|message| message.id).collect();
    match prepare(running, &mut connection, claimed).await {
        Ok(ready) => Ok(ready),
        Err(error) => {
            release(running, ids).await;
            Err(error)
        }
    }
}

/// Gives claimed messages back to the queue, untried.
async fn release(running: &Running, ids: Vec<Uuid>) {
    for id in ids {
        if running
            .outcomes
            .send(Outcome::Released { id })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Renders claimed messages; messages that cannot go are settled at once.
async fn prepare(
    running: &Running,
    connection: &mut models::db::PooledConnection,
    claimed: Vec<Claimed>,
) -> Result<Vec<(Claimed, Composed)>, String> {
    let engine = &running.engine;
    let mut variant_ids: Vec<i64> = claimed.iter().map(|m| m.variant_id).collect();
    variant_ids.sort_unstable();
    variant_ids.dedup();
    let variants: HashMap<i64, VariantTemplate> = diesel::sql_query(
        "SELECT id, is_control, subject, body_text, body_html, links FROM variants WHERE id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&variant_ids)
    .load::<VariantTemplate>(connection)
    .await
    .map_err(|e| e.to_string())?
    .into_iter()
    .map(|variant| (variant.id, variant))
    .collect();
    let needing: Vec<i64> = claimed
        .iter()
        .filter(|m| {
            variants
                .get(&m.variant_id)
                .is_some_and(VariantTemplate::needs_context)
        })
        .map(|m| m.customer_id)
        .collect();
    let contexts: HashMap<i64, CustomerContext> = if needing.is_empty() {
        HashMap::new()
    } else {
        ledger::contexts(connection, &needing)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|context| (context.customer_id, context))
            .collect()
    };
    let mut ready = Vec::with_capacity(claimed.len());
    for message in claimed {
        let composed = if message.suppressed {
            Err(("suppressed after it was queued".to_owned(), true))
        } else {
            match variants.get(&message.variant_id) {
                None => Err(("its variant is gone".to_owned(), false)),
                Some(variant) => engine
                    .composer
                    .compose(&message, variant, contexts.get(&message.customer_id))
                    .map_err(|error| (error, false)),
            }
        };
        match composed {
            Ok(composed) => ready.push((message, composed)),
            Err((reason, cancelled)) => {
                running
                    .outcomes
                    .send(Outcome::Refused {
                        id: message.id,
                        reason,
                        cancelled,
                    })
                    .await
                    .map_err(|_| "the recorder has stopped".to_owned())?;
            }
        }
    }
    Ok(ready)
}

/// With a rate limit, claim no more than half a lease's worth at the slowest rate (a batch may
/// be all one domain), so that claims do not expire while they wait their turn.
fn claim_limit(settings: &SendSettings) -> i64 {
    let limits = &settings.rate_limits;
    let slowest = match (limits.global_per_second, limits.per_domain_per_second) {
        (Some(global), Some(domain)) => Some(global.min(domain)),
        (global, domain) => global.or(domain),
    };
    match slowest {
        Some(rate) => {
            let affordable = (rate * settings.lease.as_secs_f64() / 2.0).floor() as i64;
            settings.batch.min(affordable.max(1))
        }
        None => settings.batch,
    }
}

/// Sends one task's share over its connection, each outcome to the recorder. When the lease
/// can no longer be vouched for, the rest goes back to the queue untried.
async fn send_share(
    running: Arc<Running>,
    mut sender: Sender,
    share: Vec<(Claimed, Composed)>,
) -> Sender {
    let mut messages = share.into_iter();
    while let Some((message, composed)) = messages.next() {
        let domain = message
            .email
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
            .unwrap_or_default();
        // Checked after the rate limiter's wait, the moment before the send.
        running.engine.limiter.acquire(&domain).await;
        if !running.held.is_valid() {
            tracing::warn!("sender: the lease could not be renewed; giving the rest back");
            let rest = std::iter::once(message.id).chain(messages.map(|(message, _)| message.id));
            release(&running, rest.collect()).await;
            break;
        }
        let outcome = if running.held.is_halted(message.experiment_id) {
            Outcome::Released { id: message.id }
        } else {
            match sender.send(&composed.envelope, &composed.bytes).await {
                Ok(()) => Outcome::Sent {
                    id: message.id,
                    at: Utc::now(),
                },
                // The server is out of reach: nothing of this share can go now. All of it
                // goes back untried (no attempt spent), and this connection waits a while.
                Err(SendFailure::NoConnection(reason)) => {
                    tracing::warn!(%reason, "sender: no connection; giving the share back");
                    let rest =
                        std::iter::once(message.id).chain(messages.map(|(message, _)| message.id));
                    release(&running, rest.collect()).await;
                    tokio::time::sleep(NO_CONNECTION_PAUSE).await;
                    break;
                }
                Err(failure) => Outcome::Failed {
                    id: message.id,
                    attempts: message.attempts,
                    failure,
                },
            }
        };
        if running.outcomes.send(outcome).await.is_err() {
            tracing::warn!("sender: the recorder has stopped");
            break;
        }
    }
    sender
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rate_limited_claims_fit_in_half_a_lease() {
        let mut settings = SendSettings {
            connections: 8,
            batch: 500,
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(250),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            rate_limits: rate_limit::RateLimits::default(),
        };
        assert_eq!(claim_limit(&settings), 500);
        settings.rate_limits.per_domain_per_second = Some(2.0);
        assert_eq!(claim_limit(&settings), 60);
        settings.rate_limits.global_per_second = Some(0.01);
        assert_eq!(claim_limit(&settings), 1);
    }
}
