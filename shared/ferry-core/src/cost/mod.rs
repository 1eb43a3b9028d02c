//! Monthly cost straight from a CloudFormation template, priced from the catalog
//! (`data/pricing.json`) and a usage file. Every resource lists its cost components
//! (quantity, unit price, monthly cost); resources the catalog cannot price are listed
//! with the reason, never counted as zero.

pub mod advice;
pub mod app;
pub mod bill;
pub mod catalog;
pub mod diff;
pub mod refresh;
pub mod report;
mod resources;
pub mod usage;
pub mod utilisation;

pub use catalog::{Catalog, CatalogError, Price};
pub use usage::{Usage, UsageError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub quantity: f64,
    /// What one of `quantity` is, e.g. `vCPU-hour`.
    pub unit: String,
    pub unit_usd: f64,
    pub monthly_usd: f64,
    /// The catalog key the unit price came from.
    pub price: String,
    /// The quantity comes from the usage file or the profile's defaults, not the template.
    #[serde(default)]
    pub usage_based: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceCost {
    pub logical_id: String,
    pub resource_type: String,
    pub monthly_usd: f64,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unpriced {
    pub logical_id: String,
    pub resource_type: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub logical_id: String,
    /// A stable name for the kind of advice, e.g. `graviton`, `single-nat`.
    pub kind: String,
    pub action: String,
    pub monthly_saving_usd: f64,
    /// What could go wrong if the advice is taken.
    pub risk: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub region: String,
    /// Where usage-based quantities came from: a usage file, or a profile's defaults.
    pub usage: String,
    pub monthly_usd: f64,
    pub resources: Vec<ResourceCost>,
    /// Resources that cost money but that the catalog cannot price, with the reason.
    pub unpriced: Vec<Unpriced>,
    #[serde(default)]
    pub advice: Vec<Advice>,
    /// Every price used, by catalog key, with its source and the date it was read.
    pub prices: BTreeMap<String, Price>,
}

impl CostEstimate {
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceCost> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// The part of the total that comes from usage-based quantities.
    pub fn usage_based_usd(&self) -> f64 {
        round_cents(
            self.resources
                .iter()
                .flat_map(|r| &r.components)
                .filter(|c| c.usage_based)
                .map(|c| c.monthly_usd)
                .sum(),
        )
    }
}

pub fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// A CloudFormation boolean: `true` or the string `"true"`.
fn truthy(value: &Value) -> bool {
    value == &Value::Bool(true) || value == "true"
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Types that are free by themselves (their cost lands elsewhere, or nowhere).
const FREE_TYPES: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::ECS::Cluster",
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::TaskDefinition",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::RDS::DBSubnetGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::S3::BucketPolicy",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    // A function's permissions, async-invocation settings and versions cost nothing; its
    // invocations are priced on the function.
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    // An HTTP API's requests are priced on the API, not its routes, integrations or stages.
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
];

/// Checks that a document is a CloudFormation template before it is priced: a
/// `Resources` object whose every entry has a `Type` like `AWS::Service::Resource`.
pub fn check_template(document: &Value) -> Result<(), String> {
    let resources = document
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or("not a CloudFormation template: it has no Resources object")?;
    if resources.is_empty() {
        return Err("not a CloudFormation template: Resources is empty".into());
    }
    for (id, resource) in resources {
        match resource.get("Type").and_then(Value::as_str) {
            Some(kind) if kind.split("::").count() == 3 => {}
            Some(kind) => {
                return Err(format!(
                    "Resources.{id}.Type: '{kind}' is not a resource type (Provider::Service::Resource)"
                ))
            }
            None => return Err(format!("Resources.{id}: has no Type")),
        }
    }
    Ok(())
}

/// Prices every resource of `template`. Advice is added by [`advice::advise`].
pub fn estimate(template: &Value, catalog: &Catalog, usage: &Usage) -> CostEstimate {
    let empty = serde_json::Map::new();
    let resolved = with_parameter_defaults(template);
    let all = resolved
        .as_ref()
        .and_then(Value::as_object)
        .or_else(|| template["Resources"].as_object())
        .unwrap_or(&empty);
    let mut priced = Vec::new();
    let mut unpriced = Vec::new();
    let mut prices = BTreeMap::new();
    let context = resources::Context {
        resources: all,
        catalog,
        usage,
    };
    let internet_facing = all.values().any(resources::sends_to_internet);
    let transfer = internet_facing.then(|| {
        (
            resources::DATA_TRANSFER_ID.to_owned(),
            Value::String(resources::DATA_TRANSFER_TYPE.into()),
        )
    });
    let entries = all
        .iter()
        .map(|(id, r)| (id.clone(), r["Type"].clone()))
        .chain(transfer);
    for (id, kind) in entries {
        let kind = kind.as_str().unwrap_or_default().to_owned();
        if FREE_TYPES.contains(&kind.as_str()) {
            continue;
        }
        let props = all.get(&id).map_or(&Value::Null, |r| &r["Properties"]);
        match context.price(&id, &kind, props) {
            resources::Outcome::Free => {}
            resources::Outcome::Priced(components, used) => {
                let monthly = round_cents(components.iter().map(|c| c.monthly_usd).sum());
                prices.extend(used);
                priced.push(ResourceCost {
                    logical_id: id,
                    resource_type: kind,
                    monthly_usd: monthly,
                    components,
                });
            }
            resources::Outcome::Unpriced(reason) => unpriced.push(Unpriced {
                logical_id: id,
                resource_type: kind,
                reason,
            }),
        }
    }
    let total = round_cents(priced.iter().map(|r| r.monthly_usd).sum());
    CostEstimate {
        region: catalog.region.clone(),
        usage: usage.origin.clone(),
        monthly_usd: total,
        resources: priced,
        unpriced,
        advice: Vec::new(),
        prices,
    }
}

/// The template's resources with each `{"Ref": P}` to a parameter that has a `Default`
/// replaced by the default, so a property set through a parameter (Ferry's own template
/// sets log retention and schedules so) is priced as a deployment without overrides would
/// have it. `None` when no parameter has a default: nothing to replace.
fn with_parameter_defaults(template: &Value) -> Option<Value> {
    let defaults: serde_json::Map<String, Value> = template["Parameters"]
        .as_object()?
        .iter()
        .filter_map(|(name, p)| Some((name.clone(), p.get("Default")?.clone())))
        .collect();
    if defaults.is_empty() {
        return None;
    }
    let mut resources = template["Resources"].clone();
    replace_refs(&mut resources, &defaults);
    Some(resources)
}

fn replace_refs(value: &mut Value, defaults: &serde_json::Map<String, Value>) {
    match value {
        Value::Object(map) => {
            let default = match (map.len(), map.get("Ref")) {
                (1, Some(Value::String(name))) => defaults.get(name),
                _ => None,
            };
            match default {
                Some(default) => *value = default.clone(),
                None => map.values_mut().for_each(|v| replace_refs(v, defaults)),
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_refs(v, defaults)),
        _ => {}
    }
}

/// The estimate with its advice: what the CLI, the API and the cost report show.
pub fn analyse(
    template: &Value,
    catalog: &Catalog,
    usage: &Usage,
    context: &advice::AdviceContext,
) -> CostEstimate {
    let mut priced = estimate(template, catalog, usage);
    priced.advice = advice::advise(template, &priced, catalog, context);
    priced
}

/// The profile a template was generated for, from Ferry's metadata.
pub fn template_profile(template: &Value) -> Option<crate::infra::profile::ProfileName> {
    serde_json::from_value(template["Metadata"]["Ferry"]["Profile"].clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::profile::ProfileName;
    use serde_json::json;

    fn price(template: &Value) -> CostEstimate {
        let catalog = Catalog::bundled("us-east-1").unwrap();
        estimate(
            template,
            &catalog,
            &Usage::profile_defaults(ProfileName::Dev),
        )
    }

    fn service_template(arch: &str, desired: u32) -> Value {
        json!({"Resources": {
            "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "Cpu": "512", "Memory": "1024", "RuntimePlatform": {"CpuArchitecture": arch}}},
            "Web": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": desired, "TaskDefinition": {"Ref": "Task"}}},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}},
        }})
    }

    #[test]
    fn fargate_tasks_are_priced_per_component() {
        let estimate = price(&service_template("ARM64", 2));
        let web = estimate.resource("Web").unwrap();
        // vCPU: 2 tasks x 0.5 vCPU x 730 h = 730 vCPU-h x $0.03238 = 23.6374 -> 23.64
        // memory: 2 tasks x 1 GB x 730 h = 1460 GB-h x $0.00356 = 5.1976 -> 5.20
        assert_eq!(web.components[0].quantity, 730.0);
        assert_eq!(web.components[0].monthly_usd, 23.64);
        assert_eq!(web.components[1].quantity, 1460.0);
        assert_eq!(web.components[1].monthly_usd, 5.20);
        assert_eq!(estimate.monthly_usd, 28.84);
        assert_eq!(estimate.unpriced.len(), 1);
        assert_eq!(estimate.unpriced[0].logical_id, "Stream");
        assert_eq!(
            estimate.unpriced[0].reason,
            "Ferry does not price this resource type"
        );
        assert_eq!(estimate.prices["fargate.arm64.vcpu_hour"].usd, 0.03238);
    }

    #[test]
    fn an_arm64_service_on_spot_is_named_not_priced() {
        let mut template = service_template("ARM64", 2);
        template["Resources"]["Web"]["Properties"]["CapacityProviderStrategy"] =
            json!([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]);
        let estimate = price(&template);
        let web = estimate
            .unpriced
            .iter()
            .find(|u| u.logical_id == "Web")
            .unwrap();
        assert!(
            web.reason
                .starts_with("Fargate Spot runs only X86_64 tasks"),
            "{}",
            web.reason
        );
    }

    #[test]
    fn a_missing_price_makes_the_resource_unpriced_not_free() {
        let catalog = Catalog::from_prices("test-1", BTreeMap::new());
        let estimate = estimate(
            &service_template("ARM64", 2),
            &catalog,
            &Usage::profile_defaults(ProfileName::Dev),
        );
        assert_eq!(estimate.monthly_usd, 0.0);
        assert!(estimate.resources.is_empty());
        assert_eq!(
            estimate.unpriced[0].reason,
            "the catalog has no test-1 price for fargate.arm64.vcpu_hour, fargate.arm64.gb_hour"
        );
    }

    #[test]
    fn multi_az_rds_uses_its_own_price_and_doubles_storage() {
        let template = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20",
            "StorageType": "gp3", "MultiAZ": true}}}});
        let estimate = price(&template);
        // Multi-AZ db.t4g.micro: 730 h x $0.032 = 23.36; gp3: 2 x 20 GB x $0.115 = 4.60
        assert_eq!(estimate.monthly_usd, 27.96);
    }

    #[test]
    fn load_balancers_nat_addresses_alarms_and_dashboards() {
        let template = json!({"Resources": {
            "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "Scheme": "internet-facing", "Subnets": [{"Ref": "A"}, {"Ref": "B"}]}},
            "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
            "NatEip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
            "Cpu": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "CPUUtilization"}},
            "Rate": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
                {"Id": "rate", "Expression": "a / b"},
                {"Id": "a", "MetricStat": {}}, {"Id": "b", "MetricStat": {}}]}},
            "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        }});
        let estimate = price(&template);
        let line = |id: &str| estimate.resource(id).unwrap().monthly_usd;
        // ALB: 730 h x $0.0225 = 16.425 -> 16.43; 2 x 730 IPv4-h x $0.005 = 7.30;
        // dev profile 0.5 LCU x 730 h x $0.008 = 2.92.
        assert_eq!(line("Alb"), 16.43 + 7.30 + 2.92);
        // NAT: 730 h x $0.045 = 32.85, plus dev's 10 GB x $0.045 = 0.45; its EIP 3.65.
        assert_eq!((line("Nat"), line("NatEip")), (33.30, 3.65));
        // Alarms: 1 metric = $0.10; a metric-math alarm over 2 metrics = $0.20.
        assert_eq!((line("Cpu"), line("Rate")), (0.10, 0.20));
        assert_eq!(line("Board"), 3.0);
        // Internet-facing: dev's 5 GB out x $0.09 = 0.45.
        assert_eq!(line(resources::DATA_TRANSFER_ID), 0.45);
        assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
        assert_eq!(estimate.usage_based_usd(), 3.82, "2.92 + 0.45 + 0.45");
    }

    #[test]
    fn buckets_are_priced_by_what_they_keep_and_who_writes_to_them() {
        let template = json!({"Resources": {
            "Logs": {"Type": "AWS::S3::Bucket", "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {"Rules": [
                    {"Status": "Enabled", "ExpirationInDays": 90, "NoncurrentVersionExpiration": {"NoncurrentDays": 14}},
                    {"Status": "Disabled", "ExpirationInDays": 1}]}}},
            "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "Scheme": "internal", "Subnets": ["a", "b"],
                "LoadBalancerAttributes": [
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Logs"}}]}},
            "Kept": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Archive": {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": [
                {"Status": "Enabled", "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}]}]}}},
        }});
        let catalog = Catalog::bundled("us-east-1").unwrap();
        let estimate = estimate(
            &template,
            &catalog,
            &Usage::profile_defaults(ProfileName::Prod),
        );
        let cents = |id: &str| -> Vec<f64> {
            estimate
                .resource(id)
                .unwrap()
                .components
                .iter()
                .map(|c| c.monthly_usd)
                .collect()
        };
        // Prod writes 5 GB a month, kept 90 days and, versioned, 14 more as noncurrent:
        // 5 x 104 / 30 = 17.333 GB x $0.023 = 0.3987; the ALB's 2 nodes deliver a file
        // every 5 minutes: 2 x 12 x 730 = 17,520 PUTs = 17.52 x $0.005 = 0.0876; no GETs.
        assert_eq!(cents("Logs"), [0.40, 0.09, 0.00]);
        // Nothing expires it: a year of writing, 5 x 365 / 30 = 60.833 GB x $0.023 = 1.3992;
        // no one writes files to it that the template shows.
        assert_eq!(cents("Kept"), [1.40, 0.00, 0.00]);
        let archive = estimate
            .unpriced
            .iter()
            .find(|u| u.logical_id == "Archive")
            .unwrap();
        assert_eq!(
            archive.reason,
            "storage classes other than S3 Standard are not in the catalog"
        );
        // eu-central-1 has its own prices: 17.333 x $0.0245 = 0.4247; 17.52 x $0.0054 = 0.0946.
        let frankfurt = super::estimate(
            &template,
            &Catalog::bundled("eu-central-1").unwrap(),
            &Usage::profile_defaults(ProfileName::Prod),
        );
        let logs: Vec<f64> = frankfurt
            .resource("Logs")
            .unwrap()
            .components
            .iter()
            .map(|c| c.monthly_usd)
            .collect();
        assert_eq!(logs, [0.42, 0.09, 0.00]);
    }

    #[test]
    fn a_usage_file_sets_what_a_bucket_is_written_and_read() {
        let template = json!({"Resources": {"Data": {"Type": "AWS::S3::Bucket", "Properties": {
            "LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": 30}]}}}}});
        let usage = Usage::parse(
            "version: 1\nresources:\n  Data: {gb_ingested: 20, put_requests: 1000000, get_requests: 5000000}\n",
            "usage.yml",
            ProfileName::Dev,
        )
        .unwrap();
        let estimate = estimate(&template, &Catalog::bundled("us-west-2").unwrap(), &usage);
        let data = estimate.resource("Data").unwrap();
        // 20 GB x 30 / 30 days = 20 GB x $0.023 = 0.46; 1,000 x $0.005 = 5.00;
        // 5,000 x $0.0004 = 2.00.
        let cents: Vec<f64> = data.components.iter().map(|c| c.monthly_usd).collect();
        assert_eq!(cents, [0.46, 5.00, 2.00]);
        assert!(data.components.iter().all(|c| c.usage_based));
    }

    #[test]
    fn only_cloudformation_templates_are_priced() {
        assert!(check_template(&json!({"Resources": {"A": {"Type": "AWS::EC2::EIP"}}})).is_ok());
        assert_eq!(
            check_template(&json!({"app": "shop"})).unwrap_err(),
            "not a CloudFormation template: it has no Resources object"
        );
        assert_eq!(
            check_template(&json!({"Resources": {"A": {"Properties": {}}}})).unwrap_err(),
            "Resources.A: has no Type"
        );
        assert!(
            check_template(&json!({"Resources": {"A": {"Type": "Bucket"}}}))
                .unwrap_err()
                .starts_with("Resources.A.Type: 'Bucket' is not a resource type")
        );
    }

    #[test]
    fn unknown_region_is_named_with_the_known_ones() {
        let error = Catalog::bundled("mars-1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the pricing catalog has no prices for 'mars-1'; it has eu-central-1, eu-west-1, us-east-1, us-west-2"
        );
    }
}
