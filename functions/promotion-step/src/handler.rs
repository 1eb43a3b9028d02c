use ferry_core::promotion::{StepInput, Steps};
use ferry_lambda::FunctionError;
use serde_json::Value;

/// One binary for every step: the steps share the store, the lock rules and the timeline
/// format, and one function means one cold-start profile and one IAM role to audit.
pub async fn handle(steps: &Steps<'_>, payload: Value) -> Result<Value, FunctionError> {
    let input: StepInput = serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    tracing::info!(promotion = %input.promotion_id, action = ?input.action, step = ?input.step, "running step");
    steps.run(&input).await.map_err(|error| {
        tracing::warn!(promotion = %input.promotion_id, error = %error, name = %error.name(), "step failed");
        FunctionError::from(error)
    })
}
