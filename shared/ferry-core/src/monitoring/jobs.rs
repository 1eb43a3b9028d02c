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

/// The environment's noise pipeline as stored (or new), with the spec's routing and the
/// silences set through the API applied, and the version to save it at.
async fn load_pipeline(
    store: &(impl EngineState + ?Sized),
    env: &Environment,
) -> Result<(crate::monitoring::noise::Pipeline, u64), JobError> {
    use crate::monitoring::incident::{DependencyGraph, Incidents};
    use crate::monitoring::noise::Pipeline;
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
    Ok((pipeline, version))
}

/// Alerts raised outside the evaluator's run (drift checks): ingested into the
/// environment's pipeline and saved, so grouping, silences and inhibition apply to them
/// as to any alert, and the alert-evaluator's next run (every minute) delivers them.
pub async fn raise(
    store: &(impl EngineState + ?Sized),
    env: &Environment,
    alerts: &[crate::monitoring::RawAlert],
) -> Result<(), JobError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let (mut pipeline, version) = load_pipeline(store, env).await?;
    for alert in alerts {
        pipeline.ingest(alert.clone());
    }
    store
        .save_noise_pipeline(&env.app, &env.name, &pipeline, version)
        .await?;
    Ok(())
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
    let (mut pipeline, version) = load_pipeline(store, env).await?;
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

/// Records an alarm's state change once per event id and, for Ferry's own alarms
/// (`ferry/<app>/<env>/<check>`), feeds it to the environment's noise pipeline, so a
/// CloudWatch alarm (the ALB's 5xx rate, a service's p99 latency) reaches people the way
/// a rule alert does: grouped, inhibited, silenced, with a probable root cause, and
/// resolved when it goes back to OK.
pub async fn record_alarm(
    store: &(impl Environments + Alerts + EngineState + DeliveryLedger + ?Sized),
    notify: &Notify<'_>,
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
    let mut notifications = Vec::new();
    if let (true, Some(app), Some(env)) = (recorded, &event.app, &event.env) {
        if let Some(environment) = store.get_environment(app, env).await? {
            if let Some(raw) = alarm_alert(&environment, &event) {
                notifications =
                    notify_environment(store, &environment, &[raw], notify, event.changed_at)
                        .await?;
            }
        }
    }
    Ok(json!({
        "notifications": notifications,
        "alarm": event.alarm_name,
        "app": event.app,
        "env": event.env,
        "state": event.state,
        "duplicate": !recorded,
        "alarm_count": state.map_or(0, |s| s.alarm_count),
    }))
}

