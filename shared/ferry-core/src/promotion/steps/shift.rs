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

    /// Sets the listener weights for plan step `index`.
    pub(super) async fn shift(
        &self,
        promotion: &Promotion,
        index: usize,
    ) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let step = Self::plan_step(promotion, index)?;
        if Self::is_change(promotion) {
            // A change moves no traffic: its one step is the watch after Deploy.
            return Ok(
                json!({"step": index, "weight": step.weight, "bake_seconds": step.bake_seconds,
                             "traffic": format!("unchanged: all on {}", target.live_colour)}),
            );
        }
        let rollout = Self::rollout_at(promotion, &target, step.weight)?;
        let mut detail = self.apply(promotion, &target, &rollout, "shift").await?;
        detail["step"] = json!(index);
        detail["weight"] = json!(step.weight);
        detail["bake_seconds"] = json!(step.bake_seconds);
        Ok(detail)
    }
}
