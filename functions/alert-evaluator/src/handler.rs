use aws_lambda_events::cloudwatch_alarms::{
    CloudWatchAlarmData, CloudWatchMetricAlarmConfiguration,
};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use ferry_core::monitoring::jobs::{self, AlarmChange};
use ferry_core::ports::{
    Alerts, DeliveryLedger, DeployedStacks, EngineState, Environments, Metrics, Promotions,
    Workflow,
};
use ferry_lambda::FunctionError;
use serde_json::Value;

/// EventBridge's "CloudWatch Alarm State Change" detail has the alarm payload's shape;
/// its `reasonData` is a JSON string, hence `Value` for the reason type.
type AlarmStateChange =
    EventBridgeEvent<CloudWatchAlarmData<CloudWatchMetricAlarmConfiguration, Value>>;

/// Where scheduled rule evaluation reads from: the deployed stacks and CloudWatch.
pub struct Sources<'a> {
    pub stacks: &'a dyn DeployedStacks,
    pub metrics: &'a dyn Metrics,
    pub notify: jobs::Notify<'a>,
    /// The promotion pipeline, whose watch windows an alarm cuts short.
    pub workflow: &'a dyn Workflow,
}

/// Two callers: EventBridge's schedule (every minute) evaluates every environment's alert
/// rules; a CloudWatch Alarm State Change records the alarm's new state, notifies, and
/// rolls back a promotion in its watch window.
pub async fn handle(
    store: &(impl Environments + Alerts + EngineState + DeliveryLedger + Promotions + ?Sized),
    sources: &Sources<'_>,
    payload: Value,
) -> Result<Value, FunctionError> {
    match handle_event(store, sources, payload).await {
        // A malformed event is logged and counted (the EMF metric MalformedEvents), not
        // failed: EventBridge would only redeliver the same bad event.
        Err(error) if error.name == ferry_core::error::ErrorName::InvalidEvent => {
            tracing::warn!(error = %error.message, "malformed event ignored");
            let metric = ferry_lambda::emf(
                "Ferry",
                "MalformedEvents",
                "Count",
                1.0,
                &[("function", "alert-evaluator")],
                chrono::Utc::now(),
            );
            println!("{metric}");
            Ok(serde_json::json!({"malformed": error.message}))
        }
        other => other,
    }
}

async fn handle_event(
    store: &(impl Environments + Alerts + EngineState + DeliveryLedger + Promotions + ?Sized),
    sources: &Sources<'_>,
    payload: Value,
) -> Result<Value, FunctionError> {
    if payload["detail-type"] == "Scheduled Event" {
        let event: EventBridgeEvent =
            serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
        let now = event.time.unwrap_or_else(chrono::Utc::now);
        let summary =
            jobs::evaluate_rules(store, sources.stacks, sources.metrics, &sources.notify, now)
                .await?;
        tracing::info!(summary = %summary, "alert rules evaluated");
        return Ok(summary);
    }
    let event: AlarmStateChange =
        serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    if event.detail_type != "CloudWatch Alarm State Change" {
        return Err(FunctionError::bad_event(format!(
            "detail-type: expected 'CloudWatch Alarm State Change', got '{}'",
            event.detail_type
        )));
    }
    let alarm = event.detail;
    let state = alarm
        .state
        .ok_or_else(|| FunctionError::bad_event("detail.state: missing"))?;
    let change = AlarmChange {
        event_id: event
            .id
            .ok_or_else(|| FunctionError::bad_event("id: missing; it is the deduplication key"))?,
        alarm_name: alarm.alarm_name,
        state: state_name(&state.value),
        previous_state: alarm.previous_state.map(|p| state_name(&p.value)),
        reason: state.reason,
        metric: alarm.configuration.metrics.first().map(|m| {
            let metric = &m.metric_stat.metric;
            format!(
                "{}/{}",
                metric.namespace.as_deref().unwrap_or("?"),
                metric.name
            )
        }),
        changed_at: state.timestamp,
    };
    let cut_short =
        jobs::cut_watch_short(store, store, sources.workflow, &change, chrono::Utc::now()).await?;
    let mut summary = jobs::record_alarm(store, &sources.notify, change).await?;
    summary["rolled_back"] = serde_json::json!(cut_short);
    tracing::info!(summary = %summary, "alarm state change recorded");
    Ok(summary)
}

fn state_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "UNKNOWN".into())
}
