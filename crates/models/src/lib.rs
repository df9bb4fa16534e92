//! The platform's data model, shared by every service.
//!
//! Row structs are named `X` (what a read returns), `XInsertForm` (what a create takes) and
//! `XUpdateForm` (a partial update). They double as the HTTP API's types: serde and
//! `utoipa::ToSchema` always, diesel only with the `db` feature, so a crate that needs the
//! types alone does not compile diesel.

pub mod activity;
pub mod analysis;
pub mod api_keys;
pub mod assignment;
pub mod audience;
pub mod catalogue;
pub mod customers;
pub mod enums;
pub mod experiments;
pub mod jobs;
pub mod messaging;
pub mod ops;
pub mod page;
pub mod render;
pub mod reports;
pub mod scenarios;
pub mod segmentation;
pub mod segmentation_rules;
pub mod stats;

#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "db")]
pub mod migrate;
#[cfg(feature = "db")]
pub mod queue;
#[cfg(feature = "db")]
pub mod schema;
#[cfg(feature = "db")]
pub mod views;
