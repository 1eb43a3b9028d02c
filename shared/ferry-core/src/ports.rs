//! The ports between engines and the outside world. `ferry-aws` implements them on
//! DynamoDB, Step Functions and CloudFormation; [`crate::memory`] implements the store
//! in memory for engine and handler tests.

use crate::model::{
    AlertEvent, AlertState, App, Approval, Environment, Promotion, PromotionStatus, Report,
    ReportKind, StepRecord,
};
use crate::names::{AppName, EnvName, PromotionId};
use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} was not found")]
    NotFound(String),
    /// An optimistic-concurrency check failed: someone else wrote first.
    #[error("{what} changed since it was read (expected version {expected})")]
    VersionConflict { what: String, expected: u64 },
    /// The environment's promotion lock is held by another promotion.
    #[error("environment {env} already has promotion {holder} in progress")]
    Locked { env: String, holder: String },
    /// The lock this promotion expected to hold is not held by it.
    #[error("promotion {promotion} does not hold the lock on {env}")]
    LockNotHeld { env: String, promotion: String },
    /// Another environment deploys to this stack: two environments on one stack would
    /// overwrite each other's deploys.
    #[error("stack {stack} already belongs to environment {owner}")]
    StackTaken { stack: String, owner: String },
    /// Throttling, timeouts and 5xx: safe to retry.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The backend refused the request for a reason retrying will not fix.
    #[error("storage refused the request: {0}")]
    Backend(String),
}

/// The outcome of a finished promotion, applied to the promotion and its target
/// environment in one atomic write.
#[derive(Debug, Clone)]
pub struct Completion {
    pub status: PromotionStatus,
    /// The environment as it should be after the promotion (lock cleared by the store).
    /// `None` leaves the environment untouched but for the lock.
    pub environment: Option<Environment>,
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn create_app(&self, app: &App) -> Result<(), StoreError>;
    async fn get_app(&self, name: &AppName) -> Result<Option<App>, StoreError>;

    /// Creates the environment when `expected_version` is `None`, else replaces it only if
    /// the stored version still equals `expected_version`. Returns the stored record.
    /// The environment's stack is claimed in the same write: a stack another environment
    /// holds fails with [`StoreError::StackTaken`], and a stack the environment leaves is
    /// released.
    async fn put_environment(
        &self,
        environment: &Environment,
        expected_version: Option<u64>,
    ) -> Result<Environment, StoreError>;
    async fn get_environment(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Environment>, StoreError>;
    async fn list_environments(
        &self,
        app: Option<&AppName>,
    ) -> Result<Vec<Environment>, StoreError>;

    /// Stores a new promotion and takes the target environment's lock, atomically: either
    /// both happen or neither does.
    async fn create_promotion(&self, promotion: &Promotion) -> Result<(), StoreError>;
    /// The promotion with every recorded step, oldest first.
    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError>;
    async fn list_promotions(
        &self,
        app: &AppName,
        target_env: &EnvName,
        limit: usize,
    ) -> Result<Vec<Promotion>, StoreError>;
    /// Appends a step and sets the promotion's status in one write.
    async fn record_step(
        &self,
        id: &PromotionId,
        step: &StepRecord,
        status: PromotionStatus,
    ) -> Result<(), StoreError>;
    async fn set_execution_arn(&self, id: &PromotionId, arn: &str) -> Result<(), StoreError>;
    /// Ends a promotion: status, environment update and lock release in one atomic write.
    /// Fails with [`StoreError::LockNotHeld`] if the promotion no longer holds the lock.
    async fn complete_promotion(
        &self,
        promotion: &Promotion,
        completion: Completion,
    ) -> Result<(), StoreError>;

    /// Remembers the task token of the approval a promotion waits for.
    async fn set_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError>;
    /// Records a decision and takes the pending token, atomically and only once: a second
    /// decision on the same approval fails with [`StoreError::VersionConflict`]. Returns
    /// the token to complete the waiting task with.
    async fn decide_approval(&self, approval: &Approval, token: &str) -> Result<(), StoreError>;

    async fn put_report(&self, report: &Report) -> Result<(), StoreError>;
    async fn latest_report(
        &self,
        app: &AppName,
        env: &EnvName,
        kind: ReportKind,
    ) -> Result<Option<Report>, StoreError>;

    /// Records an alarm state change once per event id and updates the alarm's current
    /// state. Returns `false` when the event had been recorded before (a redelivery).
    async fn record_alert(&self, event: &AlertEvent) -> Result<bool, StoreError>;
    async fn get_alert_state(&self, alarm_name: &str) -> Result<Option<AlertState>, StoreError>;
    /// The environment's alarms that are in ALARM now.
    async fn open_alerts(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Vec<AlertState>, StoreError>;

    /// The error a local run asked a promotion step to fail with (fault injection), as
    /// `<app>/<env>/<action>` -> error name. Only read when fault injection is on, which
    /// a deployed Ferry refuses at cold start.
    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// The delivery record of one notification on one channel: created (pending) before
    /// the first attempt, or the existing one. A retry finds it: sent means never again,
    /// pending means the last attempt may have been lost, so send again (at least once).
    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::model::Delivery, StoreError>;
    async fn finish_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        attempts: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// A piece of engine state kept between runs (a noise pipeline, a detector's model),
    /// with its version for optimistic concurrency; `None` when there is none yet.
    async fn load_state(&self, key: &str) -> Result<Option<(Value, u64)>, StoreError>;
    /// Saves state written from `expected_version` (`None`: new); a concurrent write in
    /// between is a `VersionConflict`. Returns the new version.
    async fn save_state(
        &self,
        key: &str,
        state: &Value,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError>;

    /// Who has which role; an empty policy when none was stored.
    async fn access_policy(&self) -> Result<crate::access::AccessPolicy, StoreError>;
    async fn put_access_policy(
        &self,
        policy: &crate::access::AccessPolicy,
    ) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorkflowError {
    #[error("the workflow service is unavailable: {0}")]
    Unavailable(String),
    #[error("the workflow rejected the request: {0}")]
    Rejected(String),
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
    /// Completes a task waiting for a decision: success carries `output`; failure fails the
    /// task with the error name `PromotionRejected`.
    async fn complete_approval(
        &self,
        token: &str,
        approved: bool,
        output: &Value,
    ) -> Result<(), WorkflowError>;
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
    /// The alarms whose names start with `prefix` and are in ALARM now.
    async fn alarms_firing(&self, prefix: &str) -> Result<Vec<String>, MetricsError>;
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
