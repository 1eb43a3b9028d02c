//! The steps the promotion state machine runs, one module per step. Each records what it
//! did on the promotion, so the record in DynamoDB is the timeline whatever happens to the
//! execution.

mod analyse;
mod change;
mod deploy;
mod ended;
mod finalise;
mod gate;
mod rollback;
mod shift;
mod stack;
mod validate;

pub use ended::{ExecutionEnded, BUSY_GIVE_UP};
pub use finalise::DEFAULT_WATCH_WINDOW_SECONDS;
pub use stack::{StackOp, StackWait};

use super::error::StepError;
use super::risk::*;
use crate::error::ErrorName;
use crate::infra::deploy::{ChangeSets, DeployError, Polling, ResourceChange, StackApiError};
use crate::model::{Environment, Promotion, PromotionStatus, StepOutcome, StepRecord};
use crate::names::{Colour, PromotionId};
use crate::ports::{
    Alerts, Completion, Environments, Faults, MetricQuery, Metrics, Promotions, StoreError,
};
use crate::promotion::rollout::{Candidate, Rollout, TrafficStep};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The input the state machine passes to every promotion step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepInput {
    pub action: Action,
    pub promotion_id: PromotionId,
    /// For `rollback`: the error the state machine caught.
    #[serde(default)]
    pub cause: Option<Value>,
    /// For `await_approval`: the task token an approver's decision completes.
    #[serde(default)]
    pub task_token: Option<String>,
    /// For `shift` and `analyse`: the index into the promotion's traffic plan.
    #[serde(default)]
    pub step: Option<usize>,
    /// For `check_stack`: the stack operation a start step began, as it returned it.
    #[serde(default)]
    pub stack: Option<StackOp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Validate,
    AssessRisk,
    AwaitApproval,
    Deploy,
    Shift,
    Analyse,
    /// The watch window after the last traffic step: a task that waits on its token,
    /// which an alarm of the environment fails and the window's timeout ends.
    Watch,
    Finalise,
    Rollback,
    /// One look at the stack operation Deploy, Shift, Finalise or Rollback started, after
    /// the state machine's Wait: settled, still in progress, or failed.
    CheckStack,
    /// After Rollback gave up: the lock released if still held, and people told.
    RollbackFailed,
}

impl Action {
    fn step_name(self) -> &'static str {
        match self {
            Action::Validate => "Validate",
            Action::AssessRisk => "AssessRisk",
            Action::AwaitApproval => "AwaitApproval",
            Action::Deploy => "Deploy",
            Action::Shift => "Shift",
            Action::Analyse => "Analyse",
            Action::Watch => "Watch",
            Action::Finalise => "Finalise",
            Action::Rollback => "Rollback",
            Action::CheckStack => "CheckStack",
            Action::RollbackFailed => "RollbackFailed",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Action::Validate => "validate",
            Action::AssessRisk => "assess_risk",
            Action::AwaitApproval => "await_approval",
            Action::Deploy => "deploy",
            Action::Shift => "shift",
            Action::Analyse => "analyse",
            Action::Watch => "watch",
            Action::Finalise => "finalise",
            Action::Rollback => "rollback",
            Action::CheckStack => "check_stack",
            Action::RollbackFailed => "rollback_failed",
        }
    }
}

/// Settings the steps read from the function's config.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPolicy {
    /// At or above this risk score, any environment needs an approval.
    pub approval_threshold: u8,
    /// How a step waits for CloudFormation to work out a change set (seconds, usually):
    /// the only waiting on CloudFormation done inside the function, bounded well under
    /// its 60-second timeout.
    pub polling: Polling,
    /// How the state machine waits for a stack operation: between looks, and in all.
    pub stack_wait: StackWait,
    /// How long the status-change handler waits, inside the function, for the restore
    /// it started (the state machine that would wait for it has ended).
    pub restore_wait: std::time::Duration,
}

impl Default for StepPolicy {
    fn default() -> Self {
        Self {
            approval_threshold: 60,
            polling: Polling {
                interval: std::time::Duration::from_secs(2),
                timeout: std::time::Duration::from_secs(30),
            },
            stack_wait: StackWait::default(),
            // Under the function's 60 s, with room to record the outcome.
            restore_wait: std::time::Duration::from_secs(40),
        }
    }
}

/// What the steps work with: the ports they use, and their settings.
pub struct Steps<'a> {
    pub environments: &'a dyn Environments,
    pub promotions: &'a dyn Promotions,
    pub alerts: &'a dyn Alerts,
    pub stacks: &'a dyn ChangeSets,
    pub metrics: &'a dyn Metrics,
    /// Faults a local run injects; `None` in a deployed Ferry, which refuses fault
    /// injection at cold start.
    pub faults: Option<&'a dyn Faults>,
    pub policy: StepPolicy,
    /// Where approval requests and failed rollbacks are announced (Slack, email);
    /// `None`: nowhere.
    pub outbox: Option<crate::monitoring::notify::Outbox<'a>>,
    pub now: fn() -> DateTime<Utc>,
}

