//! AssessRisk and AwaitApproval: the explained risk score, and the wait for a decision.

use super::*;

impl Steps<'_> {
    pub(super) async fn assess_risk(
        &self,
        promotion: &Promotion,
        now: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let (source, target) = self.environments(promotion).await?;
        let history = self
            .promotions
            .list_promotions(&promotion.app, &promotion.target_env, 20)
            .await?;
        let past: Vec<&Promotion> = history
            .iter()
            .filter(|p| p.id != promotion.id && p.status.is_terminal())
            .collect();
        let changes = self.preview_deploy(promotion, &target).await?;
        let new_colour = crate::infra::template::colour_title(target.live_colour.other());
        let release_resource = |c: &ResourceChange| {
            c.logical_id.contains(new_colour)
                && ["TaskDefinition", "Service", "ScalableTarget", "CpuScaling"]
                    .iter()
                    .any(|kind| c.logical_id.ends_with(kind))
        };
        let replacements = changes
            .iter()
            .filter(|c| matches!(c.replacement.as_str(), "True" | "Conditional"))
            .filter(|c| c.resource_type != "AWS::ECS::TaskDefinition")
            .count();
        let infra_changes = changes.iter().filter(|c| !release_resource(c)).count();
        // Losing a data store is never a side effect: refused unless the request named it.
        let refused = crate::infra::stateful::refused(&changes, &promotion.allow_replace);
        if !refused.is_empty() {
            return Err(StepError::ReplacementRefused(
                crate::infra::stateful::describe_refusal(&refused),
            ));
        }
        let deletions = changes.iter().filter(|c| c.action == "Remove").count();
        let stateful_changes = changes
            .iter()
            .filter(|c| crate::infra::stateful::is_stateful(c))
            .count();
        let security_group_changes = changes
            .iter()
            .filter(|c| c.resource_type.starts_with("AWS::EC2::SecurityGroup"))
            .count();
        let open_alerts = self
            .alerts
            .open_alerts(&promotion.app, &promotion.target_env)
            .await?
            .len();
        let risk = assess(&RiskInputs {
            target_env: &target.name,
            target_profile: target.spec.profile_name,
            replacements,
            infra_changes,
            deletions,
            stateful_changes,
            security_group_changes,
            open_alerts,
            config_changes: config_diff_size(promotion, &target),
            spec_changes: usize::from(source.spec != target.spec),
            recent_promotions: past.len(),
            recent_failures: past
                .iter()
                .filter(|p| p.status != PromotionStatus::Succeeded)
                .count(),
            hours_since_last_failure: past
                .iter()
                .filter(|p| p.status != PromotionStatus::Succeeded)
                .map(|p| (now - p.updated_at).num_minutes() as f64 / 60.0)
                .reduce(f64::min),
            now,
        });
        // The environment's own policy (its spec, else its profile), never its name.
        let policy = target.spec.approval_policy();
        let requires_approval =
            policy.requires_approval(risk.score, self.policy.approval_threshold);
        Ok(json!({
            "score": risk.score,
            "factors": risk.factors,
            "change_set": {"changes": changes.len(), "replacements": replacements, "beyond_the_new_colour": infra_changes,
                           // Called out by name: what a reviewer must look at first.
                           "replaced": changes.iter().filter(|c| matches!(c.replacement.as_str(), "True" | "Conditional"))
                               .map(|c| format!("{} ({})", c.logical_id, c.resource_type)).collect::<Vec<_>>(),
                           "deleted": changes.iter().filter(|c| c.action == "Remove")
                               .map(|c| format!("{} ({})", c.logical_id, c.resource_type)).collect::<Vec<_>>()},
            "requires_approval": requires_approval,
            "approval": policy,
            "approvers": target.spec.promotion.approvers,
            "approval_threshold": self.policy.approval_threshold,
        }))
    }

    /// Parks the promotion until an approver decides (or the state machine's timeout
    /// fires): the task token is what `POST /promotions/{id}/approve` completes.
    pub(super) async fn await_approval(
        &self,
        promotion: &Promotion,
        token: Option<&str>,
    ) -> Result<Value, StepError> {
        let token = token.ok_or_else(|| {
            StepError::ValidationFailed("await_approval needs the task token".into())
        })?;
        self.promotions
            .set_approval_token(&promotion.id, token)
            .await?;
        // Approvers hear of it (Slack, email) with the why and the exact commands; a
        // notification that fails is on the record, and never fails the wait.
        let (_, target) = self.environments(promotion).await?;
        let message = crate::promotion::messages::approval_request(
            promotion,
            &target,
            &crate::promotion::wait_id(token),
        );
        Ok(json!({
            "awaiting": "approval",
            "target_env": promotion.target_env,
            "requested_by": promotion.requested_by,
            "approvers_needed": target.spec.promotion.approvers.max(1),
            "notified": self.announce(&message).await,
        }))
    }
}
