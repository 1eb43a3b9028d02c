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
    unavailable: std::sync::atomic::AtomicBool,
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
        token: &str,
        approved: bool,
        output: &serde_json::Value,
    ) -> Result<(), ferry_core::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ferry_core::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        self.completed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((token.to_owned(), approved, output.clone()));
        Ok(())
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
        Ok(format!(
            "arn:aws:states:local:000000000000:execution:promotion:{id}"
        ))
    }
}
