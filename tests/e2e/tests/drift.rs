//! Live drift on the local AWS: every example freshly deployed under every profile
//! reports no drift, and changes made through the services' own APIs, as a person in
//! the console would make them, are each reported with their expected and actual values.
//!
//! moto's CloudFormation creates neither `AWS::ElastiCache::ReplicationGroup` (the stack
//! fails) nor `AWS::CloudWatch::Alarm` (skipped, so the stack lists no alarm): the
//! examples deploy here without their cache, alarms read as NOT_CHECKED, and a deleted
//! alarm is shown by the engine and adapter tests instead (docs/local-aws.md).

use e2e::{deploy_stack, live_drift, unique_app, Local};
use ferry_core::infra::live_drift::READ_TYPES;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const EXAMPLES: [&str; 4] = [
    "shop.json",
    "small-web.yaml",
    "two-services.yaml",
    "web-postgres-valkey.yaml",
];

/// An example spec under `app`'s name, without its cache (see above).
fn example(name: &str, app: &str) -> Value {
    let text = std::fs::read_to_string(format!("../../examples/{name}")).unwrap();
    let mut spec = ferry_core::infra::spec::parse_document(&text).unwrap();
    spec["app"] = json!(app);
    spec.as_object_mut().unwrap().remove("cache");
    if let Some(envs) = spec.get_mut("environments").and_then(Value::as_object_mut) {
        for env in envs.values_mut().filter_map(Value::as_object_mut) {
            env.remove("cache");
        }
    }
    spec
}

/// Creates `app` with `env` from `spec` through the API and deploys its stack.
async fn deployed(local: &Local, app: &str, spec: &Value, env: &str) {
    let created = local
        .api("PUT", &format!("/apps/{app}"), None, &[])
        .await
        .unwrap();
    assert!(matches!(created.status, 200 | 201), "{created:?}");
    let put = local
        .api(
            "PUT",
            &format!("/apps/{app}/environments/{env}"),
            Some(&json!({"spec": spec})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(put.status, 201, "{put:?}");
    deploy_stack(local, spec, env).await.unwrap();
}

/// `POST .../drift-checks` through the real api function: the stored report.
async fn check(local: &Local, app: &str, env: &str) -> Value {
    let r = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/{env}/drift-checks"),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{r:?}");
    r.body["report"].clone()
}

#[tokio::test]
async fn every_example_freshly_deployed_under_every_profile_reports_no_drift() {
    let local = Local::connect().await;
    for name in EXAMPLES {
        let app = unique_app("fresh");
        let spec = example(name, &app);
        for env in ["dev", "staging", "prod"] {
            deployed(&local, &app, &spec, env).await;
            let report = check(&local, &app, env).await;
            // Every resource a reader covers was read: the only ones not checked are
            // the alarms moto's CloudFormation never created. (A refused read, say a
            // missing IAM action, would show here as NOT_CHECKED with its reason.)
            let lines = report["live"].as_array().unwrap();
            let unread: Vec<&Value> = lines
                .iter()
                .filter(|d| {
                    d["kind"] == "NOT_CHECKED"
                        && READ_TYPES.contains(&d["resource_type"].as_str().unwrap())
                        && d["resource_type"] != "AWS::CloudWatch::Alarm"
                })
                .collect();
            assert_eq!(unread, Vec::<&Value>::new(), "{name} {env}: unread");
            let not_checked = lines.iter().filter(|d| d["kind"] == "NOT_CHECKED").count();
            println!(
                "{name} {env}: {} report lines, {not_checked} not checked",
                lines.len()
            );
            assert_eq!(
                report["resources"],
                json!([]),
                "{name} {env}: template drift"
            );
            assert_eq!(
                live_drift(&report),
                Vec::<Value>::new(),
                "{name} {env}: live drift"
            );
        }
    }
}

#[tokio::test]
async fn console_changes_are_each_reported_with_expected_and_actual_values() {
    let local = Local::connect().await;
    let app = unique_app("console");
    let spec = example("web-postgres-valkey.yaml", &app);
    deployed(&local, &app, &spec, "dev").await;
    assert_eq!(
        live_drift(&check(&local, &app, "dev").await),
        Vec::<Value>::new()
    );

    let stack = format!("ferry-{app}-dev");
    let ids: BTreeMap<String, String> = local
        .cloudformation
        .describe_stack_resources()
        .stack_name(&stack)
        .send()
        .await
        .unwrap()
        .stack_resources()
        .iter()
        .map(|r| {
            let logical = r.logical_resource_id().unwrap().to_owned();
            (
                logical,
                r.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let sdk = ferry_aws::sdk_config().await;

    // The web service scaled to 9 by hand: dev's autoscaling allows 1 to 2.
    let service = &ids["WebBlueService"];
    let cluster = service.split('/').nth(1).unwrap();
    aws_sdk_ecs::Client::new(&sdk)
        .update_service()
        .cluster(cluster)
        .service(service)
        .desired_count(9)
        .send()
        .await
        .unwrap();
    // SSH opened to the world on the services' security group.
    aws_sdk_ec2::Client::new(&sdk)
        .authorize_security_group_ingress()
        .group_id(&ids["ServiceSecurityGroup"])
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Backups kept three days instead of the dev profile's one.
    aws_sdk_rds::Client::new(&sdk)
        .modify_db_instance()
        .db_instance_identifier(&ids["Database"])
        .backup_retention_period(3)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    // The services' logs kept forever instead of the profile's days.
    aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .delete_retention_policy()
        .log_group_name(&ids["WebLogGroup"])
        .send()
        .await
        .unwrap();
    // The health check pointed elsewhere.
    aws_sdk_elasticloadbalancingv2::Client::new(&sdk)
        .modify_target_group()
        .target_group_arn(&ids["WebBlueTargetGroup"])
        .health_check_path("/")
        .send()
        .await
        .unwrap();

    let report = check(&local, &app, "dev").await;
    let mut found: Vec<(String, String, Value, Value)> = live_drift(&report)
        .iter()
        .map(|d| {
            let key = match d["property"].as_str() {
                Some(p) => format!("{}.{p}", d["logical_id"].as_str().unwrap()),
                None => d["logical_id"].as_str().unwrap().to_owned(),
            };
            let value = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
            (
                key,
                d["kind"].as_str().unwrap().to_owned(),
                value("expected"),
                value("actual"),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wanted: Vec<(String, String, Value, Value)> = vec![
        (
            "WebBlueService.DesiredCount".into(),
            "MODIFIED".into(),
            json!(1),
            json!(9),
        ),
        (
            "ServiceSecurityGroup.SecurityGroupIngress".into(),
            "ADDED".into(),
            Value::Null,
            json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}),
        ),
        (
            "Database.BackupRetentionPeriod".into(),
            "MODIFIED".into(),
            json!(1),
            json!(3),
        ),
        (
            "WebLogGroup.RetentionInDays".into(),
            "MODIFIED".into(),
            json!(7),
            Value::Null,
        ),
        (
            "WebBlueTargetGroup.HealthCheckPath".into(),
            "MODIFIED".into(),
            json!("/health"),
            json!("/"),
        ),
    ];
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found, wanted);
    assert_eq!(report["status"], "Drifted");

    // GET returns the latest check.
    let latest = local
        .api(
            "GET",
            &format!("/apps/{app}/environments/dev/drift"),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(latest.status, 200, "{latest:?}");
    assert_eq!(latest.body["body"]["live"], report["live"]);
    // An environment that does not exist is a 404 naming it, and nothing is written.
    let missing = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/nope/drift-checks"),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(missing.status, 404, "{missing:?}");
}
