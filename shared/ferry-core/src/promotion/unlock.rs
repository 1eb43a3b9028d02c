//! The last resort: an administrator releases an environment's lock by hand, with a
//! reason on the record, when no execution will release it (its execution ended and the
//! status-change handler could not run, say). A running execution still owns its lock:
//! stopping it is how to end it, and Ferry then puts traffic back and frees the lock.

use crate::model::{Actor, Environment, PromotionStatus, Unlock};
use crate::names::{AppName, EnvName, PromotionId};
use crate::ports::{
    Environments, ExecutionStatus, Promotions, StoreError, Workflow, WorkflowError,
};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// A `POST /apps/{app}/environments/{env}/unlock` body: `{"reason": "..."}`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnlockRequest {
    pub reason: String,
}

impl UnlockRequest {
    /// A reason is required: what happened, for whoever reads the record next.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = body.as_object() else {
            errors.push("body", "must be a JSON object with a reason");
            return Err(errors);
        };
        let reason = match object.get("reason") {
            None | Some(Value::Null) => {
                errors.push(
                    "reason",
                    "is required: say why the lock must be released by hand",
                );
                None
            }
            Some(Value::String(r)) if r.trim().is_empty() => {
                errors.push(
                    "reason",
                    "must not be empty: say why the lock must be released by hand",
                );
                None
            }
            Some(Value::String(r)) if r.len() > 1000 => {
                errors.push("reason", "is longer than 1000 characters");
                None
            }
            Some(Value::String(r)) => Some(r.trim().to_owned()),
            Some(other) => {
                errors.push("reason", format!("must be a string, not {other}"));
                None
            }
        };
        for key in object.keys().filter(|k| k.as_str() != "reason") {
            errors.push(key.clone(), "is not a known field; use reason");
        }
        match reason {
            Some(reason) if errors.is_empty() => Ok(UnlockRequest { reason }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UnlockError {
    #[error("environment {0} was not found")]
    NotFound(String),
    #[error("{0} is not locked")]
    NotLocked(String),
    #[error("promotion {promotion}'s execution {execution} is still running and holds the lock on {env}: stop it (aws stepfunctions stop-execution --execution-arn {execution}) and Ferry puts the traffic back and frees the lock; unlock is for a lock no execution will release")]
    StillRunning {
        env: String,
        promotion: String,
        execution: String,
    },
    #[error(transparent)]
    Store(StoreError),
    #[error("whether the execution still runs could not be told: {0}")]
    Workflow(WorkflowError),
}

/// What an unlock did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unlocked {
    pub environment: Environment,
    /// The promotion that held the lock.
    pub promotion: PromotionId,
    /// How that promotion ended (Failed, if it had not ended).
    pub status: Option<PromotionStatus>,
    pub unlock: Unlock,
    /// The stack was not touched: its traffic is wherever the promotion left it.
    pub traffic: &'static str,
}

pub async fn unlock(
    store: &(impl Environments + Promotions + ?Sized),
    workflow: &dyn Workflow,
    app: &AppName,
    env: &EnvName,
    request: UnlockRequest,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<Unlocked, UnlockError> {
    let label = format!("{app}/{env}");
    let environment = store
        .get_environment(app, env)
        .await
        .map_err(UnlockError::Store)?
        .ok_or_else(|| UnlockError::NotFound(label.clone()))?;
    let holder = environment
        .active_promotion
        .clone()
        .ok_or_else(|| UnlockError::NotLocked(label.clone()))?;
    let promotion = store
        .get_promotion(&holder)
        .await
        .map_err(UnlockError::Store)?;
    if let Some(execution) = promotion.as_ref().and_then(|p| p.execution_arn.clone()) {
        let status = workflow
            .execution_status(&execution)
            .await
            .map_err(UnlockError::Workflow)?;
        if status == ExecutionStatus::Running {
            return Err(UnlockError::StillRunning {
                env: label,
                promotion: holder.to_string(),
                execution,
            });
        }
    }
    let unlock = Unlock {
        by: by.name.clone(),
        reason: request.reason,
        at: now,
    };
    let status = promotion.as_ref().map(|p| {
        if p.status.is_terminal() {
            p.status
        } else {
            PromotionStatus::Failed
        }
    });
    match store
        .unlock(app, env, &holder, status.map(|s| (&unlock, s)))
        .await
    {
        Ok(()) => {}
        Err(StoreError::LockNotHeld { .. }) => return Err(UnlockError::NotLocked(label)),
        Err(other) => return Err(UnlockError::Store(other)),
    }
    let environment = store
        .get_environment(app, env)
        .await
        .map_err(UnlockError::Store)?
        .ok_or(UnlockError::NotFound(label))?;
    Ok(Unlocked {
        environment,
        promotion: holder,
        status,
        unlock,
        traffic: "untouched: check the stack's listener weights before promoting again",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reason_is_required_and_named() {
        for body in [
            json!({}),
            json!({"reason": "  "}),
            json!({"reason": 3}),
            json!([]),
        ] {
            let errors = UnlockRequest::parse(&body).unwrap_err();
            let field = &errors.0[0].field;
            assert!(field == "reason" || field == "body", "{body}: {errors}");
        }
        let errors = UnlockRequest::parse(&json!({"reason": "x", "force": true})).unwrap_err();
        assert_eq!(errors.0[0].field, "force");
        assert_eq!(
            UnlockRequest::parse(&json!({"reason": " the execution is gone "}))
                .unwrap()
                .reason,
            "the execution is gone"
        );
    }
}
