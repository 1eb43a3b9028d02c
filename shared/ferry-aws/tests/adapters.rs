//! Adapter tests: SDK responses (stubbed with aws-smithy-mocks) mapped onto port errors.
//! The behaviour against a real API is covered by the end-to-end tests on moto.

use aws_sdk_cloudformation::operation::get_template::{GetTemplateError, GetTemplateOutput};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::error::{
    ProvisionedThroughputExceededException, TransactionCanceledException,
};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::error::{ExecutionAlreadyExists, StateMachineDoesNotExist};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use ferry_aws::{CloudFormationStacks, DynamoStore, StepFunctionsWorkflow};
use ferry_core::model::{Environment, EnvironmentSpec};
use ferry_core::names::{AppName, Colour, EnvName, PromotionId};
use ferry_core::ports::prelude::*;
use ferry_core::ports::{DeployedStacks, StacksError, StoreError, Workflow, WorkflowError};
use serde_json::json;

/// The SDK's response parser always fills the error metadata with the wire error code;
/// builders do not, so stubs set it as AWS would.
fn code(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn environment(version: u64) -> Environment {
    Environment {
        app: AppName::parse("a", "shop").unwrap(),
        name: EnvName::parse("e", "dev").unwrap(),
        spec: EnvironmentSpec::default(),
        stack_name: "ferry-shop-dev".into(),
        deployed_release: None,
        live_colour: Colour::Blue,
        active_promotion: None,
        version,
        updated_at: chrono::Utc::now(),
        deployed_spec: None,
    }
}

/// DynamoDB's answer when a transaction item's condition fails: one reason per item, in
/// order, `None` for the items that passed.
fn cancelled(reasons: &[&str]) -> TransactWriteItemsError {
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .meta(code(
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons",
            ))
            .set_cancellation_reasons(Some(
                reasons
                    .iter()
                    .map(|r| CancellationReason::builder().code(*r).build())
                    .collect(),
            ))
            .build(),
    )
}

/// The environment's own read before an update (`environment(version)` as stored).
fn stored_environment(version: u64) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(environment(version)).unwrap();
        item.insert("PK".into(), AttributeValue::S("APP#shop".into()));
        GetItemOutput::builder().set_item(Some(item)).build()
    })
}

#[tokio::test]
async fn a_failed_version_condition_is_a_version_conflict() {
    let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|req| {
            let items = req.transact_items();
            items.len() == 2
                && items[0].put().and_then(|p| p.condition_expression()) == Some("#v = :expected")
        })
        .then_error(|| cancelled(&["ConditionalCheckFailed", "None"]));
    let read = stored_environment(4);
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write, &read]);
    let store = DynamoStore::new(client, "t");
    let err = store
        .put_environment(&environment(3), Some(3))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::VersionConflict {
            what: "environment shop/dev".into(),
            expected: 3
        }
    );
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn a_new_environment_that_exists_is_already_exists() {
    let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|req| {
            req.transact_items()[0]
                .put()
                .and_then(|p| p.condition_expression())
                == Some("attribute_not_exists(PK)")
        })
        .then_error(|| cancelled(&["ConditionalCheckFailed", "None"]));
    let store = DynamoStore::new(mock_client!(aws_sdk_dynamodb, [&write]), "t");
    assert!(matches!(
        store.put_environment(&environment(0), None).await,
        Err(StoreError::AlreadyExists(_))
    ));
}

#[tokio::test]
async fn a_stack_another_environment_holds_is_refused_naming_it() {
    // The claim (second item) is held by shop-eu/prod.
    let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|req| {
            let claim = req.transact_items()[1].put();
            claim.is_some_and(|p| {
                p.item()["PK"] == AttributeValue::S("STACK#ferry-shop-dev".into())
                    && p.item()["owner"] == AttributeValue::S("shop/dev".into())
            })
        })
        .then_error(|| cancelled(&["None", "ConditionalCheckFailed"]));
    let owner = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|req| {
            req.key().and_then(|k| k.get("PK"))
                == Some(&AttributeValue::S("STACK#ferry-shop-dev".into()))
        })
        .then_output(|| {
            GetItemOutput::builder()
                .item("PK", AttributeValue::S("STACK#ferry-shop-dev".into()))
                .item("owner", AttributeValue::S("shop-eu/prod".into()))
                .build()
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write, &owner]);
    let store = DynamoStore::new(client, "t");
    assert_eq!(
        store.put_environment(&environment(0), None).await,
        Err(StoreError::StackTaken {
            stack: "ferry-shop-dev".into(),
            owner: "shop-eu/prod".into()
        })
    );
}