impl Steps<'_> {
    /// Runs one step and records it on the promotion, successful or not.
    pub async fn run(&self, input: &StepInput) -> Result<Value, StepError> {
        let started_at = (self.now)();
        let promotion = self
            .promotions
            .get_promotion(&input.promotion_id)
            .await?
            .ok_or_else(|| StepError::PromotionNotFound(input.promotion_id.to_string()))?;
        let result = match self.injected_fault(&promotion, input.action).await? {
            Some(fault) => Err(fault),
            None => self.dispatch(&promotion, input, started_at).await,
        };
        let (outcome, detail) = match &result {
            Ok(detail) => (StepOutcome::Succeeded, detail.clone()),
            Err(error) => {
                let mut detail = json!({"error": error.name(), "message": error.to_string()});
                if let Some(found) = error.detail() {
                    detail["analysis"] = found.clone();
                }
                (StepOutcome::Failed, detail)
            }
        };
        // A step that ended the promotion (a settled Finalise or Rollback) says how.
        let ended = result
            .as_ref()
            .ok()
            .and_then(|d| serde_json::from_value::<PromotionStatus>(d["ended"].clone()).ok());
        let rolling_back = input.action == Action::Rollback
            || input
                .stack
                .as_ref()
                .is_some_and(|op| op.operation == Action::Rollback);
        let status = match (input.action, result.is_ok(), ended) {
            // A stray execution (a replay, a second start) must not rewrite how a
            // promotion ended; its steps are still recorded for the audit trail.
            _ if promotion.status.is_terminal() => promotion.status,
            (_, _, Some(ended)) => ended,
            (Action::AwaitApproval, true, _) => PromotionStatus::AwaitingApproval,
            // A restore under way: how it ends (Rejected after an approval's timeout, say)
            // is decided from the status when it settles.
            (Action::Rollback, true, None) => promotion.status,
            (_, false, _) if rolling_back => PromotionStatus::Failed,
            (Action::RollbackFailed, _, _) => PromotionStatus::Failed,
            _ => PromotionStatus::Running,
        };
        let name = match (input.action, input.step, &input.stack) {
            (Action::Shift | Action::Analyse, Some(i), _) => {
                format!("{} {}", input.action.step_name(), i + 1)
            }
            (Action::CheckStack, _, Some(op)) => format!("{} settled", op.name()),
            _ => input.action.step_name().to_owned(),
        };
        let step = StepRecord {
            name,
            outcome,
            started_at,
            finished_at: (self.now)(),
            detail,
        };
        // A transient failure (or a busy stack) will be retried and recorded then;
        // recording it now too would only add noise to the timeline, as would every
        // look at a stack still changing.
        let still_changing = input.action == Action::CheckStack
            && result.as_ref().is_ok_and(|d| {
                d["stack"]["settled"] == json!(false) || d.get("already_ended").is_some()
            });
        if !still_changing
            && !matches!(
                result,
                Err(StepError::TransientError(_) | StepError::StackBusy(_))
            )
        {
            self.promotions
                .record_step(&promotion.id, &step, status)
                .await?;
        }
        result
    }

    async fn dispatch(
        &self,
        promotion: &Promotion,
        input: &StepInput,
        started_at: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let step = || {
            input.step.ok_or_else(|| {
                StepError::ValidationFailed(format!("{} needs a step index", input.action.key()))
            })
        };
        match input.action {
            Action::Validate => self.validate(promotion).await,
            Action::AssessRisk => self.assess_risk(promotion, started_at).await,
            Action::AwaitApproval => {
                self.await_approval(promotion, input.task_token.as_deref())
                    .await
            }
            Action::Deploy => self.deploy(promotion).await,
            Action::Shift => self.shift(promotion, step()?).await,
            Action::Analyse => self.analyse(promotion, step()?, started_at).await,
            Action::Watch => self.watch(promotion, input.task_token.as_deref()).await,
            Action::Finalise => self.finalise(promotion).await,
            Action::Rollback => self.rollback(promotion, input.cause.clone()).await,
            Action::CheckStack => {
                let op = input.stack.clone().ok_or_else(|| {
                    StepError::ValidationFailed("check_stack needs the stack operation".into())
                })?;
                self.check_stack(promotion, op, input.cause.as_ref()).await
            }
            Action::RollbackFailed => self.rollback_failed(promotion, input.cause.as_ref()).await,
        }
    }

    /// Fault injection for local runs: `<app>/<env>/<action>` in the store names the
    /// error this step fails with. Rollback (and its give-up) is never failed this way:
    /// it is what a fault must lead to.
    async fn injected_fault(
        &self,
        promotion: &Promotion,
        action: Action,
    ) -> Result<Option<StepError>, StepError> {
        self.injected_fault_at(promotion, action, "").await
    }

    /// [`Self::injected_fault`] at a point inside a step: `<app>/<env>/<action><point>`,
    /// e.g. `/executed`, just after a change set was executed (a crash there).
    async fn injected_fault_at(
        &self,
        promotion: &Promotion,
        action: Action,
        point: &str,
    ) -> Result<Option<StepError>, StepError> {
        let ending = matches!(action, Action::Rollback | Action::RollbackFailed);
        let Some(faults) = self.faults.filter(|_| !ending) else {
            return Ok(None);
        };
        let key = format!(
            "{}/{}/{}{point}",
            promotion.app,
            promotion.target_env,
            action.key()
        );
        let fault = faults.injected_fault(&key).await?;
        Ok(fault.map(|name| {
            let message = format!("fault injected at {key}");
            match ErrorName::parse(&name) {
                Some(ErrorName::TransientError) => StepError::TransientError(message),
                Some(ErrorName::DeployFailed) => StepError::DeployFailed(message),
                _ => StepError::FaultInjected(message),
            }
        }))
    }

    async fn environments(
        &self,
        promotion: &Promotion,
    ) -> Result<(Environment, Environment), StepError> {
        let source = self
            .environments
            .get_environment(&promotion.app, &promotion.source_env)
            .await?;
        let target = self
            .environments
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        match (source, target) {
            (Some(s), Some(t)) => Ok((s, t)),
            (None, _) => Err(StepError::ValidationFailed(format!(
                "source environment {} no longer exists",
                promotion.source_env
            ))),
            (_, None) => Err(StepError::ValidationFailed(format!(
                "target environment {} no longer exists",
                promotion.target_env
            ))),
        }
    }

    async fn locked_target(&self, promotion: &Promotion) -> Result<Environment, StepError> {
        let (_, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        Ok(target)
    }

    fn check_lock(promotion: &Promotion, target: &Environment) -> Result<(), StepError> {
        if target.active_promotion.as_ref() == Some(&promotion.id) {
            Ok(())
        } else {
            Err(StepError::LockLost(format!(
                "promotion {} does not hold the lock on {}/{} (holder: {})",
                promotion.id,
                promotion.app,
                promotion.target_env,
                target
                    .active_promotion
                    .as_ref()
                    .map_or("none", |p| p.as_str())
            )))
        }
    }

    /// The template for `rollout` and the stack's current parameter values (the
    /// certificate) to deploy it with. The template is the one GenerateTemplate pinned for
    /// the promotion, as stored when `rollout` is Deploy's, else derived from it by
    /// traffic alone (see [`crate::promotion::pinned`]); policy-checked either way.
    async fn stack_change(
        &self,
        promotion: &Promotion,
        target: &Environment,
        rollout: &Rollout<'_>,
    ) -> Result<StackChange, StepError> {
        let details = self
            .stacks
            .stack_details(&target.stack_name)
            .await
            .map_err(stack_error)?
            .ok_or_else(|| {
                StepError::ValidationFailed(format!("stack {} does not exist", target.stack_name))
            })?;
        let pinned = self
            .promotions
            .pinned_template(&promotion.id, crate::model::TemplateRole::Deploy)
            .await?
            .ok_or_else(|| {
                StepError::ValidationFailed(format!(
                    "promotion {} has no pinned template: GenerateTemplate has not stored one",
                    promotion.id
                ))
            })?;
        let invalid = |problem: String| {
            StepError::ValidationFailed(format!(
                "the pinned template of promotion {}: {problem}",
                promotion.id
            ))
        };
        let stored: Value =
            serde_json::from_str(&pinned.body).map_err(|e| invalid(e.to_string()))?;
        let pinned_watched = stored
            .pointer("/Metadata/Ferry/LiveColour")
            .and_then(Value::as_str)
            .and_then(|c| serde_json::from_value::<Colour>(json!(c)).ok())
            .ok_or_else(|| invalid("no Metadata.Ferry.LiveColour".into()))?;
        let traffic = crate::promotion::pinned::Traffic::of(rollout);
        let derived = crate::promotion::pinned::derive(&stored, pinned_watched, &traffic)
            .map_err(|e| invalid(e.to_string()))?;
        let spec = promotion.pinned.as_ref().map_or(&target.spec, |p| &p.spec);
        crate::infra::template::check(spec, &derived)
            .map_err(|e| StepError::ValidationFailed(e.to_string()))?;
        let (body, derived_from) = if derived == stored {
            (pinned.body, None)
        } else {
            (derived.to_string(), Some(pinned.sha256.clone()))
        };
        let provenance = json!({
            "sha256": crate::model::sha256_hex(&body),
            "derived_from": derived_from,
            "spec_version": pinned.spec_version,
        });
        Ok(StackChange {
            body,
            parameters: stack_parameters(&derived, &details),
            provenance,
        })
    }

    /// Sends `message` on every channel of the outbox; what happened on each, for the
    /// timeline. A failed notification never fails the step.
    async fn announce(&self, message: &crate::monitoring::notify::Message) -> Value {
        match &self.outbox {
            Some(outbox) if !outbox.channels.is_empty() => json!(outbox.send(message).await),
            _ => json!("no notification channels configured"),
        }
    }

    /// Unique per attempt: a retried step must not collide with its first change set.
    fn change_set_name(&self, promotion: &Promotion, label: &str) -> String {
        format!(
            "ferry-{label}-{}-{}",
            promotion
                .id
                .as_str()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(40)
                .collect::<String>(),
            (self.now)().timestamp_millis()
        )
    }
}

