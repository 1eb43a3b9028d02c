//! Promotions: `PROMO#<id>` with the record, its steps and approvals, on the
//! `PROMOS#<app>#<env>` index newest first; the lock lives on the environment item.

use super::*;
use aws_sdk_dynamodb::types::ConditionCheck;
use ferry_core::model::{PinnedTemplate, TemplateRole, Unlock};

#[async_trait]
impl Promotions for DynamoStore {
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
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
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
            } else if sk.starts_with(STEP_SK_PREFIX) {
                steps.push(from_item(item)?);
            } else if sk.starts_with(APPROVAL_SK_PREFIX) {
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
                vec![(":pk", s(promos_gsi_pk(app, target_env)))],
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
                ("SK", step_sk(&ts(step.finished_at), &step.name)),
            ],
        )?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(step_item.clone()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // An ended promotion keeps how it ended: the status moves only while it runs.
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(promo_pk(id)))
            .key("SK", s(PROMO_SK))
            .update_expression("SET #status = :status, updated_at = :at")
            .condition_expression(
                "attribute_exists(PK) AND NOT (#status IN (:ended0, :ended1, :ended2, :ended3))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", status_value(status)?)
            .expression_attribute_values(":at", s(ts(step.finished_at)));
        for (i, ended) in PromotionStatus::ENDED.iter().enumerate() {
            update =
                update.expression_attribute_values(format!(":ended{i}"), status_value(*ended)?);
        }
        let update = update
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let recorded = conditional_call!(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(TransactWriteItem::builder().update(update).build())
                .send(),
            StoreError::NotFound(format!("promotion {id}"))
        );
        match recorded {
            Ok(_) => Ok(()),
            // Gone, or ended: an ended promotion still gets the step, for the audit trail.
            Err(StoreError::NotFound(what)) => {
                if self.get(promo_pk(id), PROMO_SK).await?.is_none() {
                    return Err(StoreError::NotFound(what));
                }
                sdk_call!(self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(step_item))
                    .send())?;
                Ok(())
            }
            Err(other) => Err(other),
        }
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
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn set_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        self.set_promotion_attribute(id, "approval_token", token)
            .await
    }

    async fn set_watch_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        self.set_promotion_attribute(id, "watch_token", token).await
    }

    async fn record_decision(&self, approval: &Approval, token: &str) -> Result<(), StoreError> {
        let id = &approval.promotion_id;
        let item = to_item(
            approval,
            &[
                ("PK", promo_pk(id)),
                ("SK", approval_sk(&ts(approval.decided_at))),
            ],
        )?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // Recorded only while the promotion waits on this token; the token stays until
        // the pipeline has the decision (clear_approval_token).
        let waiting = ConditionCheck::builder()
            .table_name(&self.table)
            .key("PK", s(promo_pk(id)))
            .key("SK", s(PROMO_SK))
            .condition_expression("approval_token = :token")
            .expression_attribute_values(":token", s(token))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        conditional_call!(
            self.client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .condition_check(waiting)
                        .build()
                )
                .transact_items(TransactWriteItem::builder().put(record).build())
                .send(),
            StoreError::VersionConflict {
                what: format!("the approval of promotion {id}"),
                expected: 0
            }
        )?;
        Ok(())
    }

    async fn clear_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        let cleared = conditional_call!(
            self.client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(promo_pk(id)))
                .key("SK", s(PROMO_SK))
                .update_expression("REMOVE approval_token")
                .condition_expression("approval_token = :token")
                .expression_attribute_values(":token", s(token))
                .send(),
            StoreError::VersionConflict {
                what: format!("the approval token of promotion {id}"),
                expected: 0
            }
        );
        match cleared {
            // Already gone, or a later wait's: nothing of this one to clear.
            Ok(_) | Err(StoreError::VersionConflict { .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    async fn unlock(
        &self,
        app: &AppName,
        env: &EnvName,
        holder: &PromotionId,
        record: Option<(&Unlock, PromotionStatus)>,
    ) -> Result<(), StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend(e.to_string());
        let release = Update::builder()
            .table_name(&self.table)
            .key("PK", s(app_pk(app)))
            .key("SK", s(env_sk(env)))
            .update_expression("REMOVE active_promotion SET #v = #v + :one")
            .condition_expression("active_promotion = :id")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":id", s(holder.as_str()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build)?;
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(release).build());
        if let Some((unlock, status)) = record {
            let unlocked = serde_dynamo::to_attribute_value(unlock)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let ended = Update::builder()
                .table_name(&self.table)
                .key("PK", s(promo_pk(holder)))
                .key("SK", s(PROMO_SK))
                .update_expression("SET unlocked = :unlocked, #status = :status, updated_at = :at")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":unlocked", unlocked)
                .expression_attribute_values(":status", status_value(status)?)
                .expression_attribute_values(":at", s(ts(unlock.at)))
                .build()
                .map_err(build)?;
            request = request.transact_items(TransactWriteItem::builder().update(ended).build());
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => {
                let label = format!("environment {app}/{env}");
                match self.get_environment(app, env).await? {
                    None => Err(StoreError::NotFound(label)),
                    Some(current) if current.active_promotion.as_ref() != Some(holder) => {
                        Err(StoreError::LockNotHeld {
                            env: label,
                            promotion: holder.to_string(),
                        })
                    }
                    Some(_) => Err(StoreError::NotFound(format!("promotion {holder}"))),
                }
            }
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn pin_template(
        &self,
        id: &PromotionId,
        role: TemplateRole,
        template: &PinnedTemplate,
    ) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert("PK".into(), s(pinned_pk(id)));
        item.insert("SK".into(), s(pinned_sk(role)));
        item.insert("sha256".into(), s(&template.sha256));
        item.insert(
            "spec_version".into(),
            AttributeValue::N(template.spec_version.to_string()),
        );
        // Compressed: the largest template Ferry allows (1 MB) is over DynamoDB's 400 KB
        // item limit as text, and templates compress about tenfold.
        item.insert(
            "body_gz".into(),
            AttributeValue::B(aws_smithy_types::Blob::new(gzip(&template.body)?)),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR sha256 = :sha")
            .expression_attribute_values(":sha", s(&template.sha256))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::AlreadyExists(format!(
                "a different template pinned for promotion {id}"
            ))),
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn pinned_template(
        &self,
        id: &PromotionId,
        role: TemplateRole,
    ) -> Result<Option<PinnedTemplate>, StoreError> {
        let item = sdk_call!(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pinned_pk(id)))
            .key("SK", s(pinned_sk(role)))
            .consistent_read(true)
            .send())?
        .item;
        let Some(item) = item else {
            return Ok(None);
        };
        let field = |name: &str| {
            item.get(name).ok_or_else(|| {
                StoreError::Corrupt(format!("pinned template of {id} has no {name}"))
            })
        };
        let body = match field("body_gz")? {
            AttributeValue::B(blob) => gunzip(blob.as_ref())?,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "pinned template of {id}: body_gz is not binary"
                )))
            }
        };
        let sha256 = field("sha256")?
            .as_s()
            .map_err(|_| StoreError::Corrupt("sha256 is not a string".into()))?
            .clone();
        let spec_version = field("spec_version")?
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::Corrupt("spec_version is not a number".into()))?;
        let pinned = PinnedTemplate {
            body,
            sha256,
            spec_version,
        };
        // What comes back is what went in, or the promotion must not deploy it.
        if ferry_core::model::sha256_hex(&pinned.body) != pinned.sha256 {
            return Err(StoreError::Corrupt(format!(
                "the pinned template of {id} does not match its SHA-256"
            )));
        }
        Ok(Some(pinned))
    }
}

fn gzip(text: &str) -> Result<Vec<u8>, StoreError> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Corrupt(format!("could not compress the template: {e}")))
}

fn gunzip(bytes: &[u8]) -> Result<String, StoreError> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| StoreError::Corrupt(format!("could not decompress the template: {e}")))?;
    Ok(text)
}
