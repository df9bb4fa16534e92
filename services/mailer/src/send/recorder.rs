//! Writing what happened to each message as it happens: the sending tasks hand outcomes to
//! one recorder task, which writes whatever has gathered in one statement per kind, and
//! retries until the database takes them (for as long as it cannot be reached: an outcome
//! given up would let the lease lapse and the e-mail go twice). A send is thus recorded within milliseconds of the
//! server's acceptance, with that time as `sent_at`; a crash can only duplicate the e-mails
//! accepted in those last milliseconds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use models::db::Pool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::lease::Held;
use super::ledger;
use super::transport::SendFailure;

/// Most outcomes written at once.
const MAX_BATCH: usize = 1000;
/// The longest wait between tries of a failing write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What became of one claimed message.
#[derive(Debug)]
pub enum Outcome {
    /// The server accepted it at this time.
    Sent { id: Uuid, at: DateTime<Utc> },
    /// It did not go.
    Failed {
        id: Uuid,
        attempts: i32,
        failure: SendFailure,
    },
    /// It cannot go (its address was suppressed meanwhile, its template broke): settled now.
    Refused {
        id: Uuid,
        reason: String,
        cancelled: bool,
    },
    /// Its experiment was paused or stopped before it went: back to the queue, untried.
    Released { id: Uuid },
}

impl Outcome {
    pub fn id(&self) -> Uuid {
        match self {
            Outcome::Sent { id, .. }
            | Outcome::Failed { id, .. }
            | Outcome::Refused { id, .. }
            | Outcome::Released { id } => *id,
        }
    }
}

/// Text for the ledger: PostgreSQL text cannot hold NUL, which a server's reply might.
fn text(reason: &str) -> String {
    reason.replace('\0', "")
}

/// What the recorder needs to settle failures.
#[derive(Debug, Clone)]
pub struct Policy {
    pub owner: String,
    pub retry_base: Duration,
    pub max_attempts: i32,
}

/// Why a write did not happen.
#[derive(Debug)]
enum WriteError {
    /// The database could not be reached or asked for a retry: the same write will do later.
    Retry(String),
    /// The database refused the data: writing it again changes nothing.
    Refused(String),
}

impl From<diesel::result::Error> for WriteError {
    fn from(error: diesel::result::Error) -> WriteError {
        use diesel::result::DatabaseErrorKind::{
            ClosedConnection, SerializationFailure, UnableToSendCommand,
        };
        match &error {
            diesel::result::Error::DatabaseError(
                ClosedConnection | UnableToSendCommand | SerializationFailure,
                _,
            ) => WriteError::Retry(error.to_string()),
            _ => WriteError::Refused(error.to_string()),
        }
    }
}

/// Starts the recorder; outcomes go into the returned sender. Written outcomes leave `held`.
pub fn spawn(pool: Pool, held: Arc<Held>, policy: Policy) -> mpsc::Sender<Outcome> {
    let (sender, mut receiver) = mpsc::channel::<Outcome>(MAX_BATCH * 10);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
            write_until_done(&pool, &policy, &batch).await;
            held.settled(batch.iter().map(Outcome::id));
            batch.clear();
        }
    });
    sender
}

async fn write_until_done(pool: &Pool, policy: &Policy, batch: &[Outcome]) {
    if write_retrying(pool, policy, batch).await.is_ok() {
        return;
    }
    // One at a time: an outcome the database refuses is logged and left to the lease (the
    // message is claimed again later), the others are written.
    for outcome in batch {
        if let Err(reason) = write_retrying(pool, policy, std::slice::from_ref(outcome)).await {
            tracing::error!(%reason, ?outcome, "the database refuses this outcome");
        }
    }
}