/// A template to deploy, with its parameters and where it came from (for the timeline).
struct StackChange {
    body: String,
    parameters: Vec<(String, String)>,
    /// `{sha256, derived_from, spec_version}`: the pinned template's hash when this one
    /// was derived from it, `null` when it is the pinned one itself.
    provenance: Value,
}

/// The stack's current values of the parameters `template` declares (the certificate):
/// a template is deployed with what the stack already has.
fn stack_parameters(
    template: &Value,
    details: &crate::infra::deploy::StackDetails,
) -> Vec<(String, String)> {
    template["Parameters"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, _)| {
            details
                .parameters
                .get(name)
                .map(|value| (name.clone(), value.clone()))
        })
        .collect()
}

fn stack_error(error: StackApiError) -> StepError {
    StepError::from(DeployError::Api(error))
}

/// An approval ended it: a rejection, or no decision before the timeout.
fn was_rejected(promotion: &Promotion, cause: Option<&Value>) -> bool {
    let error = cause.and_then(|c| c["Error"].as_str()).unwrap_or("");
    // A timeout while the approval's token is still held is the approval's; once the
    // pipeline had the decision the token is gone, and a timeout is a later task's.
    error == ErrorName::PromotionRejected.as_str()
        || (error == "States.Timeout"
            && promotion.status == PromotionStatus::AwaitingApproval
            && promotion.approval_token.is_some())
}

