//! An environment's health on one page: its open alarms correlated into an incident with
//! a probable root cause, its last promotion, its drift and its cost.

use super::incident::{DependencyGraph, Incidents};
use super::{AlertStatus, Labels, RawAlert};
use crate::model::{AlertState, Environment, Promotion, Report, ReportKind};
use crate::ports::{Alerts, Promotions, Reports, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The component an alarm Ferry generated watches, from its check name
/// (`ferry/<app>/<env>/<check>`): `alb-5xx-rate`, `<service>-p99-latency`, `rds-cpu`, ...
pub fn component_of(alarm_name: &str, services: &[String]) -> String {
    let check = alarm_name.rsplit('/').next().unwrap_or(alarm_name);
    if check.starts_with("alb-") {
        "alb".into()
    } else if check.starts_with("rds-") {
        "database".into()
    } else if check.starts_with("cache-") {
        "cache".into()
    } else if check == "budget" {
        "cost".into()
    } else {
        services
            .iter()
            .find(|s| check.starts_with(&format!("{s}-")))
            .map_or_else(|| "unknown".into(), |s| format!("service:{s}"))
    }
}

pub fn summarise(
    env: &Environment,
    open: &[AlertState],
    last_promotion: Option<&Promotion>,
    drift: Option<&Report>,
    cost: Option<&Report>,
    now: DateTime<Utc>,
) -> Value {
    let services: Vec<String> = env.spec.services.iter().map(|s| s.name.clone()).collect();
    let graph = DependencyGraph::for_environment(
        &services,
        env.spec.database.is_some(),
        env.spec.cache.is_some(),
    );
    // Open alarms are one incident if they fired within an hour of each other.
    let mut incidents = Incidents::new(graph, Duration::hours(1));
    let mut alarms = Vec::new();
    let mut sorted: Vec<&AlertState> = open.iter().collect();
    sorted.sort_by_key(|a| a.since);
    for alarm in sorted {
        let component = component_of(&alarm.alarm_name, &services);
        let labels: Labels = [
            ("app", env.app.to_string()),
            ("env", env.name.to_string()),
            ("component", component.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let raw = RawAlert {
            rule: alarm.alarm_name.clone(),
            labels,
            status: AlertStatus::Firing,
            at: alarm.since,
            summary: String::new(),
        };
        incidents.observe(&raw.fingerprint(), &raw);
        alarms.push(json!({
            "alarm": alarm.alarm_name, "component": component, "since": alarm.since,
            "times_in_alarm": alarm.alarm_count,
        }));
    }
    let incident = incidents.all().into_iter().last().cloned();
    let drift_status = drift.map(|d| d.body["status"].clone());
    let promotion_status = last_promotion.map(|p| json!(p.status));
    let status = if !alarms.is_empty() {
        "unhealthy"
    } else if drift_status.as_ref().is_some_and(|s| s == "Drifted")
        || promotion_status
            .as_ref()
            .is_some_and(|s| s == "RolledBack" || s == "Failed")
    {
        "degraded"
    } else {
        "healthy"
    };
    json!({
        "app": env.app, "env": env.name, "status": status, "checked_at": now,
        "release": env.deployed_release.as_ref().map(|r| r.image.as_str()),
        "live_colour": env.live_colour,
        "alarms": alarms,
        "incident": incident.map(|i| json!({
            "id": i.id, "opened_at": i.opened_at,
            "root_cause": i.root_cause().map(|c| json!({"component": c.component, "reasons": c.reasons})),
            "alerts": i.alerts.values().map(|(rule, component, at)| json!({"alarm": rule, "component": component, "since": at})).collect::<Vec<_>>(),
        })),
        "last_promotion": last_promotion.map(|p| json!({
            "id": p.id, "from": p.source_env, "strategy": p.strategy, "status": p.status,
            "requested_by": p.requested_by, "updated_at": p.updated_at,
        })),
        "drift": drift.map(|d| json!({
            "status": d.body["status"], "checked_at": d.created_at,
            // Template and live drift, each resource once.
            "drifted_resources": serde_json::from_value::<crate::infra::drift::DriftReport>(d.body.clone())
                .map_or(0, |r| r.drifted()),
        })),
        "cost": cost.map(|c| json!({"monthly_usd": c.body["monthly_usd"], "priced_at": c.created_at})),
    })
}

/// An environment's health as the API shows it: open alarms as an incident with its
/// probable root cause, the last promotion, drift and cost, read from the store.
pub async fn environment_health(
    store: &(impl Alerts + Promotions + Reports + ?Sized),
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Value, StoreError> {
    let open = store.open_alerts(&env.app, &env.name).await?;
    let last = store
        .list_promotions(&env.app, &env.name, 1)
        .await?
        .into_iter()
        .next();
    let drift = store
        .latest_report(&env.app, &env.name, ReportKind::Drift)
        .await?;
    let cost = store
        .latest_report(&env.app, &env.name, ReportKind::Cost)
        .await?;
    Ok(summarise(
        env,
        &open,
        last.as_ref(),
        drift.as_ref(),
        cost.as_ref(),
        now,
    ))
}
