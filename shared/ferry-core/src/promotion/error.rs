//! What a promotion step can fail with.

use crate::error::ErrorName;
use crate::infra::deploy::{DeployError, StackApiError};
use crate::ports::{MetricsError, StoreError};
use serde_json::Value;

/// Step failures. The name of each variant is the `errorType` the function reports, and
/// what the state machine's `Retry` and `Catch` blocks match: keep them stable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StepError {
    #[error("promotion {0} was not found")]
    PromotionNotFound(String),
    /// The promotion cannot go ahead; not worth retrying.
    #[error("{0}")]
    ValidationFailed(String),
    /// Another writer took the lock or changed the environment under us.
    #[error("{0}")]
    LockLost(String),
    /// Storage or an AWS API throttled or timed out: the state machine retries these.
    #[error("{0}")]
    TransientError(String),
    /// A change set on the environment's stack failed (CloudFormation rolled it back).
    #[error("{0}")]
    DeployFailed(String),
    /// An environment alarm was in ALARM during the bake.
    #[error("{message}")]
    AlarmFired { message: String, detail: Value },
    /// The canary judge failed the new colour.
    #[error("{message}")]
    CanaryFailed { message: String, detail: Value },
    /// The new colour was not healthy in its own target group before taking traffic.
    #[error("{message}")]
    SmokeFailed { message: String, detail: Value },
    /// Traffic could not be put back on the old colour; the lock is released regardless.
    #[error("{0}")]
    RollbackIncomplete(String),
    /// The environment's stack is mid-update: traffic cannot be put back yet, and the
    /// lock is kept until it can (the state machine retries with backoff, then gives up).
    #[error("{0}")]
    StackBusy(String),
    /// The change set would replace or delete a stateful resource the request did not
    /// allow (`allow_replace`): nothing is deployed.
    #[error("{0}")]
    ReplacementRefused(String),
    /// A local run asked this step to fail (fault injection).
    #[error("{0}")]
    FaultInjected(String),
    #[error("{0}")]
    InternalError(String),
}

impl StepError {
    pub fn name(&self) -> ErrorName {
        match self {
            StepError::PromotionNotFound(_) => ErrorName::PromotionNotFound,
            StepError::ValidationFailed(_) => ErrorName::ValidationFailed,
            StepError::LockLost(_) => ErrorName::LockLost,
            StepError::TransientError(_) => ErrorName::TransientError,
            StepError::DeployFailed(_) => ErrorName::DeployFailed,
            StepError::AlarmFired { .. } => ErrorName::AlarmFired,
            StepError::CanaryFailed { .. } => ErrorName::CanaryFailed,
            StepError::SmokeFailed { .. } => ErrorName::SmokeFailed,
            StepError::RollbackIncomplete(_) => ErrorName::RollbackIncomplete,
            StepError::StackBusy(_) => ErrorName::StackBusy,
            StepError::ReplacementRefused(_) => ErrorName::ReplacementRefused,
            StepError::FaultInjected(_) => ErrorName::FaultInjected,
            StepError::InternalError(_) => ErrorName::InternalError,
        }
    }

    /// What a failed analysis found, kept on the step record.
    pub(super) fn detail(&self) -> Option<&Value> {
        match self {
            StepError::AlarmFired { detail, .. }
            | StepError::CanaryFailed { detail, .. }
            | StepError::SmokeFailed { detail, .. } => Some(detail),
            _ => None,
        }
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => StepError::TransientError(error.to_string()),
            StoreError::LockNotHeld { .. }
            | StoreError::Locked { .. }
            | StoreError::VersionConflict { .. } => StepError::LockLost(error.to_string()),
            _ => StepError::InternalError(error.to_string()),
        }
    }
}

impl From<MetricsError> for StepError {
    fn from(error: MetricsError) -> Self {
        match error {
            MetricsError::Unavailable(_) => StepError::TransientError(error.to_string()),
            MetricsError::Refused(_) => StepError::InternalError(error.to_string()),
        }
    }
}

impl From<DeployError> for StepError {
    fn from(error: DeployError) -> Self {
        match error {
            DeployError::Busy { .. } | DeployError::Api(StackApiError::Unavailable(_)) => {
                StepError::TransientError(error.to_string())
            }
            _ => StepError::DeployFailed(error.to_string()),
        }
    }
}
