//! Rollback: traffic back on the old colour, the reason recorded, the lock released.

use super::*;

impl Steps<'_> {
    /// Puts the target back as it was and releases the lock. Never leaves the lock held:
    /// if another promotion holds it, this one has nothing to release and must not touch
    /// the stack either.
    pub(super) async fn rollback(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
    ) -> Result<Value, StepError> {
        let target = self
            .environments
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        let holds_lock = target
            .as_ref()
            .is_some_and(|t| t.active_promotion.as_ref() == Some(&promotion.id));
        let touched_stack = promotion.steps.iter().any(|s| s.name == "Deploy");
        let mut restore_error = None;
        let mut traffic = json!("untouched: the promotion never deployed");
        if let (Some(target), true, true) = (&target, holds_lock, touched_stack) {
            let rollout = Rollout::steady(target.live_colour, target.deployed_release.as_ref());
            match self.apply(promotion, target, &rollout, "rollback").await {
                Ok(applied) => {
                    traffic = json!({"live": target.live_colour, "weights": applied["weights"], "new_colour": "scaled to 0"})
                }
                Err(error) => {
                    traffic = json!(format!("not restored: {error}"));
                    restore_error = Some(error);
                }
            }
        }
        let status = if restore_error.is_some() {
            PromotionStatus::Failed
        } else {
            PromotionStatus::RolledBack
        };
        let released = match self
            .promotions
            .complete_promotion(
                promotion,
                Completion {
                    status,
                    environment: None,
                },
            )
            .await
        {
            Ok(()) => true,
            Err(StoreError::LockNotHeld { .. }) => false,
            Err(other) => return Err(other.into()),
        };
        if let Some(error) = restore_error {
            return Err(StepError::RollbackIncomplete(format!(
                "traffic could not be put back on the old colour ({error}); the lock is {}",
                if released { "released" } else { "not held" }
            )));
        }
        let reason = if cause
            .as_ref()
            .is_some_and(|c| c["Error"] == "States.Timeout")
            && promotion.status == PromotionStatus::AwaitingApproval
        {
            "Rejected (timeout): no decision before the approval timeout".to_owned()
        } else {
            describe_cause(cause.as_ref())
        };
        Ok(json!({
            "reason": reason,
            "traffic": traffic,
            "lock": if released { "released" } else { "not held" },
        }))
    }
}
