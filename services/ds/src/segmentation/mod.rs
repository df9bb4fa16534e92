//! Segmentation: scoring every customer with a rule set, as a job.

pub mod retention;
pub mod routes;
pub mod run;
pub mod score;