#[tokio::test]
async fn throttling_is_unavailable_so_callers_retry() {
    // The SDK's own retries are exhausted first: every attempt is throttled.
    let rule = mock!(aws_sdk_dynamodb::Client::get_item).then_error(|| {
        GetItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .meta(code("ProvisionedThroughputExceededException", "slow down"))
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
    let store = DynamoStore::new(client, "t");
    let err = store
        .get_app(&AppName::parse("a", "shop").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Unavailable(m) if m.contains("ProvisionedThroughputExceededException")),
        "{err:?}"
    );
}

#[tokio::test]
async fn stored_items_that_do_not_parse_are_reported_as_corrupt() {
    let rule = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        aws_sdk_dynamodb::operation::get_item::GetItemOutput::builder()
            .item(
                "PK",
                aws_sdk_dynamodb::types::AttributeValue::S("APP#shop".into()),
            )
            .item(
                "name",
                aws_sdk_dynamodb::types::AttributeValue::N("7".into()),
            )
            .build()
    });
    let store = DynamoStore::new(mock_client!(aws_sdk_dynamodb, [&rule]), "t");
    assert!(matches!(
        store.get_app(&AppName::parse("a", "shop").unwrap()).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn starting_an_execution_that_exists_is_idempotent() {
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:ferry-promotion";
    let rule = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|req| req.name() == Some("release-42"))
        .then_error(|| {
            StartExecutionError::ExecutionAlreadyExists(
                ExecutionAlreadyExists::builder()
                    .meta(code("ExecutionAlreadyExists", "exists"))
                    .build(),
            )
        });
    let workflow = StepFunctionsWorkflow::new(mock_client!(aws_sdk_sfn, [&rule]), arn);
    let id = PromotionId::parse("id", "release-42").unwrap();
    let started = workflow.start_promotion(&id, &json!({})).await.unwrap();
    assert_eq!(
        started,
        "arn:aws:states:us-east-1:123456789012:execution:ferry-promotion:release-42"
    );
}

#[tokio::test]
async fn a_missing_state_machine_is_rejected_not_retried() {
    let missing = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        StartExecutionError::StateMachineDoesNotExist(
            StateMachineDoesNotExist::builder()
                .meta(code("StateMachineDoesNotExist", "gone"))
                .build(),
        )
    });
    let workflow = StepFunctionsWorkflow::new(
        mock_client!(aws_sdk_sfn, [&missing]),
        "arn:aws:states:r:1:stateMachine:m",
    );
    let err = workflow
        .start_promotion(&PromotionId::parse("id", "p").unwrap(), &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Rejected(m) if m.contains("StateMachineDoesNotExist")));
}

#[tokio::test]
async fn a_stack_that_does_not_exist_has_no_template() {
    let rule = mock!(aws_sdk_cloudformation::Client::get_template).then_error(|| {
        GetTemplateError::generic(code(
            "ValidationError",
            "Stack with id ferry-shop-qa does not exist",
        ))
    });
    let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&rule]));
    assert_eq!(
        stacks.deployed_template("ferry-shop-qa").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_yaml_stack_is_reported_not_guessed_at() {
    let rule = mock!(aws_sdk_cloudformation::Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
            .build()
    });
    let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&rule]));
    let err = stacks.deployed_template("hand-made").await.unwrap_err();
    assert!(matches!(err, StacksError::Unreadable { reason, .. } if reason.contains("not JSON")));
}

