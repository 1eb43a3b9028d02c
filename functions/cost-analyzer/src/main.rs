//! Prices every environment on a schedule (EventBridge) and stores a cost report each.

use cost_analyzer::config::{Config, FERRY_TEMPLATE};
use cost_analyzer::handler::{handle, Ferry};
use ferry_aws::{CloudFormationStacks, CloudWatchMetrics, DynamoStore};
use ferry_core::cost::report::Rightsizing;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    ferry_lambda::init_tracing();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = ferry_aws::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, config.table_name);
    let catalog = config.catalog;
    let stacks = CloudFormationStacks::from_sdk(&sdk);
    let metrics = CloudWatchMetrics::from_sdk(&sdk);
    // The compiled-in template is Ferry's own: not valid JSON is a build mistake, caught
    // here at cold start rather than in a report.
    let template: Value = serde_json::from_str(FERRY_TEMPLATE).inspect_err(
        |e| tracing::error!(error = %e, "the compiled-in infra/ferry.json is not JSON"),
    )?;
    let ferry = Ferry {
        template: &template,
        schedules: config.schedules,
    };
    run(service_fn(|event: LambdaEvent<Value>| async {
        let rightsizing = Rightsizing {
            stacks: &stacks,
            metrics: &metrics,
        };
        let summary = handle(&store, &catalog, Some(rightsizing), &ferry, event.payload).await?;
        // EMF documents must be log lines of their own, not fields of a tracing event.
        for metric in summary["metrics"].as_array().into_iter().flatten() {
            println!("{metric}");
        }
        Ok::<Value, ferry_lambda::FunctionError>(summary)
    }))
    .await
}
