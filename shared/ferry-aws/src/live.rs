//! Live readers behind [`LiveResources`]: each resource's state from its own service,
//! mapped onto CloudFormation's property names so the drift engine compares like with
//! like. Only what a reader returns is compared; a "not found" from the service is
//! `Deleted`, throttling is `Unavailable` (the check is retried whole).

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ferry_core::ports::{LiveRead, LiveResources, StacksError};
use serde_json::{json, Value};

pub struct AwsLiveResources(LiveClients);

impl AwsLiveResources {
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(LiveClients {
            ecs: aws_sdk_ecs::Client::new(sdk),
            ec2: aws_sdk_ec2::Client::new(sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            rds: aws_sdk_rds::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
        })
    }

    pub fn new(clients: LiveClients) -> Self {
        Self(clients)
    }
}

/// One client per service the readers call.
pub struct LiveClients {
    pub ecs: aws_sdk_ecs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

/// A service error whose code says the resource is not there.
const NOT_FOUND: [&str; 6] = [
    "InvalidGroup.NotFound",
    "TargetGroupNotFound",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "ResourceNotFoundException",
    "ClientException",
];

fn failed<E, R>(id: &str, error: SdkError<E, R>) -> Result<LiveRead, StacksError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    // A reply the SDK cannot parse is this resource's problem, not the service's: the
    // line says so and the rest of the check goes on.
    if is_transient(&error) && !matches!(error, SdkError::ResponseError(_)) {
        return Err(StacksError::Unavailable(describe(&error)));
    }
    let code = error.as_service_error().and_then(|e| e.code());
    if code.is_some_and(|c| NOT_FOUND.contains(&c)) {
        return Ok(LiveRead::Deleted);
    }
    Ok(LiveRead::NotChecked(format!(
        "{id} could not be read: {}",
        describe(&error)
    )))
}

#[async_trait]
impl LiveResources for AwsLiveResources {
    async fn read(&self, resource_type: &str, id: &str) -> Result<LiveRead, StacksError> {
        match resource_type {
            "AWS::ECS::Service" => self.service(id).await,
            "AWS::ECS::TaskDefinition" => self.task_definition(id).await,
            "AWS::EC2::SecurityGroup" => self.security_group(id).await,
            "AWS::ElasticLoadBalancingV2::TargetGroup" => self.target_group(id).await,
            "AWS::RDS::DBInstance" => self.database(id).await,
            "AWS::CloudWatch::Alarm" => self.alarm(id).await,
            "AWS::Logs::LogGroup" => self.log_group(id).await,
            other => Ok(LiveRead::NotChecked(format!("no live reader for {other}"))),
        }
    }
}

