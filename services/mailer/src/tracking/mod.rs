//! Public tracking: opens, clicks, the honeypot, conversions and unsubscribes.

pub mod classify;
pub mod routes;
pub mod writer;
