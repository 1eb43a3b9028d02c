//! What a real account enforces, enforced on the local AWS: each function calls AWS with
//! its own role and is refused what the role does not grant; only Ferry's alarms reach
//! the alert-evaluator; and a prod environment whose template is over CloudFormation's
//! 51,200-byte inline limit deploys and promotes through S3.

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use e2e::{
    create_environments, deploy_stack, listener_weights, put_target_metrics, unique_app, Local,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/e2e"))
}

#[tokio::test]
async fn each_function_is_refused_what_its_role_does_not_grant() {
    let local = Local::connect().await;
    let table = var("FERRY_TABLE_NAME");

    // The api reads the table, but may not drop it or change a stack.
    let api = local.as_function("api").await.unwrap();
    let dynamodb = aws_sdk_dynamodb::Client::new(&api);
    dynamodb
        .get_item()
        .table_name(&table)
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S("APP#none".into()),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("#APP".into()),
        )
        .send()
        .await
        .expect("the api's role reads the table");
    let refused = dynamodb
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AccessDeniedException"), "{refused:?}");
    let refused = aws_sdk_cloudformation::Client::new(&api)
        .create_change_set()
        .stack_name("ferry-anything-prod")
        .change_set_name("sneaky")
        .template_body("{\"Resources\":{}}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AccessDenied"), "{refused:?}");
    println!("api: {}", refused.message().unwrap_or_default());

    // The promotion-step may read environment stacks but not Ferry's own.
    let step =
        aws_sdk_cloudformation::Client::new(&local.as_function("promotion-step").await.unwrap());
    let missing = step
        .describe_stacks()
        .stack_name("ferry-nothing-here-prod")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.code(),
        Some("ValidationError"),
        "allowed, and not found: {missing:?}"
    );
    let own = step
        .describe_stacks()
        .stack_name(var("FERRY_LOCAL_STACK"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(own.code(), Some("AccessDenied"), "{own:?}");

    // The drift-checker may not start promotions.
    let sfn = aws_sdk_sfn::Client::new(&local.as_function("drift-checker").await.unwrap());
    let refused = sfn
        .start_execution()
        .state_machine_arn(var("FERRY_STATE_MACHINE_ARN"))
        .name("not-allowed")
        .input("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AccessDeniedException"), "{refused:?}");
}

#[tokio::test]
async fn only_the_alarms_of_ferrys_environments_reach_the_alert_evaluator() {
    let local = Local::connect().await;
    let rule = local
        .cloudformation
        .describe_stack_resource()
        .stack_name(var("FERRY_LOCAL_STACK"))
        .logical_resource_id("AlarmStateChangeRule")
        .send()
        .await
        .unwrap();
    let name = rule
        .stack_resource_detail()
        .unwrap()
        .physical_resource_id()
        .unwrap()
        .to_owned();
    let described = local
        .json_call("events", "AWSEvents.DescribeRule", &json!({"Name": name}))
        .await
        .unwrap();
    let pattern = described["EventPattern"].as_str().unwrap().to_owned();
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../functions/alert-evaluator/tests/fixtures/eventbridge-alarm-state-change.json"
    ))
    .unwrap();
    let takes = |alarm: &str| {
        let mut event = fixture.clone();
        event["detail"]["alarmName"] = json!(alarm);
        let (local, pattern) = (&local, pattern.clone());
        async move {
            local
                .json_call(
                    "events",
                    "AWSEvents.TestEventPattern",
                    &json!({"EventPattern": pattern, "Event": event.to_string()}),
                )
                .await
                .unwrap()["Result"]
                .as_bool()
                .unwrap()
        }
    };
    assert!(takes("ferry/shop/prod/alb-5xx-rate").await);
    assert!(
        !takes("billing-estimated-charges").await,
        "another team's alarm"
    );
    assert!(
        !takes("ferry-e2e-health-api-errors").await,
        "Ferry's own health alarm"
    );
}

