//! One pricer per billable resource type: each turns a resource's properties (and the
//! usage file) into cost components priced from the catalog.

use super::usage::{Kind, ResourceUsage, Usage};
use super::{number, round_cents, truthy, Catalog, Component, Price, HOURS_PER_MONTH};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Data transfer out is a charge of the environment, not of one resource: it appears as
/// this pseudo-resource when something in the template talks to the internet.
pub const DATA_TRANSFER_ID: &str = "DataTransferOut";
pub const DATA_TRANSFER_TYPE: &str = "Ferry::DataTransfer::Out";

pub enum Outcome {
    Free,
    Priced(Vec<Component>, BTreeMap<String, Price>),
    Unpriced(String),
}

pub struct Context<'a> {
    pub resources: &'a Map<String, Value>,
    pub catalog: &'a Catalog,
    pub usage: &'a Usage,
}

/// Collects one resource's components; the first price the catalog lacks makes the whole
/// resource unpriced, so a partial figure never passes for the full one.
struct Bill<'a> {
    catalog: &'a Catalog,
    components: Vec<Component>,
    used: BTreeMap<String, Price>,
    missing: Vec<String>,
}

impl<'a> Bill<'a> {
    fn new(catalog: &'a Catalog) -> Bill<'a> {
        Bill {
            catalog,
            components: Vec::new(),
            used: BTreeMap::new(),
            missing: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, quantity: f64, key: &str, usage_based: bool) {
        self.add_scaled(name, quantity, key, 1.0, usage_based);
    }

    /// `factor` scales the catalog price (Valkey's discount on the Redis OSS price).
    fn add_scaled(&mut self, name: &str, quantity: f64, key: &str, factor: f64, usage_based: bool) {
        let Some(price) = self.catalog.get(key) else {
            self.missing.push(key.to_owned());
            return;
        };
        let unit_usd = price.usd * factor;
        self.components.push(Component {
            name: name.to_owned(),
            quantity,
            unit: price.unit.clone(),
            unit_usd,
            monthly_usd: round_cents(quantity * unit_usd),
            price: key.to_owned(),
            usage_based,
        });
        self.used.insert(key.to_owned(), price.clone());
    }

    fn finish(self) -> Outcome {
        if self.missing.is_empty() {
            Outcome::Priced(self.components, self.used)
        } else {
            Outcome::Unpriced(format!(
                "the catalog has no {} price for {}",
                self.catalog.region,
                self.missing.join(", ")
            ))
        }
    }
}

/// Whether a resource sends traffic to the internet (and so data transfer out applies).
pub fn sends_to_internet(resource: &Value) -> bool {
    match resource["Type"].as_str() {
        Some("AWS::ElasticLoadBalancingV2::LoadBalancer") => {
            resource["Properties"]["Scheme"].as_str() != Some("internal")
        }
        Some("AWS::EC2::NatGateway") => true,
        _ => false,
    }
}

/// The instance class's vCPUs, for Performance Insights; sizes are the same across the
/// families Ferry prices.
pub fn vcpus_of_size(class: &str) -> Option<f64> {
    let size = class.rsplit('.').next()?;
    Some(match size {
        "micro" | "small" | "medium" | "large" => 2.0,
        "xlarge" => 4.0,
        "2xlarge" => 8.0,
        "4xlarge" => 16.0,
        "8xlarge" => 32.0,
        "12xlarge" => 48.0,
        "16xlarge" => 64.0,
        _ => return None,
    })
}

impl Context<'_> {
    fn usage(&self, id: &str, kind: Kind, field: fn(&ResourceUsage) -> Option<f64>) -> f64 {
        self.usage.value(id, kind, field)
    }

    pub fn price(&self, id: &str, kind: &str, props: &Value) -> Outcome {
        match kind {
            "AWS::ECS::Service" => self.fargate_service(id, props),
            "AWS::RDS::DBInstance" => self.rds(id, props),
            "AWS::ElastiCache::ReplicationGroup" | "AWS::ElastiCache::CacheCluster" => {
                self.cache(id, kind, props)
            }
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => self.load_balancer(id, props),
            "AWS::EC2::NatGateway" => {
                let mut bill = Bill::new(self.catalog);
                bill.add("NAT gateway hours", HOURS_PER_MONTH, "nat.hour", false);
                let gb = self.usage(id, Kind::NatGateway, |u| u.gb_processed);
                bill.add("data processed", gb, "nat.gb", true);
                bill.finish()
            }
            "AWS::EC2::EIP" => {
                let mut bill = Bill::new(self.catalog);
                bill.add(
                    "public IPv4 address hours",
                    HOURS_PER_MONTH,
                    "ipv4.hour",
                    false,
                );
                bill.finish()
            }
            "AWS::EC2::VPCEndpoint" => self.endpoint(id, props),
            "AWS::Logs::LogGroup" => self.log_group(id, props),
            "AWS::CloudWatch::Alarm" => {
                // CloudWatch bills each metric a standard-resolution alarm references.
                let metrics = props["Metrics"].as_array().map_or(1, |m| {
                    m.iter()
                        .filter(|q| q.get("MetricStat").is_some())
                        .count()
                        .max(1)
                });
                let mut bill = Bill::new(self.catalog);
                bill.add(
                    "alarm metrics",
                    metrics as f64,
                    "cloudwatch.alarm_metric_month",
                    false,
                );
                bill.finish()
            }
            "AWS::CloudWatch::Dashboard" => {
                let mut bill = Bill::new(self.catalog);
                bill.add("dashboard", 1.0, "cloudwatch.dashboard_month", false);
                bill.finish()
            }
            "AWS::SecretsManager::Secret" => {
                let mut bill = Bill::new(self.catalog);
                self.secret(id, &mut bill);
                bill.finish()
            }
            DATA_TRANSFER_TYPE => {
                let mut bill = Bill::new(self.catalog);
                let gb = self.usage(id, Kind::DataTransfer, |u| u.gb_out);
                bill.add(
                    "data transfer out to the internet",
                    gb,
                    "transfer.out_gb",
                    true,
                );
                bill.finish()
            }
            "AWS::Lambda::Function" => self.lambda(id, props),
            "AWS::DynamoDB::Table" => self.dynamodb(id, props),
            "AWS::StepFunctions::StateMachine" => {
                if props["StateMachineType"].as_str() == Some("EXPRESS") {
                    return Outcome::Unpriced(
                        "Express workflows (requests and GB-seconds) are not in the catalog".into(),
                    );
                }
                let transitions = self.usage(id, Kind::StepFunctions, |u| u.transitions);
                let mut bill = Bill::new(self.catalog);
                bill.add(
                    "state transitions (per 1,000)",
                    transitions / 1_000.0,
                    "stepfunctions.transitions_1k",
                    true,
                );
                bill.finish()
            }
            "AWS::ApiGatewayV2::Api" => match props["ProtocolType"].as_str() {
                Some("HTTP") => {
                    let requests = self.usage(id, Kind::HttpApi, |u| u.requests);
                    let mut bill = Bill::new(self.catalog);
                    bill.add(
                        "HTTP API requests (per 1M)",
                        requests / 1e6,
                        "apigateway.http_1m",
                        true,
                    );
                    bill.finish()
                }
                _ => Outcome::Unpriced("WebSocket APIs are not in the catalog".into()),
            },
            "AWS::Events::Rule" => events_rule(props),
            "AWS::SQS::Queue" => {
                if truthy(&props["FifoQueue"]) {
                    return Outcome::Unpriced("FIFO queues are not in the catalog".into());
                }
                let requests = self.usage(id, Kind::Sqs, |u| u.requests);
                let mut bill = Bill::new(self.catalog);
                bill.add("requests (per 1M)", requests / 1e6, "sqs.requests_1m", true);
                bill.finish()
            }
            "AWS::SNS::Topic" => {
                if truthy(&props["FifoTopic"]) {
                    return Outcome::Unpriced("FIFO topics are not in the catalog".into());
                }
                let publishes = self.usage(id, Kind::Sns, |u| u.requests);
                let emails = self.usage(id, Kind::Sns, |u| u.emails);
                let mut bill = Bill::new(self.catalog);
                bill.add(
                    "publishes (per 1M)",
                    publishes / 1e6,
                    "sns.publish_1m",
                    true,
                );
                // Email deliveries are a price of their own; other protocols (Lambda, SQS
                // subscribers) are free to deliver to.
                if emails > 0.0 {
                    bill.add(
                        "email notifications (per 100,000)",
                        emails / 1e5,
                        "sns.email_100k",
                        true,
                    );
                }
                bill.finish()
            }
            "AWS::EC2::FlowLog" => {
                Outcome::Unpriced("vended log delivery (per GB) is not in the catalog".into())
            }
            "AWS::S3::Bucket" => self.bucket(id, props),
            _ => Outcome::Unpriced("Ferry does not price this resource type".into()),
        }
    }

    /// Requests and GB-seconds (MemorySize and Architectures), from the usage's invocations
    /// and average billed duration; and the CloudWatch API calls and custom metrics the
    /// function's own code drives, which bill to the account, not to the function.
    fn lambda(&self, id: &str, props: &Value) -> Outcome {
        let memory_mb = number(&props["MemorySize"]).unwrap_or(128.0);
        let arch = match props["Architectures"][0].as_str() {
            Some("arm64") => "arm64",
            _ => "x86_64",
        };
        let requests = self.usage(id, Kind::Lambda, |u| u.requests);
        let duration_ms = self.usage(id, Kind::Lambda, |u| u.duration_ms);
        // Lambda bills memory in GB of 1,024 MB, and duration in milliseconds.
        let gb_seconds = requests * duration_ms / 1_000.0 * memory_mb / 1_024.0;
        let mut bill = Bill::new(self.catalog);
        bill.add(
            "requests (per 1M)",
            requests / 1e6,
            "lambda.requests_1m",
            true,
        );
        bill.add(
            &format!("compute, {arch} at {memory_mb} MB (GB-seconds)"),
            gb_seconds,
            &format!("lambda.{arch}.gb_second"),
            true,
        );
        let metrics = self.usage(id, Kind::Lambda, |u| u.metrics_requested);
        if metrics > 0.0 {
            bill.add(
                "CloudWatch GetMetricData metrics requested (per 1,000)",
                metrics / 1_000.0,
                "cloudwatch.api_1k",
                true,
            );
        }
        let custom = self.usage(id, Kind::Lambda, |u| u.custom_metrics);
        if custom > 0.0 {
            bill.add(
                "custom metrics from its EMF logs",
                custom,
                "cloudwatch.metric_month",
                true,
            );
        }
        bill.finish()
    }

    fn dynamodb(&self, id: &str, props: &Value) -> Outcome {
        if props["BillingMode"].as_str() != Some("PAY_PER_REQUEST") {
            return Outcome::Unpriced(
                "provisioned capacity is not in the catalog (only on-demand tables are)".into(),
            );
        }
        if props["TableClass"]
            .as_str()
            .is_some_and(|c| c != "STANDARD")
        {
            return Outcome::Unpriced("the Standard-IA table class is not in the catalog".into());
        }
        let reads = self.usage(id, Kind::DynamoDb, |u| u.read_units);
        let writes = self.usage(id, Kind::DynamoDb, |u| u.write_units);
        let stored = self.usage(id, Kind::DynamoDb, |u| u.gb_stored);
        let mut bill = Bill::new(self.catalog);
        bill.add(
            "write request units (per 1M)",
            writes / 1e6,
            "dynamodb.write_1m",
            true,
        );
        bill.add(
            "read request units (per 1M)",
            reads / 1e6,
            "dynamodb.read_1m",
            true,
        );
        bill.add("storage", stored, "dynamodb.storage_gb_month", true);
        if truthy(&props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]) {
            bill.add(
                "point-in-time recovery (by table size)",
                stored,
                "dynamodb.pitr_gb_month",
                true,
            );
        }
        bill.finish()
    }

