//! What every service shares: settings from the environment, logging, `/health`, `/ready`
//! and `/metrics`, problem+json errors, the service-token and API-key checks, and the
//! start-up sequence.

pub mod auth;
pub mod binary;
pub mod health;
pub mod healthcheck;
pub mod jobs;
pub mod json;
pub mod metrics;
pub mod problem;
pub mod query;
pub mod responses;
pub mod server;
pub mod session;
pub mod settings;
pub mod telemetry;
pub mod validate;
pub mod worker;

pub use problem::{FieldError, Problem};
