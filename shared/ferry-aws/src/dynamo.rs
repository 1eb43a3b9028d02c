//! The [`Store`] on one DynamoDB table (single-table design; the README's "State" section
//! lists every key and the access pattern it serves).

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
use ferry_core::ports::{Completion, Store, StoreError};
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

fn app_pk(app: &AppName) -> String {
    format!("APP#{app}")
}
fn env_sk(env: &EnvName) -> String {
    format!("ENV#{env}")
}
fn promo_pk(id: &PromotionId) -> String {
    format!("PROMO#{id}")
}
const PROMO_SK: &str = "#PROMO";
fn alarm_pk(name: &str) -> String {
    format!("ALARM#{name}")
}
const ALARM_STATE_SK: &str = "#STATE";
/// A stack's claim: which environment deploys to it (`owner`, `app/env`).
fn stack_pk(stack: &str) -> String {
    format!("STACK#{stack}")
}
const STACK_SK: &str = "#STACK";

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
            ("GSI1PK", "ENVS".to_owned()),
            ("GSI1SK", format!("{}#{}", env.app, env.name)),
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
                format!("PROMOS#{}#{}", promotion.app, promotion.target_env),
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

/// True when a write failed its condition (alone or inside a transaction).
fn condition_failed<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| {
            code == "ConditionalCheckFailedException" || code == "TransactionCanceledException"
        })
}

