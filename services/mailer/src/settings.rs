//! The mailer's settings.

use std::path::PathBuf;
use std::time::Duration;

use service::binary::{Listen, ServiceSettings};
use service::settings::{CommonSettings, Env, SettingsError, peer_url};
use url::Url;

use crate::send::rate_limit::RateLimits;
use crate::send::transport::SmtpSettings;
use crate::tokens::TrackingKeys;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `SMTP_URL`: where e-mail goes; unset means files in `outbox_dir`.
    pub smtp: Option<SmtpSettings>,
    /// `MAILER_OUTBOX_DIR`: the file transport's folder.
    pub outbox_dir: PathBuf,
    /// `MAILER_FROM`: the sender, `Name <address>`.
    pub from: lettre::message::Mailbox,
    /// `TRACKING_BASE_URL`: public base of tracking and unsubscribe links.
    pub tracking_base_url: Url,
    /// `TRACKING_KEYS`: `kid:secret,...`; the first signs, all verify.
    pub tracking_keys: TrackingKeys,
    /// `DS_URL`: where the winner pick asks for an analysis.
    pub ds_url: Url,
    pub sending: SendSettings,
    /// `MAILER_FREQUENCY_CAP`: most experiment e-mails one customer gets in 7 days.
    pub frequency_cap: i64,
    /// `MAILER_WINNER_POLL_MS`: how often test phases whose wait is over are looked for.
    pub winner_poll: Duration,
}

/// How the sender works through the ledger.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// `MAILER_CONNECTIONS`: SMTP connections (and sends in flight) per process.
    pub connections: usize,
    /// `MAILER_BATCH`: messages claimed at once.
    pub batch: i64,
    /// `MAILER_LEASE_MS`: how long claimed messages stay ours; after it, another process
    /// may send them (a process killed mid-send loses its claims this way, not its messages).
    pub lease: Duration,
    /// `MAILER_POLL_MS`: how often an idle sender looks for due messages.
    pub poll: Duration,
    /// `MAILER_MAX_ATTEMPTS`: tries before a transient failure becomes final.
    pub max_attempts: i32,
    /// `MAILER_RETRY_MS`: wait before the first retry; doubled for each next one.
    pub retry_base: Duration,
    /// `MAILER_RATE_PER_SECOND` and `MAILER_DOMAIN_RATE_PER_SECOND`.
    pub rate_limits: RateLimits,
}

impl ServiceSettings for Settings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        let malformed = |name: &str, reason: String| SettingsError::Malformed {
            name: name.to_owned(),
            reason,
        };
        let smtp = env
            .optional::<String>("SMTP_URL")?
            .map(|url| SmtpSettings::parse(&url).map_err(|reason| malformed("SMTP_URL", reason)))
            .transpose()?;
        let from: String = env.or(
            "MAILER_FROM",
            "StreamLab <news@streamlab.example>".to_owned(),
        )?;
        let from = from
            .parse()
            .map_err(|error| malformed("MAILER_FROM", format!("{error}")))?;
        let sending = SendSettings {
            connections: env.or("MAILER_CONNECTIONS", 8usize)?,
            batch: env.or("MAILER_BATCH", 500i64)?,
            lease: env.millis_or("MAILER_LEASE_MS", Duration::from_secs(60))?,
            poll: env.millis_or("MAILER_POLL_MS", Duration::from_millis(250))?,
            max_attempts: env.or("MAILER_MAX_ATTEMPTS", 5)?,
            retry_base: env.millis_or("MAILER_RETRY_MS", Duration::from_secs(30))?,
            rate_limits: RateLimits {
                global_per_second: positive(env, "MAILER_RATE_PER_SECOND")?,
                per_domain_per_second: positive(env, "MAILER_DOMAIN_RATE_PER_SECOND")?,
                burst: 1.0,
            },
        };
        if !(1..=1000).contains(&sending.connections) {
            return Err(malformed(
                "MAILER_CONNECTIONS",
                "must be 1 to 1000".to_owned(),
            ));
        }
        if !(1..=10_000).contains(&sending.batch) {
            return Err(malformed("MAILER_BATCH", "must be 1 to 10000".to_owned()));
        }
        if !(Duration::from_millis(500)..=Duration::from_secs(3600)).contains(&sending.lease) {
            return Err(malformed(
                "MAILER_LEASE_MS",
                "must be 500 to 3600000".to_owned(),
            ));
        }
        if !(1..=100).contains(&sending.max_attempts) {
            return Err(malformed(
                "MAILER_MAX_ATTEMPTS",
                "must be 1 to 100".to_owned(),
            ));
        }
        let frequency_cap: i64 = env.or("MAILER_FREQUENCY_CAP", 3)?;
        if frequency_cap < 1 {
            return Err(malformed(
                "MAILER_FREQUENCY_CAP",
                "must be at least 1".to_owned(),
            ));
        }
        Ok(Settings {
            common: CommonSettings::from_env(env, listen.variable, listen.default)?,
            smtp,
            outbox_dir: env.or("MAILER_OUTBOX_DIR", PathBuf::from(".local/outbox"))?,
            from,
            tracking_base_url: peer_url(env, "TRACKING_BASE_URL", "http://127.0.0.1:8002/")?,
            tracking_keys: env.required("TRACKING_KEYS")?,
            ds_url: peer_url(env, "DS_URL", "http://127.0.0.1:8001/")?,
            sending,
            frequency_cap,
            winner_poll: env.millis_or("MAILER_WINNER_POLL_MS", Duration::from_secs(30))?,
        })
    }

    fn common(&self) -> &CommonSettings {
        &self.common
    }
}

fn positive(env: &Env, name: &str) -> Result<Option<f64>, SettingsError> {
    let value: Option<f64> = env.optional(name)?;
    match value {
        Some(rate) if !(rate > 0.0 && rate.is_finite()) => Err(SettingsError::Malformed {
            name: name.to_owned(),
            reason: "must be a positive number of messages per second".to_owned(),
        }),
        other => Ok(other),
    }
}
