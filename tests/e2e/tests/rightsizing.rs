//! Rightsizing reads utilisation with GetMetricData: 14 days of five-minute data put into
//! moto's CloudWatch with PutMetricData, read back through Ferry's CloudWatch adapter.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use e2e::{unique_app, Local};
use ferry_core::cost::{self, advice::AdviceContext, Catalog, Usage};
use ferry_core::infra::profile::ProfileName;
use serde_json::json;
use std::collections::BTreeMap;

/// A metric name and its value at the i-th five-minute point.
type Series<'a> = (&'a str, fn(i64) -> f64);

async fn put_series(
    local: &Local,
    namespace: &str,
    dims: &[(&str, &str)],
    series: &[Series<'_>],
    now: i64,
) {
    let dimensions: Vec<Dimension> = dims
        .iter()
        .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
        .collect();
    let mut data = Vec::new();
    for i in 0..4032_i64 {
        let at = aws_smithy_types::DateTime::from_secs(now - 300 * (4032 - i));
        for (metric, value) in series {
            data.push(
                MetricDatum::builder()
                    .metric_name(*metric)
                    .set_dimensions(Some(dimensions.clone()))
                    .timestamp(at)
                    .value(value(i))
                    .build(),
            );
        }
    }
    for chunk in data.chunks(1000) {
        local
            .cloudwatch
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn fourteen_days_of_cloudwatch_data_rightsize_a_service_and_a_database() {
    let local = Local::connect().await;
    let app = unique_app("size");
    let (cluster, service, database) = (
        format!("{app}-cluster"),
        format!("{app}-web"),
        format!("{app}-db"),
    );
    let now = chrono::Utc::now().timestamp();
    // The service (1024 CPU units, 2048 MiB) never passes 20% CPU or 30% memory; the
    // database (db.m7g.xlarge, 16 GiB) never passes 30% CPU, with at least 11 GiB free.
    put_series(
        &local,
        "AWS/ECS",
        &[("ClusterName", &cluster), ("ServiceName", &service)],
        &[
            ("CPUUtilization", |i| 8.0 + (i % 13) as f64),
            ("MemoryUtilization", |i| 25.0 + (i % 6) as f64),
        ],
        now,
    )
    .await;
    put_series(
        &local,
        "AWS/RDS",
        &[("DBInstanceIdentifier", &database)],
        &[
            ("CPUUtilization", |i| 12.0 + (i % 19) as f64),
            ("FreeableMemory", |i| (11.0 + (i % 3) as f64) * 1073741824.0),
        ],
        now,
    )
    .await;

    let template = json!({"Metadata": {"Ferry": {"Profile": "prod"}}, "Resources": {
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {}},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "1024", "Memory": "2048", "RuntimePlatform": {"CpuArchitecture": "ARM64"}}},
        "Web": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 2, "TaskDefinition": {"Ref": "Task"}}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "DBInstanceClass": "db.m6g.xlarge", "AllocatedStorage": 100, "StorageType": "gp3"}},
    }});
    let physical = BTreeMap::from([
        ("Cluster".to_owned(), cluster.clone()),
        (
            "Web".to_owned(),
            format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{service}"),
        ),
        ("Db".to_owned(), database.clone()),
    ]);
    let metrics = ferry_aws::CloudWatchMetrics::new(local.cloudwatch.clone());
    let seen = cost::utilisation::collect(&metrics, &template, &physical, chrono::Utc::now())
        .await
        .unwrap();
    println!("utilisation read back from moto: {seen:?}");
    let web = seen["Web"];
    assert_eq!((web.cpu_percent, web.memory_percent), (20.0, Some(30.0)));
    assert!(web.days > 13.9, "{}", web.days);
    let db = seen["Db"];
    assert_eq!(db.cpu_percent, 30.0);
    // db.m6g.xlarge has 16 GiB: 11 GiB free at the low tail is 31.25% used.
    assert_eq!(db.memory_percent, Some(31.25));

    let catalog = Catalog::bundled("us-east-1").unwrap();
    let context = AdviceContext {
        profile: Some(ProfileName::Prod),
        utilisation: seen,
        ..AdviceContext::default()
    };
    let estimate = cost::analyse(
        &template,
        &catalog,
        &Usage::profile_defaults(ProfileName::Prod),
        &context,
    );
    let rightsize = |id: &str| {
        estimate
            .advice
            .iter()
            .find(|a| a.kind == "rightsize" && a.logical_id == id)
            .unwrap_or_else(|| panic!("rightsizing for {id}: {:#?}", estimate.advice))
    };
    // Web needs 1024 x 20% x 1.2 = 246 units and 2048 x 30% x 1.2 = 737 MiB: 256 / 1024.
    // Now: 2 x 730 = 1460 vCPU-h x $0.03238 = 47.27, 2920 GB-h x $0.00356 = 10.40 (57.67);
    // after: 365 vCPU-h x $0.03238 = 11.82, 1460 GB-h x $0.00356 = 5.20 (17.02). Saves 40.65.
    let web = rightsize("Web");
    assert!(
        web.action.contains("to 256 CPU / 1024 MiB"),
        "{}",
        web.action
    );
    assert_eq!(web.monthly_saving_usd, 40.65);
    // Db: 30% x 1.2 = 36% of 4 vCPUs fits 2 (50%), 31.25% x 1.2 = 37.5% of 16 GiB fits
    // 8 GiB (50%): db.m6g.large. 730 h x ($0.318 - $0.159) = 116.07.
    let db = rightsize("Db");
    assert!(db.action.contains("to db.m6g.large"), "{}", db.action);
    assert_eq!(db.monthly_saving_usd, 116.07);
}
