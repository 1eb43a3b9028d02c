//! What infra/ferry.json gives Ferry to run on a real account that the local AWS cannot
//! show (moto's CloudFormation creates no alarms, invoke configs or queue policies, and
//! no API Gateway): a place for every failed asynchronous invocation, logs of every
//! execution and API call, alarms on Ferry's own health, and the alarm events it takes.

use infra::{ferry_template, generated_templates, of_type};
use serde_json::{json, Value};

fn get_att(logical_id: &str) -> Value {
    json!({"Fn::GetAtt": [logical_id, "Arn"]})
}

/// The functions EventBridge invokes (asynchronously): targets of the template's rules.
fn asynchronously_invoked(template: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (rule, resource) in of_type(template, "AWS::Events::Rule") {
        for target in resource["Properties"]["Targets"].as_array().unwrap() {
            let function = target["Arn"]["Fn::GetAtt"][0].as_str().unwrap().to_owned();
            found.push((rule.to_owned(), function, target.clone()));
        }
    }
    found
}

#[test]
fn every_asynchronously_invoked_function_has_a_dead_letter_queue() {
    let template = ferry_template();
    let invoked = asynchronously_invoked(&template);
    assert!(invoked.len() >= 4, "{invoked:?}");
    let queue = get_att("FailedEventsQueue");
    let configs = of_type(&template, "AWS::Lambda::EventInvokeConfig");
    for (rule, function, target) in &invoked {
        // EventBridge's own delivery failures...
        assert_eq!(
            target["DeadLetterConfig"]["Arn"], queue,
            "{rule} -> {function}"
        );
        assert!(
            target["RetryPolicy"]["MaximumRetryAttempts"].is_u64(),
            "{rule}"
        );
        // ...and the function's own failures after Lambda's retries.
        let config = configs
            .iter()
            .find(|(_, c)| c["Properties"]["FunctionName"] == json!({"Ref": function}))
            .unwrap_or_else(|| panic!("{function} has no EventInvokeConfig"));
        assert_eq!(
            config.1["Properties"]["DestinationConfig"]["OnFailure"]["Destination"], queue,
            "{function}"
        );
        // Lambda sends to the destination with the function's own role.
        let role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap();
        let sends = infra::inline_statements(&template["Resources"][role])
            .iter()
            .any(|s| {
                infra::actions(s).contains(&"sqs:SendMessage".to_owned()) && s["Resource"] == queue
            });
        assert!(sends, "{role} may not send to the dead-letter queue");
    }
    // EventBridge may send to the queue only for these rules.
    let policy = &template["Resources"]["FailedEventsQueuePolicy"]["Properties"]["PolicyDocument"]
        ["Statement"][0];
    let sources = policy["Condition"]["ArnEquals"]["aws:SourceArn"]
        .as_array()
        .unwrap();
    for (rule, _, _) in &invoked {
        assert!(
            sources.contains(&get_att(rule)),
            "{rule} cannot dead-letter"
        );
    }
}

