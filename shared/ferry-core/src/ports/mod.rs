//! The ports between engines and the outside world. `ferry-aws` implements them on
//! DynamoDB, Step Functions, CloudFormation and CloudWatch; `ferry-testkit` implements
//! them in memory for engine and handler tests.
//!
//! The store is one port per aggregate ([`store`]): an engine or a handler asks for the
//! few it uses.

mod store;

pub use store::*;

/// The store ports' methods in scope, unnamed: `use ferry_core::ports::prelude::*;`
/// where a concrete store (or `dyn Store`) is called.
pub mod prelude {
    pub use super::{
        AccessPolicies as _, Alerts as _, DeliveryLedger as _, Documents as _, EngineState as _,
        Environments as _, Faults as _, Promotions as _, Reports as _,
    };
}

use crate::names::PromotionId;
use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorkflowError {
    #[error("the workflow service is unavailable: {0}")]
    Unavailable(String),
    #[error("the workflow rejected the request: {0}")]
    Rejected(String),
    /// The task or execution no longer exists: a wait that timed out or was completed.
    #[error("the workflow no longer has it: {0}")]
    Gone(String),
}

/// Where an execution stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionStatus {
    Running,
    /// SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    Ended(String),
    /// No such execution.
    Unknown,
}

/// Starts promotion pipelines (Step Functions in AWS).
#[async_trait]
pub trait Workflow: Send + Sync {
    /// Starts the pipeline for one promotion. The promotion id is the execution name, so
    /// starting the same promotion twice yields the same execution.
    async fn start_promotion(
        &self,
        id: &PromotionId,
        input: &Value,
    ) -> Result<String, WorkflowError>;
    /// Completes a task of promotion `id` waiting for a decision: success carries
    /// `output`; failure fails the task with the error name `PromotionRejected`. A task
    /// that no longer exists is [`WorkflowError::Gone`].
    async fn complete_approval(
        &self,
        id: &PromotionId,
        token: &str,
        approved: bool,
        output: &Value,
    ) -> Result<(), WorkflowError>;
    /// Fails the task waiting on `token` with the error `error`, which the state
    /// machine's `Catch` matches: how an alarm cuts a watch window short. A task that no
    /// longer exists is [`WorkflowError::Gone`].
    async fn fail_task(
        &self,
        token: &str,
        error: crate::error::ErrorName,
        cause: &Value,
    ) -> Result<(), WorkflowError>;
    /// Whether an execution still runs.
    async fn execution_status(&self, execution_arn: &str)
        -> Result<ExecutionStatus, WorkflowError>;
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StacksError {
    #[error("CloudFormation is unavailable: {0}")]
    Unavailable(String),
    #[error("the deployed template of {stack} could not be read: {reason}")]
    Unreadable { stack: String, reason: String },
}

/// Reads what is deployed (CloudFormation in AWS).
#[async_trait]
pub trait DeployedStacks: Send + Sync {
    /// The template the stack was last deployed with, or `None` if there is no such stack.
    async fn deployed_template(&self, stack_name: &str) -> Result<Option<Value>, StacksError>;
    /// Each resource's physical id by logical id (empty when there is no such stack): the
    /// names CloudWatch dimensions carry, for rightsizing.
    async fn physical_ids(
        &self,
        stack_name: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StacksError>;
}

/// What a live reader found for one resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LiveRead {
    /// Its state now, in CloudFormation's property names; only the properties read.
    Found(Value),
    /// Its service says there is no such resource.
    Deleted,
    /// It could not be read, and why.
    NotChecked(String),
}

/// Reads a resource's actual state through its own service's API (ECS, EC2, RDS, ...).
#[async_trait]
pub trait LiveResources: Send + Sync {
    /// `resource_type` is CloudFormation's (`AWS::ECS::Service`); `physical_id` what
    /// the stack names it by. A service that is down is an error; a type the reader
    /// does not know is `NotChecked`.
    async fn read(&self, resource_type: &str, physical_id: &str) -> Result<LiveRead, StacksError>;
}

/// One CloudWatch series: a metric with its dimensions, a statistic, a period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or a percentile `pNN`.
    pub stat: String,
    pub period_seconds: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("CloudWatch is unavailable: {0}")]
    Unavailable(String),
    #[error("CloudWatch refused the query: {0}")]
    Refused(String),
}

/// Reads metrics and alarm states (CloudWatch in AWS).
#[async_trait]
pub trait Metrics: Send + Sync {
    /// One value per period that had data between `start` and `end`, oldest first.
    async fn series(
        &self,
        query: &MetricQuery,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, f64)>, MetricsError>;
    /// Many series at once, in the order of `queries`: an adapter batches them (CloudWatch
    /// takes 500 queries per GetMetricData call). By default, one query at a time.
    async fn series_many(
        &self,
        queries: &[MetricQuery],
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Vec<(chrono::DateTime<chrono::Utc>, f64)>>, MetricsError> {
        let mut all = Vec::with_capacity(queries.len());
        for query in queries {
            all.push(self.series(query, start, end).await?);
        }
        Ok(all)
    }
    /// The alarms whose names start with `prefix` that were in ALARM at any moment from
    /// `since` to now: in ALARM now, or recorded entering or leaving ALARM since then. A
    /// bake is watched over its whole length, not sampled at its end, so an alarm that
    /// fired and cleared during it still counts. Sorted, each once.
    async fn alarms_in_alarm_since(
        &self,
        prefix: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, MetricsError>;
}

/// One product query to the AWS Price List: a service code and attribute filters that
/// must match exactly (`TERM_MATCH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub service_code: String,
    pub filters: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PriceListError {
    #[error("the Price List API is unavailable: {0}")]
    Unavailable(String),
    #[error("the Price List API refused the query: {0}")]
    Refused(String),
}

/// The AWS Price List API (`pricing:GetProducts`). moto has no Pricing API: the adapter
/// is tested with aws-smithy-mocks, the engine with recorded price list items.
#[async_trait]
pub trait PriceList: Send + Sync {
    /// Every product matching the query, as the API's price list JSON documents.
    async fn products(&self, query: &ProductQuery) -> Result<Vec<String>, PriceListError>;
}
