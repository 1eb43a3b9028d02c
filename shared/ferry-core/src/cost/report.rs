//! The weekly cost report: each environment's estimate with its advice and rightsizing,
//! budget alerts, and Ferry's own cost beside the apps'.

use crate::cost::{self, Catalog};
use crate::infra::template;
use crate::job::JobError;
use crate::model::{Environment, Report, ReportKind};
use crate::monitoring::jobs::record_change;
use crate::ports::FerryCostRecord;
use crate::ports::{Alerts, DeployedStacks, EngineState, Environments, Promotions, Reports};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where rightsizing reads utilisation: the deployed stack's physical names and
/// CloudWatch.
pub struct Rightsizing<'a> {
    pub stacks: &'a dyn DeployedStacks,
    pub metrics: &'a dyn crate::ports::Metrics,
}

impl Rightsizing<'_> {
    /// Utilisation per logical id, or none and why: a report is still worth writing when
    /// CloudWatch or CloudFormation cannot be read.
    async fn utilisation(
        &self,
        stack: &str,
        template: &Value,
        now: DateTime<Utc>,
    ) -> (
        std::collections::BTreeMap<String, cost::advice::Utilisation>,
        Option<String>,
    ) {
        let physical = match self.stacks.physical_ids(stack).await {
            Ok(ids) if ids.is_empty() => {
                return (
                    Default::default(),
                    Some(format!("stack {stack} is not deployed")),
                )
            }
            Ok(ids) => ids,
            Err(e) => return (Default::default(), Some(e.to_string())),
        };
        match cost::utilisation::collect(self.metrics, template, &physical, now).await {
            Ok(seen) => (seen, None),
            Err(e) => (Default::default(), Some(e.to_string())),
        }
    }
}

/// One environment's figure from a cost run: what the EMF metric and the summary carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostFigure {
    pub app: String,
    pub env: String,
    pub monthly_usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_month: Option<f64>,
    pub over_budget: bool,
}

/// Prices every environment's current template, stores one cost report each, and
/// raises (or clears) the budget alert `ferry/<app>/<env>/budget`.
pub async fn cost_reports(
    store: &(impl Environments + Reports + Alerts + ?Sized),
    catalog: &Catalog,
    rightsizing: Option<Rightsizing<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<CostFigure>, JobError> {
    let mut figures = Vec::new();
    for env in store.list_environments(None).await? {
        let generated = template::generate(&env, env.deployed_release.as_ref(), env.live_colour);
        let profile = env.spec.profile_name;
        let (utilisation, rightsizing_note) = match &rightsizing {
            Some(sources) => sources.utilisation(&env.stack_name, &generated, now).await,
            None => (Default::default(), Some("rightsizing is off".to_owned())),
        };
        let context = cost::advice::AdviceContext {
            profile: Some(profile),
            utilisation,
            ..Default::default()
        };
        let estimate = cost::analyse(
            &generated,
            catalog,
            &cost::Usage::profile_defaults(profile),
            &context,
        );
        let mut body = serde_json::to_value(&estimate).unwrap_or(Value::Null);
        body["rightsizing"] = json!({
            "look_back_days": cost::utilisation::LOOK_BACK_DAYS,
            "resources_measured": context.utilisation.len(),
            "note": rightsizing_note,
        });
        store
            .put_report(&Report {
                app: env.app.clone(),
                env: env.name.clone(),
                kind: ReportKind::Cost,
                created_at: now,
                body,
            })
            .await?;
        let budget = env.spec.budget_usd_month;
        let over_budget = budget.is_some_and(|b| estimate.monthly_usd > b);
        budget_alert(store, &env, estimate.monthly_usd, budget, over_budget, now).await?;
        figures.push(CostFigure {
            app: env.app.to_string(),
            env: env.name.to_string(),
            monthly_usd: estimate.monthly_usd,
            budget_usd_month: budget,
            over_budget,
        });
    }
    Ok(figures)
}

/// The schedules of Ferry's own jobs as deployed (the stack's parameters, handed to the
/// cost-analyzer as configuration); `None` takes the compiled-in template's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FerrySchedules {
    pub evaluations_per_minute: Option<f64>,
    pub drift_checks_per_month: Option<f64>,
    pub cost_reports_per_month: Option<f64>,
}