#[test]
fn executions_and_api_calls_are_logged() {
    let template = ferry_template();
    let machine =
        &template["Resources"]["PromotionStateMachine"]["Properties"]["LoggingConfiguration"];
    assert_eq!(machine["Level"], "ALL");
    // Release configs and approval comments stay out of the logs.
    assert_eq!(machine["IncludeExecutionData"], false);
    let group = machine["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]
        [0]
    .as_str()
    .unwrap();
    assert!(template["Resources"][group]["Properties"]["RetentionInDays"].is_object());
    let stage = &template["Resources"]["HttpApiStage"]["Properties"]["AccessLogSettings"];
    let format: Value = serde_json::from_str(stage["Format"].as_str().unwrap()).unwrap();
    for field in ["requestId", "caller", "route", "status"] {
        assert!(format.get(field).is_some(), "access logs lack {field}");
    }
    let group = stage["DestinationArn"]["Fn::GetAtt"][0].as_str().unwrap();
    assert!(template["Resources"][group]["Properties"]["RetentionInDays"].is_object());
}

#[test]
fn ferrys_own_health_raises_alarms_to_its_topic() {
    let template = ferry_template();
    let alarms = of_type(&template, "AWS::CloudWatch::Alarm");
    let watched = |namespace: &str, metric: &str, dimension: &Value| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["Namespace"] == namespace
                && p["MetricName"] == metric
                && p["Dimensions"][0]["Value"] == *dimension
                && p["AlarmActions"] == json!([{"Ref": "HealthTopic"}])
        })
    };
    for (id, _) in of_type(&template, "AWS::Lambda::Function") {
        let function = json!({"Ref": id});
        assert!(
            watched("AWS/Lambda", "Throttles", &function),
            "{id}: throttles"
        );
        // The promotion steps' errors are the state machine's signals; their faults
        // are counted by the functions themselves (ferry_lambda::FAULTS).
        let signals = ["PromotionStepFunction", "TemplateGeneratorFunction"].contains(&id);
        let (namespace, metric) = if signals {
            ("Ferry/Health", "Faults")
        } else {
            ("AWS/Lambda", "Errors")
        };
        assert!(watched(namespace, metric, &function), "{id}: {metric}");
    }
    let queue = json!({"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]});
    assert!(watched(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        &queue
    ));
    let machine = json!({"Ref": "PromotionStateMachine"});
    assert!(watched("AWS/States", "ExecutionsTimedOut", &machine));
    assert!(watched("AWS/States", "ExecutionsAborted", &machine));
}

#[test]
fn only_the_alarms_of_ferrys_environments_reach_the_alert_evaluator() {
    let template = ferry_template();
    let pattern = &template["Resources"]["AlarmStateChangeRule"]["Properties"]["EventPattern"];
    assert_eq!(
        pattern["detail"]["alarmName"],
        json!([{"prefix": "ferry/"}])
    );
    // Every alarm Ferry generates for an environment has that prefix...
    for (name, generated) in generated_templates() {
        for (id, alarm) in of_type(&generated, "AWS::CloudWatch::Alarm") {
            let alarm_name = alarm["Properties"]["AlarmName"].as_str().unwrap();
            assert!(
                alarm_name.starts_with("ferry/"),
                "{name} {id}: {alarm_name}"
            );
        }
    }
    // ...and none of Ferry's own does (they are named after its stack, and a stack
    // name has no '/').
    for (id, alarm) in of_type(&template, "AWS::CloudWatch::Alarm") {
        let name = alarm["Properties"]["AlarmName"]["Fn::Sub"]
            .as_str()
            .unwrap();
        assert!(
            name.starts_with("${AWS::StackName}-health-"),
            "{id}: {name}"
        );
    }
}

#[test]
fn the_slack_parameters_arn_has_no_doubled_slash() {
    let template = ferry_template();
    let parameter = &template["Parameters"]["AlertSlackWebhookParameter"];
    let allowed = regex::Regex::new(parameter["AllowedPattern"].as_str().unwrap()).unwrap();
    assert!(allowed.is_match("/ferry/slack-webhook") && allowed.is_match(""));
    assert!(
        !allowed.is_match("ferry/slack-webhook"),
        "a path without its leading slash"
    );
    let statement = infra::inline_statements(&template["Resources"]["AlertEvaluatorRole"])
        .into_iter()
        .find(|s| infra::actions(s) == ["ssm:GetParameter"])
        .expect("the alert-evaluator reads its webhook parameter");
    let arn = statement["Resource"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .replace("${AlertSlackWebhookParameter}", "/ferry/slack-webhook");
    // SSM's ARN of /ferry/slack-webhook is ...:parameter/ferry/slack-webhook.
    assert!(arn.ends_with(":parameter/ferry/slack-webhook"), "{arn}");
}
