//! Scheduled rule evaluation: each rule's series for an environment's deployed stack,
//! read in batches (GetMetricData takes 500 a call), judged by the rule's kind, and
//! composites judged from the others. The alert-evaluator runs it every minute.

use super::rules::{hours_until, threshold_breached, Expr, Rule, RuleKind, SeasonalBand};
use super::{AlertStatus, Labels, RawAlert};
use crate::ports::{MetricQuery, Metrics, MetricsError};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

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
        "database" => of_type("AWS::RDS::DBInstance")
            .into_iter()
            .filter_map(|(_, p)| {
                let metric_name = match name {
                    "cpu" => "CPUUtilization",
                    "free_storage" => "FreeStorageSpace",
                    "connections" => "DatabaseConnections",
                    _ => return None,
                };
                Some(Target {
                    labels: labels("database", None),
                    query: query(
                        "AWS/RDS",
                        metric_name,
                        vec![("DBInstanceIdentifier".into(), p)],
                    ),
                })
            })
            .collect(),
        "cache" => of_type("AWS::ElastiCache::ReplicationGroup")
            .into_iter()
            .filter_map(|(_, p)| {
                let metric_name = match name {
                    "cpu" => "EngineCPUUtilization",
                    "memory" => "DatabaseMemoryUsagePercentage",
                    "evictions" => "Evictions",
                    _ => return None,
                };
                Some(Target {
                    labels: labels("cache", None),
                    query: query(
                        "AWS/ElastiCache",
                        metric_name,
                        vec![("CacheClusterId".into(), format!("{p}-001"))],
                    ),
                })
            })
            .collect(),
        "alb" => of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .into_iter()
            .filter_map(|(_, p)| {
                // The dimension is the ARN's tail: app/<name>/<id>.
                let full_name = p
                    .split_once(":loadbalancer/")
                    .map_or(p.as_str(), |(_, tail)| tail)
                    .to_owned();
                let metric_name = match name {
                    "request_count" => "RequestCount",
                    "5xx_rate" => "HTTPCode_Target_5XX_Count",
                    _ => return None,
                };
                Some(Target {
                    labels: labels("alb", None),
                    query: query(
                        "AWS/ApplicationELB",
                        metric_name,
                        vec![("LoadBalancer".into(), full_name)],
                    ),
                })
            })
            .collect(),
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
        RuleKind::Anomaly { band_stddevs, .. } => {
            let (last, history) = points.split_last()?;
            let mut band = SeasonalBand::new(0.1);
            let hour_of_week = |at: &DateTime<Utc>| {
                at.weekday().num_days_from_monday() as usize * 24 + at.hour() as usize
            };
            for (at, v) in history {
                band.learn(hour_of_week(at), *v);
            }
            band.band(hour_of_week(&last.0), *band_stddevs)
                .map(|(low, high)| last.1 < low || last.1 > high)
        }
        RuleKind::Composite { .. } => None,
    }
}

/// Every rule of one environment evaluated at `now`: the raw alerts (firing or resolved)
/// and how many series were read.
pub async fn evaluate(
    metrics: &dyn Metrics,
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
    let mut by_window: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, (rule, _)) in planned.iter().enumerate() {
        by_window
            .entry(window(&rule.kind).num_seconds())
            .or_default()
            .push(i);
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
        let Some(firing) = judge(&rule.kind, points, now) else {
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
