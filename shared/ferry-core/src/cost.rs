//! Monthly cost straight from a CloudFormation template, priced from the catalog in
//! `data/pricing.json`. Seed version: Fargate services and RDS instances with their
//! storage; everything else is listed as unpriced so the estimate never hides a gap.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub usd: f64,
    pub unit: String,
    pub source: String,
    pub read_on: String,
    pub via: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub region: String,
    prices: BTreeMap<String, Price>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("the pricing catalog is not valid JSON: {0}")]
    Invalid(String),
    #[error("the pricing catalog has no prices for '{region}'; it has {}", .known.join(", "))]
    UnknownRegion { region: String, known: Vec<String> },
}

const BUNDLED: &str = include_str!("../data/pricing.json");

impl Catalog {
    /// The catalog shipped with Ferry, for one region.
    pub fn bundled(region: &str) -> Result<Catalog, CatalogError> {
        let mut all: BTreeMap<String, Value> =
            serde_json::from_str(BUNDLED).map_err(|e| CatalogError::Invalid(e.to_string()))?;
        let known: Vec<String> = all
            .keys()
            .filter(|k| !k.starts_with('_'))
            .cloned()
            .collect();
        let prices = all
            .remove(region)
            .filter(|_| !region.starts_with('_'))
            .ok_or_else(|| CatalogError::UnknownRegion {
                region: region.to_owned(),
                known,
            })?;
        let prices =
            serde_json::from_value(prices).map_err(|e| CatalogError::Invalid(e.to_string()))?;
        Ok(Catalog {
            region: region.to_owned(),
            prices,
        })
    }

