//! The [`Workflow`] port on Step Functions.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_sfn::Client;
use ferry_core::error::ErrorName;
use ferry_core::names::PromotionId;
use ferry_core::ports::{ExecutionStatus, Workflow, WorkflowError};
use serde_json::Value;

/// A task completion's failure: a task that completed, timed out, or was never this
/// Step Functions' is gone, not an error to retry.
fn task_error(message: String, transient: bool) -> WorkflowError {
    if transient {
        WorkflowError::Unavailable(message)
    } else if ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]
        .iter()
        .any(|code| message.starts_with(&format!("{code}:")))
    {
        WorkflowError::Gone(message)
    } else {
        WorkflowError::Rejected(message)
    }
}

pub struct StepFunctionsWorkflow {
    client: Client,
    state_machine_arn: String,
}

impl StepFunctionsWorkflow {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, state_machine_arn: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), state_machine_arn)
    }

    /// Executions are named by promotion id, so their ARN follows from the machine's.
    fn execution_arn(&self, id: &PromotionId) -> String {
        format!(
            "{}:{}",
            self.state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1),
            id
        )
    }
}

#[async_trait]
impl Workflow for StepFunctionsWorkflow {
    async fn complete_approval(
        &self,
        id: &PromotionId,
        token: &str,
        approved: bool,
        output: &Value,
    ) -> Result<(), WorkflowError> {
        tracing::info!(promotion = %id, approved, "completing the approval task");
        if !approved {
            // The state machine's Catch matches this name.
            return self
                .fail_task(token, ErrorName::PromotionRejected, output)
                .await;
        }
        self.client
            .send_task_success()
            .task_token(token)
            .output(output.to_string())
            .send()
            .await
            .map_err(|e| task_error(describe(&e), is_transient(&e)))?;
        Ok(())
    }

    async fn fail_task(
        &self,
        token: &str,
        error: ErrorName,
        cause: &Value,
    ) -> Result<(), WorkflowError> {
        self.client
            .send_task_failure()
            .task_token(token)
            .error(error.as_str())
            .cause(cause.to_string())
            .send()
            .await
            .map_err(|e| task_error(describe(&e), is_transient(&e)))?;
        Ok(())
    }

    async fn execution_status(
        &self,
        execution_arn: &str,
    ) -> Result<ExecutionStatus, WorkflowError> {
        match self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
        {
            Ok(output) => Ok(match output.status.as_str() {
                "RUNNING" | "PENDING_REDRIVE" => ExecutionStatus::Running,
                other => ExecutionStatus::Ended(other.to_owned()),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                Ok(ExecutionStatus::Unknown)
            }
            Err(e) if is_transient(&e) => Err(WorkflowError::Unavailable(describe(&e))),
            Err(e) => Err(WorkflowError::Rejected(describe(&e))),
        }
    }

    async fn start_promotion(
        &self,
        id: &PromotionId,
        input: &Value,
    ) -> Result<String, WorkflowError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(id.as_str())
            .input(input.to_string())
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.execution_arn),
            // Same name, same input: Step Functions treats the start as idempotent, and
            // so do we (a retried API call must not fail after the first one started it).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists()) =>
            {
                Ok(self.execution_arn(id))
            }
            Err(e) if is_transient(&e) => Err(WorkflowError::Unavailable(describe(&e))),
            Err(e) => Err(WorkflowError::Rejected(describe(&e))),
        }
    }
}
