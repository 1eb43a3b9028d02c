//! Rightsizing from utilisation: percentiles, and series read from the in-memory CloudWatch.

use chrono::{Duration, Utc};
use ferry_core::cost::utilisation::*;
use ferry_testkit::InMemoryMetrics;
use serde_json::json;
use std::collections::BTreeMap;

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
