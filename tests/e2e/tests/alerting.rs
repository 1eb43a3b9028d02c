//! Scheduled alert evaluation on the local AWS, end to end: the real alert-evaluator reads
//! the deployed stack from moto's CloudFormation and the series from moto's CloudWatch
//! (GetMetricData), keeps its noise pipeline in DynamoDB, and posts to Slack (a local
//! webhook whose URL it read from SSM at cold start) once, when the spec's group_wait is
//! over.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use e2e::{deploy_stack, fast_promotions, posts_for, schedule, unique_app, Local};
use serde_json::{json, Value};

#[tokio::test]
async fn a_database_breach_is_posted_to_slack_once_after_the_specs_group_wait() {
    let local = Local::connect().await;
    let app = unique_app("alerting");
    let mut spec = e2e::app_spec(&app, &fast_promotions());
    spec["alerts"] = json!({"routing": {"group_wait_seconds": 20, "group_interval_seconds": 120}});
    e2e::create_environments(&local, &app, &spec, &["staging"])
        .await
        .unwrap();
    deploy_stack(&local, &spec, "staging").await.unwrap();

    // The database's CPU at 99% for the last six minutes (staging's rule: above its
    // profile's threshold for 3 of 5 one-minute datapoints).
    let stack = ferry_core::infra::spec::AppSpec::parse(&spec.to_string())
        .unwrap()
        .new_environment("staging")
        .unwrap()
        .stack_name;
    let resources = local
        .cloudformation
        .describe_stack_resources()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let database = resources
        .stack_resources()
        .iter()
        .find(|r| r.resource_type() == Some("AWS::RDS::DBInstance"))
        .and_then(|r| r.physical_resource_id())
        .expect("the stack's database")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let now = chrono::Utc::now();
    let data: Vec<MetricDatum> = (0..=6)
        .map(|minutes_ago| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("DBInstanceIdentifier")
                        .value(&database)
                        .build(),
                )
                .timestamp(aws_smithy_types::DateTime::from_secs(
                    now.timestamp() - 60 * minutes_ago,
                ))
                .value(99.0)
                .build()
        })
        .collect();
    local
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/RDS")
        .set_metric_data(Some(data))
        .send()
        .await
        .unwrap();

    let mut sent_per_run = Vec::new();
    for offset in [0, 20, 40] {
        let run = local
            .invoke(
                "alert-evaluator",
                &schedule(now + chrono::Duration::seconds(offset)),
            )
            .await
            .unwrap();
        assert!(run.function_error.is_none(), "{}", run.body);
        let ours: Vec<Value> = run.body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n.to_string().contains(&app))
            .cloned()
            .collect();
        println!(
            "run at +{offset}s: {} notifications for {app}: {ours:?}",
            ours.len()
        );
        sent_per_run.push(ours);
    }
    // Nothing before group_wait (20 s, from the spec), one at it, none again within
    // group_interval.
    assert_eq!(
        sent_per_run.iter().map(Vec::len).collect::<Vec<_>>(),
        [0, 1, 0]
    );
    let delivered = &sent_per_run[1][0];
    assert_eq!(delivered["channel"], "slack");
    assert!(
        delivered["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("Delivered")),
        "{delivered}"
    );

    let posts = posts_for(&local, &app).await;
    assert_eq!(posts.len(), 1, "exactly one post reached Slack: {posts:?}");
    let text = posts[0].to_string();
    assert!(posts[0]["blocks"].is_array(), "Block Kit: {text}");
    for expected in [
        "staging",
        "database-cpu",
        "Probable root cause",
        "cloudwatch/home",
    ] {
        assert!(text.contains(expected), "'{expected}' missing from {text}");
    }

    // The delivery is recorded under its dedup key, so a retry never sends it twice.
    let key = delivered["dedup_key"].as_str().unwrap();
    let record = local
        .item(&format!("NOTIFY#{key}"), "CHANNEL#slack")
        .await
        .unwrap()
        .expect("the delivery record");
    assert_eq!(record["sent"].as_bool().ok(), Some(&true));
}
