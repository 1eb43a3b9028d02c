//! An execution that ended without the state machine's own steps ending the promotion:
//! stopped (`StopExecution`), timed out (the state machine's `TimeoutSeconds`), or failed
//! outside a Catch. EventBridge reports it ("Step Functions Execution Status Change"),
//! and this puts things back as the Rollback step would, then frees the lock.

use super::rollback::{OnBusy, PutBack, RESTORE_STEP};
use super::*;

/// How long after the execution ended a busy stack is waited for, through the event's
/// redeliveries (Lambda retries a failed asynchronous invocation twice, about one and
/// three minutes later). Past it, the lock is released with the traffic not restored,
/// and people are told.
///
/// The restore itself is a change set this handler starts and then follows for at most
/// [`StepPolicy::restore_wait`] (under the function's 60 s). A restore still changing the
/// stack then is recorded (a `Restore` step) and the invocation fails StackBusy with the
/// lock held: the redelivery finds the update under way and waits for it rather than
/// cancel it, or finds it done (nothing left to change) and releases the lock. If it is
/// still changing at this give-up time, the lock is released with CloudFormation still
/// applying the restore, and people are told to check the stack.
pub const BUSY_GIVE_UP: std::time::Duration = std::time::Duration::from_secs(120);

/// What an "Execution Status Change" event says of a promotion's execution.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionEnded {
    /// The execution's name, which is the promotion's id.
    pub promotion_id: PromotionId,
    pub execution_arn: String,
    /// `ABORTED`, `TIMED_OUT` or `FAILED`.
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// When the execution stopped.
    pub stopped_at: DateTime<Utc>,
}

impl Steps<'_> {
    /// Ends a promotion whose execution ended: traffic back on the live colour if it got
    /// past Deploy, the end recorded, the lock released. A promotion that already ended
    /// (the usual case: its own Rollback or Finalise did it) is left alone, so the event
    /// may arrive any number of times.
    pub async fn execution_ended(&self, ended: &ExecutionEnded) -> Result<Value, StepError> {
        let started_at = (self.now)();
        let id = &ended.promotion_id;
        let Some(promotion) = self.promotions.get_promotion(id).await? else {
            return Ok(json!({"promotion": id, "ignored": "no such promotion"}));
        };
        if promotion
            .execution_arn
            .as_deref()
            .is_some_and(|arn| arn != ended.execution_arn)
        {
            return Ok(
                json!({"promotion": id, "ignored": "another execution than the promotion's"}),
            );
        }
        let holds_lock = self
            .environments
            .get_environment(&promotion.app, &promotion.target_env)
            .await?
            .is_some_and(|t| t.active_promotion.as_ref() == Some(id));
        if !holds_lock && promotion.status.is_terminal() {
            return Ok(json!({
                "promotion": id,
                "ignored": format!("already ended {:?}, and the lock is not its", promotion.status),
            }));
        }
        let error = match ended.status.as_str() {
            "ABORTED" => "ExecutionAborted",
            "TIMED_OUT" => "ExecutionTimedOut",
            _ => "ExecutionFailed",
        };
        let mut message = format!("the execution ended {}", ended.status);
        if let Some(e) = &ended.error {
            message.push_str(&format!(" ({e}"));
            if let Some(c) = ended.cause.as_deref().filter(|c| !c.is_empty()) {
                message.push_str(&format!(": {c}"));
            }
            message.push(')');
        }
        let cause = json!({"Error": error, "Cause": message});
        let waited = (self.now)() - ended.stopped_at;
        let on_busy = if waited.to_std().unwrap_or_default() >= BUSY_GIVE_UP {
            OnBusy::GiveUp
        } else {
            OnBusy::Retry
        };
        let (outcome, status, mut detail) =
            match self.start_put_back(&promotion, Some(&cause), on_busy).await {
                Ok(PutBack::Ended(detail, status)) => (StepOutcome::Succeeded, status, detail),
                Ok(PutBack::Started(started)) => {
                    match self.follow_restore(&promotion, &started, &cause).await? {
                        Some(done) => done,
                        None => return Err(self.restore_under_way(&promotion, started).await?),
                    }
                }
                // Kept for the event's redelivery: the lock is still held.
                Err(error @ StepError::StackBusy(_)) => return Err(error),
                Err(error @ StepError::TransientError(_)) => return Err(error),
                Err(error) => {
                    let detail = json!({"error": error.name(), "message": error.to_string()});
                    (StepOutcome::Failed, PromotionStatus::Failed, detail)
                }
            };
        detail["execution"] = json!({"arn": ended.execution_arn, "status": ended.status,
                                     "error": ended.error, "stopped_at": ended.stopped_at});
        if outcome == StepOutcome::Failed {
            let target = self
                .environments
                .get_environment(&promotion.app, &promotion.target_env)
                .await?;
            let reason = format!("{error}: {message}; {}", detail["message"]);
            detail["notified"] = self
                .announce(&crate::promotion::messages::rollback_failed(
                    &promotion,
                    target.as_ref().map(|t| t.stack_name.as_str()),
                    &reason,
                ))
                .await;
        }
        let step = StepRecord {
            name: "ExecutionEnded".into(),
            outcome,
            started_at,
            finished_at: (self.now)(),
            detail: detail.clone(),
        };
        self.promotions.record_step(id, &step, status).await?;
        detail["promotion"] = json!(id);
        detail["status"] = json!(status);
        Ok(detail)
    }
}

