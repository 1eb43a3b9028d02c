//! Ferry's domain: validated names, records, the engines that act on them, and the
//! ports (traits) that adapters implement. Nothing in this crate talks to AWS, so every
//! engine runs in a plain unit test against the in-memory ports of `ferry-testkit`.

pub mod access;
pub mod cost;
pub mod error;
pub mod infra;
pub mod job;
pub mod model;
pub mod monitoring;
pub mod names;
pub mod ports;
pub mod promotion;
pub mod validation;

pub use validation::{FieldError, ValidationErrors};
