//! The work behind the scheduled and event-driven functions, over the ports, so each
//! Lambda handler is only: parse the event, call one of these, map the error.

use crate::alerts::attribute_alarm;
use crate::cost::{self, Catalog};
use crate::drift::{self, DriftStatus};
use crate::model::{
    AlertEvent, Environment, PromotionStatus, Report, ReportKind, StepOutcome, StepRecord,
};
use crate::names::{AppName, EnvName, PromotionId};
use crate::ports::{DeployedStacks, StacksError, Store, StoreError};
use crate::template;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JobError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    /// The template breaks a policy rule the environment does not waive.
    #[error(transparent)]
    Policy(#[from] template::RenderError),
    #[error(transparent)]
    Metrics(#[from] crate::ports::MetricsError),
    /// Stored data that should have been refused on the way in.
    #[error("{0}")]
    Invalid(String),
}

impl JobError {
    /// The function error name (`errorType`); `TransientError` is the one worth a retry.
    pub fn name(&self) -> &'static str {
        match self {
            JobError::NotFound(_) => "NotFound",
            JobError::Store(StoreError::Unavailable(_))
            | JobError::Stacks(StacksError::Unavailable(_))
            | JobError::Metrics(crate::ports::MetricsError::Unavailable(_)) => "TransientError",
            JobError::Policy(template::RenderError::Policy(_)) => "PolicyViolation",
            // Refused at validation; reaching a job means the spec predates the check.
            JobError::Policy(
                template::RenderError::TooManyResources { .. }
                | template::RenderError::TooLarge { .. },
            ) => "ValidationFailed",
            JobError::Store(_)
            | JobError::Stacks(_)
            | JobError::Policy(_)
            | JobError::Metrics(_)
            | JobError::Invalid(_) => "InternalError",
        }
    }
}

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

async fn environment(
    store: &dyn Store,
    app: &AppName,
    env: &EnvName,
) -> Result<Environment, JobError> {
    store
        .get_environment(app, env)
        .await?
        .ok_or_else(|| JobError::NotFound(format!("environment {app}/{env} was not found")))
}

/// A generated template and the summary a caller reports (the template itself can be
/// larger than a Step Functions payload allows, so the state machine gets the summary).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedTemplate {
    pub summary: Value,
    pub template: Value,
}

pub async fn generate_template(
    store: &dyn Store,
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
    // For a promotion, the new release goes on the idle colour; otherwise regenerate what runs.
    let (release, colour) = match &promotion {
        Some(p) => (p.release.as_ref(), env.live_colour.other()),
        None => (env.deployed_release.as_ref(), env.live_colour),
    };
    // Policy runs on every generate: a template breaking an unwaived rule is never stored.
    let (generated, policy) = template::render(&env, release, colour)?;
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
    store: &dyn Store,
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

/// Records an alert's state change, once per alarm and instant.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    store: &dyn Store,
    env: &Environment,
    alarm_name: String,
    state: &str,
    previous_state: Option<String>,
    reason: String,
    metric: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), JobError> {
    store
        .record_alert(&AlertEvent {
            event_id: format!("{alarm_name}@{}", now.to_rfc3339()),
            alarm_name,
            app: Some(env.app.clone()),
            env: Some(env.name.clone()),
            state: state.into(),
            previous_state,
            reason,
            metric,
            changed_at: now,
        })
        .await?;
    Ok(())
}

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
    store: &dyn Store,
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
    store: &dyn Store,
    catalog: &Catalog,
    ferry_template: &Value,
    schedules: &FerrySchedules,
    now: DateTime<Utc>,
) -> Result<FerryCost, JobError> {
    let environments = store.list_environments(None).await?;
    let since = now - chrono::Duration::days(30);
    let (mut promotions, mut metrics) = (0_usize, 0_usize);
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
    }
    let mut usage = cost::Usage::profile_defaults(crate::profile::ProfileName::Prod);
    let assumptions = cost::bill::apply(ferry_template, &load, &mut usage);
    let estimate = cost::estimate(ferry_template, catalog, &usage);
    let figure = FerryCost {
        monthly_usd: estimate.monthly_usd,
        usage_based_usd: estimate.usage_based_usd(),
        environments: count,
        promotions_per_month: cost::round_cents(promotions_per_month),
        evaluations_per_minute: load.evaluations_per_minute,
        metrics_per_evaluation: metrics as f64,
        unpriced: estimate
            .unpriced
            .iter()
            .map(|u| format!("{} ({}): {}", u.logical_id, u.resource_type, u.reason))
            .collect(),
        warnings: assumptions.warnings.clone(),
    };
    // Kept with its breakdown, so the latest figure can be read back beside the apps'
    // reports (the same GetItem and PutItem the job already makes).
    let key = "cost/ferry";
    let version = store.load_state(key).await?.map(|(_, v)| v);
    let state = json!({
        "computed_at": now, "figure": &figure, "estimate": &estimate, "assumptions": &assumptions,
    });
    store.save_state(key, &state, version).await?;
    Ok(figure)
}