    fn get(&self, key: &str) -> Option<&Price> {
        self.prices.get(key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    pub logical_id: String,
    pub resource_type: String,
    pub monthly_usd: f64,
    /// How the figure was reached, e.g. `2 tasks x 0.5 vCPU x 730 h x $0.03238`.
    pub basis: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub logical_id: String,
    pub action: String,
    pub monthly_saving_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub region: String,
    pub monthly_usd: f64,
    pub lines: Vec<CostLine>,
    /// Resources that cost money but have no price in the catalog yet.
    pub unpriced: Vec<String>,
    /// Charges that depend on traffic or data volume (LCUs, NAT GB, log GB): not in the
    /// total until a usage file says how much.
    #[serde(default)]
    pub usage_based: Vec<String>,
    pub advice: Vec<Advice>,
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Types that are free by themselves (their cost lands elsewhere, or nowhere).
const FREE_TYPES: [&str; 23] = [
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
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::RDS::DBSubnetGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::S3::BucketPolicy",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::EC2::FlowLog",
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

pub fn estimate(template: &Value, catalog: &Catalog) -> CostEstimate {
    let empty = serde_json::Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let mut lines = Vec::new();
    let mut unpriced = Vec::new();
    let mut advice = Vec::new();
    let mut usage_based = Vec::new();

    for (id, resource) in resources {
        let kind = resource["Type"].as_str().unwrap_or_default();
        let props = &resource["Properties"];
        let priced = match kind {
            "AWS::ECS::Service" => {
                price_fargate_service(id, props, resources, catalog, &mut advice)
            }
            "AWS::RDS::DBInstance" => price_rds(id, props, catalog, &mut advice),
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                usage_based.push(format!(
                    "{id}: LCU-hours at ${}",
                    price_or_unknown(catalog, "alb.lcu_hour")
                ));
                price_load_balancer(id, props, catalog)
            }
            "AWS::EC2::NatGateway" => {
                usage_based.push(format!(
                    "{id}: GB processed at ${}",
                    price_or_unknown(catalog, "nat.gb")
                ));
                hourly(id, kind, 1.0, "NAT gateway", catalog.get("nat.hour"))
            }
            "AWS::EC2::EIP" => hourly(
                id,
                kind,
                1.0,
                "public IPv4 address",
                catalog.get("ipv4.hour"),
            ),
            "AWS::CloudWatch::Alarm" => price_alarm(id, props, catalog),
            "AWS::CloudWatch::Dashboard" => monthly(
                id,
                kind,
                1.0,
                "dashboard",
                catalog.get("cloudwatch.dashboard_month"),
            ),
            k if FREE_TYPES.contains(&k) => continue,
            // Gateway endpoints (S3, DynamoDB) are free; interface endpoints are not.
            "AWS::EC2::VPCEndpoint" if props["VpcEndpointType"] == "Gateway" => continue,
            _ => None,
        };
        match priced {
            Some(line) => lines.push(line),
            None => unpriced.push(format!("{id} ({kind})")),
        }
    }
    let total = lines.iter().map(|l| l.monthly_usd).sum();
    CostEstimate {
        region: catalog.region.clone(),
        monthly_usd: round_cents(total),
        lines,
        unpriced,
        usage_based,
        advice,
    }
}

fn price_or_unknown(catalog: &Catalog, key: &str) -> String {
    catalog
        .get(key)
        .map_or("(no price)".to_owned(), |p| p.usd.to_string())
}

/// `count` of something billed by the hour, all month.
fn hourly(id: &str, kind: &str, count: f64, what: &str, price: Option<&Price>) -> Option<CostLine> {
    let price = price?;
    Some(CostLine {
        logical_id: id.to_owned(),
        resource_type: kind.to_owned(),
        monthly_usd: round_cents(count * price.usd * HOURS_PER_MONTH),
        basis: format!("{count} {what} x {HOURS_PER_MONTH} h x ${}", price.usd),
        sources: vec![price.source.clone()],
    })
}

/// `count` of something billed by the month.
fn monthly(
    id: &str,
    kind: &str,
    count: f64,
    what: &str,
    price: Option<&Price>,
) -> Option<CostLine> {
    let price = price?;
    Some(CostLine {
        logical_id: id.to_owned(),
        resource_type: kind.to_owned(),
        monthly_usd: round_cents(count * price.usd),
        basis: format!("{count} {what} x ${} / month", price.usd),
        sources: vec![price.source.clone()],
    })
}

/// The ALB's hours, plus a public IPv4 address per AZ when it faces the internet.
fn price_load_balancer(id: &str, props: &Value, catalog: &Catalog) -> Option<CostLine> {
    let alb = catalog.get("alb.hour")?;
    let ipv4 = catalog.get("ipv4.hour")?;
    let public = props["Scheme"].as_str() != Some("internal");
    let addresses = if public {
        props["Subnets"].as_array().map_or(2, Vec::len) as f64
    } else {
        0.0
    };
    let monthly = (alb.usd + addresses * ipv4.usd) * HOURS_PER_MONTH;
    Some(CostLine {
        logical_id: id.to_owned(),
        resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer".into(),
        monthly_usd: round_cents(monthly),
        basis: format!(
            "(1 ALB x ${} + {addresses} public IPv4 x ${}) x {HOURS_PER_MONTH} h",
            alb.usd, ipv4.usd
        ),
        sources: vec![alb.source.clone(), ipv4.source.clone()],
    })
}

/// CloudWatch bills each metric a standard-resolution alarm references: a metric-math
/// alarm over three metrics is three alarm metrics.
fn price_alarm(id: &str, props: &Value, catalog: &Catalog) -> Option<CostLine> {
    let metrics = props["Metrics"].as_array().map_or(1, |m| {
        m.iter()
            .filter(|q| q.get("MetricStat").is_some())
            .count()
            .max(1)
    });
    monthly(
        id,
        "AWS::CloudWatch::Alarm",
        metrics as f64,
        "alarm metric",
        catalog.get("cloudwatch.alarm_metric_month"),
    )
}

fn price_fargate_service(
    id: &str,
    props: &Value,
    resources: &serde_json::Map<String, Value>,
    catalog: &Catalog,
    advice: &mut Vec<Advice>,
) -> Option<CostLine> {
    let desired = number(&props["DesiredCount"]).unwrap_or(1.0);
    let task_id = props["TaskDefinition"]["Ref"].as_str()?;
    let task = &resources.get(task_id)?["Properties"];
    let vcpu = number(&task["Cpu"])? / 1024.0;
    let gb = number(&task["Memory"])? / 1024.0;
    let arch = match task["RuntimePlatform"]["CpuArchitecture"].as_str() {
        Some("ARM64") => "arm64",
        _ => "x86_64",
    };
    let cpu_price = catalog.get(&format!("fargate.{arch}.vcpu_hour"))?;
    let mem_price = catalog.get(&format!("fargate.{arch}.gb_hour"))?;
    let hourly = desired * (vcpu * cpu_price.usd + gb * mem_price.usd);
    let monthly = hourly * HOURS_PER_MONTH;
    if arch == "x86_64" && desired > 0.0 {
        if let (Some(arm_cpu), Some(arm_mem)) = (
            catalog.get("fargate.arm64.vcpu_hour"),
            catalog.get("fargate.arm64.gb_hour"),
        ) {
            let arm_monthly = desired * (vcpu * arm_cpu.usd + gb * arm_mem.usd) * HOURS_PER_MONTH;
            advice.push(Advice {
                logical_id: id.to_owned(),
                action:
                    "Run the task on ARM64 (Graviton): set RuntimePlatform.CpuArchitecture to ARM64"
                        .into(),
                monthly_saving_usd: round_cents(monthly - arm_monthly),
            });
        }
    }
    Some(CostLine {
        logical_id: id.to_owned(),
        resource_type: "AWS::ECS::Service".into(),
        monthly_usd: round_cents(monthly),
        basis: format!(
            "{desired} tasks x ({vcpu} vCPU x ${} + {gb} GB x ${}) x {HOURS_PER_MONTH} h",
            cpu_price.usd, mem_price.usd
        ),
        sources: vec![cpu_price.source.clone()],
    })
}

fn price_rds(
    id: &str,
    props: &Value,
    catalog: &Catalog,
    advice: &mut Vec<Advice>,
) -> Option<CostLine> {
    let engine = props["Engine"].as_str()?;
    let class = props["DBInstanceClass"].as_str()?;
    let multi_az = matches!(&props["MultiAZ"], Value::Bool(true)) || props["MultiAZ"] == "true";
    let instances = if multi_az { 2.0 } else { 1.0 };
    let storage_gb = number(&props["AllocatedStorage"]).unwrap_or(20.0);
    let instance = catalog.get(&format!("rds.{engine}.{class}.hour"))?;
    let storage = catalog.get("rds.gp3.gb_month")?;
    let instance_monthly = instances * instance.usd * HOURS_PER_MONTH;
    let storage_monthly = instances * storage_gb * storage.usd;
    if multi_az {
        advice.push(Advice {
            logical_id: id.to_owned(),
            action: "Outside prod, a single-AZ instance is usually enough: set MultiAZ to false"
                .into(),
            monthly_saving_usd: round_cents((instance_monthly + storage_monthly) / 2.0),
        });
    }
    Some(CostLine {
        logical_id: id.to_owned(),
        resource_type: "AWS::RDS::DBInstance".into(),
        monthly_usd: round_cents(instance_monthly + storage_monthly),
        basis: format!(
            "{instances} x {class} x {HOURS_PER_MONTH} h x ${} + {instances} x {storage_gb} GB x ${}",
            instance.usd, storage.usd
        ),
        sources: vec![instance.source.clone(), storage.source.clone()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service_template(arch: &str, desired: u32) -> Value {
        json!({"Resources": {
            "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "Cpu": "512", "Memory": "1024", "RuntimePlatform": {"CpuArchitecture": arch}}},
            "Web": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": desired, "TaskDefinition": {"Ref": "Task"}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }})
    }

    #[test]
    fn prices_fargate_tasks_from_the_catalog() {
        let catalog = Catalog::bundled("us-east-1").unwrap();
        let estimate = estimate(&service_template("ARM64", 2), &catalog);
        // 2 x (0.5 x 0.03238 + 1 x 0.00356) x 730 = 28.835
        assert_eq!(estimate.monthly_usd, 28.84);
        assert_eq!(estimate.unpriced, ["Queue (AWS::SQS::Queue)"]);
        assert!(estimate.advice.is_empty());
    }

    #[test]
    fn x86_tasks_get_graviton_advice_with_the_dollar_saving() {
        let catalog = Catalog::bundled("us-east-1").unwrap();
        let estimate = estimate(&service_template("X86_64", 2), &catalog);
        // x86: 2 x (0.5 x 0.04048 + 0.004445) x 730 = 36.040; ARM: 28.835.
        assert_eq!(estimate.monthly_usd, 36.04);
        assert_eq!(estimate.advice[0].monthly_saving_usd, 7.21);
    }

    #[test]
    fn multi_az_doubles_rds_and_says_what_single_az_saves() {
        let catalog = Catalog::bundled("us-east-1").unwrap();
        let template = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "MultiAZ": true}}}});
        let estimate = estimate(&template, &catalog);
        // 2 x 0.016 x 730 + 2 x 20 x 0.115 = 23.36 + 4.60
        assert_eq!(estimate.monthly_usd, 27.96);
        assert_eq!(estimate.advice[0].monthly_saving_usd, 13.98);
    }

    #[test]
    fn load_balancers_nat_addresses_alarms_and_dashboards() {
        let catalog = Catalog::bundled("us-east-1").unwrap();
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
        let estimate = estimate(&template, &catalog);
        let line = |id: &str| {
            estimate
                .lines
                .iter()
                .find(|l| l.logical_id == id)
                .unwrap()
                .monthly_usd
        };
        // ALB: (0.0225 + 2 public IPv4 x 0.005) x 730 = 23.725, to the cent as computed.
        assert_eq!(line("Alb"), round_cents((0.0225 + 2.0 * 0.005) * 730.0));
        assert!((line("Alb") - 23.72).abs() < 0.011);
        // NAT: 0.045 x 730 = 32.85; its EIP: 0.005 x 730 = 3.65.
        assert_eq!((line("Nat"), line("NatEip")), (32.85, 3.65));
        // Alarms: 1 metric = $0.10; a metric-math alarm over 2 metrics = $0.20.
        assert_eq!((line("Cpu"), line("Rate")), (0.10, 0.20));
        assert_eq!(line("Board"), 3.0);
        assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
        assert_eq!(
            estimate.usage_based.len(),
            2,
            "LCUs and NAT GB are named, not guessed"
        );
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
    fn unknown_region_is_named() {
        let error = Catalog::bundled("mars-1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the pricing catalog has no prices for 'mars-1'; it has us-east-1"
        );
    }
}