/// What promotions read from a stack: the parameters to redeploy it with, and the
/// outputs the canary judge needs (target groups' CloudWatch dimensions).
#[tokio::test]
async fn stack_details_carry_parameters_and_outputs_and_a_missing_stack_is_none() {
    use aws_sdk_cloudformation::operation::describe_stacks::{
        DescribeStacksError, DescribeStacksOutput,
    };
    use aws_sdk_cloudformation::types::{Output, Parameter, Stack, StackStatus};
    use ferry_core::infra::deploy::ChangeSets;
    let found = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some("ferry-shop-prod"))
        .then_output(|| {
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_name("ferry-shop-prod")
                        .stack_status(StackStatus::UpdateComplete)
                        .parameters(
                            Parameter::builder()
                                .parameter_key("CertificateArn")
                                .parameter_value("arn:aws:acm:us-east-1:123456789012:certificate/x")
                                .build(),
                        )
                        .outputs(
                            Output::builder()
                                .output_key("WebGreenTargetGroupFullName")
                                .output_value("targetgroup/web-green/1")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let missing = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some("ferry-shop-qa"))
        .then_error(|| {
            DescribeStacksError::generic(code(
                "ValidationError",
                "Stack with id ferry-shop-qa does not exist",
            ))
        });
    let stacks = CloudFormationStacks::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&found, &missing]
    ));
    let details = stacks
        .stack_details("ferry-shop-prod")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.status, "UPDATE_COMPLETE");
    assert_eq!(
        details.parameters["CertificateArn"],
        "arn:aws:acm:us-east-1:123456789012:certificate/x"
    );
    assert_eq!(
        details.outputs["WebGreenTargetGroupFullName"],
        "targetgroup/web-green/1"
    );
    assert_eq!(stacks.stack_details("ferry-shop-qa").await.unwrap(), None);
}

mod cloudwatch {
    use super::code;
    use aws_sdk_cloudwatch::operation::describe_alarm_history::DescribeAlarmHistoryOutput;
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
    use aws_sdk_cloudwatch::types::{MetricAlarm, MetricDataResult, StateValue};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::DateTime as AwsTime;
    use chrono::{TimeZone, Utc};
    use ferry_aws::CloudWatchMetrics;
    use ferry_core::ports::{MetricQuery, Metrics, MetricsError};

    fn query() -> MetricQuery {
        MetricQuery {
            namespace: "AWS/ApplicationELB".into(),
            metric: "TargetResponseTime".into(),
            dimensions: vec![("TargetGroup".into(), "targetgroup/green/1".into())],
            stat: "p99".into(),
            period_seconds: 60,
        }
    }

