//! Evaluates alert rules on a schedule and records CloudWatch alarm state changes
//! (both delivered by EventBridge) as alerts.

use alert_evaluator::{
    config::Config,
    handler::{handle, Sources},
};
use ferry_aws::{
    CloudFormationStacks, CloudWatchMetrics, DynamoStore, SlackWebhook, SnsEmail,
    StepFunctionsWorkflow,
};
use ferry_core::monitoring::jobs::Notify;
use ferry_core::monitoring::notify::Channel;
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
    let workflow = StepFunctionsWorkflow::from_sdk(&sdk, &config.state_machine_arn);
    // The webhook URL is a secret: read once at cold start, from SSM; an unreadable
    // parameter fails the cold start, naming it.
    let slack = match &config.slack_webhook_parameter {
        Some(name) => Some(
            SlackWebhook::from_parameter(&aws_sdk_ssm::Client::new(&sdk), name)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?,
        ),
        None => None,
    };
    let email = config
        .alert_topic_arn
        .as_ref()
        .map(|topic| SnsEmail::new(aws_sdk_sns::Client::new(&sdk), topic));
    let mut channels: Vec<&dyn Channel> = Vec::new();
    if let Some(slack) = &slack {
        channels.push(slack);
    }
    if let Some(email) = &email {
        channels.push(email);
    }
    let sources = Sources {
        stacks: &stacks,
        metrics: &metrics,
        notify: Notify {
            channels,
            region: config.region.clone(),
        },
        workflow: &workflow,
    };
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&store, &sources, event.payload)
    }))
    .await
}