    fn secret(&self, id: &str, bill: &mut Bill) {
        bill.add("secret", 1.0, "secretsmanager.secret_month", false);
        let calls = self.usage(id, Kind::Secret, |u| u.api_calls);
        bill.add(
            "API calls (per 10,000)",
            calls / 10_000.0,
            "secretsmanager.api_10k",
            true,
        );
    }

    fn fargate_service(&self, id: &str, props: &Value) -> Outcome {
        if props["LaunchType"].as_str() == Some("EC2") {
            return Outcome::Unpriced(
                "EC2 launch type: its instances are billed separately".into(),
            );
        }
        let Some(task) = props["TaskDefinition"]["Ref"]
            .as_str()
            .and_then(|t| self.resources.get(t))
            .map(|t| &t["Properties"])
        else {
            return Outcome::Unpriced("its task definition is not in the template".into());
        };
        let (Some(cpu), Some(memory)) = (number(&task["Cpu"]), number(&task["Memory"])) else {
            return Outcome::Unpriced("its task definition has no Cpu and Memory".into());
        };
        let (vcpu, gb) = (cpu / 1024.0, memory / 1024.0);
        let arch = match task["RuntimePlatform"]["CpuArchitecture"].as_str() {
            Some("ARM64") => "arm64",
            _ => "x86_64",
        };
        let desired = number(&props["DesiredCount"]).unwrap_or(1.0);
        let hours = self.usage(id, Kind::Fargate, |u| u.hours_per_month);
        let spot = self.spot_share(props);
        if spot > 0.0 && arch == "arm64" {
            return Outcome::Unpriced(
                "Fargate Spot runs only X86_64 tasks: this ARM64 service would never be placed"
                    .into(),
            );
        }
        let mut bill = Bill::new(self.catalog);
        for (share, label, prefix) in [(1.0 - spot, "", arch), (spot, " (Spot)", "spot")] {
            if share <= 0.0 {
                continue;
            }
            let task_hours = desired * share * hours;
            bill.add(
                &format!("vCPU{label}"),
                task_hours * vcpu,
                &format!("fargate.{prefix}.vcpu_hour"),
                false,
            );
            bill.add(
                &format!("memory{label}"),
                task_hours * gb,
                &format!("fargate.{prefix}.gb_hour"),
                false,
            );
        }
        bill.finish()
    }

