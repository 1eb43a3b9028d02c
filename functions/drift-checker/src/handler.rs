use aws_lambda_events::eventbridge::EventBridgeEvent;
use ferry_core::infra::drift;
use ferry_core::ports::{DeployedStacks, EngineState, Environments, LiveResources, Reports};
use ferry_lambda::FunctionError;
use serde_json::Value;

pub async fn handle(
    store: &(impl Environments + Reports + EngineState + ?Sized),
    stacks: &dyn DeployedStacks,
    live: &dyn LiveResources,
    payload: Value,
) -> Result<Value, FunctionError> {
    let event: EventBridgeEvent =
        serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    ferry_lambda::expect_schedule(&event)?;
    let summary = drift::drift_reports(
        store,
        stacks,
        live,
        event.time.unwrap_or_else(chrono::Utc::now),
    )
    .await?;
    tracing::info!(summary = %summary, "drift reports written");
    Ok(summary)
}
