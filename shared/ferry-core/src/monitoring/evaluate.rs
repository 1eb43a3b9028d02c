//! Scheduled rule evaluation: each rule's series for an environment's deployed stack,
//! read in batches (GetMetricData takes 500 a call), judged by the rule's kind, and
//! composites judged from the others. The alert-evaluator runs it every minute.

use super::rules::{hours_until, threshold_breached, Expr, Rule, RuleKind, SeasonalBand};
use super::{AlertStatus, Labels, RawAlert};
use crate::ports::{MetricQuery, Metrics, MetricsError};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// The seasonal band of one anomaly rule's series, and the time of the last point it has
/// learned: the state kept between evaluations (per environment, versioned).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BandModel {
    pub band: SeasonalBand,
    pub learned_until: DateTime<Utc>,
}

pub type Models = BTreeMap<String, BandModel>;

/// A series a rule watches, with the labels its alert carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub labels: Labels,
    pub query: MetricQuery,
}

fn name_of(physical: &str) -> &str {
    physical.rsplit('/').next().unwrap_or(physical)
}

/// The CloudWatch series behind a rule's metric, for each resource of the environment
/// (every live service for `service.*`).
pub fn targets(
    metric: &str,
    statistic: &str,
    period_seconds: u32,
    template: &Value,
    physical: &BTreeMap<String, String>,
) -> Vec<Target> {
    let empty = serde_json::Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let query = |namespace: &str, name: &str, dims: Vec<(String, String)>| MetricQuery {
        namespace: namespace.into(),
        metric: name.into(),
        dimensions: dims,
        stat: statistic.into(),
        period_seconds,
    };
    let labels = |component: &str, service: Option<&str>| {
        let mut l = Labels::new();
        l.insert("component".into(), component.into());
        if let Some(s) = service {
            l.insert("service".into(), s.into());
        }
        l
    };
    let of_type = |kind: &'static str| -> Vec<(String, String)> {
        resources
            .iter()
            .filter(|(_, r)| r["Type"] == kind)
            .filter_map(|(id, _)| physical.get(id).map(|p| (id.clone(), p.clone())))
            .collect()
    };
    let cluster = of_type("AWS::ECS::Cluster")
        .into_iter()
        .next()
        .map(|(_, p)| name_of(&p).to_owned());
    let (family, name) = metric.split_once('.').unwrap_or((metric, ""));
    match family {
        "service" => {
            let Some(cluster) = cluster else {
                return Vec::new();
            };
            // Live services: the ones with tasks.
            resources
                .iter()
                .filter(|(_, r)| r["Type"] == "AWS::ECS::Service")
                .filter(|(_, r)| r["Properties"]["DesiredCount"].as_u64().unwrap_or(1) > 0)
                .filter_map(|(id, r)| {
                    let service_name = physical.get(id)?;
                    let family = r["Properties"]["TaskDefinition"]["Ref"]
                        .as_str()
                        .unwrap_or(id);
                    let service = family
                        .trim_end_matches("TaskDefinition")
                        .trim_end_matches("Blue")
                        .trim_end_matches("Green")
                        .to_lowercase();
                    let (namespace, metric_name, dims) = match name {
                        "cpu" => (
                            "AWS/ECS",
                            "CPUUtilization",
                            vec![
                                ("ClusterName".into(), cluster.clone()),
                                ("ServiceName".into(), name_of(service_name).to_owned()),
                            ],
                        ),
                        "memory" => (
                            "AWS/ECS",
                            "MemoryUtilization",
                            vec![
                                ("ClusterName".into(), cluster.clone()),
                                ("ServiceName".into(), name_of(service_name).to_owned()),
                            ],
                        ),
                        _ => return None,
                    };
                    Some(Target {
                        labels: labels(&format!("service:{service}"), Some(&service)),
                        query: query(namespace, metric_name, dims),
                    })
                })
                .collect()
        }
        "database" | "cache" | "alb" => {
            // (resource type, namespace, CloudWatch metric, dimension name) per metric.
            let (kind, namespace, metric_name, dimension) = match (family, name) {
                ("database", "cpu") => (
                    "AWS::RDS::DBInstance",
                    "AWS/RDS",
                    "CPUUtilization",
                    "DBInstanceIdentifier",
                ),
                ("database", "free_storage") => (
                    "AWS::RDS::DBInstance",
                    "AWS/RDS",
                    "FreeStorageSpace",
                    "DBInstanceIdentifier",
                ),
                ("database", "connections") => (
                    "AWS::RDS::DBInstance",
                    "AWS/RDS",
                    "DatabaseConnections",
                    "DBInstanceIdentifier",
                ),
                ("cache", "cpu") => (
                    "AWS::ElastiCache::ReplicationGroup",
                    "AWS/ElastiCache",
                    "EngineCPUUtilization",
                    "CacheClusterId",
                ),
                ("cache", "memory") => (
                    "AWS::ElastiCache::ReplicationGroup",
                    "AWS/ElastiCache",
                    "DatabaseMemoryUsagePercentage",
                    "CacheClusterId",
                ),
                ("cache", "evictions") => (
                    "AWS::ElastiCache::ReplicationGroup",
                    "AWS/ElastiCache",
                    "Evictions",
                    "CacheClusterId",
                ),
                ("alb", "request_count") => (
                    "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "AWS/ApplicationELB",
                    "RequestCount",
                    "LoadBalancer",
                ),
                // `alb.5xx_rate` is a ratio of two series and `service.latency_p99` is per
                // target group: the CloudWatch alarms Ferry generates judge those (their
                // state changes arrive as events), so no series is read for them here.
                _ => return Vec::new(),
            };
            of_type(kind)
                .into_iter()
                .map(|(_, physical_id)| {
                    let value = match family {
                        // Cache metrics are per node; the primary is `<group>-001`.
                        "cache" => format!("{physical_id}-001"),
                        // The ALB's dimension is its ARN's tail: app/<name>/<id>.
                        "alb" => physical_id
                            .split_once(":loadbalancer/")
                            .map_or(physical_id.as_str(), |(_, tail)| tail)
                            .to_owned(),
                        _ => physical_id,
                    };
                    Target {
                        labels: labels(family, None),
                        query: query(namespace, metric_name, vec![(dimension.into(), value)]),
                    }
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// How far back a rule looks.
fn window(kind: &RuleKind) -> Duration {
    match kind {
        RuleKind::Threshold {
            period_seconds,
            evaluation_periods,
            ..
        } => Duration::seconds(i64::from(*period_seconds) * i64::from(*evaluation_periods)),
        RuleKind::Forecast { .. } => Duration::hours(24),
        RuleKind::Anomaly { .. } => Duration::days(14),
        RuleKind::Composite { .. } => Duration::zero(),
    }
}

/// The last `periods` periods before `now`, each with its value if it had one.
fn periods(
    points: &[(DateTime<Utc>, f64)],
    now: DateTime<Utc>,
    period: Duration,
    periods: u32,
) -> Vec<Option<f64>> {
    (0..periods)
        .rev()
        .map(|k| {
            let end = now - period * k as i32;
            let start = end - period;
            points
                .iter()
                .rev()
                .find(|(at, _)| *at >= start && *at < end)
                .map(|(_, v)| *v)
        })
        .collect()
}

/// One rule's judgement of one series: `Some(true)` firing, `Some(false)` resolved,
/// `None` for not enough data.
fn judge(kind: &RuleKind, points: &[(DateTime<Utc>, f64)], now: DateTime<Utc>) -> Option<bool> {
    match kind {
        RuleKind::Threshold {
            period_seconds,
            comparison,
            threshold,
            datapoints,
            evaluation_periods,
            missing_data,
            ..
        } => {
            let values = periods(
                points,
                now,
                Duration::seconds(i64::from(*period_seconds)),
                *evaluation_periods,
            );
            threshold_breached(
                &values,
                *comparison,
                *threshold,
                *datapoints,
                *evaluation_periods,
                *missing_data,
            )
        }
        RuleKind::Forecast {
            comparison,
            threshold,
            within_hours,
            ..
        } => {
            let hours: Vec<(f64, f64)> = points
                .iter()
                .map(|(at, v)| ((*at - now).num_seconds() as f64 / 3600.0, *v))
                .collect();
            (hours.len() >= 2).then(|| {
                hours_until(&hours, *comparison, *threshold).is_some_and(|h| h <= *within_hours)
            })
        }
        // Anomaly rules are judged with their kept model: see `judge_anomaly`.
        RuleKind::Anomaly { .. } | RuleKind::Composite { .. } => None,
    }
}

/// The newest point against the band learned so far, then every new point learned.
fn judge_anomaly(
    stddevs: f64,
    points: &[(DateTime<Utc>, f64)],
    model: &mut BandModel,
) -> Option<bool> {
    let fresh: Vec<&(DateTime<Utc>, f64)> = points
        .iter()
        .filter(|(at, _)| *at > model.learned_until)
        .collect();
    let (last, _) = fresh.split_last()?;
    let verdict = model
        .band
        .band(last.0, stddevs)
        .map(|(low, high)| last.1 < low || last.1 > high);
    for (at, value) in &fresh {
        model.band.learn(*at, *value);
        model.learned_until = *at;
    }
    verdict
}

/// Every rule of one environment evaluated at `now`: the raw alerts (firing or resolved)
/// and how many series were read.
#[allow(clippy::too_many_arguments)]
pub async fn evaluate(
    metrics: &dyn Metrics,
    models: &mut Models,
    rules: &[Rule],
    expressions: &BTreeMap<String, Option<Expr>>,
    scope: &Labels,
    template: &Value,
    physical: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<(Vec<RawAlert>, usize), MetricsError> {
    // One batched read per look-back window.
    let mut planned: Vec<(&Rule, Target)> = Vec::new();
    for rule in rules {
        let (metric, statistic, period) = match &rule.kind {
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
            } => (metric, statistic, *period_seconds),
            RuleKind::Composite { .. } => continue,
        };
        for target in targets(metric, statistic, period, template, physical) {
            planned.push((rule, target));
        }
    }
    let model_key = |rule: &Rule, target: &Target| {
        format!(
            "{}/{}",
            rule.name,
            super::fingerprint(&target.query.metric, &target.labels)
        )
    };
    let mut by_window: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, (rule, target)) in planned.iter().enumerate() {
        // An anomaly model reads only what it has not learned yet (14 days the first time).
        let seconds = match (&rule.kind, models.get(&model_key(rule, target))) {
            (RuleKind::Anomaly { period_seconds, .. }, Some(model)) => {
                let since = (now - model.learned_until)
                    .num_seconds()
                    .min(window(&rule.kind).num_seconds());
                let period = i64::from(*period_seconds);
                ((since / period) + 2) * period
            }
            _ => window(&rule.kind).num_seconds(),
        };
        by_window.entry(seconds).or_default().push(i);
    }
    let mut series: Vec<Vec<(DateTime<Utc>, f64)>> = vec![Vec::new(); planned.len()];
    for (seconds, indices) in &by_window {
        let queries: Vec<MetricQuery> = indices
            .iter()
            .map(|i| planned[*i].1.query.clone())
            .collect();
        let read = metrics
            .series_many(&queries, now - Duration::seconds(*seconds), now)
            .await?;
        for (i, points) in indices.iter().zip(read) {
            series[*i] = points;
        }
    }
    let mut alerts = Vec::new();
    let mut states: BTreeMap<String, bool> = BTreeMap::new();
    for ((rule, target), points) in planned.iter().zip(&series) {
        let verdict = match &rule.kind {
            RuleKind::Anomaly { band_stddevs, .. } => {
                let model = models
                    .entry(model_key(rule, target))
                    .or_insert_with(|| BandModel {
                        band: SeasonalBand::new(0.1),
                        learned_until: DateTime::<Utc>::MIN_UTC,
                    });
                judge_anomaly(*band_stddevs, points, model)
            }
            kind => judge(kind, points, now),
        };
        let Some(firing) = verdict else {
            continue;
        };
        *states.entry(rule.name.clone()).or_default() |= firing;
        let mut labels = scope.clone();
        labels.extend(target.labels.clone());
        alerts.push(RawAlert {
            rule: rule.name.clone(),
            labels,
            status: if firing {
                AlertStatus::Firing
            } else {
                AlertStatus::Resolved
            },
            at: now,
            summary: String::new(),
        });
    }
    for rule in rules {
        if let Some(Some(expr)) = expressions.get(&rule.name) {
            let mut labels = scope.clone();
            labels.insert("component".into(), "composite".into());
            alerts.push(RawAlert {
                rule: rule.name.clone(),
                labels,
                status: if expr.eval(&states) {
                    AlertStatus::Firing
                } else {
                    AlertStatus::Resolved
                },
                at: now,
                summary: String::new(),
            });
        }
    }
    Ok((alerts, planned.len()))
}
