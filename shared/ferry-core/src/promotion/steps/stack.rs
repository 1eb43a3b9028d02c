//! Stack operations without waiting in Lambda. Deploy, Shift, Finalise and Rollback each
//! start a change set on the environment's stack and return at once with a [`StackOp`];
//! the state machine then loops Wait -> `check_stack` -> Choice until the operation has
//! settled. Waiting costs a state transition per look, not Lambda time, and no step runs
//! longer than a change set takes to be worked out.

use super::*;
use crate::infra::deploy::{StackState, Started};

/// How the state machine waits for a stack operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackWait {
    /// The first wait after a change set is executed; each later one doubles, up to
    /// `max_seconds`.
    pub first_seconds: u64,
    pub max_seconds: u64,
    /// How long an operation may take in all before it fails (the stack's own changes,
    /// ECS services reaching a steady state included).
    pub deadline: std::time::Duration,
}

impl Default for StackWait {
    fn default() -> Self {
        Self {
            first_seconds: 10,
            max_seconds: 60,
            deadline: std::time::Duration::from_secs(
                crate::promotion::budget::STACK_DEADLINE_SECONDS,
            ),
        }
    }
}

/// A stack operation under way, carried in the state machine's state from the step that
/// started it to each look at it (`check_stack`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackOp {
    /// The step that started it: Deploy, Shift, Finalise or Rollback.
    pub operation: Action,
    /// For Shift: the index into the traffic plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The change set executed; `None` when nothing needed changing, or when the step
    /// found its own earlier attempt's change under way and follows that instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_set: Option<String>,
    /// The stack's newest event before the change, so failures are this change's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_event: Option<String>,
    pub started_at: DateTime<Utc>,
    /// Past this, a look that finds the stack still changing fails the operation.
    pub deadline: DateTime<Utc>,
    /// Looks so far.
    pub checks: u32,
    /// The state machine's next Wait before the next look.
    pub wait_seconds: u64,
    /// The stack reached a complete state (or nothing needed changing).
    pub settled: bool,
    /// The stack's status at the last look.
    pub status: String,
}

impl StackOp {
    /// The step's name on the timeline: `Deploy`, `Shift 2`, ...
    pub fn name(&self) -> String {
        match self.step {
            Some(i) if self.operation == Action::Shift => {
                format!("{} {}", self.operation.step_name(), i + 1)
            }
            _ => self.operation.step_name().to_owned(),
        }
    }
}