/// Ferry's own monthly cost, as the cost report states it beside the apps'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FerryCost {
    pub monthly_usd: f64,
    pub usage_based_usd: f64,
    pub environments: f64,
    /// Promotions started in the last 30 days, scaled to the catalog's month.
    pub promotions_per_month: f64,
    pub evaluations_per_minute: f64,
    /// GetMetricData metrics one scheduled evaluation requests, over all environments.
    pub metrics_per_evaluation: f64,
    /// Share of the promotions (by environment when there were none) whose template is
    /// over CloudFormation's inline limit, and so goes through the artifacts bucket.
    #[serde(default)]
    pub template_upload_share: f64,
    /// Resources the catalog cannot price in this region, named.
    pub unpriced: Vec<String>,
    pub warnings: Vec<String>,
}

/// The metrics one scheduled evaluation of `env` requests: one per rule target, as
/// `evaluate_rules` plans them (counted offline: the deployed stack's physical names only
/// change the dimensions, not how many series there are).
fn metrics_per_evaluation(env: &Environment, template: &Value) -> usize {
    use crate::monitoring::rules::RuleKind;
    let physical: std::collections::BTreeMap<String, String> = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, _)| (id.clone(), format!("{}-{id}", env.stack_name)))
        .collect();
    env.spec
        .alert_rules()
        .iter()
        .map(|rule| match &rule.kind {
            RuleKind::Threshold {
                metric,
                statistic,
                period_seconds,
                ..
            }
            | RuleKind::Anomaly {
                metric,
                statistic,
                period_seconds,
                ..
            }
            | RuleKind::Forecast {
                metric,
                statistic,
                period_seconds,
                ..
            } => crate::monitoring::evaluate::targets(
                metric,
                statistic,
                *period_seconds,
                template,
                &physical,
            )
            .len(),
            RuleKind::Composite { .. } => 0,
        })
        .sum()
}