    /// The share of tasks on FARGATE_SPOT: the service's own strategy, else the cluster's
    /// default strategy. Weights only (a `Base` is a handful of tasks at most).
    fn spot_share(&self, props: &Value) -> f64 {
        let strategy = props["CapacityProviderStrategy"].as_array().or_else(|| {
            self.resources
                .values()
                .find(|r| r["Type"] == "AWS::ECS::ClusterCapacityProviderAssociations")
                .and_then(|r| r["Properties"]["DefaultCapacityProviderStrategy"].as_array())
        });
        let Some(strategy) = strategy else { return 0.0 };
        let weight = |entry: &Value| number(&entry["Weight"]).unwrap_or(0.0);
        let total: f64 = strategy.iter().map(weight).sum();
        let spot: f64 = strategy
            .iter()
            .filter(|e| e["CapacityProvider"] == "FARGATE_SPOT")
            .map(weight)
            .sum();
        if total > 0.0 {
            spot / total
        } else {
            0.0
        }
    }

    fn rds(&self, id: &str, props: &Value) -> Outcome {
        let engine = match props["Engine"].as_str() {
            Some("postgres") => "postgres",
            Some("mysql") => "mysql",
            Some(other) => {
                return Outcome::Unpriced(format!("engine '{other}' is not in the catalog"))
            }
            None => return Outcome::Unpriced("it names no Engine".into()),
        };
        let Some(class) = props["DBInstanceClass"].as_str() else {
            return Outcome::Unpriced("it names no DBInstanceClass".into());
        };
        let multi_az = truthy(&props["MultiAZ"]);
        // A Multi-AZ instance deployment bills the standby like the primary.
        let instances = if multi_az { 2.0 } else { 1.0 };
        let storage_gb = number(&props["AllocatedStorage"]).unwrap_or(20.0);
        let storage_type = props["StorageType"].as_str().unwrap_or("gp2");
        let hours = self.usage(id, Kind::Rds, |u| u.hours_per_month);
        let mut bill = Bill::new(self.catalog);
        let az = if multi_az {
            " (Multi-AZ: primary and standby)"
        } else {
            ""
        };
        // Multi-AZ has its own price (not always exactly twice single-AZ); without one in
        // the catalog, the standby is billed like the primary, and the name says so.
        let multi_az_key = format!("rds.{engine}.{class}.multi_az_hour");
        if multi_az && self.catalog.get(&multi_az_key).is_some() {
            bill.add(
                &format!("{class} Multi-AZ instance hours"),
                hours,
                &multi_az_key,
                false,
            );
        } else {
            bill.add(
                &format!("{class} instance hours{az}"),
                instances * hours,
                &format!("rds.{engine}.{class}.hour"),
                false,
            );
        }
        match storage_type {
            "gp2" | "gp3" => bill.add(
                &format!("{storage_type} storage"),
                instances * storage_gb,
                &format!("rds.{storage_type}.gb_month"),
                false,
            ),
            other => {
                return Outcome::Unpriced(format!("storage type '{other}' is not in the catalog"))
            }
        }
        if storage_type == "gp3" {
            // gp3 includes 3,000 IOPS and 125 MB/s below 400 GB, 12,000 and 500 above.
            let (base_iops, base_mbps) = if storage_gb < 400.0 {
                (3000.0, 125.0)
            } else {
                (12000.0, 500.0)
            };
            let extra_iops = number(&props["Iops"]).map_or(0.0, |i| (i - base_iops).max(0.0));
            if extra_iops > 0.0 {
                bill.add(
                    "gp3 IOPS above the baseline",
                    instances * extra_iops,
                    "rds.gp3.iops_month",
                    false,
                );
            }
            let extra_mbps =
                number(&props["StorageThroughput"]).map_or(0.0, |t| (t - base_mbps).max(0.0));
            if extra_mbps > 0.0 {
                bill.add(
                    "gp3 throughput above the baseline",
                    instances * extra_mbps,
                    "rds.gp3.mbps_month",
                    false,
                );
            }
        }
        let backup = self.usage(id, Kind::Rds, |u| u.backup_gb);
        if backup > 0.0 {
            bill.add(
                "backup storage beyond the free amount",
                backup,
                "rds.backup.gb_month",
                true,
            );
        }
        let insights = truthy(&props["EnablePerformanceInsights"]);
        let retention = number(&props["PerformanceInsightsRetentionPeriod"]).unwrap_or(7.0);
        if insights && retention > 7.0 {
            match vcpus_of_size(class) {
                Some(vcpus) => bill.add(
                    "Performance Insights retention beyond the free 7 days",
                    vcpus,
                    "rds.performance_insights.vcpu_month",
                    false,
                ),
                None => return Outcome::Unpriced(format!("the vCPUs of {class} are not known")),
            }
        }
        if truthy(&props["ManageMasterUserPassword"]) {
            // RDS keeps the managed master password in a Secrets Manager secret.
            self.secret(id, &mut bill);
        }
        bill.finish()
    }

