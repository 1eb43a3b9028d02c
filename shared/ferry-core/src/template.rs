//! Environment spec -> CloudFormation. This is the thin first cut (issue 3 grows it to a
//! full production template); it already emits the shape later work relies on: blue and
//! green services per Ferry service, with only the live colour running tasks.

use crate::model::{Environment, Release};
use crate::names::Colour;
use serde_json::{json, Map, Value};

/// Logical ids are CamelCase; service names are kebab-case.
pub fn logical_id(prefix: &str, name: &str, suffix: &str) -> String {
    let camel: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{prefix}{camel}{suffix}")
}

fn tags(env: &Environment) -> Value {
    json!([
        {"Key": "ferry:app", "Value": env.app.as_str()},
        {"Key": "ferry:env", "Value": env.name.as_str()},
        {"Key": "ferry:managed-by", "Value": "ferry"},
    ])
}

fn colour_title(colour: Colour) -> &'static str {
    match colour {
        Colour::Blue => "Blue",
        Colour::Green => "Green",
    }
}

/// The template for `env` running `release` (or a placeholder image before the first
/// release) with traffic on `live`.
pub fn generate(env: &Environment, release: Option<&Release>, live: Colour) -> Value {
    let mut resources = Map::new();
    let tags = tags(env);
    let image = release.map_or("public.ecr.aws/docker/library/busybox:stable", |r| {
        r.image.as_str()
    });

    resources.insert(
        "Vpc".into(),
        json!({"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true, "Tags": tags}}),
    );
    for (i, az) in ["a", "b"].iter().enumerate() {
        resources.insert(
            format!("PrivateSubnet{}", az.to_uppercase()),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": format!("10.0.{}.0/24", i + 10),
                "AvailabilityZone": {"Fn::Select": [i, {"Fn::GetAZs": ""}]},
                "Tags": tags}}),
        );
    }
    resources.insert(
        "Cluster".into(),
        json!({"Type": "AWS::ECS::Cluster", "Properties": {"Tags": tags}}),
    );

    for service in &env.spec.services {
        let task = logical_id("", &service.name, "TaskDefinition");
        let logs = logical_id("", &service.name, "LogGroup");
        resources.insert(
            logs.clone(),
            json!({"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": format!("/ferry/{}/{}/{}", env.app, env.name, service.name),
                "RetentionInDays": 30}}),
        );
        resources.insert(
            task.clone(),
            json!({"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "Family": format!("{}-{}-{}", env.app, env.name, service.name),
                "Cpu": service.cpu.to_string(),
                "Memory": service.memory.to_string(),
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
                "ContainerDefinitions": [{
                    "Name": service.name,
                    "Image": image,
                    "PortMappings": [{"ContainerPort": service.port}],
                    "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                        "awslogs-group": {"Ref": logs},
                        "awslogs-region": {"Ref": "AWS::Region"},
                        "awslogs-stream-prefix": service.name}}
                }],
                "Tags": tags}}),
        );
        for colour in [Colour::Blue, Colour::Green] {
            let desired = if colour == live {
                service.desired_count
            } else {
                0
            };
            resources.insert(
                logical_id(
                    "",
                    &service.name,
                    &format!("{}Service", colour_title(colour)),
                ),
                json!({"Type": "AWS::ECS::Service", "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "LaunchType": "FARGATE",
                    "TaskDefinition": {"Ref": task},
                    "DesiredCount": desired,
                    "NetworkConfiguration": {"AwsvpcConfiguration": {
                        "Subnets": [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}],
                        "AssignPublicIp": "DISABLED"}},
                    "Tags": tags}}),
            );
        }
    }

    if let Some(db) = &env.spec.database {
        resources.insert(
            "Database".into(),
            json!({"Type": "AWS::RDS::DBInstance", "Properties": {
                "Engine": db.engine,
                "DBInstanceClass": db.instance_class,
                "AllocatedStorage": db.storage_gb.to_string(),
                "StorageType": "gp3",
                "StorageEncrypted": true,
                "MultiAZ": env.name.as_str() == "prod",
                "ManageMasterUserPassword": true,
                "MasterUsername": "ferry",
                "PubliclyAccessible": false,
                "Tags": tags}}),
        );
    }
    if let Some(cache) = &env.spec.cache {
        resources.insert(
            "Cache".into(),
            json!({"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {
                "ReplicationGroupDescription": format!("{} {} cache", env.app, env.name),
                "Engine": cache.engine,
                "CacheNodeType": cache.node_type,
                "NumCacheClusters": if env.name.as_str() == "prod" { 2 } else { 1 },
                "AtRestEncryptionEnabled": true,
                "TransitEncryptionEnabled": true,
                "Tags": tags}}),
        );
    }

    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Ferry environment {}/{} (generated; do not edit by hand)", env.app, env.name),
        "Resources": resources,
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "VpcId": {"Value": {"Ref": "Vpc"}},
            "LiveColour": {"Value": live.to_string()},
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnvironmentSpec, ServiceSpec};
    use crate::names::{AppName, EnvName};

    pub(crate) fn env_with_web() -> Environment {
        Environment {
            app: AppName::parse("app", "shop").unwrap(),
            name: EnvName::parse("env", "dev").unwrap(),
            spec: EnvironmentSpec {
                services: vec![ServiceSpec {
                    name: "web-api".into(),
                    port: 8080,
                    cpu: 512,
                    memory: 1024,
                    desired_count: 2,
                }],
                database: None,
                cache: None,
            },
            stack_name: "ferry-shop-dev".into(),
            deployed_release: None,
            live_colour: Colour::Blue,
            active_promotion: None,
            version: 1,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn only_the_live_colour_runs_tasks() {
        let template = generate(&env_with_web(), None, Colour::Green);
        let resources = &template["Resources"];
        assert_eq!(
            resources["WebApiGreenService"]["Properties"]["DesiredCount"],
            2
        );
        assert_eq!(
            resources["WebApiBlueService"]["Properties"]["DesiredCount"],
            0
        );
        assert_eq!(template["Outputs"]["LiveColour"]["Value"], "green");
    }

    #[test]
    fn every_taggable_resource_names_app_and_env() {
        let template = generate(&env_with_web(), None, Colour::Blue);
        for (id, resource) in template["Resources"].as_object().unwrap() {
            if resource["Type"] == "AWS::Logs::LogGroup" {
                continue;
            }
            let tags = resource["Properties"]["Tags"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} has no tags"));
            assert!(
                tags.iter()
                    .any(|t| t["Key"] == "ferry:app" && t["Value"] == "shop"),
                "{id}"
            );
        }
    }
}
