//! Evaluates alert rules on a schedule and records CloudWatch alarm state changes
//! (both delivered by EventBridge) as alerts.

use alert_evaluator::{
    config::Config,
    handler::{handle, Sources},
};
use ferry_aws::{CloudFormationStacks, CloudWatchMetrics, DynamoStore};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = ferry_aws::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, config.table_name);
    let stacks = CloudFormationStacks::from_sdk(&sdk);
    let metrics = CloudWatchMetrics::from_sdk(&sdk);
    let sources = Sources {
        stacks: &stacks,
        metrics: &metrics,
    };
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, &sources, event.payload)
    }))
    .await
}