/// Writes `batch`, waiting out a database that cannot be reached for as long as it takes;
/// the database's refusal is the error.
async fn write_retrying(pool: &Pool, policy: &Policy, batch: &[Outcome]) -> Result<(), String> {
    let mut backoff = Duration::from_millis(50);
    loop {
        match write(pool, policy, batch).await {
            Ok(()) => return Ok(()),
            Err(WriteError::Refused(reason)) => return Err(reason),
            Err(WriteError::Retry(reason)) => {
                tracing::warn!(%reason, "cannot record sends yet: will try again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Writes one gathered batch; all of it or none (a retry writes it again: every statement
/// is idempotent).
async fn write(pool: &Pool, policy: &Policy, batch: &[Outcome]) -> Result<(), WriteError> {
    let mut connection = pool
        .get()
        .await
        .map_err(|error| WriteError::Retry(error.to_string()))?;
    let mut sent_ids = Vec::new();
    let mut sent_at = Vec::new();
    let mut released = Vec::new();
    for outcome in batch {
        match outcome {
            Outcome::Sent { id, at } => {
                sent_ids.push(*id);
                sent_at.push(*at);
            }
            Outcome::Released { id } => released.push(*id),
            Outcome::Failed { .. } | Outcome::Refused { .. } => {}
        }
    }
    if !sent_ids.is_empty() {
        ledger::record_sent(&mut connection, &sent_ids, &sent_at).await?;
    }
    if !released.is_empty() {
        ledger::release(&mut connection, &policy.owner, &released).await?;
    }
    for outcome in batch {
        match outcome {
            Outcome::Failed {
                id,
                attempts,
                failure: SendFailure::NoConnection(reason) | SendFailure::Transient(reason),
            } => {
                let delay = retry_delay(policy.retry_base, *attempts);
                ledger::record_retry(
                    &mut connection,
                    &policy.owner,
                    *id,
                    &text(reason),
                    delay,
                    policy.max_attempts,
                )
                .await?;
            }
            Outcome::Failed {
                id,
                failure: SendFailure::Permanent { code, reply },
                ..
            } => {
                ledger::record_failed(
                    &mut connection,
                    &policy.owner,
                    *id,
                    &text(reply),
                    is_hard_bounce(*code, reply),
                    false,
                )
                .await?;
            }
            Outcome::Refused {
                id,
                reason,
                cancelled,
            } => {
                ledger::record_failed(
                    &mut connection,
                    &policy.owner,
                    *id,
                    reason,
                    false,
                    *cancelled,
                )
                .await?;
            }
            Outcome::Sent { .. } | Outcome::Released { .. } => {}
        }
    }
    Ok(())
}

/// `base` doubled for each attempt made, at most an hour.
pub fn retry_delay(base: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 20) as u32 - 1;
    base.saturating_mul(1 << doublings)
        .min(Duration::from_secs(3600))
}

/// The address itself does not exist: never send to it again. Only the enhanced status
/// codes of addressing (5.1.x) say so; a bare 550/551/553 does too unless its text carries a
/// policy, system or network code (5.7.x relaying denied, 5.3.x, 5.4.x), which are about the
/// sender and would suppress a whole audience.
pub fn is_hard_bounce(code: Option<u16>, reply: &str) -> bool {
    let enhanced = reply
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) && parts[0] == "5"
        });
    match enhanced {
        Some(status) => status.starts_with("5.1."),
        None => matches!(code, Some(550 | 551 | 553)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_growing() {
        let base = Duration::from_secs(30);
        assert_eq!(retry_delay(base, 1), Duration::from_secs(30));
        assert_eq!(retry_delay(base, 3), Duration::from_secs(120));
        assert_eq!(retry_delay(base, 15), Duration::from_secs(3600));
    }

    #[test]
    fn only_addressing_failures_are_hard_bounces() {
        assert!(is_hard_bounce(Some(550), "550 5.1.1 <a@b.c>: no such user"));
        assert!(is_hard_bounce(Some(550), "550 mailbox unavailable"));
        assert!(!is_hard_bounce(Some(550), "550 5.7.1 relaying denied"));
        assert!(!is_hard_bounce(Some(554), "554 5.7.1 rejected by policy"));
        assert!(!is_hard_bounce(Some(552), "552 5.2.2 mailbox full"));
    }
}
