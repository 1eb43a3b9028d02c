//! Finalise, after the watch window: the plan's last step put all traffic on the new
//! colour and the old one stayed warm (running, no traffic) through the window, so an
//! alarm in it rolls back with a weight change, not a scale-up. With no alarm, the old
//! colour is scaled to zero; once that settles, the live colour and release are recorded
//! and the lock released.

use super::*;

/// What a watch window is, when a spec does not say: ten minutes.
pub const DEFAULT_WATCH_WINDOW_SECONDS: u64 = 600;

impl Steps<'_> {
    /// Opens the watch window. The task token is stored first and the alarms looked at
    /// second: an alarm that fired before the token was stored is seen by this look, one
    /// after it by the alarm's event (`jobs::cut_watch_short`), which fails the task.
    pub(super) async fn watch(
        &self,
        promotion: &Promotion,
        token: Option<&str>,
    ) -> Result<Value, StepError> {
        let token = token
            .ok_or_else(|| StepError::ValidationFailed("watch needs the task token".into()))?;
        let target = self.locked_target(promotion).await?;
        self.promotions
            .set_watch_token(&promotion.id, token)
            .await?;
        let window_began = self.no_alarm_in_window(promotion, &target).await?;
        Ok(json!({
            "watching": format!("ferry/{}/{}/*", promotion.app, promotion.target_env),
            "watch_seconds": target.spec.watch_window_seconds(),
            "watch_window_began": window_began,
        }))
    }

    /// Fails with `AlarmFired` if any of the environment's alarms was in ALARM since the
    /// watch window began, that is, since the last Analyse looked at them; returns when
    /// it began.
    async fn no_alarm_in_window(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<DateTime<Utc>, StepError> {
        let window_began = promotion
            .steps
            .iter()
            .rev()
            .find(|s| s.name.starts_with("Analyse") && s.outcome == StepOutcome::Succeeded)
            .map(|s| s.started_at)
            .unwrap_or_else(|| {
                (self.now)() - chrono::Duration::seconds(target.spec.watch_window_seconds() as i64)
            });
        let prefix = format!("ferry/{}/{}/", promotion.app, promotion.target_env);
        let firing = self
            .metrics
            .alarms_in_alarm_since(&prefix, window_began)
            .await?;
        if !firing.is_empty() {
            return Err(StepError::AlarmFired {
                message: format!("in ALARM during the watch window: {}", firing.join(", ")),
                detail: json!({"alarms": firing, "watch_window_began": window_began}),
            });
        }
        Ok(window_began)
    }

    pub(super) async fn finalise(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        // The alarm events cut the window short; this look covers an event lost on the way.
        let window_began = self.no_alarm_in_window(promotion, &target).await?;
        let new_live = target.live_colour.other();
        // All traffic on the new colour, the old one scaled to zero; a change already runs
        // as it should, so its change set is empty.
        let rollout = if Self::is_change(promotion) {
            Self::rollout_at(promotion, &target, 0)?
        } else {
            Rollout::steady(new_live, promotion.release.as_ref())
        };
        let mut detail = self
            .start_apply(promotion, &target, &rollout, Action::Finalise, None)
            .await?;
        detail["alarms"] = json!("none in ALARM during the watch window");
        detail["watch_window_began"] = json!(window_began);
        if !Self::is_change(promotion) {
            detail["scaling_down"] = json!(target.live_colour);
        }
        Ok(detail)
    }

    /// The old colour is scaled down: the new colour and release become the
    /// environment's, and the lock is released, in one write.
    pub(super) async fn finalised(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<Value, StepError> {
        if Self::is_change(promotion) {
            // Deployed and watched: the live colour and the release stay as they were,
            // and the spec it deployed is now the one releases deploy.
            let updated = Environment {
                deployed_spec: promotion.pinned.clone(),
                updated_at: (self.now)(),
                ..target.clone()
            };
            self.promotions
                .complete_promotion(
                    promotion,
                    Completion {
                        status: PromotionStatus::Succeeded,
                        environment: Some(updated),
                    },
                )
                .await?;
            return Ok(json!({
                "live_colour": target.live_colour,
                "release": target.deployed_release.as_ref().map(|r| r.image.as_str()),
                "lock": "released",
                "ended": PromotionStatus::Succeeded,
            }));
        }
        let new_live = target.live_colour.other();
        let updated = Environment {
            deployed_release: promotion.release.clone(),
            live_colour: new_live,
            deployed_spec: promotion.pinned.clone(),
            updated_at: (self.now)(),
            ..target.clone()
        };
        self.promotions
            .complete_promotion(
                promotion,
                Completion {
                    status: PromotionStatus::Succeeded,
                    environment: Some(updated),
                },
            )
            .await?;
        Ok(json!({
            "live_colour": new_live,
            "previous_colour": target.live_colour,
            "release": promotion.release.as_ref().map(|r| r.image.as_str()),
            "lock": "released",
            "ended": PromotionStatus::Succeeded,
        }))
    }
}
