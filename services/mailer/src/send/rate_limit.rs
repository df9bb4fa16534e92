//! Token-bucket rate limiting for outgoing mail.
//!
//! One global bucket caps the total sending rate and one bucket per recipient domain keeps
//! us under what each receiving provider tolerates. A send needs a token from both; it takes
//! from neither unless both have one, so a domain that is held back never drains the global
//! budget that other domains could use.
//!
//! The limiter is shared by many sending tasks through `&self`. The state sits behind a
//! `std::sync::Mutex` that is only held for the arithmetic, never across an `.await`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Above this many remembered domains, buckets that are full again are forgotten.
const MAX_DOMAINS: usize = 10_000;

/// Shortest wait `try_acquire` asks for. Waiting exactly the computed time can leave a
/// bucket a rounding error short of a whole token; a floor stops the caller from spinning
/// on zero-length sleeps.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// Tolerance when comparing a bucket's level against one token, for the same reason.
const EPSILON: f64 = 1e-9;

/// Sending rates; `None` means unlimited.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// Messages per second across all domains.
    pub global_per_second: Option<f64>,
    /// Messages per second to any one recipient domain.
    pub per_domain_per_second: Option<f64>,
    /// How many seconds' worth of tokens a bucket may hold (so how large a burst after a
    /// quiet spell may be). A bucket always holds at least one token.
    pub burst: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            global_per_second: None,
            per_domain_per_second: None,
            burst: 1.0,
        }
    }
}

/// Why a `RateLimits` was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRateLimits(String);

impl fmt::Display for InvalidRateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid rate limits: {}", self.0)
    }
}

impl std::error::Error for InvalidRateLimits {}

/// Limits the sending rate globally and per recipient domain.
#[derive(Debug)]
pub struct RateLimiter {
    global_rate: Option<f64>,
    domain_rate: Option<f64>,
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    global: Option<Bucket>,
    domains: HashMap<String, Bucket>,
    /// Pruning walks every bucket; doing it only when the map has grown past this (which
    /// doubles after a prune that freed little) keeps the cost per insertion constant.
    prune_at: usize,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    updated: Instant,
}

impl Bucket {
    /// A new bucket starts full: an idle sender may burst straight away.
    fn new(rate: f64, burst: f64, now: Instant) -> Bucket {
        let capacity = (rate * burst).max(1.0);
        Bucket {
            tokens: capacity,
            capacity,
            rate,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        // A caller may pass an instant older than the last one (tasks race to the lock);
        // time then simply does not move backwards for this bucket.
        if now > self.updated {
            let elapsed = now.duration_since(self.updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
            self.updated = now;
        }
    }

    fn has_token(&self) -> bool {
        self.tokens >= 1.0 - EPSILON
    }

    fn take(&mut self) {
        self.tokens = (self.tokens - 1.0).max(0.0);
    }

    /// How long until this bucket holds a whole token.
    fn wait(&self) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        // Rates are validated as finite and positive, so this is finite; the fallback is
        // there so that a bad float can never panic inside a sender.
        let seconds = missing / self.rate;
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(1))
    }

    fn is_full(&self) -> bool {
        self.tokens >= self.capacity - EPSILON
    }
}

impl RateLimiter {
    /// Rates must be finite and positive (use `None` for unlimited); `burst` must be finite
    /// and not negative.
    pub fn new(limits: RateLimits) -> Result<RateLimiter, InvalidRateLimits> {
        check_rate("global_per_second", limits.global_per_second)?;
        check_rate("per_domain_per_second", limits.per_domain_per_second)?;
        if !limits.burst.is_finite() || limits.burst < 0.0 {
            return Err(InvalidRateLimits(format!(
                "burst must be a finite number of seconds, not negative (got {})",
                limits.burst
            )));
        }
        let now = Instant::now();
        let global = limits
            .global_per_second
            .map(|rate| Bucket::new(rate, limits.burst, now));
        Ok(RateLimiter {
            global_rate: limits.global_per_second,
            domain_rate: limits.per_domain_per_second,
            burst: limits.burst,
            state: Mutex::new(State {
                global,
                domains: HashMap::new(),
                prune_at: MAX_DOMAINS,
            }),
        })
    }

