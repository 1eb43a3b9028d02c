//! An approver's decision on a waiting promotion: recorded, then the pipeline told, then
//! the wait's task token forgotten, so a decision the pipeline could not be told of can
//! be sent again.

use crate::model::{Actor, Approval, Decision, Promotion, PromotionStatus};
use crate::names::PromotionId;
use crate::ports::{Environments, Promotions, StoreError, Workflow, WorkflowError};
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
    /// This approver already decided this wait the other way.
    #[error("{0}")]
    AlreadyDecided(String),
    #[error(transparent)]
    Store(StoreError),
    /// The decision is recorded and the wait still open: the same decision, sent again
    /// by the same approver, goes through.
    #[error("the decision is recorded, but the pipeline could not be told: {0}; send it again")]
    Workflow(WorkflowError),
}

/// A decision, as it stands: the promotion, and how many approvals its wait has of how
/// many it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub promotion: Promotion,
    pub approvals: usize,
    pub needed: usize,
    /// The pipeline was told (approved by enough people, or rejected).
    pub resumed: bool,
}

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

/// Which wait a task token stands for: a promotion waits once for its approval and
/// again for each marginal canary's judgement, and a decision counts for its own wait
/// only. A hash of the token (FNV-1a), so the token itself is never stored twice.
pub fn wait_id(token: &str) -> String {
    let hash = token.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The stable principal of a recorded decision (its name, for decisions kept before
/// principals were).
fn principal_of(approval: &Approval) -> &str {
    if approval.principal.is_empty() {
        &approval.decided_by
    } else {
        &approval.principal
    }
}

/// Approves or rejects a promotion that waits for a decision. Every decision is
/// recorded with who made it (name and stable principal) and when. Nobody approves
/// their own promotion; a rejection needs a comment; an environment may need several
/// approvers (`promotion.approvers`), each a different person. The decision is recorded
/// first, then the pipeline told (`SendTaskSuccess`/`SendTaskFailure`), then the wait's
/// token forgotten: if the pipeline cannot be told, the same decision by the same
/// approver may simply be sent again.
pub async fn decide(
    store: &(impl Environments + Promotions + ?Sized),
    workflow: &dyn Workflow,
    id: &PromotionId,
    decision: Decision,
    by: &Actor,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<Decided, DecideError> {
    let promotion = store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))?;
    if by.principal.is_empty() || by.name == "anonymous" {
        return Err(DecideError::Forbidden(
            "decisions need an authenticated caller".into(),
        ));
    }
    let token = match (&promotion.approval_token, promotion.status) {
        (Some(token), PromotionStatus::AwaitingApproval) => token.clone(),
        _ => return Err(DecideError::NotAwaiting(id.to_string())),
    };
    if decision == Decision::Approved && by.principal == promotion.requester_principal() {
        return Err(DecideError::Forbidden(format!(
            "{} requested this promotion and may not approve it: someone else must \
             (callers are compared by principal, {}, however they signed in)",
            by.name, by.principal
        )));
    }
    if decision == Decision::Rejected && comment.trim().is_empty() {
        return Err(DecideError::Invalid(
            crate::FieldError::new("comment", "is required to reject: say why").into(),
        ));
    }
    let wait = wait_id(&token);
    let mut decisions: Vec<Approval> = promotion
        .approvals
        .iter()
        .filter(|a| a.wait == wait)
        .cloned()
        .collect();
    match decisions.iter().find(|a| principal_of(a) == by.principal) {
        // A retry: recorded before, the pipeline perhaps not told.
        Some(mine) if mine.decision == decision => {}
        Some(mine) => {
            return Err(DecideError::AlreadyDecided(format!(
                "{} already {} promotion {id}",
                mine.decided_by,
                if mine.decision == Decision::Approved {
                    "approved"
                } else {
                    "rejected"
                }
            )))
        }
        None => {
            let approval = Approval {
                promotion_id: id.clone(),
                decision,
                decided_by: by.name.clone(),
                principal: by.principal.clone(),
                wait: wait.clone(),
                comment: comment.to_owned(),
                decided_at: now,
            };
            match store.record_decision(&approval, &token).await {
                Ok(()) => decisions.push(approval),
                // The wait ended (decided, timed out) between the read and the write.
                Err(StoreError::VersionConflict { .. }) => {
                    return Err(DecideError::NotAwaiting(id.to_string()))
                }
                Err(other) => return Err(DecideError::Store(other)),
            }
        }
    }
    let needed = usize::from(
        store
            .get_environment(&promotion.app, &promotion.target_env)
            .await
            .map_err(DecideError::Store)?
            .map_or(1, |env| env.spec.promotion.approvers.max(1)),
    );
    let mut approvers: Vec<&Approval> = Vec::new();
    for a in decisions
        .iter()
        .filter(|a| a.decision == Decision::Approved)
    {
        let principal = principal_of(a);
        if principal != promotion.requester_principal()
            && !approvers.iter().any(|b| principal_of(b) == principal)
        {
            approvers.push(a);
        }
    }
    let resume = decision == Decision::Rejected || approvers.len() >= needed;
    if resume {
        let names: Vec<&str> = approvers.iter().map(|a| a.decided_by.as_str()).collect();
        let output = json!({"decision": decision, "decided_by": by.name, "comment": comment,
                            "approvers": names});
        match workflow
            .complete_approval(id, &token, decision == Decision::Approved, &output)
            .await
        {
            Ok(()) => {}
            // The task is gone (the wait timed out, or another decision got there first).
            Err(WorkflowError::Gone(_)) => return Err(DecideError::NotAwaiting(id.to_string())),
            Err(other) => return Err(DecideError::Workflow(other)),
        }
        // The pipeline has it; the token is dead either way, so a failure to forget it
        // changes nothing (the next wait's token replaces it).
        let _ = store.clear_approval_token(id, &token).await;
    }
    let promotion = store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))?;
    Ok(Decided {
        promotion,
        approvals: approvers.len(),
        needed,
        resumed: resume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_named_by_its_token_alone() {
        assert_eq!(wait_id("token-1"), wait_id("token-1"));
        assert_ne!(wait_id("token-1"), wait_id("token-2"));
        assert_eq!(wait_id("").len(), 16);
    }
}
