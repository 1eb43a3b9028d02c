//! An approver's decision on a waiting promotion, taken once.

use crate::model::{Promotion, PromotionStatus};
use crate::names::PromotionId;
use crate::ports::{Promotions, StoreError};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecideError {
    #[error("promotion {0} was not found")]
    NotFound(String),
    #[error("promotion {0} is not waiting for an approval")]
    NotAwaiting(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("promotion {0} was decided by someone else first")]
    AlreadyDecided(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("the decision is recorded, but the pipeline could not be told: {0}")]
    Workflow(crate::ports::WorkflowError),
}

/// Approves or rejects a promotion that waits for a decision. Every decision is
/// recorded with who made it and when; the requester may not approve their own prod
/// promotion; a rejection needs a comment.
/// An approver's comment, at most 1,000 characters (absent or null: none).
pub fn decision_comment(body: &serde_json::Value) -> Result<String, crate::FieldError> {
    use serde_json::Value;
    match body.get("comment") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(c)) if c.len() <= 1000 => Ok(c.clone()),
        Some(Value::String(_)) => Err(crate::FieldError::new(
            "comment",
            "is longer than 1000 characters",
        )),
        Some(other) => Err(crate::FieldError::new(
            "comment",
            format!("must be a string, not {other}"),
        )),
    }
}

pub async fn decide(
    store: &dyn Promotions,
    workflow: &dyn crate::ports::Workflow,
    id: &PromotionId,
    decision: crate::model::Decision,
    decided_by: &str,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<Promotion, DecideError> {
    use crate::model::{Approval, Decision};
    let promotion = store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))?;
    let token = match (&promotion.approval_token, promotion.status) {
        (Some(token), PromotionStatus::AwaitingApproval) => token.clone(),
        _ => return Err(DecideError::NotAwaiting(id.to_string())),
    };
    if decided_by == "anonymous" {
        return Err(DecideError::Forbidden(
            "decisions need an authenticated caller".into(),
        ));
    }
    if decision == Decision::Approved
        && promotion.target_env.as_str() == "prod"
        && decided_by == promotion.requested_by
    {
        return Err(DecideError::Forbidden(format!(
            "{decided_by} requested this prod promotion and may not approve it"
        )));
    }
    if decision == Decision::Rejected && comment.trim().is_empty() {
        return Err(DecideError::Invalid(
            crate::FieldError::new("comment", "is required to reject: say why").into(),
        ));
    }
    let approval = Approval {
        promotion_id: id.clone(),
        decision,
        decided_by: decided_by.to_owned(),
        comment: comment.to_owned(),
        decided_at: now,
    };
    match store.decide_approval(&approval, &token).await {
        Ok(()) => {}
        Err(StoreError::VersionConflict { .. }) => {
            return Err(DecideError::AlreadyDecided(id.to_string()))
        }
        Err(other) => return Err(DecideError::Store(other)),
    }
    let output = json!({"decision": decision, "decided_by": decided_by, "comment": comment});
    workflow
        .complete_approval(&token, decision == Decision::Approved, &output)
        .await
        .map_err(DecideError::Workflow)?;
    store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))
}
