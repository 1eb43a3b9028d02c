//! An execution that ended without the state machine's own steps ending the promotion:
//! stopped (`StopExecution`), timed out (the state machine's `TimeoutSeconds`), or failed
//! outside a Catch. EventBridge reports it ("Step Functions Execution Status Change"),
//! and this puts things back as the Rollback step would, then frees the lock.

use super::rollback::OnBusy;
use super::*;

/// How long after the execution ended a busy stack is waited for, through the event's
/// redeliveries (Lambda retries a failed asynchronous invocation twice, about one and
/// three minutes later). Past it, the lock is released with the traffic not restored,
/// and people are told.
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
            match self.put_back(&promotion, Some(cause), on_busy).await {
                Ok((detail, status)) => (StepOutcome::Succeeded, status, detail),
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