    fn cache(&self, id: &str, kind: &str, props: &Value) -> Outcome {
        let Some(node) = props["CacheNodeType"].as_str() else {
            return Outcome::Unpriced("it names no CacheNodeType".into());
        };
        let nodes = if kind == "AWS::ElastiCache::CacheCluster" {
            number(&props["NumCacheNodes"]).unwrap_or(1.0)
        } else if let Some(groups) = number(&props["NumNodeGroups"]) {
            groups * (1.0 + number(&props["ReplicasPerNodeGroup"]).unwrap_or(0.0))
        } else {
            number(&props["NumCacheClusters"]).unwrap_or(1.0)
        };
        let engine = props["Engine"].as_str().unwrap_or("redis");
        let hours = self.usage(id, Kind::ElastiCache, |u| u.hours_per_month);
        let mut bill = Bill::new(self.catalog);
        let key = format!("elasticache.{node}.hour");
        match engine {
            "valkey" => match self.catalog.get("elasticache.valkey_factor") {
                Some(factor) => {
                    bill.used
                        .insert("elasticache.valkey_factor".into(), factor.clone());
                    bill.add_scaled(
                        &format!("{node} node hours (Valkey)"),
                        nodes * hours,
                        &key,
                        factor.usd,
                        false,
                    );
                }
                None => bill.missing.push("elasticache.valkey_factor".into()),
            },
            "redis" => bill.add(&format!("{node} node hours"), nodes * hours, &key, false),
            other => return Outcome::Unpriced(format!("engine '{other}' is not in the catalog")),
        }
        bill.finish()
    }