    /// Waits until a message to `domain` may be sent, and takes the tokens for it.
    ///
    /// Waiters are not served in arrival order: whoever retries first after a refill wins.
    pub async fn acquire(&self, domain: &str) {
        loop {
            match self.try_acquire(domain, Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Takes a token from the global bucket and from `domain`'s bucket if both have one at
    /// `now`; otherwise takes nothing and says how long to wait before trying again.
    pub fn try_acquire(&self, domain: &str, now: Instant) -> Result<(), Duration> {
        let mut state = self.lock();
        let state = &mut *state;

        let mut wait = Duration::ZERO;
        if let Some(global) = state.global.as_mut() {
            global.refill(now);
            if !global.has_token() {
                wait = wait.max(global.wait());
            }
        }

        let domain_key = match self.domain_rate {
            Some(rate) => {
                let key = domain.to_lowercase();
                if !state.domains.contains_key(&key) {
                    if state.domains.len() >= state.prune_at {
                        prune(state, now);
                    }
                    state
                        .domains
                        .insert(key.clone(), Bucket::new(rate, self.burst, now));
                }
                if let Some(bucket) = state.domains.get_mut(&key) {
                    bucket.refill(now);
                    if !bucket.has_token() {
                        wait = wait.max(bucket.wait());
                    }
                }
                Some(key)
            }
            None => None,
        };

        if wait > Duration::ZERO {
            return Err(wait.max(MIN_WAIT));
        }

        if let Some(global) = state.global.as_mut() {
            global.take();
        }
        if let Some(key) = domain_key
            && let Some(bucket) = state.domains.get_mut(&key)
        {
            bucket.take();
        }
        Ok(())
    }

    /// The configured global rate, for logging.
    pub fn global_per_second(&self) -> Option<f64> {
        self.global_rate
    }

    /// The configured per-domain rate, for logging.
    pub fn per_domain_per_second(&self) -> Option<f64> {
        self.domain_rate
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a handful of floats updated without any call that could panic
        // half-way, so a poisoned lock still guards consistent data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn check_rate(name: &str, rate: Option<f64>) -> Result<(), InvalidRateLimits> {
    match rate {
        Some(value) if !value.is_finite() || value <= 0.0 => Err(InvalidRateLimits(format!(
            "{name} must be a finite number above zero, or unset for no limit (got {value})"
        ))),
        _ => Ok(()),
    }
}

/// Forgets domains whose bucket has refilled completely: a full bucket behaves exactly like
/// the fresh one that would be created on the domain's next send, so nothing is lost.
fn prune(state: &mut State, now: Instant) {
    state.domains.retain(|_, bucket| {
        bucket.refill(now);
        !bucket.is_full()
    });
    state.prune_at = MAX_DOMAINS.max(state.domains.len() * 2);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::sync::Arc;

    fn limiter(global: Option<f64>, per_domain: Option<f64>, burst: f64) -> RateLimiter {
        RateLimiter::new(RateLimits {
            global_per_second: global,
            per_domain_per_second: per_domain,
            burst,
        })
        .unwrap()
    }

    fn millis_since(start: Instant, at: Instant) -> u128 {
        at.duration_since(start).as_millis()
    }

    #[tokio::test(start_paused = true)]
    async fn global_limit_lets_ten_a_second_through_after_the_burst() {
        let limiter = limiter(Some(10.0), None, 1.0);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..40 {
            limiter.acquire("example.com").await;
            times.push(Instant::now());
        }
        // The burst: a full bucket of ten, at once.
        assert_eq!(millis_since(start, times[9]), 0);
        // Then one every 100 ms: 30 more in 3 s.
        let eleventh = millis_since(start, times[10]);
        assert!((99..=102).contains(&eleventh), "11th at {eleventh} ms");
        let last = millis_since(start, times[39]);
        assert!((2990..=3030).contains(&last), "40th at {last} ms");
    }

    #[tokio::test(start_paused = true)]
    async fn global_limit_is_shared_between_tasks() {
        let limiter = Arc::new(limiter(Some(10.0), None, 1.0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for task in 0..5 {
            let limiter = Arc::clone(&limiter);
            tasks.push(tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    limiter.acquire(&format!("d{task}.example")).await;
                    if Instant::now().duration_since(start) > Duration::from_millis(2050) {
                        return sent;
                    }
                    sent += 1;
                }
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        // 10 in the burst and 10 a second for two seconds.
        assert!((29..=31).contains(&total), "{total} sent");
    }

    #[tokio::test(start_paused = true)]
    async fn per_domain_limit_holds_one_domain_back_while_another_goes() {
        let limiter = limiter(None, Some(1.0), 1.0);
        let now = Instant::now();
        assert_eq!(limiter.try_acquire("slow.example", now), Ok(()));
        let wait = limiter.try_acquire("slow.example", now).unwrap_err();
        assert!((990..=1000).contains(&wait.as_millis()), "wait {wait:?}");
        // Domains are compared without case.
        assert!(limiter.try_acquire("SLOW.Example", now).is_err());
        assert_eq!(limiter.try_acquire("other.example", now), Ok(()));
        assert_eq!(
            limiter.try_acquire("slow.example", now + Duration::from_secs(1)),
            Ok(())
        );

        // Through `acquire`: three sends to one domain take two seconds, while another
        // domain goes through at once.
        let limiter = Arc::new(self::limiter(None, Some(1.0), 1.0));
        let start = Instant::now();
        let slow = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                for _ in 0..3 {
                    limiter.acquire("slow.example").await;
                }
                Instant::now()
            })
        };
        tokio::task::yield_now().await;
        limiter.acquire("fast.example").await;
        assert_eq!(millis_since(start, Instant::now()), 0);
        let slow_done = millis_since(start, slow.await.unwrap());
        assert!(
            (2000..=2010).contains(&slow_done),
            "slow done at {slow_done} ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_back_domain_takes_no_global_token() {
        let limiter = limiter(Some(10.0), Some(1.0), 1.0);
        let now = Instant::now();
        assert_eq!(limiter.try_acquire("busy.example", now), Ok(()));
        for _ in 0..5 {
            assert!(limiter.try_acquire("busy.example", now).is_err());
        }
        // Nine global tokens are left, untouched by the refused attempts.
        for n in 0..9 {
            assert_eq!(
                limiter.try_acquire(&format!("d{n}.example"), now),
                Ok(()),
                "domain {n}"
            );
        }
        let wait = limiter.try_acquire("last.example", now).unwrap_err();
        assert!((99..=100).contains(&wait.as_millis()), "wait {wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let limiter = limiter(None, None, 0.0);
        let start = Instant::now();
        for n in 0..10_000 {
            limiter.acquire(&format!("d{}.example", n % 7)).await;
        }
        assert_eq!(Instant::now(), start);
        assert_eq!(limiter.lock().domains.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn fractional_rates_work() {
        // Half a message a second: the bucket still holds one token.
        let limiter = limiter(Some(0.5), None, 1.0);
        let start = Instant::now();
        limiter.acquire("a.example").await;
        limiter.acquire("a.example").await;
        let second = millis_since(start, Instant::now());
        assert!((2000..=2002).contains(&second), "second at {second} ms");

        // 2.5 a second with one second of burst: two at once, then one every 400 ms.
        let limiter = self::limiter(None, Some(2.5), 1.0);
        let now = Instant::now();
        assert_eq!(limiter.try_acquire("b.example", now), Ok(()));
        assert_eq!(limiter.try_acquire("b.example", now), Ok(()));
        let wait = limiter.try_acquire("b.example", now).unwrap_err();
        assert!((199..=200).contains(&wait.as_millis()), "wait {wait:?}");
        let start = Instant::now();
        limiter.acquire("b.example").await;
        limiter.acquire("b.example").await;
        let done = millis_since(start, Instant::now());
        assert!((599..=602).contains(&done), "done at {done} ms");
    }

    #[tokio::test(start_paused = true)]
    async fn burst_sets_bucket_size() {
        let limiter = limiter(Some(2.0), None, 5.0);
        let now = Instant::now();
        for n in 0..10 {
            assert_eq!(limiter.try_acquire("x.example", now), Ok(()), "token {n}");
        }
        assert!(limiter.try_acquire("x.example", now).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_full_domain_buckets_are_forgotten() {
        let limiter = limiter(None, Some(1.0), 1.0);
        let now = Instant::now();
        for n in 0..MAX_DOMAINS {
            assert_eq!(limiter.try_acquire(&format!("d{n}.example"), now), Ok(()));
        }
        assert_eq!(limiter.lock().domains.len(), MAX_DOMAINS);

        // Still busy: nothing can be forgotten, so the map grows rather than lose state.
        assert_eq!(limiter.try_acquire("new.example", now), Ok(()));
        assert_eq!(limiter.lock().domains.len(), MAX_DOMAINS + 1);
        assert!(limiter.try_acquire("d0.example", now).is_err());

        // Once the buckets have refilled, the next new domain sweeps them away.
        let later = now + Duration::from_secs(2);
        for n in 0..MAX_DOMAINS {
            assert_eq!(limiter.try_acquire(&format!("e{n}.example"), later), Ok(()));
        }
        let size = limiter.lock().domains.len();
        assert!(size <= MAX_DOMAINS + 1, "{size} domains remembered");
        assert_eq!(limiter.try_acquire("d0.example", later), Ok(()));
    }

    #[test]
    fn bad_limits_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let limits = RateLimits {
                global_per_second: Some(rate),
                ..RateLimits::default()
            };
            let error = RateLimiter::new(limits).unwrap_err();
            assert!(error.to_string().contains("global_per_second"), "{error}");
        }
        let limits = RateLimits {
            per_domain_per_second: Some(0.0),
            ..RateLimits::default()
        };
        assert!(RateLimiter::new(limits).is_err());
        let limits = RateLimits {
            burst: -1.0,
            ..RateLimits::default()
        };
        assert!(RateLimiter::new(limits).is_err());
    }
}
