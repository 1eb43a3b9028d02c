//! Shift: the listener's weights for one step of the traffic plan.

use super::*;

impl Steps<'_> {
    pub(super) fn plan_step(promotion: &Promotion, index: usize) -> Result<TrafficStep, StepError> {
        promotion.plan.get(index).copied().ok_or_else(|| {
            StepError::ValidationFailed(format!(
                "step {index} is beyond the plan's {} steps",
                promotion.plan.len()
            ))
        })
    }

    /// Starts setting the listener weights for plan step `index`; `check_stack` follows
    /// the change, then the state machine bakes.
    pub(super) async fn shift(
        &self,
        promotion: &Promotion,
        index: usize,
    ) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let step = Self::plan_step(promotion, index)?;
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate {
                release: Self::candidate(promotion)?,
                weight: step.weight,
            }),
        };
        let mut detail = self
            .start_apply(promotion, &target, &rollout, Action::Shift, Some(index))
            .await?;
        detail["step"] = json!(index);
        detail["weight"] = json!(step.weight);
        detail["bake_seconds"] = json!(step.bake_seconds);
        Ok(detail)
    }
}