#[tokio::test]
async fn a_prod_environment_of_three_services_deploys_through_s3_and_promotes() {
    let local = Local::connect().await;
    local.grant_roles().await.unwrap();
    let app = unique_app("three");
    let mut spec = e2e::app_spec(&app, &e2e::fast_promotions());
    spec["services"] = json!([
        {"name": "web", "image": "public.ecr.aws/nginx/nginx-unprivileged", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2},
        {"name": "api", "image": "public.ecr.aws/nginx/nginx-unprivileged", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2, "path": "/api/*"},
        {"name": "admin", "image": "public.ecr.aws/nginx/nginx-unprivileged", "port": 8080, "cpu": 256, "memory": 512, "desired_count": 1, "path": "/admin/*"},
    ]);
    create_environments(&local, &app, &spec, &["dev", "prod"])
        .await
        .unwrap();
    let release = json!({"image": e2e::release_image(&app), "config": {}});
    let recorded = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/dev/releases"),
            Some(&release),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(recorded.status, 200, "{recorded:?}");

    // The prod template is over the inline limit: it goes to CloudFormation from S3.
    let environment = ferry_core::infra::spec::AppSpec::parse(&spec.to_string())
        .unwrap()
        .new_environment("prod")
        .unwrap();
    let (template, _) =
        ferry_core::infra::template::render(&environment, None, ferry_core::names::Colour::Blue)
            .unwrap();
    let bytes = template.to_string().len();
    println!("three services in prod: {bytes} bytes");
    assert!(
        bytes > 51_200,
        "{bytes} bytes fits inline; the test needs a larger template"
    );
    deploy_stack(&local, &spec, "prod").await.unwrap();
    let stack = format!("ferry-{app}-prod");
    let s3 = local.s3().await;
    let uploaded = s3
        .list_objects_v2()
        .bucket(var("FERRY_ARTIFACTS_BUCKET"))
        .prefix(format!("templates/{stack}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.contents().len(), 1, "the deploy's template in S3");

    // Promote dev -> prod blue/green: approved by someone else, then every step.
    put_target_metrics(&local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "prod", "strategy": "BlueGreen"});
    let started = local
        .api_as(
            Some("ana@example.com"),
            "POST",
            "/promotions",
            Some(&body),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let record = local
            .api("GET", &format!("/promotions/{id}"), None, &[])
            .await
            .unwrap()
            .body;
        if record["status"] == "AwaitingApproval" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never reached approval: {record}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let approved = local
        .api_as(
            Some("bo@example.com"),
            "POST",
            &format!("/promotions/{id}/approve"),
            Some(&json!({"comment": "three services"})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(300))
        .await
        .unwrap();
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await
        .unwrap()
        .body;
    assert_eq!(status, "SUCCEEDED", "{record}");
    // The promotion's change sets went through S3 too (one template per distinct stage).
    let uploaded = s3
        .list_objects_v2()
        .bucket(var("FERRY_ARTIFACTS_BUCKET"))
        .prefix(format!("templates/{stack}/"))
        .send()
        .await
        .unwrap();
    println!(
        "templates uploaded for {stack}: {}",
        uploaded.contents().len()
    );
    assert!(uploaded.contents().len() > 1);
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [0, 100]);
}

#[tokio::test]
async fn two_environments_never_share_a_stack_in_dynamodb() {
    let local = Local::connect().await;
    let shop = unique_app("claim");
    let shop_eu = format!("{shop}-eu");
    let mut spec = e2e::app_spec(&shop_eu, &e2e::fast_promotions());
    create_environments(&local, &shop_eu, &spec, &["prod"])
        .await
        .unwrap();
    // shop/eu-prod's default stack, ferry-<shop>-eu-prod, is shop-eu/prod's.
    spec["app"] = json!(shop);
    spec["environments"] = json!({"eu-prod": {"profile": "prod"}});
    let created = local
        .api("PUT", &format!("/apps/{shop}"), None, &[])
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    let refused = local
        .api(
            "PUT",
            &format!("/apps/{shop}/environments/eu-prod"),
            Some(&json!({"spec": spec})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "stack_name");
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("{shop_eu}/prod")));
    let stored = local
        .item(&format!("APP#{shop}"), "ENV#eu-prod")
        .await
        .unwrap();
    assert!(stored.is_none(), "nothing was written");
    let own = local
        .api(
            "PUT",
            &format!("/apps/{shop}/environments/eu-prod"),
            Some(&json!({"spec": spec, "stack_name": format!("ferry-{shop}-eu-prod-2")})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(own.status, 201, "{:?}", own.body);
}
