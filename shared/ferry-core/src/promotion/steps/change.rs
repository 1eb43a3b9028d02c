//! What an infrastructure change ([`PromotionKind::Change`]) does differently from a
//! release: it deploys the pinned spec in place (the live colour keeps its traffic and
//! its release), keeps the stack's template from before it, and puts that back on
//! failure. Everything else (the lock, the preview, the risk, the approval, the watch)
//! is the promotion's own.
//!
//! [`PromotionKind::Change`]: crate::model::PromotionKind::Change

use super::*;
use crate::model::{PinnedTemplate, PromotionKind, TemplateRole};

impl Steps<'_> {
    pub(super) fn is_change(promotion: &Promotion) -> bool {
        promotion.kind == PromotionKind::Change
    }

    /// The stack at plan weight `weight`: a release on the idle colour with that share,
    /// or, for a change, the environment as it runs (live colour, deployed release).
    pub(super) fn rollout_at<'p>(
        promotion: &'p Promotion,
        target: &'p Environment,
        weight: u8,
    ) -> Result<Rollout<'p>, StepError> {
        if Self::is_change(promotion) {
            return Ok(Rollout::steady(
                target.live_colour,
                target.deployed_release.as_ref(),
            ));
        }
        Ok(Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate {
                release: Self::candidate(promotion)?,
                weight,
            }),
        })
    }

    /// Keeps the template the stack runs before a change touches it, once: a retried
    /// Deploy finds the first one kept (the stack may already run the change by then).
    pub(super) async fn keep_previous(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<String, StepError> {
        if let Some(kept) = self
            .promotions
            .pinned_template(&promotion.id, TemplateRole::Previous)
            .await?
        {
            return Ok(kept.sha256);
        }
        let body = self
            .stacks
            .current_template(&target.stack_name)
            .await
            .map_err(stack_error)?
            .ok_or_else(|| {
                StepError::ValidationFailed(format!("stack {} does not exist", target.stack_name))
            })?;
        let kept = PinnedTemplate::new(body, target.version);
        self.promotions
            .pin_template(&promotion.id, TemplateRole::Previous, &kept)
            .await?;
        Ok(kept.sha256)
    }

    /// The template kept before the change, to put back, with the stack's parameters;
    /// `None` if the change never reached Deploy.
    pub(super) async fn previous_change(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<Option<StackChange>, StepError> {
        let Some(kept) = self
            .promotions
            .pinned_template(&promotion.id, TemplateRole::Previous)
            .await?
        else {
            return Ok(None);
        };
        let details = self
            .stacks
            .stack_details(&target.stack_name)
            .await
            .map_err(stack_error)?
            .unwrap_or_default();
        let template: Value = serde_json::from_str(&kept.body).unwrap_or(Value::Null);
        Ok(Some(StackChange {
            provenance: json!({"sha256": kept.sha256, "previous": true}),
            parameters: stack_parameters(&template, &details),
            body: kept.body,
        }))
    }
}