/// An alarm of an environment whose promotion is in its watch window ends the window
/// now: the pipeline's Watch task fails with `AlarmFired`, and the promotion rolls back
/// to the old colour, still warm, instead of at the window's end. The Watch step is
/// recorded as failed, naming the alarm. Returns the promotion whose window it cut
/// short, if any. A window already over (its task timed out or failed before) is left
/// alone; Step Functions unreachable is a `TransientError`, so the event is retried.
pub async fn cut_watch_short(
    environments: &(impl Environments + ?Sized),
    promotions: &(impl crate::ports::Promotions + ?Sized),
    workflow: &dyn crate::ports::Workflow,
    change: &AlarmChange,
    now: DateTime<Utc>,
) -> Result<Option<crate::names::PromotionId>, JobError> {
    let (Some(app), Some(env)) = attribute_alarm(&change.alarm_name) else {
        return Ok(None);
    };
    if change.state != "ALARM" {
        return Ok(None);
    }
    let Some(holder) = environments
        .get_environment(&app, &env)
        .await?
        .and_then(|e| e.active_promotion)
    else {
        return Ok(None);
    };
    let Some(promotion) = promotions.get_promotion(&holder).await? else {
        return Ok(None);
    };
    let watching = promotion
        .steps
        .last()
        .is_some_and(|s| s.name == "Watch" && s.outcome == crate::model::StepOutcome::Succeeded);
    let (Some(token), true) = (promotion.watch_token.as_deref(), watching) else {
        return Ok(None);
    };
    let cause = json!({
        "alarms": [change.alarm_name],
        "reason": change.reason,
        "changed_at": change.changed_at,
        // The key a Lambda error's cause has: the rollback reason reads it.
        "errorMessage": format!("{} went to ALARM during the watch window", change.alarm_name),
    });
    match workflow
        .fail_task(token, crate::error::ErrorName::AlarmFired, &cause)
        .await
    {
        Ok(()) => {}
        Err(crate::ports::WorkflowError::Gone(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    // On the record, not only in the task's failure: the rollback reads the cause from
    // the state machine, and moto's SendTaskFailure drops it (docs/local-aws.md).
    let mut detail = cause;
    detail["error"] = json!(crate::error::ErrorName::AlarmFired.as_str());
    let step = crate::model::StepRecord {
        name: "Watch".into(),
        outcome: crate::model::StepOutcome::Failed,
        started_at: change.changed_at,
        finished_at: now,
        detail,
    };
    promotions
        .record_step(&promotion.id, &step, promotion.status)
        .await?;
    Ok(Some(promotion.id))
}

/// A Ferry CloudWatch alarm's state change as a raw alert of its environment, labelled
/// with the component its check names (`alb-5xx-rate`: the ALB; `web-p99-latency`: the
/// web service; `rds-cpu`: the database; `cache-memory`: the cache), which incidents use
/// for the probable root cause. `None` for states that are not a change of health
/// (INSUFFICIENT_DATA) and for Ferry's rule alerts, which the evaluator feeds itself.
pub fn alarm_alert(env: &Environment, event: &AlertEvent) -> Option<crate::monitoring::RawAlert> {
    use crate::monitoring::AlertStatus;
    let check = event
        .alarm_name
        .strip_prefix(&format!("ferry/{}/{}/", env.app, env.name))?;
    if check.starts_with("rule/") {
        return None;
    }
    let status = match event.state.as_str() {
        "ALARM" => AlertStatus::Firing,
        "OK" => AlertStatus::Resolved,
        _ => return None,
    };
    let service = env
        .spec
        .services
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| check.starts_with(&format!("{name}-")))
        .max_by_key(|name| name.len());
    let component = match (check.split('-').next(), service) {
        (_, Some(service)) => format!("service:{service}"),
        (Some("alb"), _) => "alb".into(),
        (Some("rds"), _) => "database".into(),
        (Some("cache"), _) => "cache".into(),
        _ => "environment".into(),
    };
    let mut labels: crate::monitoring::Labels = [
        ("app".to_owned(), env.app.to_string()),
        ("env".to_owned(), env.name.to_string()),
        ("component".to_owned(), component),
        ("alarm".to_owned(), event.alarm_name.clone()),
    ]
    .into();
    if let Some(service) = service {
        labels.insert("service".into(), service.into());
    }
    Some(crate::monitoring::RawAlert {
        rule: format!("alarm/{check}"),
        labels,
        status,
        at: event.changed_at,
        summary: event.reason.clone(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ferry_alarm_names_its_component_and_resolves_on_ok() {
        let spec = crate::infra::spec::AppSpec::parse(
            r#"{"app": "shop", "services": [{"name": "web", "image": "nginx", "port": 8080, "cpu": 256, "memory": 512},
                {"name": "web-api", "image": "nginx", "port": 8080, "cpu": 256, "memory": 512, "path": "/api/*"}],
                "database": {"engine": "postgres", "version": "17.6", "instance_class": "db.t4g.micro", "storage_gb": 20}}"#,
        )
        .unwrap();
        let env = spec.new_environment("prod").unwrap();
        let event = |name: &str, state: &str| AlertEvent {
            event_id: "e".into(),
            alarm_name: format!("ferry/shop/prod/{name}"),
            app: None,
            env: None,
            state: state.into(),
            previous_state: None,
            reason: "threshold crossed".into(),
            metric: None,
            changed_at: Utc::now(),
        };
        let component = |name: &str| {
            alarm_alert(&env, &event(name, "ALARM")).map(|a| a.labels["component"].clone())
        };
        assert_eq!(component("alb-5xx-rate").as_deref(), Some("alb"));
        assert_eq!(component("web-p99-latency").as_deref(), Some("service:web"));
        // The longest service name that prefixes the check: web-api's, not web's.
        assert_eq!(component("web-api-cpu").as_deref(), Some("service:web-api"));
        assert_eq!(component("rds-cpu").as_deref(), Some("database"));
        assert_eq!(
            component("rule/errors"),
            None,
            "rule alerts are fed by the evaluator"
        );
        let ok = alarm_alert(&env, &event("alb-5xx-rate", "OK")).unwrap();
        assert_eq!(ok.status, crate::monitoring::AlertStatus::Resolved);
        assert!(alarm_alert(&env, &event("alb-5xx-rate", "INSUFFICIENT_DATA")).is_none());
        let other = AlertEvent {
            alarm_name: "ferry/other/prod/alb-5xx-rate".into(),
            ..event("x", "ALARM")
        };
        assert!(
            alarm_alert(&env, &other).is_none(),
            "another environment's alarm"
        );
    }
}
