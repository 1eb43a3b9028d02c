//! Promotions: creating one (with the target environment's lock), the steps the promotion
//! state machine runs, the risk score and the approval gate, and the traffic plans and
//! canary judge the steps use.

mod approval;
pub mod canary;
mod error;
mod request;
mod risk;
pub mod rollout;
mod start;
mod steps;

pub use approval::*;
pub use error::StepError;
pub use request::*;
pub use risk::*;
pub use start::{start, StartError, Started};
pub use steps::{Action, StepInput, StepPolicy, Steps};
