//! The alert-evaluator's work: every environment's rules evaluated, noise cut, incidents
//! notified; and alarm state changes recorded.

use crate::infra::template;
use crate::job::JobError;
use crate::model::{AlertEvent, Environment};
use crate::monitoring::alerts::attribute_alarm;
use crate::ports::Versioned;
use crate::ports::{Alerts, DeliveryLedger, DeployedStacks, EngineState, Environments};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Every environment's alert rules, evaluated at `now` against its deployed stack: rule
/// state changes are recorded as alerts (`ferry/<app>/<env>/rule/<rule>[/<service>]`),
/// so health, risk scores and notifications see them like CloudWatch alarms.
pub async fn evaluate_rules(
    store: &(impl Environments + Alerts + EngineState + DeliveryLedger + ?Sized),
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
        let Versioned {
            value: mut models,
            version: models_version,
        } = store.detector_models(&env.app, &env.name).await?;
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
            store
                .save_detector_models(&env.app, &env.name, &models, models_version)
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
    store: &(impl EngineState + DeliveryLedger + ?Sized),
    env: &Environment,
    alerts: &[crate::monitoring::RawAlert],
    notify: &Notify<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, JobError> {
    use crate::monitoring::incident::{DependencyGraph, Incidents};
    use crate::monitoring::noise::Pipeline;
    let _key = format!("noise/{}/{}", env.app, env.name);
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
    let stored = store.noise_pipeline(&env.app, &env.name).await?;
    let version = stored.as_ref().map_or(0, |s| s.version);
    let mut pipeline: Pipeline = match stored {
        Some(stored) => stored.value,
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
    pipeline.config.silences = store.silences(&env.app, &env.name).await?.value;
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
    store
        .save_noise_pipeline(&env.app, &env.name, &pipeline, version)
        .await?;
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

pub async fn record_alarm(
    store: &(impl Alerts + ?Sized),
    change: AlarmChange,
) -> Result<Value, JobError> {
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

/// Records an alert's state change, once per alarm and instant.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_change(
    alerts: &(impl Alerts + ?Sized),
    env: &Environment,
    alarm_name: String,
    state: &str,
    previous_state: Option<String>,
    reason: String,
    metric: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), JobError> {
    alerts
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
