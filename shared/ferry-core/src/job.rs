//! What the scheduled and event-driven work shares: the error every job returns, with
//! its function error name, and the environment a job works on.

use crate::error::ErrorName;
use crate::infra::template;
use crate::model::Environment;
use crate::names::{AppName, EnvName};
use crate::ports::{Environments, StacksError, StoreError};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JobError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    /// The template breaks a policy rule the environment does not waive.
    #[error(transparent)]
    Policy(#[from] template::RenderError),
    #[error(transparent)]
    Metrics(#[from] crate::ports::MetricsError),
    #[error(transparent)]
    Workflow(#[from] crate::ports::WorkflowError),
    /// Stored data that should have been refused on the way in.
    #[error("{0}")]
    Invalid(String),
}

impl JobError {
    /// The function error name (`errorType`); `TransientError` is the one worth a retry.
    pub fn name(&self) -> ErrorName {
        match self {
            JobError::NotFound(_) => ErrorName::NotFound,
            JobError::Store(StoreError::Unavailable(_))
            | JobError::Stacks(StacksError::Unavailable(_))
            | JobError::Metrics(crate::ports::MetricsError::Unavailable(_))
            | JobError::Workflow(crate::ports::WorkflowError::Unavailable(_)) => {
                ErrorName::TransientError
            }
            JobError::Policy(template::RenderError::Policy(_)) => ErrorName::PolicyViolation,
            // Refused at validation; reaching a job means the spec predates the check.
            JobError::Policy(
                template::RenderError::TooManyResources { .. }
                | template::RenderError::TooLarge { .. },
            ) => ErrorName::ValidationFailed,
            JobError::Store(_)
            | JobError::Stacks(_)
            | JobError::Policy(_)
            | JobError::Metrics(_)
            | JobError::Workflow(_)
            | JobError::Invalid(_) => ErrorName::InternalError,
        }
    }
}

pub(crate) async fn environment(
    store: &(impl Environments + ?Sized),
    app: &AppName,
    env: &EnvName,
) -> Result<Environment, JobError> {
    store
        .get_environment(app, env)
        .await?
        .ok_or_else(|| JobError::NotFound(format!("environment {app}/{env} was not found")))
}
