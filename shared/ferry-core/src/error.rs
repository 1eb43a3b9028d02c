//! The one error contract: the names Ferry's functions fail with. Lambda reports a
//! function error's name as its `errorType`, and the promotion state machine's `Retry`
//! and `Catch` blocks match on it, so the names are stable; a test checks the state
//! machine against this list.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every error name a Ferry function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorName {
    /// Throttling, timeouts, 5xx from a backend: worth a retry.
    TransientError,
    /// The promotion cannot go ahead.
    ValidationFailed,
    /// Another writer holds the target's lock, or changed it.
    LockLost,
    PromotionNotFound,
    NotFound,
    /// The event does not have the trigger's shape.
    InvalidEvent,
    /// The template breaks a policy rule the environment does not waive.
    PolicyViolation,
    /// An approver rejected the promotion (sent with `SendTaskFailure`).
    PromotionRejected,
    /// A change set on the environment's stack failed.
    DeployFailed,
    /// An alarm of the environment was in ALARM after a bake.
    AlarmFired,
    /// The canary judge failed the new colour.
    CanaryFailed,
    /// The new colour had no healthy targets before taking traffic.
    SmokeFailed,
    /// A local run asked the step to fail.
    FaultInjected,
    /// Traffic could not be put back.
    RollbackIncomplete,
    /// The environment's stack is mid-update, so traffic cannot be put back yet: the
    /// rollback waits and tries again.
    StackBusy,
    /// The change set would replace or delete a stateful resource (the database, the
    /// cache, the access-log bucket) that the request did not name in `allow_replace`.
    ReplacementRefused,
    /// Anything else: a bug.
    InternalError,
}

impl ErrorName {
    pub const ALL: [ErrorName; 17] = [
        ErrorName::TransientError,
        ErrorName::ValidationFailed,
        ErrorName::LockLost,
        ErrorName::PromotionNotFound,
        ErrorName::NotFound,
        ErrorName::InvalidEvent,
        ErrorName::PolicyViolation,
        ErrorName::PromotionRejected,
        ErrorName::DeployFailed,
        ErrorName::AlarmFired,
        ErrorName::CanaryFailed,
        ErrorName::SmokeFailed,
        ErrorName::FaultInjected,
        ErrorName::RollbackIncomplete,
        ErrorName::StackBusy,
        ErrorName::ReplacementRefused,
        ErrorName::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::TransientError => "TransientError",
            ErrorName::ValidationFailed => "ValidationFailed",
            ErrorName::LockLost => "LockLost",
            ErrorName::PromotionNotFound => "PromotionNotFound",
            ErrorName::NotFound => "NotFound",
            ErrorName::InvalidEvent => "InvalidEvent",
            ErrorName::PolicyViolation => "PolicyViolation",
            ErrorName::PromotionRejected => "PromotionRejected",
            ErrorName::DeployFailed => "DeployFailed",
            ErrorName::AlarmFired => "AlarmFired",
            ErrorName::CanaryFailed => "CanaryFailed",
            ErrorName::SmokeFailed => "SmokeFailed",
            ErrorName::FaultInjected => "FaultInjected",
            ErrorName::RollbackIncomplete => "RollbackIncomplete",
            ErrorName::StackBusy => "StackBusy",
            ErrorName::ReplacementRefused => "ReplacementRefused",
            ErrorName::InternalError => "InternalError",
        }
    }

    pub fn parse(name: &str) -> Option<ErrorName> {
        ErrorName::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// Names that mean Ferry itself is broken, not that a promotion was stopped: a bug,
    /// traffic that could not be put back, a caller wired to the wrong function. The
    /// others are how the promotion steps signal the state machine, which Lambda's own
    /// Errors metric counts too; the `<function>-faults` alarms count only these.
    pub fn is_fault(self) -> bool {
        matches!(
            self,
            ErrorName::InternalError | ErrorName::RollbackIncomplete | ErrorName::InvalidEvent
        )
    }
}

/// Compares with the name as Lambda reports it (`errorType`), as tests and the state
/// machine's history have it.
impl PartialEq<&str> for ErrorName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        for name in ErrorName::ALL {
            assert_eq!(ErrorName::parse(name.as_str()), Some(name));
        }
        assert_eq!(ErrorName::parse("States.ALL"), None);
    }
}