/// Whether Deploy may have changed the stack. Its step is recorded when it returns, so
/// a Deploy that executed its change set and then crashed (or failed `TransientError`
/// on every retry) left no record, and the new colour may be running. The state machine
/// enters Deploy straight after a passed gate, so a promotion that passed it, and was
/// not rejected, is put back as well: if Deploy never got to change anything, the
/// restore's change set is empty and ends at once.
fn may_have_deployed(promotion: &Promotion, cause: Option<&Value>) -> bool {
    if promotion.steps.iter().any(|s| s.name == "Deploy") {
        return true;
    }
    if was_rejected(promotion, cause) {
        return false;
    }
    let approved = promotion.approval_token.is_none()
        && promotion
            .approvals
            .iter()
            .any(|a| a.decision == crate::model::Decision::Approved);
    promotion
        .steps
        .iter()
        .rev()
        .find(|s| s.name == "AssessRisk" && s.outcome == StepOutcome::Succeeded)
        .is_some_and(|risk| risk.detail["requires_approval"] != json!(true) || approved)
}

/// Step Functions hands a caught error over as `{"Error": ..., "Cause": ...}` where the
/// cause is the function's error JSON as a string.
fn describe_cause(cause: Option<&Value>) -> String {
    let Some(cause) = cause else {
        return "unknown".into();
    };
    let error = cause["Error"].as_str().unwrap_or("unknown");
    let message = cause["Cause"]
        .as_str()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|c| c["errorMessage"].as_str().map(str::to_owned))
        .or_else(|| cause["Cause"].as_str().map(str::to_owned));
    match message {
        Some(message) => format!("{error}: {message}"),
        None => error.to_owned(),
    }
}

fn config_diff_size(promotion: &Promotion, target: &Environment) -> usize {
    let empty = serde_json::Map::new();
    let new = promotion.release.as_ref().map_or(&empty, |r| &r.config);
    let old = target
        .deployed_release
        .as_ref()
        .map_or(&empty, |r| &r.config);
    new.keys()
        .chain(old.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| new.get(*k) != old.get(*k))
        .count()
}