    fn load_balancer(&self, id: &str, props: &Value) -> Outcome {
        if props["Type"].as_str().is_some_and(|t| t != "application") {
            return Outcome::Unpriced("only Application Load Balancers are in the catalog".into());
        }
        let mut bill = Bill::new(self.catalog);
        bill.add("load balancer hours", HOURS_PER_MONTH, "alb.hour", false);
        if props["Scheme"].as_str() != Some("internal") {
            // An internet-facing ALB holds a public IPv4 address in each of its subnets.
            let subnets = props["Subnets"].as_array().map_or(2, Vec::len) as f64;
            bill.add(
                "public IPv4 address hours",
                subnets * HOURS_PER_MONTH,
                "ipv4.hour",
                false,
            );
        }
        let lcus = self.usage(id, Kind::Alb, |u| u.lcu_per_hour);
        bill.add("LCU hours", lcus * HOURS_PER_MONTH, "alb.lcu_hour", true);
        bill.finish()
    }

    fn endpoint(&self, id: &str, props: &Value) -> Outcome {
        match props["VpcEndpointType"].as_str().unwrap_or("Gateway") {
            // Gateway endpoints (S3, DynamoDB) are free.
            "Gateway" => Outcome::Free,
            "Interface" => {
                let azs = props["SubnetIds"].as_array().map_or(1, Vec::len) as f64;
                let mut bill = Bill::new(self.catalog);
                bill.add(
                    "endpoint hours, one per AZ",
                    azs * HOURS_PER_MONTH,
                    "vpce.interface.hour",
                    false,
                );
                let gb = self.usage(id, Kind::VpcEndpoint, |u| u.gb_processed);
                bill.add("data processed", gb, "vpce.interface.gb", true);
                bill.finish()
            }
            other => Outcome::Unpriced(format!("{other} endpoints are not in the catalog")),
        }
    }

