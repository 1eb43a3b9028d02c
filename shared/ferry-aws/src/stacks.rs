//! The [`DeployedStacks`] port on CloudFormation.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, TemplateStage};
use aws_sdk_cloudformation::Client;
use ferry_core::infra::deploy::{
    ChangeSetState, ChangeSets, ResourceChange, StackApiError, StackDetails, StackEvent,
};
use ferry_core::ports::{DeployedStacks, StacksError};
use serde_json::Value;
use sha2::Digest;

/// AWS's cap on a template sent inline (`TemplateBody`), in bytes.
pub use ferry_core::infra::template::MAX_TEMPLATE_BODY_BYTES as TEMPLATE_BODY_LIMIT;
/// AWS's cap on a template read from S3 (`TemplateURL`), in bytes.
pub use ferry_core::infra::template::MAX_TEMPLATE_BYTES as TEMPLATE_URL_LIMIT;

pub struct CloudFormationStacks {
    client: Client,
    /// CloudFormation's service role for the stacks' resources (`RoleARN`): change sets
    /// then run with its rights, not the caller's.
    service_role: Option<String>,
    templates: Option<TemplateBucket>,
}

/// Where templates over [`TEMPLATE_BODY_LIMIT`] are uploaded before a change set.
pub struct TemplateBucket {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub region: String,
}

impl TemplateBucket {
    /// An S3 client for `bucket`. Against a local AWS (`AWS_ENDPOINT_URL`) the bucket goes
    /// in the path: `bucket.127.0.0.1` is no host.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        TemplateBucket {
            s3: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.into(),
            region: sdk
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string()),
        }
    }
}

impl CloudFormationStacks {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            service_role: None,
            templates: None,
        }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(sdk))
    }

    /// Every change set passes `role_arn` as its service role.
    pub fn with_service_role(mut self, role_arn: Option<String>) -> Self {
        self.service_role = role_arn;
        self
    }

    /// Templates over [`TEMPLATE_BODY_LIMIT`] go through this bucket.
    pub fn with_template_bucket(mut self, bucket: Option<TemplateBucket>) -> Self {
        self.templates = bucket;
        self
    }

    /// The template as CloudFormation takes it: inline up to 51,200 bytes, else uploaded
    /// to the template bucket (content-addressed, so a retry writes the same object) and
    /// passed by URL.
    async fn template_source(
        &self,
        stack: &str,
        template: &str,
    ) -> Result<TemplateSource, StackApiError> {
        let size = template.len();
        if size <= TEMPLATE_BODY_LIMIT {
            return Ok(TemplateSource::Body(template.to_owned()));
        }
        if size > TEMPLATE_URL_LIMIT {
            return Err(StackApiError::Refused(format!(
                "the template is {size} bytes, over CloudFormation's {TEMPLATE_URL_LIMIT}-byte limit for a template in S3"
            )));
        }
        let Some(bucket) = &self.templates else {
            return Err(StackApiError::Refused(format!(
                "the template is {size} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte TemplateBody limit, and no bucket is set for larger ones (FERRY_ARTIFACTS_BUCKET, or --artifacts-bucket for ferry deploy)"
            )));
        };
        let digest = hex::encode(sha2::Sha256::digest(template.as_bytes()));
        let key = format!("templates/{stack}/{digest}.json");
        bucket
            .s3
            .put_object()
            .bucket(&bucket.bucket)
            .key(&key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                template.as_bytes().to_vec(),
            ))
            .send()
            .await
            .map_err(api_error)?;
        Ok(TemplateSource::Url(format!(
            "https://{}.s3.{}.amazonaws.com/{key}",
            bucket.bucket, bucket.region
        )))
    }
}

enum TemplateSource {
    Body(String),
    Url(String),
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
    async fn current_template(&self, stack: &str) -> Result<Option<String>, StackApiError> {
        let result = self
            .client
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.template_body),
            Err(e) if missing_stack(&e) => Ok(None),
            Err(e) => Err(api_error(e)),
        }
    }

    async fn cancel_update(&self, stack: &str) -> Result<(), StackApiError> {
        self.client
            .cancel_update_stack()
            .stack_name(stack)
            .send()
            .await
            .map(|_| ())
            .map_err(api_error)
    }

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
        let request = match self.template_source(stack, template).await? {
            TemplateSource::Body(body) => self.client.create_change_set().template_body(body),
            TemplateSource::Url(url) => self.client.create_change_set().template_url(url),
        };
        let output = request
            .stack_name(stack)
            .change_set_name(name)
            .set_role_arn(self.service_role.clone())
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
