//! Rollback: traffic back on the old colour, the reason recorded, the lock released; and
//! what happens when it cannot be done.

use super::*;

/// What a rollback does about a stack that is mid-update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnBusy {
    /// Keep the lock and fail with [`StepError::StackBusy`]: the caller tries again later
    /// (the state machine's Retry, with backoff).
    Retry,
    /// Stop waiting: release the lock, the traffic not put back, and say so.
    GiveUp,
}

impl Steps<'_> {
    /// Puts the target back as it was and releases the lock. Never leaves the lock held
    /// unless the stack is mid-update (then the state machine retries, and after its
    /// bound [`Steps::rollback_failed`] releases it): if another promotion holds it, this
    /// one has nothing to release and must not touch the stack either.
    pub(super) async fn rollback(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
    ) -> Result<Value, StepError> {
        self.put_back(promotion, cause, OnBusy::Retry)
            .await
            .map(|(detail, _)| detail)
    }

    /// The rollback itself, for the Rollback step and for an execution that ended
    /// outside the state machine's own steps: the detail for the timeline, and how the
    /// promotion ended.
    pub(super) async fn put_back(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
        on_busy: OnBusy,
    ) -> Result<(Value, PromotionStatus), StepError> {
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
            match self.busy(target).await? {
                Some(busy) if on_busy == OnBusy::Retry => return Err(StepError::StackBusy(busy)),
                Some(busy) => {
                    traffic = json!(format!("not restored: {busy}"));
                    restore_error = Some(StepError::StackBusy(busy));
                }
                None => {
                    let rollout =
                        Rollout::steady(target.live_colour, target.deployed_release.as_ref());
                    // A change puts back the template it replaced; a release, the
                    // traffic it moved.
                    let restored = if Self::is_change(promotion) {
                        match self.previous_change(promotion, target).await? {
                            Some(change) => {
                                let weights = serde_json::Map::new();
                                self.send(promotion, target, change, "revert", weights)
                                    .await
                            }
                            None => Ok(json!({"weights": "untouched"})),
                        }
                    } else {
                        self.apply(promotion, target, &rollout, "rollback").await
                    };
                    match restored {
                        Ok(applied) => {
                            traffic = json!({"live": target.live_colour, "weights": applied["weights"], "new_colour": "scaled to 0", "template": applied["template"]})
                        }
                        // Throttled, or the stack became busy under us: worth another go
                        // while the lock is still ours.
                        Err(error @ StepError::TransientError(_)) if on_busy == OnBusy::Retry => {
                            return Err(error)
                        }
                        Err(error) => {
                            traffic = json!(format!("not restored: {error}"));
                            restore_error = Some(error);
                        }
                    }
                }
            }
        }
        // How it ended is written with the lock's release: the step recorded after it
        // cannot change an ended promotion's status.
        let status = if restore_error.is_some() {
            PromotionStatus::Failed
        } else if was_rejected(promotion, cause.as_ref()) {
            PromotionStatus::Rejected
        } else {
            PromotionStatus::RolledBack
        };
        let released = self.release(promotion, status).await?;
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
        Ok((
            json!({
                "reason": reason,
                "traffic": traffic,
                "lock": if released { "released" } else { "not held" },
            }),
            status,
        ))
    }

    /// Ends the promotion `status` and frees the lock in one write; `false` when this
    /// promotion no longer held it.
    async fn release(
        &self,
        promotion: &Promotion,
        status: PromotionStatus,
    ) -> Result<bool, StepError> {
        match self
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
            Ok(()) => Ok(true),
            Err(StoreError::LockNotHeld { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Why the target's stack cannot take a change now, if it cannot: a change is under
    /// way. An update in progress is cancelled first (CloudFormation rolls it back): the
    /// caller holds the lock, so the update is this promotion's own, interrupted.
    async fn busy(&self, target: &Environment) -> Result<Option<String>, StepError> {
        let status = self
            .stacks
            .stack_status(&target.stack_name)
            .await
            .map_err(stack_error)?
            .unwrap_or_default();
        if !crate::infra::deploy::is_in_progress(&status) {
            return Ok(None);
        }
        let cancelled = if status == "UPDATE_IN_PROGRESS" {
            match self.stacks.cancel_update(&target.stack_name).await {
                Ok(()) => "; its update was cancelled, and CloudFormation rolls it back".into(),
                Err(e) => format!("; cancelling its update failed ({e})"),
            }
        } else {
            String::new()
        };
        Ok(Some(format!(
            "stack {} is {status}{cancelled}",
            target.stack_name
        )))
    }

    /// After the Rollback step gave up (a stack busy past the state machine's bound,
    /// retries exhausted): the lock released if it is still held, the promotion ended
    /// Failed, and people told, since traffic may not be where it should.
    pub(super) async fn rollback_failed(
        &self,
        promotion: &Promotion,
        cause: Option<&Value>,
    ) -> Result<Value, StepError> {
        let reason = describe_cause(cause);
        let released = self.release(promotion, PromotionStatus::Failed).await?;
        let target = self
            .environments
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        let message = crate::promotion::messages::rollback_failed(
            promotion,
            target.as_ref().map(|t| t.stack_name.as_str()),
            &reason,
        );
        Ok(json!({
            "reason": reason,
            "traffic": "unknown: the rollback gave up; check the stack's listener weights",
            "lock": if released { "released" } else { "not held" },
            "notified": self.announce(&message).await,
        }))
    }
}