type Ending = (StepOutcome, PromotionStatus, Value);

impl Steps<'_> {
    /// Follows the restore `started` began, inside the function, for at most
    /// [`StepPolicy::restore_wait`]: how it ended, or `None` while it is still changing.
    async fn follow_restore(
        &self,
        promotion: &Promotion,
        started: &Value,
        cause: &Value,
    ) -> Result<Option<Ending>, StepError> {
        let Ok(mut op) = serde_json::from_value::<StackOp>(started["stack"].clone()) else {
            return Err(StepError::InternalError(
                "a restore started without its stack operation".into(),
            ));
        };
        let begun = tokio::time::Instant::now();
        loop {
            let detail = match self.check_stack(promotion, op.clone(), Some(cause)).await {
                Ok(detail) => detail,
                Err(error @ StepError::TransientError(_)) => return Err(error),
                Err(error) => {
                    let detail = json!({"error": error.name(), "message": error.to_string()});
                    return Ok(Some((StepOutcome::Failed, PromotionStatus::Failed, detail)));
                }
            };
            if detail["stack"]["settled"] == json!(true) {
                let status = serde_json::from_value(detail["ended"].clone())
                    .unwrap_or(PromotionStatus::RolledBack);
                return Ok(Some((StepOutcome::Succeeded, status, detail)));
            }
            if let Ok(next) = serde_json::from_value::<StackOp>(detail["stack"].clone()) {
                op = next;
            }
            if begun.elapsed() + self.policy.polling.interval > self.policy.restore_wait {
                return Ok(None);
            }
            tokio::time::sleep(self.policy.polling.interval).await;
        }
    }

    /// Records that the restore is under way (so the redelivery waits for it rather than
    /// cancel it), and the error that asks for the redelivery.
    async fn restore_under_way(
        &self,
        promotion: &Promotion,
        started: Value,
    ) -> Result<StepError, StepError> {
        let now = (self.now)();
        let step = StepRecord {
            name: RESTORE_STEP.into(),
            outcome: StepOutcome::Succeeded,
            started_at: now,
            finished_at: now,
            detail: started,
        };
        self.promotions
            .record_step(&promotion.id, &step, PromotionStatus::Running)
            .await?;
        Ok(StepError::StackBusy(format!(
            "the restore of {}/{} is still changing the stack after {} s; the lock stays \
             held until it settles",
            promotion.app,
            promotion.target_env,
            self.policy.restore_wait.as_secs()
        )))
    }
}