macro_rules! conditional_call {
    ($call:expr, $on_condition:expr) => {
        match $call.await {
            Ok(output) => Ok(output),
            Err(e) if condition_failed(&e) => Err($on_condition),
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
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

#[async_trait]
impl Store for DynamoStore {
    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let item = to_item(app, &[("PK", app_pk(&app.name)), ("SK", "#APP".to_owned())])?;
        conditional_call!(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .send(),
            StoreError::AlreadyExists(format!("app {}", app.name))
        )?;
        Ok(())
    }

    async fn get_app(&self, name: &AppName) -> Result<Option<App>, StoreError> {
        self.get(app_pk(name), "#APP")
            .await?
            .map(from_item)
            .transpose()
    }

    async fn put_environment(
        &self,
        environment: &Environment,
        expected_version: Option<u64>,
    ) -> Result<Environment, StoreError> {
        let mut stored = environment.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let label = format!("environment {}/{}", environment.app, environment.name);
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend(e.to_string());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(env_item(&stored)?));
        let (put, on_fail) = match expected_version {
            None => (
                put.condition_expression("attribute_not_exists(PK)"),
                StoreError::AlreadyExists(label),
            ),
            Some(expected) => (
                put.condition_expression("#v = :expected")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(
                        ":expected",
                        AttributeValue::N(expected.to_string()),
                    ),
                StoreError::VersionConflict {
                    what: label,
                    expected,
                },
            ),
        };
        let owner = format!("{}/{}", environment.app, environment.name);
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(put.build().map_err(build)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        self.claim(&environment.stack_name, &owner)
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        // A stack the environment moves away from is released in the same write.
        if expected_version.is_some() {
            if let Some(previous) = self
                .get_environment(&environment.app, &environment.name)
                .await?
                .filter(|p| p.stack_name != environment.stack_name)
            {
                let release = Delete::builder()
                    .table_name(&self.table)
                    .key("PK", s(stack_pk(&previous.stack_name)))
                    .key("SK", s(STACK_SK))
                    .condition_expression("attribute_not_exists(PK) OR #owner = :owner")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", s(owner.clone()))
                    .build()
                    .map_err(build)?;
                request =
                    request.transact_items(TransactWriteItem::builder().delete(release).build());
            }
        }
        match request.send().await {
            Ok(_) => Ok(stored),
            Err(e) if condition_failed(&e) => {
                // The claim (the second item) failing means another environment holds it.
                let claim_failed = e
                    .as_service_error()
                    .and_then(|err| match err {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().get(1).and_then(|r| r.code()).map(|code| code == "ConditionalCheckFailed")
                        }
                        _ => None,
                    })
                    .unwrap_or(false);
                if !claim_failed {
                    return Err(on_fail);
                }
                let holder = self
                    .get(stack_pk(&environment.stack_name), STACK_SK)
                    .await?
                    .and_then(|item| item.get("owner").and_then(|v| v.as_s().ok()).cloned())
                    .unwrap_or_else(|| "another environment".into());
                Err(StoreError::StackTaken {
                    stack: environment.stack_name.clone(),
                    owner: holder,
                })
            }
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn get_environment(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Environment>, StoreError> {
        self.get(app_pk(app), &env_sk(env))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_environments(
        &self,
        app: Option<&AppName>,
    ) -> Result<Vec<Environment>, StoreError> {
        let items = match app {
            Some(app) => {
                self.query_all(
                    None,
                    "PK = :pk AND begins_with(SK, :env)",
                    vec![(":pk", s(app_pk(app))), (":env", s("ENV#"))],
                    false,
                    None,
                )
                .await?
            }
            None => {
                self.query_all(
                    Some(GSI1),
                    "GSI1PK = :pk",
                    vec![(":pk", s("ENVS"))],
                    false,
                    None,
                )
                .await?
            }
        };
        items.into_iter().map(from_item).collect()
    }

    async fn create_promotion(&self, promotion: &Promotion) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(promotion_item(promotion)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // Taking the lock bumps the version, so a spec update that read the environment
        // before the lock cannot write over it.
        let lock = Update::builder()
            .table_name(&self.table)
            .key("PK", s(app_pk(&promotion.app)))
            .key("SK", s(env_sk(&promotion.target_env)))
            .update_expression("SET active_promotion = :id, #v = #v + :one")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(active_promotion)")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":id", s(promotion.id.as_str()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(lock).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(self.explain_lock_failure(promotion).await),
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        let items = self
            .query_all(
                None,
                "PK = :pk",
                vec![(":pk", s(promo_pk(id)))],
                false,
                None,
            )
            .await?;
        let mut promotion: Option<Promotion> = None;
        let mut steps: Vec<StepRecord> = Vec::new();
        let mut approvals: Vec<Approval> = Vec::new();
        for item in items {
            let sk = sk_of(&item).to_owned();
            if sk == PROMO_SK {
                promotion = Some(from_item(item)?);
            } else if sk.starts_with("STEP#") {
                steps.push(from_item(item)?);
            } else if sk.starts_with("APPROVAL#") {
                approvals.push(from_item(item)?);
            }
        }
        Ok(promotion.map(|mut p| {
            p.steps = steps;
            p.approvals = approvals;
            p
        }))
    }

    async fn list_promotions(
        &self,
        app: &AppName,
        target_env: &EnvName,
        limit: usize,
    ) -> Result<Vec<Promotion>, StoreError> {
        let items = self
            .query_all(
                Some(GSI1),
                "GSI1PK = :pk",
                vec![(":pk", s(format!("PROMOS#{app}#{target_env}")))],
                true,
                Some(limit),
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    async fn record_step(
        &self,
        id: &PromotionId,
        step: &StepRecord,
        status: PromotionStatus,
    ) -> Result<(), StoreError> {
        let step_item = to_item(
            step,
            &[
                ("PK", promo_pk(id)),
                ("SK", format!("STEP#{}#{}", ts(step.finished_at), step.name)),
            ],
        )?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(step_item))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(promo_pk(id)))
            .key("SK", s(PROMO_SK))
            .update_expression("SET #status = :status, updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", status_value(status)?)
            .expression_attribute_values(":at", s(ts(step.finished_at)))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        conditional_call!(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(TransactWriteItem::builder().update(update).build())
                .send(),
            StoreError::NotFound(format!("promotion {id}"))
        )?;
        Ok(())
    }

    async fn set_execution_arn(&self, id: &PromotionId, arn: &str) -> Result<(), StoreError> {
        self.set_promotion_attribute(id, "execution_arn", arn).await
    }

    async fn complete_promotion(
        &self,
        promotion: &Promotion,
        completion: Completion,
    ) -> Result<(), StoreError> {
        let label = format!("environment {}/{}", promotion.app, promotion.target_env);
        let env_write = match &completion.environment {
            Some(next) => {
                let mut stored = next.clone();
                stored.active_promotion = None;
                stored.version = next.version + 1;
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(env_item(&stored)?))
                            .condition_expression("active_promotion = :id AND #v = :expected")
                            .expression_attribute_names("#v", "version")
                            .expression_attribute_values(":id", s(promotion.id.as_str()))
                            .expression_attribute_values(
                                ":expected",
                                AttributeValue::N(next.version.to_string()),
                            )
                            .build()
                            .map_err(|e| StoreError::Backend(e.to_string()))?,
                    )
                    .build()
            }
            None => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .key("PK", s(app_pk(&promotion.app)))
                        .key("SK", s(env_sk(&promotion.target_env)))
                        .update_expression("REMOVE active_promotion SET #v = #v + :one")
                        .condition_expression("active_promotion = :id")
                        .expression_attribute_names("#v", "version")
                        .expression_attribute_values(":id", s(promotion.id.as_str()))
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .build()
                        .map_err(|e| StoreError::Backend(e.to_string()))?,
                )
                .build(),
        };
        let status = Update::builder()
            .table_name(&self.table)
            .key("PK", s(promo_pk(&promotion.id)))
            .key("SK", s(PROMO_SK))
            .update_expression("SET #status = :status, updated_at = :at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", status_value(completion.status)?)
            .expression_attribute_values(":at", s(ts(Utc::now())))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(env_write)
            .transact_items(TransactWriteItem::builder().update(status).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => {
                let current = self
                    .get_environment(&promotion.app, &promotion.target_env)
                    .await?;
                match current {
                    Some(env) if env.active_promotion.as_ref() == Some(&promotion.id) => {
                        let expected = completion.environment.map_or(env.version, |n| n.version);
                        Err(StoreError::VersionConflict {
                            what: label,
                            expected,
                        })
                    }
                    Some(_) => Err(StoreError::LockNotHeld {
                        env: label,
                        promotion: promotion.id.to_string(),
                    }),
                    None => Err(StoreError::NotFound(label)),
                }
            }
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn set_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        self.set_promotion_attribute(id, "approval_token", token)
            .await
    }

    async fn decide_approval(&self, approval: &Approval, token: &str) -> Result<(), StoreError> {
        let id = &approval.promotion_id;
        let item = to_item(
            approval,
            &[
                ("PK", promo_pk(id)),
                ("SK", format!("APPROVAL#{}", ts(approval.decided_at))),
            ],
        )?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // Taking the token is what makes a decision count once.
        let take = Update::builder()
            .table_name(&self.table)
            .key("PK", s(promo_pk(id)))
            .key("SK", s(PROMO_SK))
            .update_expression("REMOVE approval_token")
            .condition_expression("approval_token = :token")
            .expression_attribute_values(":token", s(token))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        conditional_call!(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(take).build())
                .transact_items(TransactWriteItem::builder().put(record).build())
                .send(),
            StoreError::VersionConflict {
                what: format!("the approval of promotion {id}"),
                expected: 0
            }
        )?;
        Ok(())
    }

    async fn put_report(&self, report: &Report) -> Result<(), StoreError> {
        let mut item = to_item(
            report,
            &[
                ("PK", app_pk(&report.app)),
                (
                    "SK",
                    format!(
                        "REPORT#{}#{}#{}",
                        report.kind.as_str(),
                        report.env,
                        ts(report.created_at)
                    ),
                ),
            ],
        )?;
        item.insert(
            "expires_at".into(),
            expires_at(report.created_at, REPORT_TTL_DAYS),
        );
        sdk_call!(self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send())?;
        Ok(())
    }

    async fn latest_report(
        &self,
        app: &AppName,
        env: &EnvName,
        kind: ReportKind,
    ) -> Result<Option<Report>, StoreError> {
        let items = self
            .query_all(
                None,
                "PK = :pk AND begins_with(SK, :prefix)",
                vec![
                    (":pk", s(app_pk(app))),
                    (":prefix", s(format!("REPORT#{}#{}#", kind.as_str(), env))),
                ],
                true,
                Some(1),
            )
            .await?;
        items.into_iter().next().map(from_item).transpose()
    }

    async fn record_alert(&self, event: &AlertEvent) -> Result<bool, StoreError> {
        let previous: Option<AlertState> = self
            .get(alarm_pk(&event.alarm_name), ALARM_STATE_SK)
            .await?
            .map(from_item)
            .transpose()?;
        let next = ferry_core::monitoring::alerts::next_state(previous.as_ref(), event);
        let mut event_item = to_item(
            event,
            &[
                ("PK", alarm_pk(&event.alarm_name)),
                ("SK", format!("EVENT#{}", event.event_id)),
            ],
        )?;
        event_item.insert(
            "expires_at".into(),
            expires_at(event.changed_at, ALERT_EVENT_TTL_DAYS),
        );
        let mut state_item = to_item(
            &next,
            &[
                ("PK", alarm_pk(&event.alarm_name)),
                ("SK", ALARM_STATE_SK.to_owned()),
            ],
        )?;
        // Sparse index of open alerts per environment: only alarms in ALARM carry GSI1 keys.
        if let (true, Some(app), Some(env)) = (next.state == "ALARM", &next.app, &next.env) {
            state_item.insert("GSI1PK".into(), s(format!("OPEN#{app}#{env}")));
            state_item.insert("GSI1SK".into(), s(next.alarm_name.clone()));
        }
        let put_event = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // The state item is written only if nobody else moved it since we read it.
        let mut put_state = Put::builder()
            .table_name(&self.table)
            .set_item(Some(state_item));
        put_state = match &previous {
            None => put_state.condition_expression("attribute_not_exists(PK)"),
            Some(p) => put_state
                .condition_expression("alarm_count = :count AND #state = :state")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":count", AttributeValue::N(p.alarm_count.to_string()))
                .expression_attribute_values(":state", s(p.state.clone())),
        };
        let put_state = put_state
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_event).build())
            .transact_items(TransactWriteItem::builder().put(put_state).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => {
                let seen = self
                    .get(
                        alarm_pk(&event.alarm_name),
                        &format!("EVENT#{}", event.event_id),
                    )
                    .await?;
                if seen.is_some() {
                    Ok(false)
                } else {
                    // A concurrent change to the same alarm: the event source retries us.
                    Err(StoreError::Unavailable(format!(
                        "alarm {} changed concurrently",
                        event.alarm_name
                    )))
                }
            }
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn get_alert_state(&self, alarm_name: &str) -> Result<Option<AlertState>, StoreError> {
        self.get(alarm_pk(alarm_name), ALARM_STATE_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// `PK = FAULT#<app>/<env>/<action>`, `SK = #FAULT`, `error = <name>`: written by
    /// local test runs only.
    /// The sparse GSI1 partition `OPEN#<app>#<env>`: only alarms in ALARM are in it.
    async fn open_alerts(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Vec<AlertState>, StoreError> {
        let items = self
            .query_all(
                Some(GSI1),
                "GSI1PK = :pk",
                vec![(":pk", s(format!("OPEN#{app}#{env}")))],
                false,
                None,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    /// `PK = CONFIG`, `SK = ACCESS`: the access policy, one item.
    async fn access_policy(&self) -> Result<ferry_core::access::AccessPolicy, StoreError> {
        match self.get("CONFIG".to_owned(), "ACCESS").await? {
            Some(item) => from_item(item),
            None => Ok(Default::default()),
        }
    }

    async fn put_access_policy(
        &self,
        policy: &ferry_core::access::AccessPolicy,
    ) -> Result<(), StoreError> {
        let item = to_item(
            policy,
            &[("PK", "CONFIG".to_owned()), ("SK", "ACCESS".to_owned())],
        )?;
        sdk_call!(self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send())?;
        Ok(())
    }

    async fn load_state(&self, key: &str) -> Result<Option<(serde_json::Value, u64)>, StoreError> {
        let Some(item) = self.get(format!("STATE#{key}"), "#STATE").await? else {
            return Ok(None);
        };
        let body = item
            .get("body")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let state = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))?;
        Ok(Some((state, version)))
    }

    async fn save_state(
        &self,
        key: &str,
        state: &serde_json::Value,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError> {
        let version = expected_version.unwrap_or(0) + 1;
        // Kept as one JSON string: compact, and read back whole.
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", AttributeValue::S(format!("STATE#{key}")))
            .item("SK", AttributeValue::S("#STATE".into()))
            .item("body", AttributeValue::S(state.to_string()))
            .item("version", AttributeValue::N(version.to_string()));
        let request = match expected_version {
            None => request.condition_expression("attribute_not_exists(PK)"),
            Some(expected) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        conditional_call!(
            request.send(),
            StoreError::VersionConflict {
                what: format!("state {key}"),
                expected: expected_version.unwrap_or(0),
            }
        )?;
        Ok(version)
    }

    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<ferry_core::model::Delivery, StoreError> {
        let delivery = ferry_core::model::Delivery {
            dedup_key: dedup_key.to_owned(),
            channel: channel.to_owned(),
            sent: false,
            attempts: 0,
            created_at: at,
            sent_at: None,
        };
        let (pk, sk) = (format!("NOTIFY#{dedup_key}"), format!("CHANNEL#{channel}"));
        let item = to_item(&delivery, &[("PK", pk.clone()), ("SK", sk.clone())])?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(delivery),
            // Recorded before: return what it says.
            Err(e) if condition_failed(&e) => {
                let item = self.get(pk, &sk).await?.ok_or_else(|| {
                    StoreError::NotFound(format!("delivery {dedup_key} on {channel}"))
                })?;
                from_item(item)
            }
            Err(e) if is_transient(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn finish_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        attempts: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        sdk_call!(self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(format!("NOTIFY#{dedup_key}")))
            .key("SK", AttributeValue::S(format!("CHANNEL#{channel}")))
            .update_expression("SET sent = :sent, sent_at = :at ADD attempts :attempts")
            .expression_attribute_values(":sent", AttributeValue::Bool(true))
            .expression_attribute_values(":at", AttributeValue::S(at.to_rfc3339()))
            .expression_attribute_values(":attempts", AttributeValue::N(attempts.to_string()))
            .send())?;
        Ok(())
    }

    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(format!("FAULT#{key}"), "#FAULT")
            .await?
            .and_then(|item| item.get("error").and_then(|v| v.as_s().ok()).cloned()))
    }
}
