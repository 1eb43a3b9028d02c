//! Utilisation for rightsizing: 14 days of CloudWatch data per Fargate service, RDS
//! instance and cache, read through the [`Metrics`] port (GetMetricData in AWS) and
//! reduced to P99.5, as AWS Compute Optimizer reads it.

use super::advice::Utilisation;
use crate::ports::{MetricQuery, Metrics, MetricsError};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

pub const LOOK_BACK_DAYS: i64 = 14;
/// Five-minute maxima: 4,032 points per series over 14 days.
const PERIOD_SECONDS: u32 = 300;

/// The `q`-th percentile (0..=100) by nearest rank; `None` for no values.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Memory of an RDS class in GiB (sizes Ferry's catalog carries), to turn FreeableMemory
/// into a percentage used.
pub fn rds_memory_gib(class: &str) -> Option<f64> {
    let (family, size) = class.rsplit_once('.')?;
    let burstable = ["db.t4g", "db.t3"].contains(&family);
    let general = ["db.m6g", "db.m7g"].contains(&family);
    let memory = ["db.r6g", "db.r7g"].contains(&family);
    let base = match size {
        "micro" if burstable => 1.0,
        "small" if burstable => 2.0,
        "medium" if burstable => 4.0,
        "large" => 8.0,
        "xlarge" => 16.0,
        "2xlarge" => 32.0,
        "4xlarge" => 64.0,
        _ => return None,
    };
    match (burstable, general, memory) {
        (true, _, _) | (_, true, _) => Some(base),
        (_, _, true) if !["micro", "small", "medium"].contains(&size) => Some(base * 2.0),
        _ => None,
    }
}

/// The last path segment of a physical id: ECS service ARNs end in the service name.
fn name_of(physical: &str) -> &str {
    physical.rsplit('/').next().unwrap_or(physical)
}

fn query(namespace: &str, metric: &str, stat: &str, dimensions: &[(&str, &str)]) -> MetricQuery {
    MetricQuery {
        namespace: namespace.into(),
        metric: metric.into(),
        dimensions: dimensions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        stat: stat.into(),
        period_seconds: PERIOD_SECONDS,
    }
}

/// What to measure for one resource: a CPU series and a memory series, and how to read
/// the memory one (already a percentage, or free bytes out of a total).
struct Plan {
    logical_id: String,
    cpu: MetricQuery,
    memory: MetricQuery,
    memory_total_bytes: Option<f64>,
}

fn days_covered(points: &[(DateTime<Utc>, f64)]) -> f64 {
    match (points.first(), points.last()) {
        (Some((first, _)), Some((last, _))) => (*last - *first).num_seconds() as f64 / 86_400.0,
        _ => 0.0,
    }
}

/// Utilisation of every Fargate service, RDS instance and cache of a deployed template,
/// by logical id, in one batched read (GetMetricData takes 500 series a call). Resources
/// without data are left out: no advice on no evidence.
pub async fn collect(
    metrics: &dyn Metrics,
    template: &Value,
    physical: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Utilisation>, MetricsError> {
    let empty = serde_json::Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let cluster = resources
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::ECS::Cluster")
        .and_then(|(id, _)| physical.get(id))
        .map(|p| name_of(p).to_owned());
    let mut plans = Vec::new();
    for (id, resource) in resources {
        let Some(physical_id) = physical.get(id) else {
            continue;
        };
        let props = &resource["Properties"];
        let plan = match resource["Type"].as_str().unwrap_or_default() {
            "AWS::ECS::Service" => {
                let Some(cluster) = &cluster else { continue };
                let dims = [
                    ("ClusterName", cluster.as_str()),
                    ("ServiceName", name_of(physical_id)),
                ];
                Plan {
                    logical_id: id.clone(),
                    cpu: query("AWS/ECS", "CPUUtilization", "Maximum", &dims),
                    memory: query("AWS/ECS", "MemoryUtilization", "Maximum", &dims),
                    memory_total_bytes: None,
                }
            }
            "AWS::RDS::DBInstance" => {
                let dims = [("DBInstanceIdentifier", physical_id.as_str())];
                let total = props["DBInstanceClass"].as_str().and_then(rds_memory_gib);
                Plan {
                    logical_id: id.clone(),
                    cpu: query("AWS/RDS", "CPUUtilization", "Maximum", &dims),
                    // The low tail of free memory is the high tail of memory used.
                    memory: query("AWS/RDS", "FreeableMemory", "Minimum", &dims),
                    memory_total_bytes: Some(
                        total.map_or(0.0, |gib| gib * 1024.0 * 1024.0 * 1024.0),
                    ),
                }
            }
            "AWS::ElastiCache::ReplicationGroup" => {
                // Metrics are per node; the primary is `<group>-001`.
                let node = format!("{physical_id}-001");
                let dims = [("CacheClusterId", node.as_str())];
                Plan {
                    logical_id: id.clone(),
                    cpu: query("AWS/ElastiCache", "EngineCPUUtilization", "Maximum", &dims),
                    memory: query(
                        "AWS/ElastiCache",
                        "DatabaseMemoryUsagePercentage",
                        "Maximum",
                        &dims,
                    ),
                    memory_total_bytes: None,
                }
            }
            _ => continue,
        };
        plans.push(plan);
    }
    let queries: Vec<MetricQuery> = plans
        .iter()
        .flat_map(|p| [p.cpu.clone(), p.memory.clone()])
        .collect();
    let start = now - Duration::days(LOOK_BACK_DAYS);
    let series = metrics.series_many(&queries, start, now).await?;
    let mut found = BTreeMap::new();
    for (plan, pair) in plans.iter().zip(series.chunks(2)) {
        let values =
            |points: &[(DateTime<Utc>, f64)]| points.iter().map(|(_, v)| *v).collect::<Vec<f64>>();
        let (cpu, memory) = (values(&pair[0]), values(&pair[1]));
        let Some(cpu_percent) = percentile(&cpu, 99.5) else {
            continue;
        };
        let memory_percent = match plan.memory_total_bytes {
            None => percentile(&memory, 99.5),
            Some(total) if total > 0.0 => {
                percentile(&memory, 0.5).map(|free| 100.0 * (1.0 - free / total))
            }
            Some(_) => None,
        };
        found.insert(
            plan.logical_id.clone(),
            Utilisation {
                cpu_percent,
                memory_percent,
                days: days_covered(&pair[0]),
            },
        );
    }
    Ok(found)
}
