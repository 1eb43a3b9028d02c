use aws_lambda_events::eventbridge::EventBridgeEvent;
use ferry_core::names::PromotionId;
use ferry_core::promotion::{ExecutionEnded, StepInput, Steps};
use ferry_lambda::FunctionError;
use serde_json::Value;

/// One binary for every step: the steps share the store, the lock rules and the timeline
/// format, and one function means one cold-start profile and one IAM role to audit. Two
/// callers: the state machine (`action` picks the step), and EventBridge, when one of
/// its executions ends ABORTED, TIMED_OUT or FAILED.
pub async fn handle(steps: &Steps<'_>, payload: Value) -> Result<Value, FunctionError> {
    if payload.get("detail-type").is_some() {
        return execution_ended(steps, payload).await;
    }
    let input: StepInput = serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    tracing::info!(promotion = %input.promotion_id, action = ?input.action, step = ?input.step, "running step");
    steps.run(&input).await.map_err(|error| {
        tracing::warn!(promotion = %input.promotion_id, error = %error, name = %error.name(), "step failed");
        FunctionError::from(error)
    })
}

/// The detail of a "Step Functions Execution Status Change" that Ferry reads.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusChange {
    execution_arn: String,
    name: String,
    status: String,
    stop_date: Option<i64>,
    error: Option<String>,
    cause: Option<String>,
}

async fn execution_ended(steps: &Steps<'_>, payload: Value) -> Result<Value, FunctionError> {
    let event: EventBridgeEvent<StatusChange> =
        serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    if event.detail_type != "Step Functions Execution Status Change" {
        return Err(FunctionError::bad_event(format!(
            "detail-type: expected 'Step Functions Execution Status Change', got '{}'",
            event.detail_type
        )));
    }
    let detail = event.detail;
    let ended = ExecutionEnded {
        promotion_id: PromotionId::parse("detail.name", &detail.name)
            .map_err(FunctionError::bad_event)?,
        stopped_at: detail
            .stop_date
            .and_then(chrono::DateTime::from_timestamp_millis)
            .or(event.time)
            .unwrap_or_else(chrono::Utc::now),
        execution_arn: detail.execution_arn,
        status: detail.status,
        error: detail.error,
        cause: detail.cause,
    };
    let outcome = steps.execution_ended(&ended).await?;
    tracing::info!(promotion = %ended.promotion_id, status = %ended.status, outcome = %outcome, "execution ended");
    Ok(outcome)
}