    /// S3 Standard storage and requests. Storage is what the bucket holds in steady state:
    /// a month's writing times the days an object is kept (its lifecycle's expiry for
    /// every object, plus the noncurrent days when versioned) / 30, as for log groups;
    /// without an expiry, a year's writing. PUTs are the usage's, else the load balancers
    /// delivering access logs to the bucket: one file per node (at least one per subnet)
    /// every 5 minutes.
    fn bucket(&self, id: &str, props: &Value) -> Outcome {
        let rules: Vec<&Value> = props["LifecycleConfiguration"]["Rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["Status"] == "Enabled")
            .collect();
        let transitions = [
            "Transitions",
            "Transition",
            "NoncurrentVersionTransitions",
            "NoncurrentVersionTransition",
        ];
        if rules
            .iter()
            .any(|r| transitions.iter().any(|t| r.get(*t).is_some()))
            || props.get("IntelligentTieringConfigurations").is_some()
        {
            return Outcome::Unpriced(
                "storage classes other than S3 Standard are not in the catalog".into(),
            );
        }
        let stored = if self.usage.is_set(id, Kind::S3, |u| u.gb_stored) {
            self.usage(id, Kind::S3, |u| u.gb_stored)
        } else {
            let written = self.usage(id, Kind::S3, |u| u.gb_ingested);
            written * days_kept(props, &rules) / 30.0
        };
        let puts = if self.usage.is_set(id, Kind::S3, |u| u.put_requests) {
            self.usage(id, Kind::S3, |u| u.put_requests)
        } else {
            self.access_log_files(id)
        };
        let gets = self.usage(id, Kind::S3, |u| u.get_requests);
        let mut bill = Bill::new(self.catalog);
        bill.add(
            "storage (S3 Standard)",
            stored,
            "s3.standard.storage_gb_month",
            true,
        );
        bill.add(
            "PUT, COPY, POST and LIST requests (per 1,000)",
            puts / 1_000.0,
            "s3.standard.put_1k",
            true,
        );
        bill.add(
            "GET and other requests (per 1,000)",
            gets / 1_000.0,
            "s3.standard.get_1k",
            true,
        );
        bill.finish()
    }

    /// Access log files a month that the template's load balancers deliver to bucket `id`:
    /// Elastic Load Balancing "publishes a log file for each load balancer node every 5
    /// minutes" (ALB access logs guide), and an ALB has a node in each of its subnets'
    /// zones at least; a busier one has more, which a usage file's put_requests says.
    fn access_log_files(&self, id: &str) -> f64 {
        let files_per_node = 60.0 / 5.0 * HOURS_PER_MONTH;
        self.resources
            .values()
            .filter(|r| r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer")
            .filter(|r| {
                let attributes = r["Properties"]["LoadBalancerAttributes"].as_array();
                let attribute = |key: &str| {
                    attributes
                        .into_iter()
                        .flatten()
                        .find(|a| a["Key"] == key)
                        .map(|a| &a["Value"])
                };
                attribute("access_logs.s3.enabled").is_some_and(truthy)
                    && attribute("access_logs.s3.bucket").is_some_and(|b| b["Ref"] == id)
            })
            .map(|r| r["Properties"]["Subnets"].as_array().map_or(2, Vec::len) as f64)
            .sum::<f64>()
            * files_per_node
    }

    fn log_group(&self, id: &str, props: &Value) -> Outcome {
        let ingested = self.usage(id, Kind::LogGroup, |u| u.gb_ingested);
        // Steady state: what stays within the retention; without one, logs never expire,
        // so a year's worth is assumed (the usage file's gb_stored overrides either).
        let stored = if self.usage.is_set(id, Kind::LogGroup, |u| u.gb_stored) {
            self.usage(id, Kind::LogGroup, |u| u.gb_stored)
        } else {
            let days = number(&props["RetentionInDays"]).unwrap_or(365.0);
            round_cents(ingested * days / 30.0)
        };
        let mut bill = Bill::new(self.catalog);
        bill.add("log data ingested", ingested, "logs.ingest_gb", true);
        bill.add("log data stored", stored, "logs.storage_gb_month", true);
        bill.finish()
    }
}

/// Days an object written to the bucket stays: the shortest expiry among the enabled
/// lifecycle rules that apply to every object (no prefix or filter), plus, when the bucket
/// is versioned, the days an expired (noncurrent) version is kept. Without an expiry an
/// object stays for good; a year is assumed, as for log groups without a retention.
fn days_kept(props: &Value, rules: &[&Value]) -> f64 {
    const FOREVER: f64 = 365.0;
    let everything = |r: &&&Value| {
        r["Prefix"].as_str().is_none_or(str::is_empty)
            && r.get("TagFilters").is_none()
            && r.get("ObjectSizeGreaterThan").is_none()
            && r.get("ObjectSizeLessThan").is_none()
    };
    let days = |key: &str, r: &Value| number(&r[key]);
    let Some(current) = rules
        .iter()
        .filter(everything)
        .filter_map(|r| days("ExpirationInDays", r))
        .reduce(f64::min)
    else {
        return FOREVER;
    };
    // Versions only pile up once the current one expires (or is overwritten, which the
    // writers here do not do).
    if props["VersioningConfiguration"]["Status"] != "Enabled" {
        return current;
    }
    let noncurrent = rules
        .iter()
        .filter(everything)
        .filter_map(|r| {
            days("NoncurrentVersionExpirationInDays", r)
                .or_else(|| days("NoncurrentDays", &r["NoncurrentVersionExpiration"]))
        })
        .reduce(f64::min)
        .unwrap_or(FOREVER);
    current + noncurrent
}

/// EventBridge charges nothing for a rule: scheduled rules and AWS services' events on the
/// default bus are delivered free; custom events are billed to whoever puts them (per event,
/// which a template does not say), so a rule on a custom bus or source is named, not priced.
fn events_rule(props: &Value) -> Outcome {
    let default_bus = props["EventBusName"]
        .as_str()
        .is_none_or(|bus| bus == "default");
    if props.get("ScheduleExpression").is_some() {
        return Outcome::Free;
    }
    let sources: Vec<&str> = props["EventPattern"]["source"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if default_bus && !sources.is_empty() && sources.iter().all(|s| s.starts_with("aws.")) {
        Outcome::Free
    } else {
        Outcome::Unpriced(
            "custom events are billed per event put; Ferry does not know how many".into(),
        )
    }
}
