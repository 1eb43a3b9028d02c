//! Fault injection for local runs (`FERRY_FAULT_INJECTION`, refused in AWS Lambda): the
//! end-to-end tests make Step Functions fail an approval's completion, which moto cannot
//! do on demand, to show the decision can be sent again.

use async_trait::async_trait;
use ferry_core::names::PromotionId;
use ferry_core::ports::{ExecutionStatus, Faults, Workflow, WorkflowError};
use serde_json::Value;
use std::sync::Arc;

/// A workflow that fails `complete_approval` of promotion `<id>` as unavailable while
/// the store holds a fault for `promotions/<id>/complete_approval`.
pub struct FaultyWorkflow {
    pub inner: Arc<dyn Workflow>,
    pub faults: Arc<dyn Faults>,
}

#[async_trait]
impl Workflow for FaultyWorkflow {
    async fn start_promotion(
        &self,
        id: &PromotionId,
        input: &Value,
    ) -> Result<String, WorkflowError> {
        self.inner.start_promotion(id, input).await
    }

    async fn complete_approval(
        &self,
        id: &PromotionId,
        token: &str,
        approved: bool,
        output: &Value,
    ) -> Result<(), WorkflowError> {
        let key = format!("promotions/{id}/complete_approval");
        match self.faults.injected_fault(&key).await {
            Ok(Some(name)) => Err(WorkflowError::Unavailable(format!(
                "fault injected at {key}: {name}"
            ))),
            Ok(None) => {
                self.inner
                    .complete_approval(id, token, approved, output)
                    .await
            }
            Err(e) => Err(WorkflowError::Unavailable(e.to_string())),
        }
    }

    async fn fail_task(
        &self,
        token: &str,
        error: ferry_core::error::ErrorName,
        cause: &Value,
    ) -> Result<(), WorkflowError> {
        self.inner.fail_task(token, error, cause).await
    }

    async fn execution_status(
        &self,
        execution_arn: &str,
    ) -> Result<ExecutionStatus, WorkflowError> {
        self.inner.execution_status(execution_arn).await
    }
}