    #[tokio::test]
    async fn series_follow_pagination_and_come_back_oldest_first() {
        let page = |token: Option<&str>, secs: &[i64], values: &[f64]| {
            // AWS echoes each query's id; the adapter numbers its queries m0, m1, ...
            let result = MetricDataResult::builder()
                .id("m0")
                .set_timestamps(Some(secs.iter().map(|s| AwsTime::from_secs(*s)).collect()))
                .set_values(Some(values.to_vec()))
                .build();
            GetMetricDataOutput::builder()
                .metric_data_results(result)
                .set_next_token(token.map(str::to_owned))
                .build()
        };
        // The query names the statistic, the period and every dimension.
        let first = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .match_requests(|r| {
                let q = &r.metric_data_queries()[0];
                let stat = q.metric_stat().unwrap();
                r.next_token().is_none()
                    && stat.stat() == Some("p99")
                    && stat.period() == Some(60)
                    && stat.metric().unwrap().dimensions()[0].value() == Some("targetgroup/green/1")
            })
            .then_output(move || page(Some("more"), &[120, 60], &[0.3, 0.2]));
        let second = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .match_requests(|r| r.next_token() == Some("more"))
            .then_output(move || page(None, &[180], &[0.4]));
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&first, &second]);
        let metrics = CloudWatchMetrics::new(client);
        let start = Utc.timestamp_opt(0, 0).unwrap();
        let series = metrics
            .series(&query(), start, start + chrono::Duration::minutes(5))
            .await
            .unwrap();
        let values: Vec<(i64, f64)> = series.iter().map(|(at, v)| (at.timestamp(), *v)).collect();
        assert_eq!(values, [(60, 0.2), (120, 0.3), (180, 0.4)]);
    }

    #[tokio::test]
    async fn throttling_is_unavailable_and_a_bad_query_is_refused() {
        let throttled = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .then_error(|| GetMetricDataError::generic(code("Throttling", "Rate exceeded")));
        let metrics = CloudWatchMetrics::new(mock_client!(aws_sdk_cloudwatch, [&throttled]));
        let now = Utc::now();
        let error = metrics.series(&query(), now, now).await.unwrap_err();
        assert!(matches!(error, MetricsError::Unavailable(_)), "{error:?}");

        let refused = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .then_error(|| GetMetricDataError::generic(code("InvalidParameterValue", "bad stat")));
        let metrics = CloudWatchMetrics::new(mock_client!(aws_sdk_cloudwatch, [&refused]));
        let error = metrics.series(&query(), now, now).await.unwrap_err();
        assert_eq!(
            error,
            MetricsError::Refused("InvalidParameterValue: bad stat".into())
        );
    }

    #[tokio::test]
    async fn an_alarm_that_fired_and_cleared_since_the_bake_began_counts_as_firing() {
        use aws_sdk_cloudwatch::types::{AlarmHistoryItem, HistoryItemType};
        let since = Utc::now() - chrono::Duration::minutes(5);
        let now = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
            .match_requests(|r| {
                r.alarm_name_prefix() == Some("ferry/shop/prod/")
                    && r.state_value() == Some(&StateValue::Alarm)
            })
            .then_output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(
                        MetricAlarm::builder()
                            .alarm_name("ferry/shop/prod/web-p99-latency")
                            .state_value(StateValue::Alarm)
                            .build(),
                    )
                    // What moto answers beside AlarmNamePrefix, the StateValue filter
                    // ignored: an alarm in OK, which is not firing.
                    .metric_alarms(
                        MetricAlarm::builder()
                            .alarm_name("ferry/shop/prod/db-cpu")
                            .state_value(StateValue::Ok)
                            .build(),
                    )
                    .build()
            });
        let change = |name: &str, old: &str, new: &str| {
            AlarmHistoryItem::builder()
                .alarm_name(name)
                .history_item_type(HistoryItemType::StateUpdate)
                .history_data(format!(
                    r#"{{"version":"1.0","oldState":{{"stateValue":"{old}"}},"newState":{{"stateValue":"{new}"}}}}"#
                ))
                .build()
        };
        let first_page = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history)
            .match_requests(move |r| {
                r.history_item_type() == Some(&HistoryItemType::StateUpdate)
                    && r.start_date().map(|d| d.to_millis().unwrap())
                        == Some(since.timestamp_millis())
                    && r.next_token().is_none()
            })
            .then_output(move || {
                DescribeAlarmHistoryOutput::builder()
                    // Fired and cleared within the bake: counts.
                    .alarm_history_items(change("ferry/shop/prod/api-5xx", "OK", "ALARM"))
                    .alarm_history_items(change("ferry/shop/prod/api-5xx", "ALARM", "OK"))
                    // Another environment's alarm, and a change that never reached ALARM.
                    .alarm_history_items(change("ferry/shop/staging/api-5xx", "OK", "ALARM"))
                    .next_token("page-2")
                    .build()
            });
        let second_page = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(move || {
                DescribeAlarmHistoryOutput::builder()
                    .alarm_history_items(change(
                        "ferry/shop/prod/db-cpu",
                        "INSUFFICIENT_DATA",
                        "OK",
                    ))
                    .build()
            });
        let metrics = CloudWatchMetrics::new(mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::MatchAny,
            [&now, &first_page, &second_page]
        ));
        assert_eq!(
            metrics
                .alarms_in_alarm_since("ferry/shop/prod/", since)
                .await
                .unwrap(),
            ["ferry/shop/prod/api-5xx", "ferry/shop/prod/web-p99-latency"]
        );
    }
}

