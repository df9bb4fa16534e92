//! Keeping claims: while a batch is on the wire a heartbeat extends the lease of every message
//! this process is still working on (claimed, its outcome not yet written), and learns which
//! of their experiments were paused or stopped meanwhile. A sending task sends only while the
//! lease is known to be valid (so no other process can have taken the message) and only for
//! experiments still running. A message this process lets go of leaves the set, so its lease
//! runs out and another process may take it.

use std::collections::HashSet;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use models::db::Pool;
use uuid::Uuid;

use super::ledger;

/// What the sending tasks consult before each message.
pub struct Held {
    /// Until when our claims are certainly ours.
    valid_until: Mutex<Instant>,
    /// Experiments of held messages that are no longer running.
    halted: RwLock<HashSet<i64>>,
    /// Messages claimed whose outcome is not yet written: the heartbeat renews these only.
    in_flight: Mutex<HashSet<Uuid>>,
}

impl Held {
    pub fn new() -> Held {
        Held {
            valid_until: Mutex::new(Instant::now()),
            halted: RwLock::new(HashSet::new()),
            in_flight: Mutex::new(HashSet::new()),
        }
    }

    /// A claim or a heartbeat at `at` made the leases run until `at + lease`; the margin
    /// leaves room for clocks and a send already under way.
    pub fn renewed(&self, at: Instant, lease: Duration) {
        if let Ok(mut valid_until) = self.valid_until.lock() {
            *valid_until = at + lease - margin(lease);
        }
    }

    pub fn is_valid(&self) -> bool {
        self.valid_until
            .lock()
            .map(|valid_until| Instant::now() < *valid_until)
            .unwrap_or(false)
    }

    pub fn is_halted(&self, experiment_id: i64) -> bool {
        self.halted
            .read()
            .map(|halted| halted.contains(&experiment_id))
            .unwrap_or(true)
    }

    fn set_halted(&self, experiments: HashSet<i64>) {
        if let Ok(mut halted) = self.halted.write() {
            *halted = experiments;
        }
    }

    /// A claim took these messages of these (running) experiments.
    pub fn claimed(&self, ids: impl IntoIterator<Item = Uuid>, experiments: &HashSet<i64>) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.extend(ids);
        }
        if let Ok(mut halted) = self.halted.write() {
            halted.retain(|experiment| !experiments.contains(experiment));
        }
    }

    /// The outcomes of these messages are written: they are no longer ours to renew.
    pub fn settled(&self, ids: impl IntoIterator<Item = Uuid>) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            for id in ids {
                in_flight.remove(&id);
            }
        }
    }

    fn in_flight(&self) -> Vec<Uuid> {
        self.in_flight
            .lock()
            .map(|in_flight| in_flight.iter().copied().collect())
            .unwrap_or_default()
    }
}

impl Default for Held {
    fn default() -> Held {
        Held::new()
    }
}

/// A quarter of the lease: sends stop that long before the lease could run out.
fn margin(lease: Duration) -> Duration {
    lease / 4
}

/// How often the heartbeat runs: often enough that a pause takes effect within a second, and
/// several times per lease.
pub fn heartbeat_interval(lease: Duration) -> Duration {
    (lease / 4).min(Duration::from_secs(1))
}

/// Renews this process's leases every `heartbeat_interval` until the process stops.
pub fn spawn_heartbeat(pool: Pool, owner: String, lease: Duration, held: std::sync::Arc<Held>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(heartbeat_interval(lease)).await;
            let started = Instant::now();
            let ids = held.in_flight();
            if ids.is_empty() {
                continue;
            }
            let renewed = async {
                let mut connection = pool.get().await.map_err(|error| error.to_string())?;
                ledger::renew_leases(&mut connection, &owner, &ids, lease)
                    .await
                    .map_err(|error| error.to_string())
            }
            .await;
            match renewed {
                Ok(halted) => {
                    held.renewed(started, lease);
                    held.set_halted(halted.into_iter().collect());
                }
                // Sending stops by itself when the lease can no longer be vouched for.
                Err(error) => tracing::warn!(%error, "cannot renew the sender's leases"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_trusted_until_its_margin() {
        let held = Held::new();
        assert!(!held.is_valid(), "nothing is held before a claim");
        held.renewed(Instant::now(), Duration::from_secs(60));
        assert!(held.is_valid());
        held.renewed(
            Instant::now() - Duration::from_secs(50),
            Duration::from_secs(60),
        );
        assert!(
            !held.is_valid(),
            "45 s of a 60 s lease is all that is trusted"
        );
        assert_eq!(
            heartbeat_interval(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
        assert_eq!(
            heartbeat_interval(Duration::from_millis(1000)),
            Duration::from_millis(250)
        );
    }
}
