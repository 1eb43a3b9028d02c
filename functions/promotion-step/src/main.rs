//! Runs one step of a promotion for the state machine (`action` picks the step).

use ferry_aws::{CloudFormationStacks, CloudWatchMetrics, DynamoStore, TemplateBucket};
use ferry_core::promotion::Steps;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use promotion_step::{config::Config, handler::handle};
use serde_json::Value;

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
    let stacks = CloudFormationStacks::from_sdk(&sdk)
        .with_service_role(Some(config.stack_role_arn.clone()))
        .with_template_bucket(Some(TemplateBucket::from_sdk(
            &sdk,
            config.artifacts_bucket.clone(),
        )));
    let metrics = CloudWatchMetrics::from_sdk(&sdk);
    let steps = Steps {
        environments: &store,
        promotions: &store,
        alerts: &store,
        stacks: &stacks,
        metrics: &metrics,
        // Only a local run installs fault injection (the config refuses it in Lambda).
        faults: config
            .fault_injection
            .then_some(&store as &dyn ferry_core::ports::Faults),
        policy: config.policy,
        now: chrono::Utc::now,
    };
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&steps, event.payload)
    }))
    .await
}
