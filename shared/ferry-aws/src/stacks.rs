//! The [`DeployedStacks`] port on CloudFormation.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, TemplateStage};
use aws_sdk_cloudformation::Client;
use ferry_core::deploy::{
    ChangeSetState, ChangeSets, ResourceChange, StackApiError, StackDetails, StackEvent,
};
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
            Err(e) if missing_stack(&e) => return Ok(None),
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

    async fn physical_ids(
        &self,
        stack_name: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StacksError> {
        let result = self
            .client
            .describe_stack_resources()
            .stack_name(stack_name)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(e) if missing_stack(&e) => return Ok(Default::default()),
            Err(e) if is_transient(&e) => return Err(StacksError::Unavailable(describe(&e))),
            Err(e) => {
                return Err(StacksError::Unreadable {
                    stack: stack_name.into(),
                    reason: describe(&e),
                })
            }
        };
        Ok(output
            .stack_resources()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_owned(),
                    r.physical_resource_id()?.to_owned(),
                ))
            })
            .collect())
    }
}

fn api_error<E, R>(error: aws_smithy_runtime_api::client::result::SdkError<E, R>) -> StackApiError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_transient(&error) {
        StackApiError::Unavailable(describe(&error))
    } else {
        StackApiError::Refused(describe(&error))
    }
}

/// CloudFormation answers a missing stack with a ValidationError "does not exist".
fn missing_stack<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool {
    error.as_service_error().is_some_and(|s| {
        aws_smithy_types::error::metadata::ProvideErrorMetadata::message(s)
            .is_some_and(|m| m.contains("does not exist"))
    })
}

#[async_trait]
impl ChangeSets for CloudFormationStacks {
    async fn stack_details(&self, stack: &str) -> Result<Option<StackDetails>, StackApiError> {
        let output = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(output) => output,
            Err(e) if missing_stack(&e) => return Ok(None),
            Err(e) => return Err(api_error(e)),
        };
        Ok(output.stacks().first().map(|s| StackDetails {
            status: s
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value()?.to_owned(),
                    ))
                })
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                .collect(),
        }))
    }

    async fn stack_status(&self, stack: &str) -> Result<Option<String>, StackApiError> {
        match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(output) => Ok(output
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| s.as_str().to_owned())),
            Err(e) if missing_stack(&e) => Ok(None),
            Err(e) => Err(api_error(e)),
        }
    }

    async fn create_change_set(
        &self,
        stack: &str,
        name: &str,
        template: &str,
        parameters: &[(String, String)],
        create: bool,
    ) -> Result<Option<String>, StackApiError> {
        let parameters = parameters
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect();
        let output = self
            .client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .template_body(template)
            .set_parameters(Some(parameters))
            .capabilities(Capability::CapabilityIam)
            .change_set_type(if create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .send()
            .await;
        match output {
            Ok(output) => output
                .id
                .map(Some)
                .ok_or_else(|| StackApiError::Refused("CreateChangeSet returned no id".into())),
            // moto answers an unchanged template here, where AWS makes a FAILED change set.
            Err(e) if describe(&e).contains("No updates are to be performed") => Ok(None),
            Err(e) => Err(api_error(e)),
        }
    }

    async fn change_set_state(&self, change_set: &str) -> Result<ChangeSetState, StackApiError> {
        let output = self
            .client
            .describe_change_set()
            .change_set_name(change_set)
            .send()
            .await
            .map_err(api_error)?;
        let status = output
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let reason = output.status_reason().unwrap_or_default().to_owned();
        Ok(match status.as_str() {
            "CREATE_COMPLETE" => ChangeSetState::Ready(
                output
                    .changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|r| ResourceChange {
                        action: r
                            .action()
                            .map(|a| a.as_str().to_owned())
                            .unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: r.resource_type().unwrap_or_default().to_owned(),
                        replacement: r
                            .replacement()
                            .map(|x| x.as_str().to_owned())
                            .unwrap_or_default(),
                    })
                    .collect(),
            ),
            // CloudFormation reports "nothing to change" as a failed change set.
            "FAILED"
                if reason.contains("didn't contain changes") || reason.contains("No updates") =>
            {
                ChangeSetState::Empty
            }
            "FAILED" => ChangeSetState::Failed(reason),
            _ => ChangeSetState::Pending,
        })
    }

    async fn execute_change_set(&self, change_set: &str) -> Result<(), StackApiError> {
        self.client
            .execute_change_set()
            .change_set_name(change_set)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn delete_change_set(&self, change_set: &str) -> Result<(), StackApiError> {
        self.client
            .delete_change_set()
            .change_set_name(change_set)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, StackApiError> {
        let output = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .map_err(api_error)?;
        Ok(output
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().to_owned(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            })
            .collect())
    }
}
