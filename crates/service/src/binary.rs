//! What a service binary's `main` does: read settings, answer `--healthcheck`, set up
//! logging, start, serve until SIGTERM. Failures are one clear line and a non-zero exit.

use std::future::Future;
use std::process::ExitCode;

use crate::settings::{CommonSettings, Env, SettingsError};
use crate::{healthcheck, telemetry};

/// A service's typed settings.
pub trait ServiceSettings: Sized {
    fn from_env(env: &Env) -> Result<Self, SettingsError>;
    fn common(&self) -> &CommonSettings;
}

/// Exit status for settings that are missing or malformed.
const EXIT_BAD_SETTINGS: u8 = 2;

/// Runs `serve` with the settings read from the environment; `healthcheck` probes a running
/// instance instead.
pub fn run<S, F, Fut, E>(service: &str, healthcheck: bool, serve: F) -> ExitCode
where
    S: ServiceSettings,
    F: FnOnce(S) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let settings = match S::from_env(&Env::from_process()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{service}: {error}");
            return ExitCode::from(EXIT_BAD_SETTINGS);
        }
    };
    if healthcheck {
        return match healthcheck::probe(settings.common().listen_addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{service}: unhealthy: {error}");
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init(settings.common().log_format);
    match actix_web::rt::System::new().block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{service}: {error}");
            ExitCode::FAILURE
        }
    }
}
