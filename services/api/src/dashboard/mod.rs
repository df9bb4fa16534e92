//! The dashboard: server-rendered pages (askama templates, checked at compile time) and the
//! assets they use, all served by the api itself. Pages read through the same functions as the
//! documented `/api/v1` routes, so a page never shows a number a script could not get.

pub mod assets;
pub mod charts;
pub mod customer;
pub mod customer_form;
pub mod customers;
pub mod error_page;
pub mod experiment;
pub mod experiments;
pub mod guide;
pub mod login;
pub mod overview;
pub mod results;
pub mod segments;
pub mod settings;
pub mod signed_in;
pub mod stats;