/// GetProducts is paged: every page's price list documents come back, the query's
/// filters go out as TERM_MATCH filters, and throttling is "unavailable".
#[tokio::test]
async fn price_list_pages_are_followed_and_filters_sent_as_term_matches() {
    use aws_sdk_pricing::operation::get_products::{GetProductsError, GetProductsOutput};
    use ferry_core::ports::{PriceList, PriceListError, ProductQuery};
    let item = |sku: &str| json!({"product": {"sku": sku}}).to_string();
    let first = mock!(aws_sdk_pricing::Client::get_products)
        .match_requests(|r| {
            r.service_code() == Some("AmazonEC2")
                && r.next_token().is_none()
                && r.filters().iter().any(|f| {
                    f.field() == "regionCode"
                        && f.value() == "eu-central-1"
                        && f.r#type() == &aws_sdk_pricing::types::FilterType::TermMatch
                })
        })
        .then_output(move || {
            GetProductsOutput::builder()
                .price_list(item("A"))
                .price_list(item("B"))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_pricing::Client::get_products)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || GetProductsOutput::builder().price_list(item("C")).build());
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&first, &second]);
    let api = ferry_aws::PricingApi::new(client);
    let query = ProductQuery {
        service_code: "AmazonEC2".into(),
        filters: vec![
            ("regionCode".into(), "eu-central-1".into()),
            ("productFamily".into(), "NAT Gateway".into()),
        ],
    };
    let documents = api.products(&query).await.unwrap();
    assert_eq!(documents.len(), 3);
    assert!(documents[2].contains("\"C\""));

    let throttled = mock!(aws_sdk_pricing::Client::get_products)
        .then_error(|| GetProductsError::generic(code("ThrottlingException", "Rate exceeded")));
    let api = ferry_aws::PricingApi::new(mock_client!(aws_sdk_pricing, [&throttled]));
    assert!(matches!(
        api.products(&query).await.unwrap_err(),
        PriceListError::Unavailable(_)
    ));
}

