//! Rollback: traffic back on the old colour, the reason recorded, the lock released; and
//! what happens when it cannot be done.

use super::*;

/// The step the status-change handler records when the restore it started is still
/// changing the stack at its time limit: the update under way is then the restore, to be
/// waited for, not cancelled.
pub(super) const RESTORE_STEP: &str = "Restore";

/// What a rollback does about a stack that is mid-update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnBusy {
    /// Keep the lock and fail with [`StepError::StackBusy`]: the caller tries again later
    /// (the state machine's Retry, with backoff).
    Retry,
    /// Stop waiting: release the lock, the traffic not put back, and say so.
    GiveUp,
}

/// How a rollback's first half went.
pub(super) enum PutBack {
    /// The restore's change set is executing; the lock is still held until it settles.
    Started(Value),
    /// Nothing (more) to do to the stack: the promotion ended `status`, the lock freed.
    Ended(Value, PromotionStatus),
}

impl Steps<'_> {
    /// Starts putting the target back as it was: the old colour's weights and the new
    /// one scaled to zero, through a change set that `check_stack` follows; the lock is
    /// released once it settles. Never leaves the lock held unless the stack is mid-update
    /// (then the state machine retries, and after its bound [`Steps::rollback_failed`]
    /// releases it): if another promotion holds it, this one has nothing to release and
    /// must not touch the stack either.
    pub(super) async fn rollback(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
    ) -> Result<Value, StepError> {
        let reason = self.rollback_reason(promotion, cause.as_ref());
        let mut detail = match self
            .start_put_back(promotion, cause.as_ref(), OnBusy::Retry)
            .await?
        {
            PutBack::Started(detail) => detail,
            PutBack::Ended(mut detail, status) => {
                // Settled already: the state machine's one look only confirms it.
                let now = (self.now)();
                detail["stack"] = json!(StackOp {
                    operation: Action::Rollback,
                    step: None,
                    change_set: None,
                    since_event: None,
                    started_at: now,
                    deadline: now,
                    checks: 0,
                    wait_seconds: 0,
                    settled: true,
                    status: "unchanged".into(),
                });
                detail["ended"] = json!(status);
                detail
            }
        };
        detail["reason"] = json!(reason);
        Ok(detail)
    }

    fn rollback_reason(&self, promotion: &Promotion, cause: Option<&Value>) -> String {
        if cause.is_some_and(|c| c["Error"] == "States.Timeout")
            && promotion.status == PromotionStatus::AwaitingApproval
        {
            "Rejected (timeout): no decision before the approval timeout".to_owned()
        } else {
            describe_cause(cause)
        }
    }

    /// The first half of a rollback, for the Rollback step and for an execution that
    /// ended outside the state machine's own steps: the restore started, or (nothing to
    /// change, or it could not be done) the promotion ended and the lock released.
    pub(super) async fn start_put_back(
        &self,
        promotion: &Promotion,
        cause: Option<&Value>,
        on_busy: OnBusy,
    ) -> Result<PutBack, StepError> {
        let target = self
            .environments
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        let holds_lock = target
            .as_ref()
            .is_some_and(|t| t.active_promotion.as_ref() == Some(&promotion.id));
        let touched_stack = may_have_deployed(promotion, cause);
        // A restore the status-change handler started and left running: its own update,
        // not one to cancel.
        let restoring = promotion.steps.iter().any(|s| s.name == RESTORE_STEP);
        let mut restore_error = None;
        let mut traffic = json!("untouched: the promotion never deployed");
        if let (Some(target), true, true) = (&target, holds_lock, touched_stack) {
            match self.busy(target, !restoring).await? {
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
                    let started = if Self::is_change(promotion) {
                        match self.previous_change(promotion, target).await? {
                            Some(change) => {
                                self.start_change(
                                    promotion,
                                    target,
                                    change,
                                    serde_json::Map::new(),
                                    Action::Rollback,
                                    None,
                                )
                                .await
                            }
                            None => Ok(json!({"stack": {"settled": true}, "weights": "untouched"})),
                        }
                    } else {
                        self.start_apply(promotion, target, &rollout, Action::Rollback, None)
                            .await
                    };
                    match started {
                        Ok(started) if started["stack"]["settled"] == json!(false) => {
                            return Ok(PutBack::Started(json!({
                                "traffic": {"restoring": target.live_colour, "weights": started["weights"]},
                                "stack": started["stack"],
                                "template": started["template"],
                                "lock": "held until the restore settles",
                            })));
                        }
                        Ok(started) => {
                            traffic = json!({"live": target.live_colour, "weights": started["weights"], "new_colour": "scaled to 0", "template": started["template"]})
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
        } else if was_rejected(promotion, cause) {
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
        Ok(PutBack::Ended(
            json!({
                "reason": self.rollback_reason(promotion, cause),
                "traffic": traffic,
                "lock": if released { "released" } else { "not held" },
            }),
            status,
        ))
    }

    /// The restore settled: traffic is back on the old colour. The promotion ends
    /// (RolledBack, or Rejected after a rejection) and the lock is released.
    pub(super) async fn rolled_back(
        &self,
        promotion: &Promotion,
        target: &Environment,
        cause: Option<&Value>,
    ) -> Result<Value, StepError> {
        if promotion.status.is_terminal() {
            // Ended by the Rollback step itself (nothing to change): nothing to add.
            return Ok(json!({"already_ended": promotion.status}));
        }
        let status = if was_rejected(promotion, cause) {
            PromotionStatus::Rejected
        } else {
            PromotionStatus::RolledBack
        };
        let released = self.release(promotion, status).await?;
        Ok(json!({
            "reason": self.rollback_reason(promotion, cause),
            "traffic": {"live": target.live_colour, "new_colour": "scaled to 0"},
            "lock": if released { "released" } else { "not held" },
            "ended": status,
        }))
    }

    /// The restore failed, or outlasted its bound: the lock is released with the
    /// promotion Failed, and the error (RollbackIncomplete) sends the state machine to
    /// NotifyRollbackFailed, which tells people.
    pub(super) async fn rollback_gave_up(
        &self,
        promotion: &Promotion,
        why: String,
    ) -> Result<Value, StepError> {
        let released = self.release(promotion, PromotionStatus::Failed).await?;
        Err(StepError::RollbackIncomplete(format!(
            "traffic could not be put back on the old colour ({why}); the lock is {}",
            if released { "released" } else { "not held" }
        )))
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
    ///
    /// `cancel: false` leaves an update alone: the restore the status-change handler
    /// started, which is the one change that must finish.
    pub(super) async fn busy(
        &self,
        target: &Environment,
        cancel: bool,
    ) -> Result<Option<String>, StepError> {
        let status = self
            .stacks
            .stack_status(&target.stack_name)
            .await
            .map_err(stack_error)?
            .unwrap_or_default();
        if !crate::infra::deploy::is_in_progress(&status) {
            return Ok(None);
        }
        let cancelled = if status == "UPDATE_IN_PROGRESS" && cancel {
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
