//! Promotions: creating one (with the target environment's lock), the steps the promotion
//! state machine runs, the risk score and the approval gate, and the traffic plans and
//! canary judge the steps use.

mod approval;
pub mod budget;
pub mod canary;
mod error;
pub mod messages;
pub mod pinned;
mod request;
mod risk;
pub mod rollout;
mod start;
mod steps;
pub mod unlock;

pub use approval::*;
pub use error::StepError;
pub use request::*;
pub use risk::*;
pub use start::{start, StartError, Started};
pub use steps::{
    Action, ExecutionEnded, StackOp, StackWait, StepInput, StepPolicy, Steps, BUSY_GIVE_UP,
    DEFAULT_WATCH_WINDOW_SECONDS,
};