/// GetMetricData takes 500 queries a call: n series cost ⌈n/500⌉ calls, and each series
/// comes back in the order asked, whatever the batch it rode in.
#[tokio::test]
async fn get_metric_data_is_batched_500_queries_a_call() {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use ferry_core::ports::{MetricQuery, Metrics};
    // Echoes every query's id with one point whose value is the query's number.
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|request| {
        assert!(
            request.metric_data_queries().len() <= 500,
            "a call over the limit"
        );
        let results = request
            .metric_data_queries()
            .iter()
            .map(|q| {
                let id = q.id().unwrap_or_default();
                let n: f64 = id.trim_start_matches('m').parse().unwrap();
                MetricDataResult::builder()
                    .id(id)
                    .timestamps(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                    .values(n)
                    .build()
            })
            .collect();
        GetMetricDataOutput::builder()
            .set_metric_data_results(Some(results))
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let metrics = ferry_aws::CloudWatchMetrics::new(client);
    for (series, calls) in [(1, 1), (500, 1), (501, 2), (1201, 3)] {
        let before = rule.num_calls();
        let queries: Vec<MetricQuery> = (0..series)
            .map(|i| MetricQuery {
                namespace: "AWS/ECS".into(),
                metric: "CPUUtilization".into(),
                dimensions: vec![("ServiceName".into(), format!("svc{i}"))],
                stat: "Maximum".into(),
                period_seconds: 300,
            })
            .collect();
        let now = chrono::Utc::now();
        let results = metrics
            .series_many(&queries, now - chrono::Duration::hours(1), now)
            .await
            .unwrap();
        assert_eq!(rule.num_calls() - before, calls, "{series} series");
        assert_eq!(results.len(), series);
        assert_eq!(results[series - 1][0].1, (series - 1) as f64);
    }
}

mod large_templates {
    use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_smithy_mocks::{mock, mock_client};
    use ferry_aws::{CloudFormationStacks, TemplateBucket};
    use ferry_core::infra::deploy::{ChangeSets, StackApiError};

    const ROLE: &str = "arn:aws:iam::123456789012:role/ferry-EnvironmentStackRole-1";

    fn template(bytes: usize) -> String {
        let padding = "x".repeat(bytes - 50);
        let text = format!("{{\"Resources\":{{}},\"Description\":\"{padding}\"}}");
        assert!(text.len() <= bytes);
        text
    }

    fn bucket(s3: aws_sdk_s3::Client) -> Option<TemplateBucket> {
        Some(TemplateBucket {
            s3,
            bucket: "ferry-artifacts".into(),
            region: "eu-west-1".into(),
        })
    }

    #[tokio::test]
    async fn up_to_51200_bytes_a_template_goes_inline_with_the_service_role() {
        let body = template(51_200);
        let sent = body.clone();
        let create = mock!(aws_sdk_cloudformation::Client::create_change_set)
            .match_requests(move |r| {
                r.template_body() == Some(sent.as_str())
                    && r.template_url().is_none()
                    && r.role_arn() == Some(ROLE)
            })
            .then_output(|| CreateChangeSetOutput::builder().id("cs-1").build());
        let put = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| PutObjectOutput::builder().build());
        let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&create]))
            .with_service_role(Some(ROLE.into()))
            .with_template_bucket(bucket(mock_client!(aws_sdk_s3, [&put])));
        let id = stacks
            .create_change_set("ferry-shop-prod", "cs", &body, &[], false)
            .await
            .unwrap();
        assert_eq!(id.as_deref(), Some("cs-1"));
        assert_eq!((create.num_calls(), put.num_calls()), (1, 0));
    }

    #[tokio::test]
    async fn a_larger_template_is_uploaded_and_passed_by_url() {
        let body = template(60_000);
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(body.as_bytes()))
        };
        let key = format!("templates/ferry-shop-prod/{digest}.json");
        let expected_key = key.clone();
        let uploaded = body.len() as i64;
        let put = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(move |r| {
                r.bucket() == Some("ferry-artifacts")
                    && r.key() == Some(expected_key.as_str())
                    && r.body().size_hint().1 == Some(uploaded as u64)
            })
            .then_output(|| PutObjectOutput::builder().build());
        let url = format!("https://ferry-artifacts.s3.eu-west-1.amazonaws.com/{key}");
        let create = mock!(aws_sdk_cloudformation::Client::create_change_set)
            .match_requests(move |r| {
                r.template_body().is_none()
                    && r.template_url() == Some(url.as_str())
                    && r.role_arn() == Some(ROLE)
            })
            .then_output(|| CreateChangeSetOutput::builder().id("cs-2").build());
        let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&create]))
            .with_service_role(Some(ROLE.into()))
            .with_template_bucket(bucket(mock_client!(aws_sdk_s3, [&put])));
        let id = stacks
            .create_change_set("ferry-shop-prod", "cs", &body, &[], false)
            .await
            .unwrap();
        assert_eq!(id.as_deref(), Some("cs-2"));
        assert_eq!((put.num_calls(), create.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_larger_template_without_a_bucket_or_over_1_mb_is_refused_naming_the_limit() {
        let create = mock!(aws_sdk_cloudformation::Client::create_change_set)
            .then_output(|| CreateChangeSetOutput::builder().id("never").build());
        let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&create]));
        let Err(StackApiError::Refused(reason)) = stacks
            .create_change_set("ferry-shop-prod", "cs", &template(60_000), &[], false)
            .await
        else {
            panic!("expected a refusal")
        };
        assert!(reason.contains("51200-byte TemplateBody limit"), "{reason}");
        assert!(reason.contains("FERRY_ARTIFACTS_BUCKET"), "{reason}");

        let put = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| PutObjectOutput::builder().build());
        let with_bucket =
            CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&create]))
                .with_template_bucket(bucket(mock_client!(aws_sdk_s3, [&put])));
        let Err(StackApiError::Refused(reason)) = with_bucket
            .create_change_set("ferry-shop-prod", "cs", &template(1_000_100), &[], false)
            .await
        else {
            panic!("expected a refusal")
        };
        assert!(reason.contains("1000000-byte limit"), "{reason}");
        assert_eq!((create.num_calls(), put.num_calls()), (0, 0));
    }
}

