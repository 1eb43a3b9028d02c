//! The [`DeployedStacks`] port on CloudFormation.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_cloudformation::types::TemplateStage;
use aws_sdk_cloudformation::Client;
use ferry_core::ports::{DeployedStacks, StacksError};
use serde_json::Value;

pub struct CloudFormationStacks {
    client: Client,
}

impl CloudFormationStacks {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(sdk))
    }
}

#[async_trait]
impl DeployedStacks for CloudFormationStacks {
    async fn deployed_template(&self, stack_name: &str) -> Result<Option<Value>, StacksError> {
        let result = self
            .client
            .get_template()
            .stack_name(stack_name)
            .template_stage(TemplateStage::Original)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            // CloudFormation answers a missing stack with a ValidationError "does not exist".
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    aws_smithy_types::error::metadata::ProvideErrorMetadata::message(s)
                        .is_some_and(|m| m.contains("does not exist"))
                }) =>
            {
                return Ok(None)
            }
            Err(e) if is_transient(&e) => return Err(StacksError::Unavailable(describe(&e))),
            Err(e) => {
                return Err(StacksError::Unreadable {
                    stack: stack_name.into(),
                    reason: describe(&e),
                })
            }
        };
        let body = output.template_body.unwrap_or_default();
        // Templates Ferry deploys are JSON; a YAML stack written by hand is reported, not guessed at.
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| StacksError::Unreadable {
                stack: stack_name.into(),
                reason: format!("template is not JSON: {e}"),
            })
    }
}
