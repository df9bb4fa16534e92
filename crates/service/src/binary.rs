//! What a service is, and what its binary's `main` does: read settings, answer
//! `--healthcheck`, set up logging, start, serve until SIGTERM. Failures are one clear line
//! and a non-zero exit, never a panic.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use utoipa::openapi::OpenApi;

use crate::health::ServiceInfo;
use crate::server::{self, Routes, RunningService, StartError};
use crate::settings::{CommonSettings, Env, SettingsError};
use crate::{healthcheck, telemetry};

/// Where a service listens unless told otherwise, and the variable that tells it.
#[derive(Debug, Clone, Copy)]
pub struct Listen {
    pub variable: &'static str,
    pub default: SocketAddr,
}

impl Listen {
    /// Listens on loopback `port` unless `variable` says otherwise.
    pub const fn loopback(variable: &'static str, port: u16) -> Listen {
        Listen {
            variable,
            default: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        }
    }
}

/// A service's typed settings.
pub trait ServiceSettings: Sized {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError>;
    fn common(&self) -> &CommonSettings;
}

/// A service that needs only the common settings.
impl ServiceSettings for CommonSettings {
    fn from_env(env: &Env, listen: Listen) -> Result<Self, SettingsError> {
        CommonSettings::from_env(env, listen.variable, listen.default)
    }

    fn common(&self) -> &CommonSettings {
        self
    }
}

/// What a service is: its name, where it listens, its settings and routes. The binaries and
/// the test harness start every service through this.
pub trait Service {
    const INFO: ServiceInfo;
    const LISTEN: Listen;
    /// The OpenAPI document's description.
    const DESCRIPTION: &'static str;
    type Settings: ServiceSettings + Send + 'static;

    /// The service's own routes and the app data they need; without settings, the routes
    /// only (to build the OpenAPI document).
    fn routes(settings: Option<&Self::Settings>) -> Routes;

    /// Migrations, pool, listener; serve the result with `run_until_stopped`.
    fn start(
        settings: &Self::Settings,
    ) -> impl Future<Output = Result<RunningService, StartError>> {
        server::start(
            settings.common(),
            Self::INFO,
            Self::openapi_base(),
            Self::routes(Some(settings)),
        )
    }

    /// The OpenAPI document the service serves.
    fn openapi() -> OpenApi {
        server::openapi_document(Self::openapi_base(), &Self::routes(None))
    }

    fn openapi_base() -> OpenApi {
        server::base_openapi(Self::INFO, Self::DESCRIPTION)
    }
}

/// The command line of a service binary.
#[derive(Debug, Parser)]
pub struct Cli {
    /// Ask the running service's /health and exit 0 if it answers (for container health checks).
    #[arg(long)]
    pub healthcheck: bool,
}

/// A service binary's whole `main`.
pub fn main<S: Service>() -> ExitCode {
    let cli = Cli::parse();
    run::<S>(cli.healthcheck)
}

/// Exit status for settings that are missing or malformed.
const EXIT_BAD_SETTINGS: u8 = 2;

/// Runs service `S` with the settings read from the environment until SIGTERM;
/// `healthcheck` probes a running instance instead.
pub fn run<S: Service>(healthcheck: bool) -> ExitCode {
    let service = S::INFO.name;
    let settings = match S::Settings::from_env(&Env::from_process(), S::LISTEN) {
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