impl Steps<'_> {
    /// Starts putting the target's stack in `rollout` through a change set: created,
    /// worked out (seconds) and executed. Returns at once; `check_stack` follows it.
    ///
    /// A retry after a crash between ExecuteChangeSet and the step's return finds the
    /// stack changing: the lock is this promotion's and each earlier operation settled
    /// before this one began, so the change is this step's own, and it is followed, not
    /// repeated or refused. Rollback never gets here with a busy stack (see
    /// `Steps::busy`): what it finds under way may be the interrupted operation.
    pub(super) async fn start_apply(
        &self,
        promotion: &Promotion,
        target: &Environment,
        rollout: &Rollout<'_>,
        operation: Action,
        step: Option<usize>,
    ) -> Result<Value, StepError> {
        let change = self.stack_change(promotion, target, rollout).await?;
        let weights: serde_json::Map<String, Value> = [Colour::Blue, Colour::Green]
            .into_iter()
            .map(|c| (c.to_string(), json!(rollout.weight(c))))
            .collect();
        self.start_change(promotion, target, change, weights, operation, step)
            .await
    }

    /// [`Steps::start_apply`] for a template already made: the pinned one or one derived
    /// from it, or (a change's rollback) the template from before the change.
    pub(super) async fn start_change(
        &self,
        promotion: &Promotion,
        target: &Environment,
        change: StackChange,
        weights: serde_json::Map<String, Value>,
        operation: Action,
        step: Option<usize>,
    ) -> Result<Value, StepError> {
        let change_set = self.change_set_name(promotion, operation.key());
        let now = (self.now)();
        let wait = &self.policy.stack_wait;
        let mut op = StackOp {
            operation,
            step,
            change_set: None,
            since_event: None,
            started_at: now,
            deadline: now
                + chrono::Duration::from_std(wait.deadline).unwrap_or(chrono::Duration::MAX),
            checks: 0,
            wait_seconds: wait.first_seconds,
            settled: false,
            status: String::new(),
        };
        let mut changes = 0;
        let resumed = match crate::infra::deploy::start(
            self.stacks,
            &target.stack_name,
            &change.body,
            &change.parameters,
            &change_set,
            self.policy.polling,
        )
        .await
        {
            Ok(Started::NoChanges) => {
                op.settled = true;
                op.status = "unchanged".into();
                op.wait_seconds = 0;
                false
            }
            Ok(Started::Executing {
                change_set,
                changes: changed,
                since_event,
            }) => {
                op.change_set = Some(change_set);
                op.since_event = since_event;
                changes = changed.len();
                false
            }
            Err(DeployError::Busy { status, .. }) if operation != Action::Rollback => {
                op.status = status;
                true
            }
            Err(other) => return Err(other.into()),
        };
        // A crash just after ExecuteChangeSet, for local runs to test the retry with.
        if let Some(fault) = self
            .injected_fault_at(promotion, operation, "/executed")
            .await?
        {
            return Err(fault);
        }
        let mut detail = json!({"changes": changes, "weights": weights, "stack": op,
                                "template": change.provenance});
        if resumed {
            detail["resumed"] =
                json!("the stack was already changing: this step's earlier attempt, followed");
        }
        Ok(detail)
    }

    /// One look at the operation `op`: still changing (the state machine waits again),
    /// settled (Finalise and Rollback then end the promotion and free the lock), or
    /// failed. A failure keeps the error names the steps had when they waited
    /// themselves: DeployFailed, and for a rollback RollbackIncomplete (lock released).
    pub(super) async fn check_stack(
        &self,
        promotion: &Promotion,
        mut op: StackOp,
        cause: Option<&Value>,
    ) -> Result<Value, StepError> {
        let target = match op.operation {
            // A rollback checks the lock itself: it must end even when it lost it.
            Action::Rollback => self
                .environments
                .get_environment(&promotion.app, &promotion.target_env)
                .await?
                .ok_or_else(|| {
                    StepError::ValidationFailed(format!(
                        "target environment {} no longer exists",
                        promotion.target_env
                    ))
                })?,
            _ => self.locked_target(promotion).await?,
        };
        // A Shift's weight and bake go with every look, settled or not: the state machine
        // keeps them beside the operation for the Bake that follows.
        let mut detail = match (op.operation, op.step) {
            (Action::Shift, Some(index)) => {
                let step = Self::plan_step(promotion, index)?;
                json!({"weight": step.weight, "bake_seconds": step.bake_seconds})
            }
            _ => json!({}),
        };
        if !op.settled {
            op.checks += 1;
            let looked = crate::infra::deploy::check(
                self.stacks,
                &target.stack_name,
                op.since_event.as_deref(),
            )
            .await;
            match looked {
                Ok(StackState::Settled(status)) => {
                    op.settled = true;
                    op.status = status;
                    op.wait_seconds = 0;
                }
                Ok(StackState::InProgress(status)) => {
                    op.status = status;
                    let now = (self.now)();
                    if now >= op.deadline {
                        let why = format!(
                            "{} did not finish by {} ({} looks; the stack is still {})",
                            op.name(),
                            op.deadline.to_rfc3339(),
                            op.checks,
                            op.status
                        );
                        return match op.operation {
                            Action::Rollback => self.rollback_gave_up(promotion, why).await,
                            _ => Err(StepError::DeployFailed(why)),
                        };
                    }
                    let remaining = (op.deadline - now).num_seconds().max(1) as u64;
                    op.wait_seconds = (op.wait_seconds.max(1) * 2)
                        .min(self.policy.stack_wait.max_seconds)
                        .min(remaining);
                    detail["stack"] = json!(op);
                    return Ok(detail);
                }
                Err(DeployError::Api(StackApiError::Unavailable(e))) => {
                    return Err(StepError::TransientError(e))
                }
                Err(failed) => {
                    return match op.operation {
                        Action::Rollback => {
                            self.rollback_gave_up(promotion, failed.to_string()).await
                        }
                        _ => Err(StepError::DeployFailed(format!("{}: {failed}", op.name()))),
                    };
                }
            }
        }
        let ended = match op.operation {
            Action::Finalise => Some(self.finalised(promotion, &target).await?),
            Action::Rollback => Some(self.rolled_back(promotion, &target, cause).await?),
            _ => None,
        };
        if let Some(Value::Object(ended)) = ended {
            detail
                .as_object_mut()
                .into_iter()
                .for_each(|d| d.extend(ended.clone()));
        }
        detail["stack_status"] = json!(op.status);
        detail["stack"] = json!(op);
        Ok(detail)
    }
}
