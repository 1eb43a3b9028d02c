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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryMetrics;
    use serde_json::json;

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        // 99.5% of 200 = 199th value.
        assert_eq!(percentile(&values, 99.5), Some(199.0));
        assert_eq!(percentile(&values, 0.5), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[tokio::test]
    async fn fourteen_days_of_service_metrics_become_p99_5_utilisation() {
        let metrics = InMemoryMetrics::new();
        let now = Utc::now();
        let dims = [
            ("ClusterName", "ferry-shop-prod-Cluster"),
            ("ServiceName", "web-blue"),
        ];
        // 14 days of 5-minute points: CPU mostly 10-20%, with 15 spikes to 90% (under the
        // 0.5% tail of 4,032 points), memory flat at 30%.
        for i in 0..4032_i64 {
            let at = now - Duration::minutes(5 * (4032 - i));
            let cpu = if i % 270 == 0 {
                90.0
            } else {
                10.0 + (i % 11) as f64
            };
            metrics.put("CPUUtilization", &dims, at, cpu);
            metrics.put("MemoryUtilization", &dims, at, 30.0);
        }
        let template = json!({"Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster"},
            "WebBlueService": {"Type": "AWS::ECS::Service", "Properties": {}},
        }});
        let physical = BTreeMap::from([
            ("Cluster".to_owned(), "ferry-shop-prod-Cluster".to_owned()),
            (
                "WebBlueService".to_owned(),
                "arn:aws:ecs:us-east-1:123456789012:service/ferry-shop-prod-Cluster/web-blue"
                    .to_owned(),
            ),
        ]);
        let seen = collect(&metrics, &template, &physical, now).await.unwrap();
        let web = seen["WebBlueService"];
        assert_eq!(web.cpu_percent, 20.0, "the 15 spikes sit in the top 0.5%");
        assert_eq!(web.memory_percent, Some(30.0));
        assert!(web.days > 13.9, "{}", web.days);
    }

    #[test]
    fn rds_memory_by_class() {
        assert_eq!(rds_memory_gib("db.t4g.micro"), Some(1.0));
        assert_eq!(rds_memory_gib("db.m7g.large"), Some(8.0));
        assert_eq!(rds_memory_gib("db.r6g.xlarge"), Some(32.0));
        assert_eq!(rds_memory_gib("db.x2g.large"), None);
    }
}
