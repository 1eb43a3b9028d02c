//! Runs one step of a promotion for the state machine (`action` picks the step), and
//! ends a promotion whose execution ended outside its steps (EventBridge).

use ferry_aws::{
    CloudFormationStacks, CloudWatchMetrics, DynamoStore, SlackWebhook, SnsEmail, TemplateBucket,
};
use ferry_core::monitoring::notify::{Channel, Outbox, Unconfigured};
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
    // Approvers hear of approvals, and people of failed rollbacks, on the alert channels.
    // A webhook URL that cannot be read does not stop promotions: each notification's
    // record says why it did not go out.
    let slack: Option<Box<dyn Channel>> = match &config.slack_webhook_parameter {
        Some(name) => Some(
            match SlackWebhook::from_parameter(&aws_sdk_ssm::Client::new(&sdk), name).await {
                Ok(slack) => Box::new(slack),
                Err(e) => {
                    tracing::error!(error = %e, "Slack is unavailable to this function");
                    Box::new(Unconfigured {
                        name: "slack".into(),
                        reason: e.to_string(),
                    })
                }
            },
        ),
        None => None,
    };
    let email = config
        .alert_topic_arn
        .as_ref()
        .map(|topic| SnsEmail::new(aws_sdk_sns::Client::new(&sdk), topic));
    let mut channels: Vec<&dyn Channel> = Vec::new();
    if let Some(slack) = &slack {
        channels.push(slack.as_ref());
    }
    if let Some(email) = &email {
        channels.push(email);
    }
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
        outbox: Some(Outbox {
            channels: &channels,
            ledger: &store,
        }),
        now: chrono::Utc::now,
    };
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(&steps, event.payload)
    }))
    .await
}
