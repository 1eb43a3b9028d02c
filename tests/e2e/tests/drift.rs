//! Live drift on the local AWS: every example freshly deployed under every profile
//! reports no drift, and changes made through the services' own APIs, as a person in
//! the console would make them, are each reported with their expected and actual values.
//!
//! moto's CloudFormation creates neither `AWS::ElastiCache::ReplicationGroup` (the stack
//! fails) nor `AWS::CloudWatch::Alarm` (skipped, so the stack lists no alarm): the
//! examples deploy here without their cache, alarms read as NOT_CHECKED, and a deleted
//! alarm is shown by the engine and adapter tests instead (docs/local-aws.md).

use e2e::{create_environments, deploy_stack, live_drift, unique_app, Local};
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
        create_environments(&local, &app, &spec, &["dev", "staging", "prod"])
            .await
            .unwrap();
        for env in ["dev", "staging", "prod"] {
            deploy_stack(&local, &spec, env).await.unwrap();
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
            let unread: usize = report["unread"]
                .as_object()
                .unwrap()
                .values()
                .map(|ids| ids.as_array().unwrap().len())
                .sum();
            println!(
                "{name} {env}: {} lines ({not_checked} not checked), {unread} of types without a reader, {} bytes",
                lines.len(),
                report.to_string().len()
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
    create_environments(&local, &app, &spec, &["dev"])
        .await
        .unwrap();
    deploy_stack(&local, &spec, "dev").await.unwrap();
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

    // The log retention is accepted, with a reason and an expiry: a silence on its drift.
    let accept = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/dev/silences"),
            Some(&json!({
                "matchers": ["drift=WebLogGroup.RetentionInDays"],
                "ends_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
                "comment": "accepted: audit wants these logs kept until the review",
            })),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(accept.status, 201, "{accept:?}");

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
            "ServiceSecurityGroup.SecurityGroupIngress[tcp:22-22:0.0.0.0/0]".into(),
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

    // Each drift is an alert in the environment's pipeline: the alert-evaluator's next
    // runs deliver them as one notification for the group, without the accepted one.
    let now = chrono::Utc::now();
    for offset in [60, 120] {
        let run = local
            .invoke(
                "alert-evaluator",
                &e2e::schedule(now + chrono::Duration::seconds(offset)),
            )
            .await
            .unwrap();
        assert!(run.function_error.is_none(), "{}", run.body);
    }
    let posts = e2e::posts_for(&local, &app).await;
    assert_eq!(posts.len(), 1, "one notification for the group: {posts:?}");
    let text = posts[0].to_string();
    for (key, ..) in wanted.iter().filter(|w| !w.0.starts_with("WebLogGroup")) {
        assert!(text.contains(key.as_str()), "{key} in {text}");
    }
    assert!(text.contains("expected 1, actual 9"), "{text}");
    assert!(
        !text.contains("RetentionInDays"),
        "the accepted drift is silent: {text}"
    );

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

#[tokio::test]
async fn two_environments_compare_with_each_difference_named_by_what_explains_it() {
    let local = Local::connect().await;
    let app = unique_app("compare");
    let spec = example("shop.json", &app);
    create_environments(&local, &app, &spec, &["staging", "prod"])
        .await
        .unwrap();
    let compare = |from: &'static str, to: &'static str| {
        let (local, app) = (&local, &app);
        async move {
            local
                .api(
                    "GET",
                    &format!("/apps/{app}/environments/{from}/compare/{to}"),
                    None,
                    &[],
                )
                .await
                .unwrap()
        }
    };
    // One spec under two profiles: every difference is the profile's.
    let same_spec = compare("staging", "prod").await;
    assert_eq!(same_spec.status, 200, "{same_spec:?}");
    let differences = same_spec.body["differences"].as_array().unwrap();
    assert!(!differences.is_empty());
    assert!(
        differences.iter().all(|d| d["explained_by"] == "profile"),
        "{differences:?}"
    );

    // prod's web service given twice the CPU in its own spec: named, with the field.
    let mut bigger = spec.clone();
    bigger["services"][0]["cpu"] = json!(1024);
    bigger["services"][0]["memory"] = json!(2048);
    let prod = local
        .api("GET", &format!("/apps/{app}/environments/prod"), None, &[])
        .await
        .unwrap();
    let version = prod.body["version"].to_string();
    let put = local
        .api(
            "PUT",
            &format!("/apps/{app}/environments/prod"),
            Some(&json!({"spec": bigger})),
            &[("If-Match", &version)],
        )
        .await
        .unwrap();
    assert!(put.status < 300, "{put:?}");
    let changed = compare("staging", "prod").await.body;
    assert!(
        changed["spec_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "services.web.cpu" && f["from"] == 512 && f["to"] == 1024),
        "{}",
        changed["spec_fields"]
    );
    assert!(changed["differences"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["explained_by"] == "spec"
            && d["path"].as_str().unwrap().ends_with("Properties.Cpu")));

    let missing = compare("staging", "nowhere").await;
    assert_eq!(missing.status, 404, "{missing:?}");
}
