//! The store, one port per aggregate, each with the few methods its callers need. The
//! DynamoDB store and the in-memory one implement them all; [`Store`] names the whole,
//! for wiring, and a `&dyn Store` passes as any one of them.

use crate::access::AccessPolicy;
use crate::model::{
    AlertEvent, AlertState, App, Approval, Delivery, Environment, Promotion, PromotionStatus,
    Report, ReportKind, StepRecord,
};
use crate::monitoring::evaluate::Models;
use crate::monitoring::noise::Pipeline;
use crate::monitoring::Silence;
use crate::names::{AppName, EnvName, PromotionId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

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

/// Apps and their environments.
#[async_trait]
pub trait Environments: Send + Sync {
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
    /// One app's environments, or every app's.
    async fn list_environments(
        &self,
        app: Option<&AppName>,
    ) -> Result<Vec<Environment>, StoreError>;
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

/// Promotions, with the target environment's lock, their steps and their approvals.
#[async_trait]
pub trait Promotions: Send + Sync {
    /// Stores a new promotion and takes the target environment's lock, atomically: either
    /// both happen or neither does.
    async fn create_promotion(&self, promotion: &Promotion) -> Result<(), StoreError>;
    /// The promotion with every recorded step, oldest first.
    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError>;
    /// The promotions into one environment, newest first.
    async fn list_promotions(
        &self,
        app: &AppName,
        target_env: &EnvName,
        limit: usize,
    ) -> Result<Vec<Promotion>, StoreError>;
    /// Appends a step and sets the promotion's status in one write. A promotion that has
    /// ended keeps its status: a late step (from an execution stopped mid-step) is
    /// recorded for the audit trail, and cannot bring it back to life.
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
    /// Remembers the task token of the watch window a promotion is in.
    async fn set_watch_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError>;
    /// Records a decision on the wait `token` stands for, if the promotion still waits
    /// on it: otherwise [`StoreError::VersionConflict`], and nothing is recorded. The
    /// token stays, so a decision the pipeline could not be told of can be sent again.
    async fn record_decision(&self, approval: &Approval, token: &str) -> Result<(), StoreError>;
    /// Forgets `token` once the pipeline has the decision. A token already gone, or
    /// replaced by a later wait's, is left as it is.
    async fn clear_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError>;
    /// Releases an environment's lock by hand, if `holder` still holds it (else
    /// [`StoreError::LockNotHeld`]), and records the unlock and `status` on that
    /// promotion, in one write. `record` is `None` when the holder's promotion record is
    /// gone: only the lock is released then.
    async fn unlock(
        &self,
        app: &AppName,
        env: &EnvName,
        holder: &PromotionId,
        record: Option<(&crate::model::Unlock, PromotionStatus)>,
    ) -> Result<(), StoreError>;
    /// Keeps the template a promotion deploys. Written once: storing the same template
    /// again (a retried GenerateTemplate) succeeds, and a different one fails with
    /// [`StoreError::AlreadyExists`], so a promotion never deploys two templates.
    async fn pin_template(
        &self,
        id: &PromotionId,
        role: crate::model::TemplateRole,
        template: &crate::model::PinnedTemplate,
    ) -> Result<(), StoreError>;
    async fn pinned_template(
        &self,
        id: &PromotionId,
        role: crate::model::TemplateRole,
    ) -> Result<Option<crate::model::PinnedTemplate>, StoreError>;
}

/// The latest report of each kind per environment (cost, drift, rightsizing, template).
#[async_trait]
pub trait Reports: Send + Sync {
    async fn put_report(&self, report: &Report) -> Result<(), StoreError>;
    async fn latest_report(
        &self,
        app: &AppName,
        env: &EnvName,
        kind: ReportKind,
    ) -> Result<Option<Report>, StoreError>;
}

/// Alarm state changes and each alarm's current state, the raw material of incidents.
#[async_trait]
pub trait Alerts: Send + Sync {
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
}

/// Which notification went out on which channel: at least once, and never again once
/// sent.
#[async_trait]
pub trait DeliveryLedger: Send + Sync {
    /// The delivery record of one notification on one channel: created (pending) before
    /// the first attempt, or the existing one. A retry finds it: sent means never again,
    /// pending means the last attempt may have been lost, so send again (at least once).
    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<Delivery, StoreError>;
    async fn finish_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Who has which role.
#[async_trait]
pub trait AccessPolicies: Send + Sync {
    /// An empty policy when none was stored.
    async fn access_policy(&self) -> Result<AccessPolicy, StoreError>;
    async fn put_access_policy(&self, policy: &AccessPolicy) -> Result<(), StoreError>;
}

/// A value with the version it was read at: a write states the version it read, and a
/// concurrent write in between is a [`StoreError::VersionConflict`]. Version 0: nothing
/// stored yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// The document keys of engine state (stored as `STATE#<key>` in DynamoDB): unchanged
/// from when the state was untyped, so what is stored reads back.
fn silences_key(app: &AppName, env: &EnvName) -> String {
    format!("silences/{app}/{env}")
}
fn models_key(app: &AppName, env: &EnvName) -> String {
    format!("models/{app}/{env}")
}
fn noise_key(app: &AppName, env: &EnvName) -> String {
    format!("noise/{app}/{env}")
}
const FERRY_COST_KEY: &str = "cost/ferry";

/// Ferry's own latest monthly cost, kept by the cost report beside the apps' reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FerryCostRecord {
    pub computed_at: DateTime<Utc>,
    pub figure: crate::cost::report::FerryCost,
    /// The estimate and its assumptions, as a report body is kept.
    pub estimate: serde_json::Value,
    pub assumptions: serde_json::Value,
}

/// What a store provides for [`EngineState`]: versioned JSON documents by key. Engines
/// use [`EngineState`], whose typed reads and writes go through this.
#[async_trait]
pub trait Documents: Send + Sync {
    /// The document's JSON text and version, or `None`.
    async fn load_document(&self, key: &str) -> Result<Option<(String, u64)>, StoreError>;
    /// Writes the document if its stored version is still `expected` (0: none stored);
    /// returns the new version.
    async fn save_document(&self, key: &str, json: &str, expected: u64) -> Result<u64, StoreError>;
}

/// Engine state kept between runs, typed: an environment's silences, its anomaly
/// detectors' models and its noise pipeline, and Ferry's own latest cost. Each is one
/// versioned document (see [`Versioned`]). A document that no longer reads as its type
/// is [`StoreError::Corrupt`], never silently replaced.
#[async_trait]
pub trait EngineState: Send + Sync {
    async fn silences(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Versioned<Vec<Silence>>, StoreError>;
    async fn save_silences(
        &self,
        app: &AppName,
        env: &EnvName,
        silences: &[Silence],
        expected: u64,
    ) -> Result<u64, StoreError>;
    async fn detector_models(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Versioned<Models>, StoreError>;
    async fn save_detector_models(
        &self,
        app: &AppName,
        env: &EnvName,
        models: &Models,
        expected: u64,
    ) -> Result<u64, StoreError>;
    async fn noise_pipeline(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Versioned<Pipeline>>, StoreError>;
    async fn save_noise_pipeline(
        &self,
        app: &AppName,
        env: &EnvName,
        pipeline: &Pipeline,
        expected: u64,
    ) -> Result<u64, StoreError>;
    async fn ferry_cost(&self) -> Result<Option<Versioned<FerryCostRecord>>, StoreError>;
    async fn save_ferry_cost(
        &self,
        record: &FerryCostRecord,
        expected: u64,
    ) -> Result<u64, StoreError>;
}

async fn load<T: DeserializeOwned, D: Documents + ?Sized>(
    documents: &D,
    key: &str,
) -> Result<Option<Versioned<T>>, StoreError> {
    let Some((json, version)) = documents.load_document(key).await? else {
        return Ok(None);
    };
    let value = serde_json::from_str(&json)
        .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))?;
    Ok(Some(Versioned { value, version }))
}

async fn save<T: Serialize, D: Documents + ?Sized>(
    documents: &D,
    key: &str,
    value: &T,
    expected: u64,
) -> Result<u64, StoreError> {
    let json = serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))?;
    documents.save_document(key, &json, expected).await
}

#[async_trait]
impl<D: Documents + ?Sized> EngineState for D {
    async fn silences(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Versioned<Vec<Silence>>, StoreError> {
        Ok(load(self, &silences_key(app, env))
            .await?
            .unwrap_or_default())
    }
    async fn save_silences(
        &self,
        app: &AppName,
        env: &EnvName,
        silences: &[Silence],
        expected: u64,
    ) -> Result<u64, StoreError> {
        save(self, &silences_key(app, env), &silences, expected).await
    }
    async fn detector_models(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Versioned<Models>, StoreError> {
        Ok(load(self, &models_key(app, env)).await?.unwrap_or_default())
    }
    async fn save_detector_models(
        &self,
        app: &AppName,
        env: &EnvName,
        models: &Models,
        expected: u64,
    ) -> Result<u64, StoreError> {
        save(self, &models_key(app, env), models, expected).await
    }
    async fn noise_pipeline(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Versioned<Pipeline>>, StoreError> {
        load(self, &noise_key(app, env)).await
    }
    async fn save_noise_pipeline(
        &self,
        app: &AppName,
        env: &EnvName,
        pipeline: &Pipeline,
        expected: u64,
    ) -> Result<u64, StoreError> {
        save(self, &noise_key(app, env), pipeline, expected).await
    }
    async fn ferry_cost(&self) -> Result<Option<Versioned<FerryCostRecord>>, StoreError> {
        load(self, FERRY_COST_KEY).await
    }
    async fn save_ferry_cost(
        &self,
        record: &FerryCostRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        save(self, FERRY_COST_KEY, record, expected).await
    }
}

/// Faults a local run asks promotion steps to fail with (`<app>/<env>/<action>` -> an
/// error name). Only a local Ferry installs it: the promotion-step reads it only when
/// fault injection is on, which it refuses at cold start inside AWS Lambda.
#[async_trait]
pub trait Faults: Send + Sync {
    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError>;
}

/// Every store port: what the DynamoDB and in-memory stores implement, for wiring. An
/// engine or handler takes the ports it uses; a `&dyn Store` passes as any of them.
pub trait Store:
    Environments + Promotions + Reports + Alerts + DeliveryLedger + AccessPolicies + EngineState
{
}

impl<T> Store for T where
    T: Environments + Promotions + Reports + Alerts + DeliveryLedger + AccessPolicies + EngineState
{
}
