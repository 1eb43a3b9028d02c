//! The store ports on one DynamoDB table (single-table design; every key format is in
//! [`keys`], and each aggregate's items and conditions in its own module).

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_core::model::{
    AlertEvent, AlertState, App, Approval, Environment, Promotion, PromotionStatus, Report,
    ReportKind, StepRecord,
};
use ferry_core::names::{AppName, EnvName, PromotionId};
use ferry_core::ports::{
    AccessPolicies, Alerts, Completion, DeliveryLedger, Documents, Environments, Faults,
    Promotions, Reports, StoreError,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// Reports and alert history expire: the newest report is what matters, and alert
/// history older than a month only feeds statistics that are kept elsewhere.
const REPORT_TTL_DAYS: i64 = 90;
const ALERT_EVENT_TTL_DAYS: i64 = 30;

pub const GSI1: &str = "GSI1";

pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), table)
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serialises a record and adds its key attributes.
fn to_item<T: Serialize>(record: &T, keys: &[(&str, String)]) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for (name, value) in keys {
        item.insert((*name).to_owned(), s(value.clone()));
    }
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn sk_of(item: &Item) -> &str {
    item.get("SK")
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

fn env_item(env: &Environment) -> Result<Item, StoreError> {
    to_item(
        env,
        &[
            ("PK", app_pk(&env.app)),
            ("SK", env_sk(&env.name)),
            ("GSI1PK", ENVS_GSI_PK.to_owned()),
            ("GSI1SK", envs_gsi_sk(&env.app, &env.name)),
        ],
    )
}

fn promotion_item(promotion: &Promotion) -> Result<Item, StoreError> {
    let mut item = to_item(
        promotion,
        &[
            ("PK", promo_pk(&promotion.id)),
            ("SK", PROMO_SK.to_owned()),
            (
                "GSI1PK",
                promos_gsi_pk(&promotion.app, &promotion.target_env),
            ),
            ("GSI1SK", ts(promotion.created_at)),
        ],
    )?;
    // Steps and approvals live in their own items under the same partition.
    item.remove("steps");
    item.remove("approvals");
    Ok(item)
}

fn status_value(status: PromotionStatus) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(status).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn expires_at(from: DateTime<Utc>, days: i64) -> AttributeValue {
    AttributeValue::N(
        (from + chrono::Duration::days(days))
            .timestamp()
            .to_string(),
    )
}

macro_rules! sdk_call {
    ($call:expr) => {
        $call.await.map_err(|e| {
            if is_transient(&e) {
                StoreError::Unavailable(describe(&e))
            } else {
                StoreError::Backend(describe(&e))
            }
        })
    };
}

/// What a failed write means to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteFailure {
    /// A condition did not hold: someone else wrote first (a conflict).
    Condition,
    /// Throttled, over its throughput, in conflict with another transaction, or a 5xx:
    /// the same write may go through if tried again.
    Retryable,
    Other,
}

/// Why DynamoDB cancelled a transaction, from its `CancellationReasons` codes (one per
/// item, in order; `None` for the items that were fine). A failed condition decides it:
/// the write cannot go through as asked, whatever else happened. Otherwise throttling,
/// exceeded throughput and a conflicting transaction are worth a retry. No reasons at
/// all is taken as a failed condition, as before reasons were read.
fn cancellation_failure<'a>(codes: impl IntoIterator<Item = &'a str>) -> WriteFailure {
    let codes: Vec<&str> = codes.into_iter().collect();
    if codes.is_empty() || codes.contains(&"ConditionalCheckFailed") {
        WriteFailure::Condition
    } else if codes.iter().any(|c| {
        [
            "ThrottlingError",
            "ProvisionedThroughputExceeded",
            "TransactionConflict",
            "RequestLimitExceeded",
        ]
        .contains(c)
    }) {
        WriteFailure::Retryable
    } else {
        WriteFailure::Other
    }
}

