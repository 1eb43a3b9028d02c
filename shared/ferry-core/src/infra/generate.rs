//! The template generator's work: an environment's template (for a promotion's release on
//! the idle colour, or as deployed), policy-checked and priced, kept as a report.

use crate::cost::{self, Catalog};
use crate::infra::template;
use crate::job::{environment, JobError};
use crate::model::{
    Environment, PinnedTemplate, PromotionStatus, Report, ReportKind, StepOutcome, StepRecord,
    TemplateRole,
};
use crate::names::{AppName, EnvName, PromotionId};
use crate::ports::{Environments, Promotions, Reports};
use crate::promotion::rollout::{Candidate, Rollout};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The Step Functions task payload of the template generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateTask {
    pub app: AppName,
    pub env: EnvName,
    /// When set, the template is for this promotion's release on the idle colour, and the
    /// generation is recorded as one of its steps.
    #[serde(default)]
    pub promotion_id: Option<PromotionId>,
}

/// A generated template and the summary a caller reports (the template itself can be
/// larger than a Step Functions payload allows, so the state machine gets the summary).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedTemplate {
    pub summary: Value,
    pub template: Value,
}

pub async fn generate_template(
    store: &(impl Environments + Promotions + Reports + ?Sized),
    task: &TemplateTask,
    pricing: Option<&Catalog>,
    now: DateTime<Utc>,
) -> Result<GeneratedTemplate, JobError> {
    let env = environment(store, &task.app, &task.env).await?;
    let promotion = match &task.promotion_id {
        Some(id) => Some(
            store
                .get_promotion(id)
                .await?
                .ok_or_else(|| JobError::NotFound(format!("promotion {id} was not found")))?,
        ),
        None => None,
    };
    // For a promotion: Deploy's template, from the spec pinned when the promotion was
    // created, with the new release on the idle colour taking no traffic; it is stored,
    // and every step of the promotion deploys it or derives from it (promotion::pinned).
    // Otherwise: what runs, regenerated.
    // A change (PromotionKind::Change) deploys in place: what runs, from its pinned spec.
    let change = promotion
        .as_ref()
        .filter(|p| p.kind == crate::model::PromotionKind::Change);
    let (release, colour) = match &promotion {
        Some(_) if change.is_some() => (env.deployed_release.as_ref(), env.live_colour),
        Some(p) => (p.release.as_ref(), env.live_colour.other()),
        None => (env.deployed_release.as_ref(), env.live_colour),
    };
    let pinned_env = match promotion.as_ref().and_then(|p| p.pinned.as_ref()) {
        Some(pinned) => Environment {
            spec: pinned.spec.clone(),
            ..env.clone()
        },
        None => env.clone(),
    };
    let rollout = match (&promotion, release) {
        (Some(_), _) if change.is_some() => Rollout::steady(env.live_colour, release),
        (Some(_), Some(release)) => Rollout {
            live: env.live_colour,
            live_release: env.deployed_release.as_ref(),
            candidate: Some(Candidate { release, weight: 0 }),
        },
        (Some(p), None) => {
            return Err(JobError::Invalid(format!(
                "promotion {} has no release",
                p.id
            )))
        }
        (None, _) => Rollout::steady(env.live_colour, release),
    };
    // Policy runs on every generate: a template breaking an unwaived rule is never stored.
    let (generated, policy) = template::render_rollout(&pinned_env, &rollout)?;
    let pinned = match &promotion {
        Some(p) => {
            let spec_version = p.pinned.as_ref().map_or(env.version, |t| t.spec_version);
            let pinned = PinnedTemplate::new(generated.to_string(), spec_version);
            store
                .pin_template(&p.id, TemplateRole::Deploy, &pinned)
                .await?;
            Some(pinned)
        }
        None => None,
    };
    let resource_count = generated["Resources"].as_object().map_or(0, |r| r.len());
    let waived: Vec<Value> = policy
        .waived
        .iter()
        .map(|(v, reason)| json!({"rule": v.rule, "reason": reason}))
        .collect();
    let mut summary = json!({
        "stack_name": env.stack_name,
        "resource_count": resource_count,
        "colour": colour,
        "image": release.map(|r| r.image.as_str()),
        "policy": {"rules_checked": policy.rules_checked, "waived": waived},
    });
    if let Some(pinned) = &pinned {
        summary["pinned"] = json!({"sha256": pinned.sha256, "spec_version": pinned.spec_version});
    }
    if let Some(catalog) = pricing {
        summary["cost"] = cost_change(store, &env, &generated, catalog).await?;
    }
    store
        .put_report(&Report {
            app: env.app.clone(),
            env: env.name.clone(),
            kind: ReportKind::Template,
            created_at: now,
            body: json!({"summary": summary, "template": &generated}),
        })
        .await?;
    if let Some(p) = &promotion {
        let step = StepRecord {
            name: "GenerateTemplate".into(),
            outcome: StepOutcome::Succeeded,
            started_at: now,
            finished_at: Utc::now(),
            detail: summary.clone(),
        };
        store
            .record_step(&p.id, &step, PromotionStatus::Running)
            .await?;
    }
    Ok(GeneratedTemplate {
        summary,
        template: generated,
    })
}

/// What the new template does to the environment's monthly cost, against the template
/// last generated for it (what was last deployed through Ferry), or, the first time,
/// against its current release regenerated.
async fn cost_change(
    store: &(impl Reports + ?Sized),
    env: &Environment,
    generated: &Value,
    catalog: &Catalog,
) -> Result<Value, JobError> {
    let previous = store
        .latest_report(&env.app, &env.name, ReportKind::Template)
        .await?
        .map(|report| report.body["template"].clone())
        .filter(|t| t.get("Resources").is_some())
        .unwrap_or_else(|| template::generate(env, env.deployed_release.as_ref(), env.live_colour));
    let usage = cost::Usage::profile_defaults(env.spec.profile_name);
    let before = cost::estimate(&previous, catalog, &usage);
    let after = cost::estimate(generated, catalog, &usage);
    let change = cost::diff::diff(&before, "before", &after, "after");
    Ok(json!({
        "summary": change.summary(),
        "monthly_usd_before": change.before_usd,
        "monthly_usd_after": change.after_usd,
        "delta_usd": change.delta_usd,
        "changes": change.changes.iter().take(5).collect::<Vec<_>>(),
    }))
}
