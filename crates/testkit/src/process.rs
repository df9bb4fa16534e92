//! Services as real processes: the binaries the workspace build produced, started with
//! their own environment and log file, stopped (SIGKILL) when dropped.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestDatabase;

/// Where the dev-profile binaries are: beside the test executable's `deps/` folder.
/// `scripts/test` builds them first; by hand, run `cargo build --workspace --bins` before
/// `cargo nextest run`, or these tests run stale binaries.
pub fn binary(name: &str) -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test executable's path");
    let profile_dir = test_executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

/// Ports handed to services under test: below Linux's ephemeral range (32768-60999), which the
/// kernel gives to outgoing connections and to binds of port 0, so that no test's database or
/// HTTP connection can take a port between its pick and the service's bind.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A free loopback port for a service to listen on: a random one of `TEST_PORTS` that binds
/// now (released at once; another test could still pick the same one, rarely).
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let span = u64::from(TEST_PORTS.end - TEST_PORTS.start);
    let start = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % span;
    (0..span)
        .map(|offset| TEST_PORTS.start + ((start + offset) % span) as u16)
        .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// One running service process.
pub struct ServiceProcess {
    pub name: String,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub log_path: PathBuf,
    child: Child,
}

impl ServiceProcess {
    /// Starts `binary args...` with exactly `env` (plus PATH), in an empty working folder so
    /// that no `.env` of the checkout leaks in; output goes to a log file.
    pub fn spawn(name: &str, args: &[&str], env: &[(String, String)], port: u16) -> ServiceProcess {
        let folder = std::env::temp_dir()
            .join("streamlab-tests")
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&folder).expect("create the process folder");
        let log_path = folder.join(format!("{name}.log"));
        let log = File::create(&log_path).expect("create the log file");
        let child = Command::new(binary(name))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(
                env.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .current_dir(&folder)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start the service binary");
        ServiceProcess {
            name: name.to_owned(),
            url: format!("http://127.0.0.1:{port}"),
            log_path,
            child,
        }
    }

    /// Polls `/ready` until it answers 200; fails with the log if the process exits or
    /// `timeout` passes.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited with {status}:\n{}",
                    self.name,
                    self.log()
                ));
            }
            if let Ok(response) = http.get(format!("{}/ready", self.url)).send().await
                && response.status() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} not ready after {timeout:?}:\n{}",
                    self.name,
                    self.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the process to exit by itself and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends SIGKILL and waits for the process to be gone: a crash, as far as it can tell.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM, as an orchestrator stopping the service would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(
            status.is_ok_and(|status| status.success()),
            "kill -TERM {}",
            self.child.id()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole platform: api, ds, mailer and etl as processes on one fresh database.
pub struct Platform {
    pub api: ServiceProcess,
    pub ds: ServiceProcess,
    pub mailer: ServiceProcess,
    pub etl: ServiceProcess,
    pub database: TestDatabase,
    /// The environment the services were started with.
    pub env: Vec<(String, String)>,
}

impl Platform {
    /// Starts the four services (migrated from an empty database by the services
    /// themselves) and waits until each is ready.
    pub async fn start() -> Platform {
        Platform::start_with(&[]).await
    }

    /// Starts the platform with `extra` settings added to every service's environment.
    pub async fn start_with(extra: &[(&str, &str)]) -> Platform {
        let database = TestDatabase::empty();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let mut env = crate::service_env(database.url().as_str());
        env.retain(|(name, _)| !name.ends_with("_ADDR"));
        for (service, port) in ["API", "DS", "MAILER", "ETL"].iter().zip(ports) {
            env.push((format!("{service}_ADDR"), format!("127.0.0.1:{port}")));
            if *service != "API" {
                env.push((format!("{service}_URL"), format!("http://127.0.0.1:{port}")));
            }
            if *service == "MAILER" {
                env.push((
                    "TRACKING_BASE_URL".to_owned(),
                    format!("http://127.0.0.1:{port}"),
                ));
            }
        }
        env.push(("LOG_FORMAT".to_owned(), "json".to_owned()));
        for (name, value) in extra {
            env.retain(|(existing, _)| existing != name);
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
        let mut platform = Platform {
            api: ServiceProcess::spawn("api", &[], &env, ports[0]),
            ds: ServiceProcess::spawn("ds", &[], &env, ports[1]),
            mailer: ServiceProcess::spawn("mailer", &[], &env, ports[2]),
            etl: ServiceProcess::spawn("etl", &["serve"], &env, ports[3]),
            database,
            env,
        };
        for process in [
            &mut platform.api,
            &mut platform.ds,
            &mut platform.mailer,
            &mut platform.etl,
        ] {
            if let Err(problem) = process.wait_ready(Duration::from_secs(30)).await {
                panic!("{problem}");
            }
        }
        platform
    }
}

impl Platform {
    /// Another mailer process on the same database (a replica, or a restart), ready.
    pub async fn spawn_mailer(&self) -> ServiceProcess {
        self.spawn_mailer_with(&[]).await
    }

    /// Another mailer with `extra` settings in place of the platform's.
    pub async fn spawn_mailer_with(&self, extra: &[(&str, &str)]) -> ServiceProcess {
        let port = free_port();
        let mut env = self.env.clone();
        env.retain(|(name, _)| {
            name != "MAILER_ADDR" && !extra.iter().any(|(replaced, _)| replaced == name)
        });
        env.push(("MAILER_ADDR".to_owned(), format!("127.0.0.1:{port}")));
        env.extend(
            extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        let mut mailer = ServiceProcess::spawn("mailer", &[], &env, port);
        if let Err(problem) = mailer.wait_ready(Duration::from_secs(30)).await {
            panic!("{problem}");
        }
        mailer
    }
}