/// The budget alarm goes into ALARM when the estimate exceeds the budget, and back to OK
/// (only if it was in ALARM) when it no longer does.
async fn budget_alert(
    store: &dyn Store,
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

/// Compares every environment's expected template with its deployed stack.
pub async fn drift_reports(
    store: &dyn Store,
    stacks: &dyn DeployedStacks,
    now: DateTime<Utc>,
) -> Result<Value, JobError> {
    let mut summaries = Vec::new();
    for env in store.list_environments(None).await? {
        let expected = template::generate(&env, env.deployed_release.as_ref(), env.live_colour);
        let deployed = stacks.deployed_template(&env.stack_name).await?;
        let report = drift::compare(&env.stack_name, &expected, deployed.as_ref());
        summaries.push(json!({
            "app": env.app, "env": env.name, "status": report.status,
            "drifted_resources": report.resources.len(),
        }));
        store
            .put_report(&Report {
                app: env.app.clone(),
                env: env.name.clone(),
                kind: ReportKind::Drift,
                created_at: now,
                body: serde_json::to_value(&report).unwrap_or(Value::Null),
            })
            .await?;
    }
    let drifted = summaries
        .iter()
        .filter(|s| s["status"] == json!(DriftStatus::Drifted))
        .count();
    Ok(json!({"environments": summaries, "drifted": drifted}))
}

/// Every environment's alert rules, evaluated at `now` against its deployed stack: rule
/// state changes are recorded as alerts (`ferry/<app>/<env>/rule/<rule>[/<service>]`),
/// so health, risk scores and notifications see them like CloudWatch alarms.
pub async fn evaluate_rules(
    store: &dyn Store,
    stacks: &dyn DeployedStacks,
    metrics: &dyn crate::ports::Metrics,
    notify: &Notify<'_>,
    now: DateTime<Utc>,
) -> Result<Value, JobError> {
    use crate::monitoring::AlertStatus;
    let (mut series, mut firing, mut changes, mut environments) = (0, 0, 0, 0);
    let mut sent = Vec::new();
    for env in store.list_environments(None).await? {
        let physical = stacks.physical_ids(&env.stack_name).await?;
        if physical.is_empty() {
            continue;
        }
        environments += 1;
        let rules = env.spec.alert_rules();
        // Rules were checked when the spec was stored; a failure here is a bug upstream.
        let expressions = crate::monitoring::rules::validate(&rules).map_err(|e| {
            JobError::Invalid(format!(
                "{}/{}: invalid rules: {}",
                env.app,
                env.name,
                e.join("; ")
            ))
        })?;
        let template = template::generate(&env, env.deployed_release.as_ref(), env.live_colour);
        let scope: crate::monitoring::Labels = [
            ("app".to_owned(), env.app.to_string()),
            ("env".to_owned(), env.name.to_string()),
        ]
        .into();
        // The anomaly rules' models, kept between runs (compact, versioned).
        let models_key = format!("models/{}/{}", env.app, env.name);
        let stored = store.load_state(&models_key).await?;
        let models_version = stored.as_ref().map(|(_, v)| *v);
        let mut models: crate::monitoring::evaluate::Models = stored
            .and_then(|(state, _)| serde_json::from_value(state).ok())
            .unwrap_or_default();
        let (alerts, read) = crate::monitoring::evaluate::evaluate(
            metrics,
            &mut models,
            &rules,
            &expressions,
            &scope,
            &template,
            &physical,
            now,
        )
        .await?;
        if !models.is_empty() {
            let state = serde_json::to_value(&models).unwrap_or(Value::Null);
            store
                .save_state(&models_key, &state, models_version)
                .await?;
        }
        series += read;
        sent.extend(notify_environment(store, &env, &alerts, notify, now).await?);
        for alert in alerts {
            let state = if alert.status == AlertStatus::Firing {
                "ALARM"
            } else {
                "OK"
            };
            firing += usize::from(state == "ALARM");
            let mut alarm_name = format!("ferry/{}/{}/rule/{}", env.app, env.name, alert.rule);
            if let Some(service) = alert.labels.get("service") {
                alarm_name.push_str(&format!("/{service}"));
            }
            let previous = store.get_alert_state(&alarm_name).await?;
            if previous
                .as_ref()
                .map_or(state == "OK", |p| p.state == state)
            {
                continue;
            }
            changes += 1;
            let verb = if state == "ALARM" {
                "firing"
            } else {
                "resolved"
            };
            let reason = format!("rule {} evaluated {verb}", alert.rule);
            let metric = alert.labels.get("component").cloned();
            let previous = previous.map(|p| p.state);
            record_change(
                store, &env, alarm_name, state, previous, reason, metric, now,
            )
            .await?;
        }
    }
    Ok(
        json!({"environments": environments, "series": series, "firing": firing,
        "state_changes": changes, "notifications": sent}),
    )
}

/// Where notifications go, and the region their dashboard links point at.
pub struct Notify<'a> {
    pub channels: Vec<&'a dyn crate::monitoring::notify::Channel>,
    pub region: String,
}