/// Prices Ferry's own template with the load Ferry itself knows: the environments in the
/// store, the promotions started in the last 30 days, each environment's alert rules (how
/// many metrics an evaluation reads) and the deployed schedules. Only the store is read.
pub async fn ferry_cost(
    store: &(impl Environments + Promotions + EngineState + ?Sized),
    catalog: &Catalog,
    ferry_template: &Value,
    schedules: &FerrySchedules,
    now: DateTime<Utc>,
) -> Result<FerryCost, JobError> {
    let environments = store.list_environments(None).await?;
    let since = now - chrono::Duration::days(30);
    let (mut promotions, mut metrics) = (0_usize, 0_usize);
    // Each environment's promotions and template size: a template over the inline limit
    // goes through the artifacts bucket at every change set of a promotion. (A promotion's
    // templates differ from the steady one only in the colours' weights: a few bytes.)
    let mut sizes: Vec<(usize, usize)> = Vec::new();
    for env in &environments {
        let recent = store
            .list_promotions(&env.app, &env.name, 1_000)
            .await?
            .into_iter()
            .filter(|p| p.created_at > since)
            .count();
        promotions += recent;
        let template = template::generate(env, env.deployed_release.as_ref(), env.live_colour);
        metrics += metrics_per_evaluation(env, &template);
        sizes.push((recent, template.to_string().len()));
    }
    let count = environments.len() as f64;
    // 30 days of promotions, scaled to the catalog's month (730 h = 30.42 days).
    let promotions_per_month = promotions as f64 * cost::HOURS_PER_MONTH / (24.0 * 30.0);
    let mut load = cost::bill::load_for(
        ferry_template,
        Some(count),
        Some(promotions_per_month),
        schedules.evaluations_per_minute,
        None,
    );
    load.drift_checks_per_month = schedules.drift_checks_per_month;
    load.cost_reports_per_month = schedules.cost_reports_per_month;
    if !environments.is_empty() {
        load.figures.metrics_per_evaluation = metrics as f64 / count;
        // Weighted by promotions; with none in the month, by environment (nothing is
        // uploaded then, but the share still says how many templates are that large).
        let weight = |recent: usize| (if promotions > 0 { recent } else { 1 }) as f64;
        let total: f64 = sizes.iter().map(|(recent, _)| weight(*recent)).sum();
        let over: Vec<&(usize, usize)> = sizes
            .iter()
            .filter(|(_, bytes)| *bytes > template::MAX_TEMPLATE_BODY_BYTES)
            .collect();
        let uploading: f64 = over.iter().map(|(recent, _)| weight(*recent)).sum();
        load.figures.template_upload_share = if total > 0.0 { uploading / total } else { 0.0 };
        if uploading > 0.0 {
            load.figures.uploaded_template_bytes = over
                .iter()
                .map(|(recent, bytes)| weight(*recent) * *bytes as f64)
                .sum::<f64>()
                / uploading;
        }
    }
    let mut usage = cost::Usage::profile_defaults(crate::infra::profile::ProfileName::Prod);
    let assumptions = cost::bill::apply(ferry_template, &load, &mut usage);
    let estimate = cost::estimate(ferry_template, catalog, &usage);
    let figure = FerryCost {
        monthly_usd: estimate.monthly_usd,
        usage_based_usd: estimate.usage_based_usd(),
        environments: count,
        promotions_per_month: cost::round_cents(promotions_per_month),
        evaluations_per_minute: load.evaluations_per_minute,
        metrics_per_evaluation: metrics as f64,
        template_upload_share: load.figures.template_upload_share,
        unpriced: estimate
            .unpriced
            .iter()
            .map(|u| format!("{} ({}): {}", u.logical_id, u.resource_type, u.reason))
            .collect(),
        warnings: assumptions.warnings.clone(),
    };
    // Kept with its breakdown, so the latest figure can be read back beside the apps'
    // reports (the same GetItem and PutItem the job already makes).
    let version = store.ferry_cost().await?.map_or(0, |kept| kept.version);
    let record = FerryCostRecord {
        computed_at: now,
        figure: figure.clone(),
        estimate: serde_json::to_value(&estimate).unwrap_or(Value::Null),
        assumptions: serde_json::to_value(&assumptions).unwrap_or(Value::Null),
    };
    store.save_ferry_cost(&record, version).await?;
    Ok(figure)
}

/// The budget alarm goes into ALARM when the estimate exceeds the budget, and back to OK
/// (only if it was in ALARM) when it no longer does.
async fn budget_alert(
    store: &(impl Alerts + ?Sized),
    env: &Environment,
    monthly_usd: f64,
    budget: Option<f64>,
    over_budget: bool,
    now: DateTime<Utc>,
) -> Result<(), JobError> {
    let Some(budget) = budget else { return Ok(()) };
    let alarm_name = format!("ferry/{}/{}/budget", env.app, env.name);
    let was_alarm = store
        .get_alert_state(&alarm_name)
        .await?
        .is_some_and(|s| s.state == "ALARM");
    if !over_budget && !was_alarm {
        return Ok(());
    }
    let (state, reason) = if over_budget {
        (
            "ALARM",
            format!("the estimated ${monthly_usd:.2}/month exceeds the budget ${budget:.2}/month"),
        )
    } else {
        (
            "OK",
            format!(
                "the estimated ${monthly_usd:.2}/month is within the budget ${budget:.2}/month"
            ),
        )
    };
    let previous = Some(if was_alarm { "ALARM" } else { "OK" }.to_owned());
    let metric = Some("EstimatedMonthlyCost".to_owned());
    record_change(store, env, alarm_name, state, previous, reason, metric, now).await?;
    Ok(())
}
