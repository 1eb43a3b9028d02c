//! Deploy: the new release on the idle colour, running, with no traffic.

use super::*;

impl Steps<'_> {
    /// What the Deploy step's change set would change, for the risk score.
    pub(super) async fn preview_deploy(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<Vec<ResourceChange>, StepError> {
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate {
                release: Self::candidate(promotion)?,
                weight: 0,
            }),
        };
        let (template, parameters) = self.stack_change(target, &rollout).await?;
        Ok(crate::infra::deploy::preview(
            self.stacks,
            &target.stack_name,
            &template.to_string(),
            &parameters,
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
        let release = Self::candidate(promotion)?;
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate { release, weight: 0 }),
        };
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
