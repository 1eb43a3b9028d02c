//! The live drift readers against mocked services: how each answer maps onto what the
//! drift engine compares (state in CloudFormation's names, Deleted, NotChecked, or an
//! error the check retries).

use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use ferry_aws::{AwsLiveResources, LiveClients};
use ferry_core::ports::{LiveRead, LiveResources, StacksError};
use serde_json::json;

/// Readers whose clients answer with `rules` (each client only the rules for its
/// service; a call no rule matches fails the test).
fn readers(ec2: &[&Rule], cloudwatch: &[&Rule], ecs: &[&Rule]) -> AwsLiveResources {
    AwsLiveResources::new(LiveClients {
        ecs: mock_client!(aws_sdk_ecs, RuleMode::MatchAny, ecs),
        ec2: mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2),
        elb: mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, &[]),
        rds: mock_client!(aws_sdk_rds, RuleMode::MatchAny, &[]),
        cloudwatch: mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &[]),
    })
}

#[tokio::test]
async fn security_group_permissions_become_one_cloudformation_rule_per_peer() {
    use aws_sdk_ec2::types::{IpPermission, IpRange, SecurityGroup, UserIdGroupPair};
    let rule = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .match_requests(|r| r.group_ids() == ["sg-1"])
        .then_output(|| {
            aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder(
            )
            .security_groups(
                SecurityGroup::builder()
                    .ip_permissions(
                        IpPermission::builder()
                            .ip_protocol("tcp")
                            .from_port(8080)
                            .to_port(8080)
                            .user_id_group_pairs(
                                UserIdGroupPair::builder().group_id("sg-alb").build(),
                            )
                            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
                            .build(),
                    )
                    .ip_permissions_egress(
                        IpPermission::builder()
                            .ip_protocol("tcp")
                            .from_port(5432)
                            .to_port(5432)
                            .user_id_group_pairs(
                                UserIdGroupPair::builder().group_id("sg-db").build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
        });
    let read = readers(&[&rule], &[], &[])
        .read("AWS::EC2::SecurityGroup", "sg-1")
        .await
        .unwrap();
    assert_eq!(
        read,
        LiveRead::Found(json!({
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "CidrIp": "10.0.0.0/16"},
                {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "SourceSecurityGroupId": "sg-alb"}],
            "SecurityGroupEgress": [
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "DestinationSecurityGroupId": "sg-db"}],
        }))
    );
}

#[tokio::test]
async fn a_group_ec2_does_not_know_is_deleted_and_throttling_is_retried() {
    let gone = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .match_requests(|r| r.group_ids() == ["sg-gone"])
        .then_error(|| {
            aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError::generic(
                ErrorMetadata::builder()
                    .code("InvalidGroup.NotFound")
                    .build(),
            )
        });
    let busy = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .match_requests(|r| r.group_ids() == ["sg-busy"])
        .then_error(|| {
            aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError::generic(
                ErrorMetadata::builder()
                    .code("RequestLimitExceeded")
                    .build(),
            )
        });
    let denied = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .match_requests(|r| r.group_ids() == ["sg-denied"])
        .then_error(|| {
            aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError::generic(
                ErrorMetadata::builder()
                    .code("UnauthorizedOperation")
                    .message("not authorized to perform ec2:DescribeSecurityGroups")
                    .build(),
            )
        });
    let live = readers(&[&gone, &busy, &denied], &[], &[]);
    assert_eq!(
        live.read("AWS::EC2::SecurityGroup", "sg-gone")
            .await
            .unwrap(),
        LiveRead::Deleted
    );
    assert!(matches!(
        live.read("AWS::EC2::SecurityGroup", "sg-busy").await,
        Err(StacksError::Unavailable(_))
    ));
    // A refusal is not drift: the line says what could not be read and why.
    let LiveRead::NotChecked(reason) = live
        .read("AWS::EC2::SecurityGroup", "sg-denied")
        .await
        .unwrap()
    else {
        panic!("a refused read is NOT_CHECKED");
    };
    assert!(reason.contains("UnauthorizedOperation"), "{reason}");
}

#[tokio::test]
async fn a_deleted_alarm_is_deleted_and_a_present_one_reads_its_threshold_and_actions() {
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm};
    let gone = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.alarm_names() == ["gone"])
        .then_output(|| DescribeAlarmsOutput::builder().build());
    let present = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.alarm_names() == ["errors"])
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(
                    MetricAlarm::builder()
                        .alarm_name("errors")
                        .threshold(5.0)
                        .evaluation_periods(3)
                        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                        .alarm_actions("arn:aws:sns:us-east-1:1:alerts")
                        .build(),
                )
                .build()
        });
    let live = readers(&[], &[&gone, &present], &[]);
    assert_eq!(
        live.read("AWS::CloudWatch::Alarm", "gone").await.unwrap(),
        LiveRead::Deleted
    );
    assert_eq!(
        live.read("AWS::CloudWatch::Alarm", "errors").await.unwrap(),
        LiveRead::Found(json!({"Threshold": 5.0, "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": ["arn:aws:sns:us-east-1:1:alerts"]}))
    );
}

#[tokio::test]
async fn a_service_is_described_in_the_cluster_its_arn_names() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::Service;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.cluster() == Some("shop-prod"))
        .then_output(|| {
            DescribeServicesOutput::builder()
                .services(
                    Service::builder()
                        .status("ACTIVE")
                        .desired_count(4)
                        .task_definition("arn:aws:ecs:us-east-1:1:task-definition/web:7")
                        .build(),
                )
                .build()
        });
    let live = readers(&[], &[], &[&rule]);
    assert_eq!(
        live.read(
            "AWS::ECS::Service",
            "arn:aws:ecs:us-east-1:1:service/shop-prod/web-blue"
        )
        .await
        .unwrap(),
        LiveRead::Found(
            json!({"DesiredCount": 4, "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:7"})
        )
    );
    // The short, pre-2021 ARN does not name the cluster: said, not guessed.
    assert!(matches!(
        live.read("AWS::ECS::Service", "arn:aws:ecs:us-east-1:1:service/web")
            .await
            .unwrap(),
        LiveRead::NotChecked(_)
    ));
    // A type no reader covers is NOT_CHECKED, never an error.
    assert!(matches!(
        live.read("AWS::EC2::VPC", "vpc-1").await.unwrap(),
        LiveRead::NotChecked(_)
    ));
}
