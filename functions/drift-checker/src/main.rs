//! Compares every environment's expected template with its deployed stack and with each
//! resource's actual state, on a schedule.

use drift_checker::{config::Config, handler::handle};
use ferry_aws::{AwsLiveResources, CloudFormationStacks, DynamoStore};
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
    let live = AwsLiveResources::from_sdk(&sdk);
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, &stacks, &live, event.payload)
    }))
    .await
}
