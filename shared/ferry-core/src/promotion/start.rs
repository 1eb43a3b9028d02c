//! Starting a promotion: created (with the target's lock), then its pipeline started; if
//! the pipeline cannot start, the promotion is ended and the lock freed, so a retry is
//! not refused as a conflict.

use super::request::{create, CreateError, PromotionRequest};
use crate::model::{Promotion, PromotionStatus, StepOutcome, StepRecord};
use crate::names::PromotionId;
use crate::ports::{Completion, Environments, Promotions, StoreError, Workflow, WorkflowError};
use chrono::{DateTime, Utc};
use serde_json::json;

/// A started promotion: new, or (`replayed`) the one an earlier identical request started.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub promotion: Promotion,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StartError {
    #[error(transparent)]
    Create(CreateError),
    /// The pipeline did not start; the promotion was ended Failed and the lock freed.
    #[error(transparent)]
    Workflow(WorkflowError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn start(
    store: &(impl Environments + Promotions + ?Sized),
    workflow: &dyn Workflow,
    request: PromotionRequest,
    id: PromotionId,
    requested_by: crate::model::Actor,
    default_approval_timeout_seconds: u64,
    now: DateTime<Utc>,
) -> Result<Started, StartError> {
    // The target environment may shorten (or lengthen) the configured approval timeout.
    let target = store
        .get_environment(&request.app, &request.target_env)
        .await?;
    let approval_timeout_seconds = target
        .as_ref()
        .and_then(|env| env.spec.promotion.approval_timeout_seconds)
        .unwrap_or(default_approval_timeout_seconds);
    // Its execution must be able to finish before the state machine's timeout ends it.
    if let Some(plan) = target
        .as_ref()
        .and_then(|t| crate::promotion::rollout::plan(request.strategy, &t.spec.promotion).ok())
    {
        if let Err(why) = crate::promotion::budget::check(&plan, approval_timeout_seconds) {
            let field = crate::FieldError::new(
                "strategy",
                format!(
                    "{} into {}/{} {why}",
                    request.strategy, request.app, request.target_env
                ),
            );
            return Err(StartError::Create(CreateError::Invalid(field.into())));
        }
    }
    let created = create(store, request, id, requested_by, now)
        .await
        .map_err(StartError::Create)?;
    let mut promotion = created.promotion;
    if created.replayed && promotion.execution_arn.is_some() {
        return Ok(Started {
            promotion,
            replayed: true,
        });
    }
    let input = json!({
        "promotion_id": promotion.id, "app": promotion.app,
        "source_env": promotion.source_env, "target_env": promotion.target_env,
        "strategy": promotion.strategy, "plan": promotion.plan,
        "approval_timeout_seconds": approval_timeout_seconds,
    });
    match workflow.start_promotion(&promotion.id, &input).await {
        Ok(arn) => {
            store.set_execution_arn(&promotion.id, &arn).await?;
            promotion.execution_arn = Some(arn);
            Ok(Started {
                promotion,
                replayed: false,
            })
        }
        Err(error) => {
            // Nothing runs this promotion: end it and free the environment. A failure
            // here leaves the lock for the operator's unlock, so it is not hidden; the
            // workflow's error is what the caller needs.
            let step = StepRecord {
                name: "Start".into(),
                outcome: StepOutcome::Failed,
                started_at: now,
                finished_at: now,
                detail: json!({"error": error.to_string()}),
            };
            let _ = store
                .record_step(&promotion.id, &step, PromotionStatus::Failed)
                .await;
            let _ = store
                .complete_promotion(
                    &promotion,
                    Completion {
                        status: PromotionStatus::Failed,
                        environment: None,
                    },
                )
                .await;
            Err(StartError::Workflow(error))
        }
    }
}