impl AwsLiveResources {
    async fn service(&self, arn: &str) -> Result<LiveRead, StacksError> {
        // arn:aws:ecs:region:account:service/<cluster>/<name>: the long ARN format, the
        // only one for services created since 2021.
        let Some((cluster, _)) = arn
            .split_once(":service/")
            .and_then(|(_, rest)| rest.split_once('/'))
        else {
            return Ok(LiveRead::NotChecked(format!(
                "{arn} is not a long-format service ARN naming its cluster"
            )));
        };
        let output = match self
            .0
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(arn, e),
        };
        let Some(service) = output
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
        else {
            return Ok(LiveRead::Deleted);
        };
        let mut props = json!({
            "DesiredCount": service.desired_count(),
            "TaskDefinition": service.task_definition(),
        });
        if let Some(vpc) = service
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
        {
            props["NetworkConfiguration"] = json!({"AwsvpcConfiguration": {
                "Subnets": vpc.subnets(),
                "SecurityGroups": vpc.security_groups(),
                "AssignPublicIp": vpc.assign_public_ip().map_or("DISABLED", |a| a.as_str()),
            }});
        }
        Ok(LiveRead::Found(props))
    }

    async fn task_definition(&self, arn: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(arn, e),
        };
        let Some(definition) = output.task_definition() else {
            return Ok(LiveRead::Deleted);
        };
        let containers: Vec<Value> = definition
            .container_definitions()
            .iter()
            .map(|c| {
                let mut container = json!({
                    "Name": c.name(),
                    "Image": c.image(),
                    "Environment": c.environment().iter()
                        .map(|e| json!({"Name": e.name(), "Value": e.value()}))
                        .collect::<Vec<_>>(),
                });
                if let Some(memory) = c.memory() {
                    container["Memory"] = json!(memory);
                }
                container
            })
            .collect();
        let mut props = json!({"ContainerDefinitions": containers});
        // Fargate task definitions always carry both; one without says nothing about them.
        if let Some(cpu) = definition.cpu() {
            props["Cpu"] = json!(cpu);
        }
        if let Some(memory) = definition.memory() {
            props["Memory"] = json!(memory);
        }
        Ok(LiveRead::Found(props))
    }

    async fn security_group(&self, id: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(id, e),
        };
        let Some(group) = output.security_groups().first() else {
            return Ok(LiveRead::Deleted);
        };
        Ok(LiveRead::Found(json!({
            "SecurityGroupIngress": rules(group.ip_permissions(), "SourceSecurityGroupId"),
            "SecurityGroupEgress": rules(group.ip_permissions_egress(), "DestinationSecurityGroupId"),
        })))
    }

    async fn target_group(&self, arn: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .elb
            .describe_target_groups()
            .target_group_arns(arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(arn, e),
        };
        let Some(group) = output.target_groups().first() else {
            return Ok(LiveRead::Deleted);
        };
        Ok(LiveRead::Found(json!({
            "Port": group.port(),
            "Protocol": group.protocol().map(|p| p.as_str()),
            "HealthCheckPath": group.health_check_path(),
            "HealthCheckIntervalSeconds": group.health_check_interval_seconds(),
            "HealthyThresholdCount": group.healthy_threshold_count(),
            "UnhealthyThresholdCount": group.unhealthy_threshold_count(),
        })))
    }

    async fn database(&self, id: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(id, e),
        };
        let Some(db) = output.db_instances().first() else {
            return Ok(LiveRead::Deleted);
        };
        Ok(LiveRead::Found(json!({
            "DBInstanceClass": db.db_instance_class(),
            "AllocatedStorage": db.allocated_storage(),
            "BackupRetentionPeriod": db.backup_retention_period(),
            "MultiAZ": db.multi_az(),
            "DeletionProtection": db.deletion_protection(),
            "PubliclyAccessible": db.publicly_accessible(),
            "StorageEncrypted": db.storage_encrypted(),
        })))
    }

    async fn alarm(&self, name: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(name, e),
        };
        let Some(alarm) = output.metric_alarms().first() else {
            return Ok(LiveRead::Deleted);
        };
        Ok(LiveRead::Found(json!({
            "Threshold": alarm.threshold(),
            "ComparisonOperator": alarm.comparison_operator().map(|c| c.as_str()),
            "EvaluationPeriods": alarm.evaluation_periods(),
            "AlarmActions": alarm.alarm_actions(),
        })))
    }

    async fn log_group(&self, name: &str) -> Result<LiveRead, StacksError> {
        let output = match self
            .0
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return failed(name, e),
        };
        let Some(group) = output
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        else {
            return Ok(LiveRead::Deleted);
        };
        // No retention is "never expire": `null` against the template's days is drift.
        Ok(LiveRead::Found(
            json!({"RetentionInDays": group.retention_in_days()}),
        ))
    }
}

/// EC2's permissions, one CloudFormation rule per peer (EC2 groups peers under one
/// protocol and port range; CloudFormation writes one rule each).
fn rules(permissions: &[aws_sdk_ec2::types::IpPermission], group_key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for p in permissions {
        let rule = |key: &str, peer: Option<&str>| json!({"IpProtocol": p.ip_protocol(), "FromPort": p.from_port(), "ToPort": p.to_port(), key: peer});
        out.extend(p.ip_ranges().iter().map(|r| rule("CidrIp", r.cidr_ip())));
        out.extend(
            p.ipv6_ranges()
                .iter()
                .map(|r| rule("CidrIpv6", r.cidr_ipv6())),
        );
        out.extend(
            p.user_id_group_pairs()
                .iter()
                .map(|g| rule(group_key, g.group_id())),
        );
        out.extend(p.prefix_list_ids().iter().map(|l| {
            rule(
                &group_key.replace("SecurityGroupId", "PrefixListId"),
                l.prefix_list_id(),
            )
        }));
    }
    out
}
