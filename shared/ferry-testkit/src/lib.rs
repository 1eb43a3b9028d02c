//! Ferry's ports in memory, and the fixtures every test tier seeds: for engine, handler
//! and CLI tests only (no production crate depends on this one). The store has the same
//! conditional-write semantics as the DynamoDB one, which [`contract`] checks for both.

pub mod contract;
mod fixtures;
mod metrics;
mod pipeline;
mod stacks;
mod store;
mod workflow;

pub use fixtures::*;
pub use metrics::{statistic, InMemoryMetrics};
pub use pipeline::{settle, Settle};
pub use stacks::{InMemoryLive, InMemoryStacks};
pub use store::InMemoryStore;
pub use workflow::InMemoryWorkflow;
