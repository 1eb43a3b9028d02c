//! AWS adapters behind `ferry-core`'s ports. Each one maps SDK errors onto the port's
//! error type so engines never see the SDK: throttling and timeouts become "unavailable"
//! (retried), condition failures become the domain conflict they stand for.

pub mod http;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod pricing;
pub mod stacks;
pub mod store;
pub mod workflow;

pub use live::{AwsLiveResources, LiveClients};
pub use metrics::CloudWatchMetrics;
pub use notify::{SlackWebhook, SnsEmail};
pub use pricing::PricingApi;
pub use stacks::{CloudFormationStacks, TemplateBucket};
pub use store::DynamoStore;
pub use workflow::StepFunctionsWorkflow;

pub use http::sdk_defaults;

/// Loads the SDK config from the environment, with Ferry's HTTPS client
/// ([`sdk_defaults`]).
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_defaults().load().await
}

/// Error codes AWS uses for "try again later".
const TRANSIENT_CODES: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// True for errors a retry may fix: throttling, server faults, and no response at all.
pub(crate) fn is_transient<E, R>(
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
        _ => false,
    }
}

/// The error's code and message, for logs and error strings.
pub(crate) fn describe<E, R>(
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match error {
        SdkError::ServiceError(service) => format!(
            "{}: {}",
            service.err().code().unwrap_or("Unknown"),
            service.err().message().unwrap_or("no message")
        ),
        other => aws_smithy_types::error::display::DisplayErrorContext(other).to_string(),
    }
}
