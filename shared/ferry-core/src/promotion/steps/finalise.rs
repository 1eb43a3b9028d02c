//! Finalise: all traffic on the new colour, the old one scaled to zero, the lock released.

use super::*;

impl Steps<'_> {
    pub(super) async fn finalise(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
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
            }));
        }
        let new_live = target.live_colour.other();
        // All traffic on the new colour, the old one scaled to zero.
        let rollout = Rollout::steady(new_live, promotion.release.as_ref());
        let applied = self.apply(promotion, &target, &rollout, "finalise").await?;
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
            "weights": applied["weights"],
            "stack_status": applied["stack_status"],
            "template": applied["template"],
            "lock": "released",
        }))
    }
}
