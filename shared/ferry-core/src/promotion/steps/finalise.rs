//! Finalise, after the watch window: the plan's last step put all traffic on the new
//! colour and the old one stayed warm (running, no traffic) through the window, so an
//! alarm in it rolls back with a weight change, not a scale-up. With no alarm, the old
//! colour is scaled to zero; once that settles, the live colour and release are recorded
//! and the lock released.

use super::*;

/// What a watch window is, when a spec does not say: ten minutes.
pub const DEFAULT_WATCH_WINDOW_SECONDS: u64 = 600;

impl Steps<'_> {
    pub(super) async fn finalise(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        // The window began when the last Analyse looked at the alarms: from then on.
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
            // Deployed and watched: the live colour and the release stay as they were.
            self.promotions
                .complete_promotion(
                    promotion,
                    Completion {
                        status: PromotionStatus::Succeeded,
                        environment: None,
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