/// A cancelled transaction means what its reasons say: a failed condition is the conflict
/// it stands for, while throttling, exceeded throughput and a conflicting transaction
/// are worth a retry (`Unavailable`), not a 409.
#[tokio::test]
async fn a_transaction_cancelled_for_throughput_is_retryable_and_for_a_condition_a_conflict() {
    use ferry_core::model::{Approval, Decision};
    let approval = Approval {
        promotion_id: PromotionId::parse("id", "release-42").unwrap(),
        decision: Decision::Approved,
        decided_by: "bo@example.com".into(),
        principal: "sub-bo".into(),
        wait: "w".into(),
        comment: String::new(),
        decided_at: chrono::Utc::now(),
    };
    for (reasons, retryable) in [
        (["ThrottlingError", "None"], true),
        (["None", "ProvisionedThroughputExceeded"], true),
        (["TransactionConflict", "None"], true),
        (["ConditionalCheckFailed", "None"], false),
        (["ConditionalCheckFailed", "ThrottlingError"], false),
    ] {
        let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
            .match_requests(|req| {
                let items = req.transact_items();
                items[0]
                    .condition_check()
                    .is_some_and(|c| c.condition_expression() == "approval_token = :token")
            })
            .then_error(move || cancelled(&reasons));
        let store = DynamoStore::new(
            mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write]),
            "t",
        );
        let err = store
            .record_decision(&approval, "token-1")
            .await
            .unwrap_err();
        if retryable {
            assert!(
                matches!(&err, StoreError::Unavailable(m) if m.contains("TransactionCanceledException")),
                "{reasons:?}: {err:?}"
            );
        } else {
            assert!(
                matches!(err, StoreError::VersionConflict { .. }),
                "{reasons:?}: {err:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_completed_or_expired_task_is_gone_and_throttling_is_unavailable() {
    use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
    use aws_sdk_sfn::types::error::TaskTimedOut;
    let gone = mock!(aws_sdk_sfn::Client::send_task_success)
        .match_requests(|r| r.task_token() == Some("old"))
        .then_error(|| {
            SendTaskSuccessError::TaskTimedOut(
                TaskTimedOut::builder()
                    .meta(code(
                        "TaskTimedOut",
                        "Task Timed Out: 'Provided task does not exist anymore'",
                    ))
                    .build(),
            )
        });
    let throttled = mock!(aws_sdk_sfn::Client::send_task_success)
        .match_requests(|r| r.task_token() == Some("busy"))
        .then_error(|| SendTaskSuccessError::generic(code("ThrottlingException", "Rate exceeded")));
    let workflow = StepFunctionsWorkflow::new(
        mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&gone, &throttled]),
        "arn:aws:states:us-east-1:123456789012:stateMachine:ferry-promotion",
    );
    let id = PromotionId::parse("id", "release-42").unwrap();
    let err = workflow
        .complete_approval(&id, "old", true, &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Gone(_)), "{err:?}");
    let err = workflow
        .complete_approval(&id, "busy", true, &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn cancelling_an_update_names_the_stack() {
    use aws_sdk_cloudformation::operation::cancel_update_stack::CancelUpdateStackOutput;
    use ferry_core::infra::deploy::ChangeSets;
    let cancel = mock!(aws_sdk_cloudformation::Client::cancel_update_stack)
        .match_requests(|r| r.stack_name() == Some("ferry-shop-prod"))
        .then_output(|| CancelUpdateStackOutput::builder().build());
    let stacks = CloudFormationStacks::new(mock_client!(aws_sdk_cloudformation, [&cancel]));
    stacks.cancel_update("ferry-shop-prod").await.unwrap();
    assert_eq!(cancel.num_calls(), 1);
}

/// A step recorded after the promotion ended (its status condition fails) is written
/// alone: kept for the audit trail, the ended status untouched.
#[tokio::test]
async fn a_late_step_is_written_alone() {
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use ferry_core::model::{PromotionStatus, StepOutcome, StepRecord};
    let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .then_error(|| cancelled(&["None", "ConditionalCheckFailed"]));
    let exists = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        GetItemOutput::builder()
            .item("PK", AttributeValue::S("PROMO#release-42".into()))
            .item("SK", AttributeValue::S("#PROMO".into()))
            .build()
    });
    let step_alone = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            r.item()
                .and_then(|i| i.get("SK"))
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk.starts_with("STEP#") && sk.ends_with("#Shift 2"))
                && r.condition_expression().is_none()
        })
        .then_output(|| PutItemOutput::builder().build());
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&write, &exists, &step_alone]
    );
    let store = DynamoStore::new(client, "t");
    let step = StepRecord {
        name: "Shift 2".into(),
        outcome: StepOutcome::Succeeded,
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        detail: json!({}),
    };
    store
        .record_step(
            &PromotionId::parse("id", "release-42").unwrap(),
            &step,
            PromotionStatus::Running,
        )
        .await
        .unwrap();
    assert_eq!((write.num_calls(), step_alone.num_calls()), (1, 1));
}

