//! An in-memory Step Functions.

use async_trait::async_trait;
use ferry_core::names::PromotionId;
use std::sync::Mutex;

/// An in-memory [`Workflow`](ferry_core::ports::Workflow): remembers the executions it was
/// asked to start (by name, as Step Functions does) and can be switched off to exercise
/// the callers' failure paths.
#[derive(Default)]
pub struct InMemoryWorkflow {
    started: Mutex<Vec<(PromotionId, serde_json::Value)>>,
    completed: Mutex<Vec<(String, bool, serde_json::Value)>>,
    /// Tasks failed by [`fail_task`](ferry_core::ports::Workflow::fail_task): (token, error, cause).
    failed: Mutex<Vec<(String, ferry_core::error::ErrorName, serde_json::Value)>>,
    unavailable: std::sync::atomic::AtomicBool,
    /// How many of the next approval completions fail as unavailable.
    failing_completions: std::sync::atomic::AtomicUsize,
    /// Executions that ended (or were set to a status), by ARN; a started one runs.
    statuses: Mutex<std::collections::BTreeMap<String, ferry_core::ports::ExecutionStatus>>,
}

impl InMemoryWorkflow {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable
            .store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    /// Approvals completed: (task token, approved, output).
    pub fn completed(&self) -> Vec<(String, bool, serde_json::Value)> {
        self.completed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The next `count` approval completions fail as unavailable, as a throttled or
    /// unreachable Step Functions would.
    pub fn fail_next_completions(&self, count: usize) {
        self.failing_completions
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sets an execution's status, as Step Functions reports it.
    pub fn set_status(&self, execution_arn: &str, status: ferry_core::ports::ExecutionStatus) {
        self.statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(execution_arn.to_owned(), status);
    }

    /// The execution ARN of promotion `id`, as [`start_promotion`](ferry_core::ports::Workflow::start_promotion) returns it.
    pub fn arn(id: &PromotionId) -> String {
        format!("arn:aws:states:local:000000000000:execution:promotion:{id}")
    }

    /// Tasks failed by [`fail_task`](ferry_core::ports::Workflow::fail_task): (token, error, cause).
    pub fn failed(&self) -> Vec<(String, ferry_core::error::ErrorName, serde_json::Value)> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn started(&self) -> Vec<(PromotionId, serde_json::Value)> {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl ferry_core::ports::Workflow for InMemoryWorkflow {
    async fn complete_approval(
        &self,
        _id: &PromotionId,
        token: &str,
        approved: bool,
        output: &serde_json::Value,
    ) -> Result<(), ferry_core::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst)
            || self
                .failing_completions
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok()
        {
            return Err(ferry_core::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        let completed = self.completed.lock().unwrap_or_else(|p| p.into_inner());
        // A task completes once, as in Step Functions.
        if completed.iter().any(|(t, _, _)| t == token) {
            return Err(ferry_core::ports::WorkflowError::Gone(format!(
                "TaskTimedOut: task {token} was completed before"
            )));
        }
        drop(completed);
        self.completed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((token.to_owned(), approved, output.clone()));
        Ok(())
    }

    async fn fail_task(
        &self,
        token: &str,
        error: ferry_core::error::ErrorName,
        cause: &serde_json::Value,
    ) -> Result<(), ferry_core::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ferry_core::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        if failed.iter().any(|(t, _, _)| t == token) {
            return Err(ferry_core::ports::WorkflowError::Gone(format!(
                "TaskTimedOut: task {token} was completed before"
            )));
        }
        failed.push((token.to_owned(), error, cause.clone()));
        Ok(())
    }

    async fn execution_status(
        &self,
        execution_arn: &str,
    ) -> Result<ferry_core::ports::ExecutionStatus, ferry_core::ports::WorkflowError> {
        if let Some(status) = self
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(execution_arn)
        {
            return Ok(status.clone());
        }
        let started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        Ok(
            if started.iter().any(|(id, _)| execution_arn == Self::arn(id)) {
                ferry_core::ports::ExecutionStatus::Running
            } else {
                ferry_core::ports::ExecutionStatus::Unknown
            },
        )
    }

    async fn start_promotion(
        &self,
        id: &PromotionId,
        input: &serde_json::Value,
    ) -> Result<String, ferry_core::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ferry_core::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        // Same name: the same execution, as with Step Functions.
        if !started.iter().any(|(started_id, _)| started_id == id) {
            started.push((id.clone(), input.clone()));
        }
        Ok(Self::arn(id))
    }
}