fn write_failure<E, R>(
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> WriteFailure
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
{
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    if let Some(service) = error.as_service_error() {
        let any: &dyn std::any::Any = service;
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            any.downcast_ref::<TransactWriteItemsError>()
        {
            return cancellation_failure(
                cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None")),
            );
        }
        if service.code() == Some("ConditionalCheckFailedException") {
            return WriteFailure::Condition;
        }
    }
    if is_transient(error) {
        WriteFailure::Retryable
    } else {
        WriteFailure::Other
    }
}

/// True when a write failed its condition (alone, or inside a transaction for that
/// reason).
fn condition_failed<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
{
    write_failure(error) == WriteFailure::Condition
}

/// True when the same write may go through if tried again, a cancelled transaction
/// included (see [`cancellation_failure`]).
fn retryable<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
{
    write_failure(error) == WriteFailure::Retryable
}

macro_rules! conditional_call {
    ($call:expr, $on_condition:expr) => {
        match $call.await {
            Ok(output) => Ok(output),
            Err(e) if condition_failed(&e) => Err($on_condition),
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    };
}

impl DynamoStore {
    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = sdk_call!(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send())?;
        Ok(output.item)
    }

    /// Every item of a query, following pagination.
    async fn query_all(
        &self,
        index: Option<&str>,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .scan_index_forward(!newest_first)
                .set_index_name(index.map(str::to_owned))
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            if let Some(limit) = limit {
                request = request.limit(limit as i32);
            }
            let output = sdk_call!(request.send())?;
            items.extend(output.items.unwrap_or_default());
            let enough = limit.is_some_and(|l| items.len() >= l);
            match output.last_evaluated_key {
                Some(key) if !enough => start = Some(key),
                _ => break,
            }
        }
        if let Some(limit) = limit {
            items.truncate(limit);
        }
        Ok(items)
    }

    /// Sets one string attribute on an existing promotion item.
    async fn set_promotion_attribute(
        &self,
        id: &PromotionId,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        conditional_call!(
            self.client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(promo_pk(id)))
                .key("SK", s(PROMO_SK))
                .update_expression("SET #name = :value")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#name", name)
                .expression_attribute_values(":value", s(value))
                .send(),
            StoreError::NotFound(format!("promotion {id}"))
        )?;
        Ok(())
    }

    /// Works out why a promotion's lock transaction failed, from what is stored now.
    /// Claims `stack` for `owner` unless another environment holds it.
    fn claim(&self, stack: &str, owner: &str) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        Put::builder()
            .table_name(&self.table)
            .item("PK", s(stack_pk(stack)))
            .item("SK", s(STACK_SK))
            .item("owner", s(owner))
            .condition_expression("attribute_not_exists(PK) OR #owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
    }

    async fn explain_lock_failure(&self, promotion: &Promotion) -> StoreError {
        if let Ok(Some(_)) = self.get(promo_pk(&promotion.id), PROMO_SK).await {
            return StoreError::AlreadyExists(format!("promotion {}", promotion.id));
        }
        let label = format!("environment {}/{}", promotion.app, promotion.target_env);
        match self
            .get_environment(&promotion.app, &promotion.target_env)
            .await
        {
            Ok(Some(env)) => match env.active_promotion {
                Some(holder) => StoreError::Locked {
                    env: label,
                    holder: holder.to_string(),
                },
                // Freed between the write and this read: a retry will go through.
                None => StoreError::Unavailable(format!("{label} changed during the write; retry")),
            },
            Ok(None) => StoreError::NotFound(label),
            Err(e) => e,
        }
    }
}

// After the macros above, which the aggregates' modules use (macro_rules! scope is textual).
mod access;
mod alerts;
mod documents;
mod environments;
mod faults;
mod keys;
mod ledger;
mod promotions;
mod reports;

use keys::*;

#[cfg(test)]
mod tests {
    use super::{cancellation_failure, WriteFailure};

    #[test]
    fn a_cancelled_transaction_means_what_its_reasons_say() {
        let failure = |codes: &[&str]| cancellation_failure(codes.iter().copied());
        assert_eq!(
            failure(&["None", "ConditionalCheckFailed"]),
            WriteFailure::Condition
        );
        // A failed condition decides it, even beside a reason worth a retry.
        assert_eq!(
            failure(&["ThrottlingError", "ConditionalCheckFailed"]),
            WriteFailure::Condition
        );
        for retry in [
            "ThrottlingError",
            "ProvisionedThroughputExceeded",
            "TransactionConflict",
        ] {
            assert_eq!(
                failure(&["None", retry]),
                WriteFailure::Retryable,
                "{retry}"
            );
        }
        assert_eq!(failure(&["ValidationError", "None"]), WriteFailure::Other);
        assert_eq!(
            failure(&["ItemCollectionSizeLimitExceeded"]),
            WriteFailure::Other
        );
        assert_eq!(
            failure(&[]),
            WriteFailure::Condition,
            "no reasons: as before"
        );
    }
}
