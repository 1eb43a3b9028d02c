//! The scheduled and event-driven functions on their real triggers' payloads.

use e2e::{seed_app, unique_app, Local};
use serde_json::{json, Value};

const SCHEDULE: &str =
    include_str!("../../../functions/cost-analyzer/tests/fixtures/eventbridge-schedule.json");
const ALARM: &str = include_str!(
    "../../../functions/alert-evaluator/tests/fixtures/eventbridge-alarm-state-change.json"
);

fn latest_report_sk(
    items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>],
    prefix: &str,
) -> Option<String> {
    items
        .iter()
        .filter_map(|i| i["SK"].as_s().ok())
        .filter(|sk| sk.starts_with(prefix))
        .max()
        .cloned()
}

#[tokio::test]
async fn drift_checker_compares_the_expected_template_with_the_deployed_stack() {
    let local = Local::connect().await;
    let app = unique_app("drift");
    seed_app(&local, &app).await.unwrap();

    // The template generator as a Step Functions task would call it.
    let generated = local
        .invoke("template-generator", &json!({"app": app, "env": "dev"}))
        .await
        .unwrap();
    assert!(generated.function_error.is_none(), "{}", generated.body);
    let items = local.items_under(&format!("APP#{app}")).await.unwrap();
    let sk = latest_report_sk(&items, "REPORT#template#dev#").expect("template report");
    let report = items
        .iter()
        .find(|i| i["SK"].as_s().unwrap() == &sk)
        .unwrap();
    let body: Value = serde_dynamo::from_attribute_value(report["body"].clone()).unwrap();

    // Deploy it to CloudFormation (moto) with one property changed, as if edited by hand.
    let mut template = body["template"].clone();
    template["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"] = json!(0);
    local
        .cloudformation
        .create_stack()
        .stack_name(format!("ferry-{app}-dev"))
        .template_body(template.to_string())
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("CertificateArn")
                .parameter_value(local.certificate().await.unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();

    let schedule: Value = serde_json::from_str(SCHEDULE).unwrap();
    let result = local.invoke("drift-checker", &schedule).await.unwrap();
    assert!(result.function_error.is_none(), "{}", result.body);
    let mine: Vec<&Value> = result.body["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["app"] == json!(app))
        .collect();
    println!("drift-checker: {mine:?}");
    // Staging was deployed through change sets as Ferry deploys: nothing drifted.
    let staging = mine.iter().find(|e| e["env"] == "staging").unwrap();
    let items = local.items_under(&format!("APP#{app}")).await.unwrap();
    let report_of = |env: &str| -> Value {
        let sk = latest_report_sk(&items, &format!("REPORT#drift#{env}#")).expect("a drift report");
        let item = items
            .iter()
            .find(|i| i["SK"].as_s().unwrap() == &sk)
            .unwrap();
        serde_dynamo::from_attribute_value(item["body"].clone()).unwrap()
    };
    assert_eq!(
        e2e::live_drift(&report_of("staging")),
        Vec::<Value>::new(),
        "no false positives"
    );
    let staging_report = report_of("staging");
    assert_eq!(staging_report["resources"], json!([]), "{staging:?}");
    // Dev's hand edit is live too: the database runs with the edited retention.
    let dev_live = e2e::live_drift(&report_of("dev"));
    let database: Vec<&Value> = dev_live
        .iter()
        .filter(|d| d["logical_id"] == "Database")
        .collect();
    assert_eq!(database.len(), 1, "{dev_live:?}");
    assert_eq!(database[0]["property"], "BackupRetentionPeriod");
    assert_eq!(database[0]["actual"], 0);
    let sk = latest_report_sk(&items, "REPORT#drift#dev#").expect("a drift report");
    let report = items
        .iter()
        .find(|i| i["SK"].as_s().unwrap() == &sk)
        .unwrap();
    let drift: Value = serde_dynamo::from_attribute_value(report["body"].clone()).unwrap();
    assert_eq!(
        drift["resources"],
        json!([{"logical_id": "Database", "kind": "Modified", "properties": ["BackupRetentionPeriod"]}])
    );
    assert!(
        items.iter().any(|i| i.contains_key("expires_at")),
        "reports carry a TTL"
    );
}

#[tokio::test]
async fn cost_analyzer_writes_a_cost_report_per_environment() {
    let local = Local::connect().await;
    let app = unique_app("cost");
    seed_app(&local, &app).await.unwrap();
    let result = local
        .invoke("cost-analyzer", &serde_json::from_str(SCHEDULE).unwrap())
        .await
        .unwrap();
    assert!(result.function_error.is_none(), "{}", result.body);
    let items = local.items_under(&format!("APP#{app}")).await.unwrap();
    let sk = latest_report_sk(&items, "REPORT#cost#dev#").expect("a cost report for dev");
    let report = items
        .iter()
        .find(|i| i["SK"].as_s().unwrap() == &sk)
        .unwrap();
    let body: Value = serde_dynamo::from_attribute_value(report["body"].clone()).unwrap();
    println!("cost report for {app}/dev: {body}");
    // The same environment and arithmetic as functions/cost-analyzer/tests/handler.rs.
    assert_eq!(body["monthly_usd"], 101.11);
}

#[tokio::test]
async fn alert_evaluator_records_an_alarm_state_change_once() {
    let local = Local::connect().await;
    let app = unique_app("alarm");
    let mut event: Value = serde_json::from_str(ALARM).unwrap();
    let alarm = format!("ferry/{app}/prod/alb-5xx");
    event["id"] = json!(uuid::Uuid::new_v4().to_string());
    event["detail"]["alarmName"] = json!(alarm);
    let first = local.invoke("alert-evaluator", &event).await.unwrap();
    assert!(first.function_error.is_none(), "{}", first.body);
    assert_eq!(
        (
            first.body["app"].as_str(),
            first.body["duplicate"].as_bool()
        ),
        (Some(app.as_str()), Some(false))
    );
    let again = local.invoke("alert-evaluator", &event).await.unwrap();
    assert_eq!(again.body["duplicate"], true);
    let state = local
        .item(&format!("ALARM#{alarm}"), "#STATE")
        .await
        .unwrap()
        .expect("alarm state item");
    assert_eq!(state["state"].as_s().unwrap(), "ALARM");
    assert_eq!(
        state["GSI1PK"].as_s().unwrap(),
        &format!("OPEN#{app}#prod"),
        "listed as open for its environment"
    );

    // A malformed event is logged and counted, not failed: EventBridge would only
    // redeliver it.
    let bad = local
        .invoke(
            "alert-evaluator",
            &json!({"detail-type": "CloudWatch Alarm State Change"}),
        )
        .await
        .unwrap();
    assert_eq!((bad.status, bad.function_error.as_deref()), (200, None));
    assert!(bad.body["malformed"].is_string(), "{}", bad.body);
}
