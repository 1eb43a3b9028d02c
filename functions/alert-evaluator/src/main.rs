//! Records CloudWatch alarm state changes (delivered by EventBridge) as alerts.

use alert_evaluator::{config::Config, handler::handle};
use ferry_aws::DynamoStore;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = ferry_aws::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, config.table_name);
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, event.payload)
    }))
    .await
}
