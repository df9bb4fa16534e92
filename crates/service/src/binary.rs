//! What a service binary's `main` does: read settings, answer `--healthcheck`, set up
//! logging, start, serve until SIGTERM. Failures are one clear line and a non-zero exit.

use std::process::ExitCode;

use crate::health::ServiceInfo;
use crate::server::{RunningService, StartError};
use crate::settings::{CommonSettings, Env, SettingsError};
use crate::{healthcheck, telemetry};

/// A service's typed settings.
pub trait ServiceSettings: Sized {
    fn from_env(env: &Env) -> Result<Self, SettingsError>;
    fn common(&self) -> &CommonSettings;
}

/// What a service is: its name, its settings and how it starts. The binaries and the test
/// harness start every service the same way through this.
pub trait Service {
    const INFO: ServiceInfo;
    type Settings: ServiceSettings + Send + 'static;

    /// Migrations, pool, listener; serve the result with `run_until_stopped`.
    fn start(settings: &Self::Settings)
    -> impl Future<Output = Result<RunningService, StartError>>;
}

/// Exit status for settings that are missing or malformed.
const EXIT_BAD_SETTINGS: u8 = 2;

/// Runs service `S` with the settings read from the environment until SIGTERM;
/// `healthcheck` probes a running instance instead.
pub fn run<S: Service>(healthcheck: bool) -> ExitCode {
    let service = S::INFO.name;
    let settings = match S::Settings::from_env(&Env::from_process()) {
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
    let serve = async move {
        let running = S::start(&settings)
            .await
            .map_err(|error| error.to_string())?;
        running
            .run_until_stopped()
            .await
            .map_err(|error| error.to_string())
    };
    match actix_web::rt::System::new().block_on(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{service}: {error}");
            ExitCode::FAILURE
        }
    }
}
