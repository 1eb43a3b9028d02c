//! Deploy: the new release on the idle colour, running, with no traffic.

use super::*;

impl Steps<'_> {
    /// What the Deploy step's change set would change, for the risk score.
    pub(super) async fn preview_deploy(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<Vec<ResourceChange>, StepError> {
        let rollout = Self::rollout_at(promotion, target, 0)?;
        let change = self.stack_change(promotion, target, &rollout).await?;
        Ok(crate::infra::deploy::preview(
            self.stacks,
            &target.stack_name,
            &change.body,
            &change.parameters,
            &self.change_set_name(promotion, "preview"),
            self.policy.polling,
        )
        .await?)
    }

    pub(super) fn candidate(promotion: &Promotion) -> Result<&crate::model::Release, StepError> {
        promotion
            .release
            .as_ref()
            .ok_or_else(|| StepError::ValidationFailed("no release".into()))
    }

    /// The new release on the idle colour, running but with no traffic.
    pub(super) async fn deploy(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        if Self::is_change(promotion) {
            // What a failed change puts back.
            let previous = self.keep_previous(promotion, &target).await?;
            let rollout = Self::rollout_at(promotion, &target, 0)?;
            let mut detail = self
                .start_apply(promotion, &target, &rollout, Action::Deploy, None)
                .await?;
            detail["previous_template"] = json!(previous);
            detail["colour"] = json!(target.live_colour);
            detail["next_step"] = json!(0);
            detail["steps"] = json!(promotion.plan.len());
            return Ok(detail);
        }
        let release = Self::candidate(promotion)?;
        let rollout = Self::rollout_at(promotion, &target, 0)?;
        let mut detail = self
            .start_apply(promotion, &target, &rollout, Action::Deploy, None)
            .await?;
        detail["colour"] = json!(target.live_colour.other());
        detail["image"] = json!(release.image.as_str());
        detail["next_step"] = json!(0);
        detail["steps"] = json!(promotion.plan.len());
        Ok(detail)
    }
}
