//! Runs one step of a promotion for the state machine (`action` picks the step).

use ferry_aws::DynamoStore;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use promotion_step::{config::Config, handler::handle};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = ferry_aws::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, config.table_name);
    let policy = config.policy;
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, policy.clone(), event.payload)
    }))
    .await
}
