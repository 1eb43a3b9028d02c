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
        // A change moves no traffic: its rollout is the environment as it runs, so the
        // change set is empty and the step settles at once; the bake is its watch.
        let rollout = Self::rollout_at(promotion, &target, step.weight)?;
        let mut detail = self
            .start_apply(promotion, &target, &rollout, Action::Shift, Some(index))
            .await?;
        detail["step"] = json!(index);
        detail["weight"] = json!(step.weight);
        detail["bake_seconds"] = json!(step.bake_seconds);
        Ok(detail)
    }
}
