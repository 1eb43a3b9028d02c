//! Generates an environment's CloudFormation template as a Step Functions task.

use ferry_aws::DynamoStore;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use template_generator::{config::Config, handler::handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    if let Some(rules) = config.account_rules.clone() {
        ferry_core::infra::policy::install_account_rules(rules)?;
    }
    let sdk = ferry_aws::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, config.table_name);
    let catalog = config.catalog;
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, &catalog, event.payload)
    }))
    .await
}
