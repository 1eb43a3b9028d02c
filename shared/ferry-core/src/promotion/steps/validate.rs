//! Validate: the target holds this promotion's lock, the release exists, the stack exists.

use super::*;

impl Steps<'_> {
    pub(super) async fn validate(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let (_source, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        // A change keeps what runs, a release or (before the first) the spec's images.
        let release = match promotion.release.as_ref() {
            Some(release) => Some(release.image.as_str()),
            None if Self::is_change(promotion) => None,
            None => {
                return Err(StepError::ValidationFailed(format!(
                    "{} had no deployed release when the promotion was created",
                    promotion.source_env
                )))
            }
        };
        if promotion.status.is_terminal() {
            return Err(StepError::ValidationFailed(format!(
                "promotion {} has already ended",
                promotion.id
            )));
        }
        if self
            .stacks
            .stack_status(&target.stack_name)
            .await
            .map_err(stack_error)?
            .is_none()
        {
            return Err(StepError::ValidationFailed(format!(
                "{} has no stack {} to promote into; run `ferry deploy` for it first",
                target.name, target.stack_name
            )));
        }
        Ok(json!({
            "release": release,
            "kind": promotion.kind,
            "target_live_colour": target.live_colour,
            "target_version": target.version,
            "stack": target.stack_name,
            "plan": promotion.plan,
            "lock": "held",
        }))
    }
}
