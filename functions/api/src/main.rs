//! The HTTP API (API Gateway HTTP API, payload v2): environments, releases and promotions.

use api::config::Config;
use api::faults::FaultyWorkflow;
use api::handler::{handle, Deps};
use ferry_aws::{AwsLiveResources, CloudFormationStacks, DynamoStore, StepFunctionsWorkflow};
use ferry_core::ports::Workflow;
use lambda_http::{run, service_fn, Error, Request};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    if let Some(rules) = config.account_rules.clone() {
        ferry_core::infra::policy::install_account_rules(rules)?;
    }
    let sdk = ferry_aws::sdk_config().await;
    let store = Arc::new(DynamoStore::from_sdk(&sdk, config.table_name));
    let mut workflow: Arc<dyn Workflow> = Arc::new(StepFunctionsWorkflow::from_sdk(
        &sdk,
        config.state_machine_arn,
    ));
    // Only a local run installs fault injection (the config refuses it in Lambda).
    if config.fault_injection {
        workflow = Arc::new(FaultyWorkflow {
            inner: workflow,
            faults: store.clone(),
        });
    }
    let deps = Arc::new(Deps {
        store,
        workflow,
        stacks: Arc::new(CloudFormationStacks::from_sdk(&sdk)),
        live: Arc::new(AwsLiveResources::from_sdk(&sdk)),
        approval_timeout_seconds: config.approval_timeout_seconds,
        admins: config.admins,
        local_identity: config.local_identity,
    });
    run(service_fn(move |request: Request| {
        let deps = Arc::clone(&deps);
        async move { Ok::<_, Error>(handle(&deps, request).await) }
    }))
    .await
}