/// A rollback against a stack still updating, through the CloudFormation adapter: the
/// promotion holds the lock, so the update in progress is its own, interrupted; it is
/// cancelled, and the step fails StackBusy (retried by the state machine) with the lock
/// kept, the stack untouched otherwise.
#[tokio::test]
async fn a_rollback_cancels_a_stack_still_updating_and_keeps_the_lock() {
    use aws_sdk_cloudformation::operation::cancel_update_stack::CancelUpdateStackOutput;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::types::{Stack, StackStatus};
    use ferry_core::model::{StepOutcome, StepRecord};
    use ferry_core::promotion::{self, Action, PromotionRequest, StepInput, Steps};
    use ferry_testkit::{seed_shop, InMemoryMetrics, InMemoryStore};

    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let id = PromotionId::parse("id", "release-42").unwrap();
    promotion::create(
        &store,
        PromotionRequest {
            app: AppName::parse("a", "shop").unwrap(),
            source_env: EnvName::parse("e", "dev").unwrap(),
            target_env: EnvName::parse("e", "staging").unwrap(),
            strategy: ferry_core::names::Strategy::BlueGreen,
            allow_replace: vec![],
            kind: Default::default(),
            reason: None,
        },
        id.clone(),
        "ana".into(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let deployed = StepRecord {
        name: "Deploy".into(),
        outcome: StepOutcome::Succeeded,
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        detail: json!({}),
    };
    store
        .record_step(&id, &deployed, ferry_core::model::PromotionStatus::Running)
        .await
        .unwrap();

    let updating = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some("ferry-shop-staging"))
        .then_output(|| {
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_name("ferry-shop-staging")
                        .stack_status(StackStatus::UpdateInProgress)
                        .build(),
                )
                .build()
        });
    let cancel = mock!(aws_sdk_cloudformation::Client::cancel_update_stack)
        .match_requests(|r| r.stack_name() == Some("ferry-shop-staging"))
        .then_output(|| CancelUpdateStackOutput::builder().build());
    let stacks = CloudFormationStacks::new(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&updating, &cancel]
    ));
    let metrics = InMemoryMetrics::new();
    let steps = Steps {
        environments: &store,
        promotions: &store,
        alerts: &store,
        stacks: &stacks,
        metrics: &metrics,
        faults: None,
        policy: Default::default(),
        outbox: None,
        now: chrono::Utc::now,
    };
    let busy = steps
        .run(&StepInput {
            action: Action::Rollback,
            promotion_id: id.clone(),
            cause: Some(json!({"Error": "DeployFailed", "Cause": "{}"})),
            task_token: None,
            step: None,
            stack: None,
        })
        .await
        .unwrap_err();
    assert_eq!(busy.name(), "StackBusy");
    assert!(busy.to_string().contains("UPDATE_IN_PROGRESS"), "{busy}");
    assert_eq!(cancel.num_calls(), 1);
    let staging = store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(staging.active_promotion, Some(id), "the lock is kept");
}
