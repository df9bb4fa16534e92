//! The sender: claims due messages from the ledger in batches (`FOR UPDATE SKIP LOCKED`,
//! under a lease), renders them, and sends them over a fixed number of SMTP connections,
//! one task each; every task records its sends as soon as its share is done. A process
//! killed mid-batch leaves its claims to expire: only messages the server had accepted but
//! the ledger not yet recorded can go twice.

pub mod compose;
pub mod ledger;
pub mod rate_limit;
pub mod transport;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Array, BigInt};
use diesel_async::RunQueryDsl as _;
use models::db::Pool;
use uuid::Uuid;

use crate::settings::SendSettings;
use compose::{Composed, Composer, VariantTemplate};
use ledger::{Claimed, CustomerContext};
use rate_limit::RateLimiter;
use transport::{SendFailure, Sender, Transport};

/// The longest wait before a retry.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

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

/// Starts the sender beside the HTTP server.
pub fn spawn(engine: Engine) {
    let engine = Arc::new(engine);
    tokio::spawn(async move {
        let mut senders: Vec<Sender> = (0..engine.settings.connections)
            .map(|_| Sender::new(engine.transport.clone()))
            .collect();
        loop {
            match step(&engine, senders).await {
                (Ok(true), back) => senders = back,
                (Ok(false), back) => {
                    senders = back;
                    tokio::time::sleep(engine.settings.poll).await;
                }
                (Err(error), back) => {
                    senders = back;
                    tracing::warn!(%error, "sender: will try again");
                    tokio::time::sleep(engine.settings.poll).await;
                }
            }
        }
    });
}

/// Claims and sends one batch; false when nothing was due. The connections go in and come
/// back out, so they stay open between batches.
async fn step(engine: &Arc<Engine>, senders: Vec<Sender>) -> (Result<bool, String>, Vec<Sender>) {
    let batch = match claim_batch(engine).await {
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
        .map(|(sender, share)| tokio::spawn(send_share(Arc::clone(engine), sender, share)))
        .collect();
    let mut back = Vec::with_capacity(count);
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok((sender, result)) => {
                back.push(sender);
                if let Err(error) = result {
                    failure = Some(error);
                }
            }
            Err(error) => failure = Some(format!("a sending task failed: {error}")),
        }
    }
    // A task that panicked took its connection with it: replace it.
    while back.len() < count {
        back.push(Sender::new(engine.transport.clone()));
    }
    (failure.map_or(Ok(true), Err), back)
}

/// Claims due messages and renders them; messages that cannot go are settled at once.
async fn claim_batch(engine: &Engine) -> Result<Vec<(Claimed, Composed)>, String> {
    let mut connection = engine.pool.get().await.map_err(|e| e.to_string())?;
    let limit = claim_limit(&engine.settings);
    let domain = engine.composer.from.email.domain().to_owned();
    let claimed = ledger::claim(
        &mut connection,
        &engine.owner,
        limit,
        engine.settings.lease,
        &domain,
    )
    .await
    .map_err(|e| e.to_string())?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut variant_ids: Vec<i64> = claimed.iter().map(|m| m.variant_id).collect();
    variant_ids.sort_unstable();
    variant_ids.dedup();
    let variants: HashMap<i64, VariantTemplate> = diesel::sql_query(
        "SELECT id, subject, body_text, body_html, links FROM variants WHERE id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&variant_ids)
    .load::<VariantTemplate>(&mut connection)
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
        ledger::contexts(&mut connection, &needing)
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
                ledger::record_failed(
                    &mut connection,
                    &engine.owner,
                    message.id,
                    &reason,
                    false,
                    cancelled,
                )
                .await
                .map_err(|e| e.to_string())?;
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

/// Sends one task's share over its connection and records the outcome.
async fn send_share(
    engine: Arc<Engine>,
    mut sender: Sender,
    share: Vec<(Claimed, Composed)>,
) -> (Sender, Result<(), String>) {
    let mut sent: Vec<Uuid> = Vec::with_capacity(share.len());
    let mut failed: Vec<(Claimed, SendFailure)> = Vec::new();
    for (message, composed) in share {
        let domain = message
            .email
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
            .unwrap_or_default();
        engine.limiter.acquire(&domain).await;
        match sender.send(&composed.envelope, &composed.bytes).await {
            Ok(()) => sent.push(message.id),
            Err(failure) => failed.push((message, failure)),
        }
    }
    let result = record(&engine, &sent, failed).await;
    (sender, result)
}

async fn record(
    engine: &Engine,
    sent: &[Uuid],
    failed: Vec<(Claimed, SendFailure)>,
) -> Result<(), String> {
    let mut connection = engine.pool.get().await.map_err(|e| e.to_string())?;
    if !sent.is_empty() {
        ledger::record_sent(&mut connection, sent)
            .await
            .map_err(|e| e.to_string())?;
    }
    for (message, failure) in failed {
        match failure {
            SendFailure::Transient(error) => {
                let delay = retry_delay(engine.settings.retry_base, message.attempts);
                ledger::record_retry(
                    &mut connection,
                    &engine.owner,
                    message.id,
                    &error,
                    delay,
                    engine.settings.max_attempts,
                )
                .await
            }
            SendFailure::Permanent { code, reply } => {
                ledger::record_failed(
                    &mut connection,
                    &engine.owner,
                    message.id,
                    &reply,
                    is_hard_bounce(code, &reply),
                    false,
                )
                .await
            }
        }
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `base` doubled for each attempt made, at most an hour.
fn retry_delay(base: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 20) as u32 - 1;
    base.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY)
}

/// The address itself does not exist or cannot take mail: never send to it again.
fn is_hard_bounce(code: Option<u16>, reply: &str) -> bool {
    matches!(code, Some(550 | 551 | 553)) || reply.contains("5.1.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_growing() {
        let base = Duration::from_secs(30);
        assert_eq!(retry_delay(base, 1), Duration::from_secs(30));
        assert_eq!(retry_delay(base, 3), Duration::from_secs(120));
        assert_eq!(retry_delay(base, 15), MAX_RETRY_DELAY);
    }

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

    #[test]
    fn address_failures_are_hard_bounces() {
        assert!(is_hard_bounce(Some(550), "550 5.1.1 no such user"));
        assert!(!is_hard_bounce(Some(554), "554 5.7.1 rejected by policy"));
    }
}