/// The environment's noise pipeline (kept between runs, versioned): the new raw alerts go
/// in, due notifications come out and are delivered on every channel.
async fn notify_environment(
    store: &dyn Store,
    env: &Environment,
    alerts: &[crate::monitoring::RawAlert],
    notify: &Notify<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, JobError> {
    use crate::monitoring::incident::{DependencyGraph, Incidents};
    use crate::monitoring::noise::Pipeline;
    let key = format!("noise/{}/{}", env.app, env.name);
    // The spec's routing applies from every run on, whatever the stored pipeline had.
    let config = env.spec.alerts.routing.noise_config().map_err(|problems| {
        JobError::Invalid(format!(
            "{}/{}: {}",
            env.app,
            env.name,
            problems
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let stored = store.load_state(&key).await?;
    let version = stored.as_ref().map(|(_, v)| *v);
    let mut pipeline: Pipeline = match stored {
        Some((state, _)) => serde_json::from_value(state)
            .map_err(|e| JobError::Invalid(format!("{key}: unreadable pipeline state: {e}")))?,
        None => {
            let services: Vec<String> = env.spec.services.iter().map(|s| s.name.clone()).collect();
            let graph = DependencyGraph::for_environment(
                &services,
                env.spec.database.is_some(),
                env.spec.cache.is_some(),
            );
            Pipeline::new(
                config.clone(),
                Incidents::new(graph, chrono::Duration::minutes(15)),
            )
        }
    };
    pipeline.config = config;
    // The silences set through the API apply from the next run on.
    pipeline.config.silences = store
        .load_state(&crate::monitoring::silences_key(
            env.app.as_str(),
            env.name.as_str(),
        ))
        .await?
        .and_then(|(state, _)| serde_json::from_value(state).ok())
        .unwrap_or_default();
    for alert in alerts {
        pipeline.ingest(alert.clone());
    }
    let due = pipeline.tick(now);
    let dashboard = crate::monitoring::notify::dashboard_url(&notify.region, &env.stack_name);
    let mut outcomes = Vec::new();
    for notification in &due {
        for channel in &notify.channels {
            let outcome = crate::monitoring::notify::deliver(
                store,
                *channel,
                notification,
                &dashboard,
                crate::monitoring::notify::Backoff::default(),
            )
            .await;
            outcomes.push(json!({
                "dedup_key": notification.dedup_key, "channel": channel.name(),
                "title": crate::monitoring::notify::title(notification),
                "outcome": match &outcome { Ok(o) => format!("{o:?}"), Err(e) => e.to_string() },
            }));
        }
    }
    let state = serde_json::to_value(&pipeline).unwrap_or(Value::Null);
    store.save_state(&key, &state, version).await?;
    Ok(outcomes)
}

/// The fields of a CloudWatch alarm state change that Ferry keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmChange {
    pub event_id: String,
    pub alarm_name: String,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    pub metric: Option<String>,
    pub changed_at: DateTime<Utc>,
}

pub async fn record_alarm(store: &dyn Store, change: AlarmChange) -> Result<Value, JobError> {
    let (app, env) = attribute_alarm(&change.alarm_name);
    let event = AlertEvent {
        event_id: change.event_id,
        alarm_name: change.alarm_name,
        app,
        env,
        state: change.state,
        previous_state: change.previous_state,
        reason: change.reason,
        metric: change.metric,
        changed_at: change.changed_at,
    };
    let recorded = store.record_alert(&event).await?;
    let state = store.get_alert_state(&event.alarm_name).await?;
    Ok(json!({
        "alarm": event.alarm_name,
        "app": event.app,
        "env": event.env,
        "state": event.state,
        "duplicate": !recorded,
        "alarm_count": state.map_or(0, |s| s.alarm_count),
    }))
}
