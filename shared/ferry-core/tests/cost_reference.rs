//! Reference configurations, priced by hand from the bundled catalog's public prices.
//! Every component is written out as quantity x unit price, rounded to the cent as the
//! estimate rounds it; resource and environment totals are sums of those cents.

use ferry_core::cost::{self, advice::AdviceContext, Catalog, CostEstimate, Usage};
use ferry_core::infra::profile::ProfileName;
use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use serde_json::{json, Value};

fn example_template(file: &str, env: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/../../examples/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let environment = AppSpec::parse(&text).unwrap().new_environment(env).unwrap();
    ferry_core::infra::template::generate(&environment, None, Colour::Blue)
}

fn priced(template: &Value, region: &str, usage: &Usage) -> CostEstimate {
    let catalog = Catalog::bundled(region).unwrap();
    let context = AdviceContext {
        profile: cost::template_profile(template),
        ..AdviceContext::default()
    };
    cost::analyse(template, &catalog, usage, &context)
}

/// `(logical id, [monthly cents of each component])`, and the total.
fn assert_priced(estimate: &CostEstimate, expected: &[(&str, &[f64])], total: f64) {
    for (id, components) in expected {
        let resource = estimate
            .resource(id)
            .unwrap_or_else(|| panic!("{id} is priced: {:?}", estimate.unpriced));
        let got: Vec<f64> = resource.components.iter().map(|c| c.monthly_usd).collect();
        assert_eq!(got, *components, "{id}: {:?}", resource.components);
    }
    assert_eq!(
        estimate.resources.len(),
        expected.len(),
        "{:#?}",
        estimate
            .resources
            .iter()
            .map(|r| &r.logical_id)
            .collect::<Vec<_>>()
    );
    assert_eq!(estimate.monthly_usd, total);
}

const ALARM: &[f64] = &[0.10];
const RATE_ALARM: &[f64] = &[0.30];

/// 1. examples/small-web.yaml, dev, us-east-1, dev usage defaults.
#[test]
fn small_web_dev_in_us_east_1() {
    let estimate = priced(
        &example_template("small-web.yaml", "dev"),
        "us-east-1",
        &Usage::profile_defaults(ProfileName::Dev),
    );
    // Interface endpoint in 2 AZs: 1460 h x $0.01 = 14.60; 5 GB x $0.01 = 0.05.
    let endpoint: &[f64] = &[14.60, 0.05];
    assert_priced(
        &estimate,
        &[
            ("EcrApiEndpoint", endpoint),
            ("EcrDkrEndpoint", endpoint),
            ("LogsEndpoint", endpoint),
            // 730 h x $0.0225 = 16.425; 1460 IPv4-h x $0.005 = 7.30; 0.5 LCU x 730 h x $0.008 = 2.92
            ("LoadBalancer", &[16.43, 7.30, 2.92]),
            // 1 GB x $0.50; 1 GB x 7 / 30 days = 0.23 GB x $0.03 = 0.0069
            ("WebLogGroup", &[0.50, 0.01]),
            // Spot: 1 task x 0.25 vCPU x 730 h = 182.5 x $0.01264355 = 2.3074;
            //       0.5 GB x 730 h = 365 x $0.00138835 = 0.5067
            ("WebBlueService", &[2.31, 0.51]),
            ("WebGreenService", &[0.0, 0.0]),
            ("Alb5xxRateAlarm", RATE_ALARM),
            ("WebLatencyP99Alarm", ALARM),
            ("WebCpuAlarm", ALARM),
            ("WebMemoryAlarm", ALARM),
            ("Dashboard", &[3.00]),
            // 5 GB x $0.09
            ("DataTransferOut", &[0.45]),
        ],
        // 3 x 14.65 + 26.65 + 0.51 + 2.82 + 0.30 + 3 x 0.10 + 3.00 + 0.45
        77.98,
    );
}

/// 2. examples/small-web.yaml, prod, us-east-1: a NAT gateway per AZ, flow logs.
#[test]
fn small_web_prod_in_us_east_1() {
    let estimate = priced(
        &example_template("small-web.yaml", "prod"),
        "us-east-1",
        &Usage::profile_defaults(ProfileName::Prod),
    );
    // 730 h x $0.045 = 32.85; 100 GB x $0.045 = 4.50. Its EIP: 730 h x $0.005 = 3.65.
    let nat: &[f64] = &[32.85, 4.50];
    // 10 GB x $0.50 = 5.00; 10 GB x 90 / 30 days = 30 GB x $0.03 = 0.90
    let logs: &[f64] = &[5.00, 0.90];
    assert_priced(
        &estimate,
        &[
            ("NatGatewayA", nat),
            ("NatGatewayB", nat),
            ("NatGatewayC", nat),
            ("NatEipA", &[3.65]),
            ("NatEipB", &[3.65]),
            ("NatEipC", &[3.65]),
            ("FlowLogGroup", logs),
            ("WebLogGroup", logs),
            // The ALB's access logs: prod writes 5 GB a month, kept 90 days and 14 more as
            // noncurrent versions: 5 x 104 / 30 = 17.33 GB x $0.023 = 0.3987; a file per
            // node (3 subnets) every 5 minutes: 3 x 12 x 730 = 26,280 PUTs x $0.005 / 1,000
            // = 0.1314; no GETs.
            ("AccessLogBucket", &[0.40, 0.13, 0.00]),
            // 16.425; 3 x 730 IPv4-h x $0.005 = 10.95; 5 LCU x 730 h x $0.008 = 29.20
            ("LoadBalancer", &[16.43, 10.95, 29.20]),
            // ARM on demand: 365 vCPU-h x $0.03238 = 11.8187; 730 GB-h x $0.00356 = 2.5988
            ("WebBlueService", &[11.82, 2.60]),
            ("WebGreenService", &[0.0, 0.0]),
            ("Alb5xxRateAlarm", RATE_ALARM),
            ("WebLatencyP99Alarm", ALARM),
            ("WebCpuAlarm", ALARM),
            ("WebMemoryAlarm", ALARM),
            ("Dashboard", &[3.00]),
            // 200 GB x $0.09
            ("DataTransferOut", &[18.00]),
        ],
        // 3 x 37.35 + 3 x 3.65 + 2 x 5.90 + 0.53 + 56.58 + 14.42 + 0.60 + 3.00 + 18.00
        227.93,
    );
    let unpriced: Vec<&str> = estimate
        .unpriced
        .iter()
        .map(|u| u.logical_id.as_str())
        .collect();
    assert_eq!(unpriced, ["FlowLog"], "named, never counted as zero");
}

/// 3. examples/web-postgres-valkey.yaml, prod, us-east-1: Multi-AZ Postgres, Valkey.
#[test]
fn web_postgres_valkey_prod_in_us_east_1() {
    let estimate = priced(
        &example_template("web-postgres-valkey.yaml", "prod"),
        "us-east-1",
        &Usage::profile_defaults(ProfileName::Prod),
    );
    let nat: &[f64] = &[32.85, 4.50];
    // 10 GB x $0.50 = 5.00; 10 GB x 365 / 30 days = 121.67 GB x $0.03 = 3.6501
    let logs: &[f64] = &[5.00, 3.65];
    assert_priced(
        &estimate,
        &[
            ("NatGatewayA", nat),
            ("NatGatewayB", nat),
            ("NatGatewayC", nat),
            ("NatEipA", &[3.65]),
            ("NatEipB", &[3.65]),
            ("NatEipC", &[3.65]),
            ("FlowLogGroup", logs),
            ("WebLogGroup", logs),
            // Access logs kept a year here: 5 x (365 + 14) / 30 = 63.17 GB x $0.023 = 1.4528;
            // 26,280 PUTs = 0.1314.
            ("AccessLogBucket", &[1.45, 0.13, 0.00]),
            ("LoadBalancer", &[16.43, 10.95, 29.20]),
            // 4 ARM tasks of 1 vCPU / 2 GB: 2920 vCPU-h x $0.03238 = 94.5496;
            // 5840 GB-h x $0.00356 = 20.7904
            ("WebBlueService", &[94.55, 20.79]),
            ("WebGreenService", &[0.0, 0.0]),
            // Multi-AZ db.m7g.large: 730 h x $0.337 = 246.01 (not exactly twice single-AZ's
            // $0.168: AWS prices Multi-AZ on its own); gp3 2 x 200 GB x $0.115 = 46.00;
            // managed secret $0.40; 100,000 calls x $0.05 / 10,000 = 0.50
            ("Database", &[246.01, 46.00, 0.40, 0.50]),
            // Valkey: 2 nodes x 730 h x ($0.158 x 0.8 = $0.1264) = 184.544
            ("Cache", &[184.54]),
            ("Alb5xxRateAlarm", RATE_ALARM),
            ("WebLatencyP99Alarm", ALARM),
            ("WebCpuAlarm", ALARM),
            ("WebMemoryAlarm", ALARM),
            ("DatabaseCpuAlarm", ALARM),
            ("DatabaseFreeStorageAlarm", ALARM),
            ("DatabaseConnectionsAlarm", ALARM),
            ("CacheCpuAlarm", ALARM),
            ("CacheMemoryAlarm", ALARM),
            ("CacheEvictionsAlarm", ALARM),
            ("Dashboard", &[3.00]),
            ("DataTransferOut", &[18.00]),
        ],
        // 112.05 + 10.95 + 2 x 8.65 + 1.58 + 56.58 + 115.34 + 292.91 + 184.54 + 0.30
        // + 9 x 0.10 + 3.00 + 18.00
        813.45,
    );
    // Prod advice, commitments only (no Spot, schedule, single NAT or single-AZ in prod):
    // a 1-year no-upfront Multi-AZ db.m7g.large reservation at $0.2595 an hour instead of
    // $0.337: 730 h x 0.0775 = 56.575; a Compute Savings Plan at 0.8 on the tasks:
    // (94.55 + 20.79) x 0.2 = 23.068.
    let kinds: Vec<(&str, &str, f64)> = estimate
        .advice
        .iter()
        .map(|a| (a.kind.as_str(), a.logical_id.as_str(), a.monthly_saving_usd))
        .collect();
    assert_eq!(
        kinds,
        [
            ("commitment", "Database", 56.58),
            ("commitment", "WebBlueService", 23.07)
        ]
    );
}

/// 4. A plain template in eu-central-1 (no Ferry metadata: the prod usage defaults).
#[test]
fn a_plain_template_in_eu_central_1() {
    let template = json!({"Resources": {
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "1024", "Memory": "2048"}},
        "Api": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 2, "LaunchType": "FARGATE", "TaskDefinition": {"Ref": "Task"}}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "mysql", "DBInstanceClass": "db.r6g.large", "MultiAZ": true, "AllocatedStorage": 100, "StorageType": "gp2"}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "NatIp": {"Type": "AWS::EC2::EIP", "Properties": {}},
        "CpuAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "CPUUtilization"}},
    }});
    let estimate = priced(
        &template,
        "eu-central-1",
        &Usage::profile_defaults(ProfileName::Prod),
    );
    assert_priced(
        &estimate,
        &[
            // x86: 2 x 1 vCPU x 730 h = 1460 x $0.04656 = 67.9776; 2920 GB-h x $0.00511 = 14.9212
            ("Api", &[67.98, 14.92]),
            // Multi-AZ 730 h x $0.519 = 378.87; gp2 2 x 100 GB x $0.137 = 27.40
            ("Db", &[378.87, 27.40]),
            // 10 GB x $0.63 = 6.30; 10 GB x 30 / 30 days = 10 GB x $0.0324 = 0.324
            ("Logs", &[6.30, 0.32]),
            // 730 h x $0.052 = 37.96; 100 GB x $0.052 = 5.20
            ("Nat", &[37.96, 5.20]),
            ("NatIp", &[3.65]),
            ("CpuAlarm", ALARM),
            ("DataTransferOut", &[18.00]),
        ],
        // 82.90 + 406.27 + 6.62 + 43.16 + 3.65 + 0.10 + 18.00
        560.70,
    );
}

/// 5. A plain template in eu-west-1 with a usage file; Performance Insights' long
///    retention, which the region's catalog cannot price, is named, not counted as zero.
#[test]
fn a_plain_template_in_eu_west_1_with_a_usage_file() {
    let template = json!({"Resources": {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Subnets": ["a", "b", "c"]}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "NatIp": {"Type": "AWS::EC2::EIP", "Properties": {}},
        "Ecr": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b"]}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "DBInstanceClass": "db.t4g.medium", "AllocatedStorage": "50", "StorageType": "gp2"}},
        "Insights": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "DBInstanceClass": "db.t4g.medium", "AllocatedStorage": "50", "StorageType": "gp2", "EnablePerformanceInsights": true, "PerformanceInsightsRetentionPeriod": 731}},
        "AppLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 14}},
        "Token": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
    }});
    let usage = Usage::parse(
        "version: 1\nprofile: staging\ndefaults:\n  alb: {lcu_per_hour: 2}\n  nat_gateway: {gb_processed: 50}\n  vpc_endpoint: {gb_processed: 20}\n  data_transfer: {gb_out: 300}\nresources:\n  AppLogs: {gb_ingested: 40, gb_stored: 100}\n",
        "usage.yml",
        ProfileName::Prod,
    )
    .unwrap();
    let estimate = priced(&template, "eu-west-1", &usage);
    assert_priced(
        &estimate,
        &[
            // 730 h x $0.0252 = 18.396; 3 x 730 IPv4-h x $0.005 = 10.95; 2 LCU x 730 h x $0.008 = 11.68
            ("Alb", &[18.40, 10.95, 11.68]),
            // 730 h x $0.048 = 35.04; 50 GB x $0.048 = 2.40
            ("Nat", &[35.04, 2.40]),
            ("NatIp", &[3.65]),
            // 2 AZs x 730 h x $0.011 = 16.06; 20 GB x $0.01 = 0.20
            ("Ecr", &[16.06, 0.20]),
            // 730 h x $0.069 = 50.37; 50 GB gp2 x $0.127 = 6.35
            ("Db", &[50.37, 6.35]),
            // The same, plus Performance Insights kept 731 days (Database Insights
            // Advanced): 2 vCPUs x $9.125 a vCPU-month ($0.0125 x 730 h) = 18.25
            ("Insights", &[50.37, 6.35, 18.25]),
            // 40 GB x $0.57 = 22.80; 100 GB stored x $0.03 = 3.00
            ("AppLogs", &[22.80, 3.00]),
            // 1 secret x $0.40; 10,000 API calls (staging's default) x $0.05 / 10,000
            ("Token", &[0.40, 0.05]),
            // 300 GB x $0.09
            ("DataTransferOut", &[27.00]),
        ],
        // 41.03 + 37.44 + 3.65 + 16.26 + 56.72 + 74.97 + 25.80 + 0.45 + 27.00
        283.32,
    );
    assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
}

/// 6. A dev template in us-west-2: ARM on demand, x86 mostly on Spot, Multi-AZ Postgres
///    with its Multi-AZ price and managed password.
#[test]
fn a_dev_template_in_us_west_2_with_spot_and_multi_az() {
    let template = json!({
        "Metadata": {"Ferry": {"Profile": "dev"}},
        "Resources": {
        "ArmTask": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "256", "Memory": "512", "RuntimePlatform": {"CpuArchitecture": "ARM64"}}},
        "Web": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 3, "TaskDefinition": {"Ref": "ArmTask"}, "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}]}},
        "X86Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "1024", "Memory": "2048"}},
        "Worker": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 4, "TaskDefinition": {"Ref": "X86Task"}, "CapacityProviderStrategy": [
            {"CapacityProvider": "FARGATE", "Weight": 1}, {"CapacityProvider": "FARGATE_SPOT", "Weight": 3}]}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "MultiAZ": "true", "AllocatedStorage": 20, "StorageType": "gp3", "ManageMasterUserPassword": true}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    }});
    let estimate = priced(
        &template,
        "us-west-2",
        &Usage::profile_defaults(ProfileName::Dev),
    );
    assert_priced(
        &estimate,
        &[
            // 3 x 0.25 vCPU x 730 h = 547.5 x $0.03238 = 17.7281; 1095 GB-h x $0.00356 = 3.8982
            ("Web", &[17.73, 3.90]),
            // A quarter on demand: 4 x 0.25 x 730 = 730 task-h: 730 vCPU-h x $0.04048 = 29.5504,
            // 1460 GB-h x $0.004445 = 6.4897; three quarters on Spot: 2190 task-h:
            // 2190 vCPU-h x $0.01269464 = 27.8013, 4380 GB-h x $0.00139396 = 6.1055
            ("Worker", &[29.55, 6.49, 27.80, 6.11]),
            // Multi-AZ 730 h x $0.032 = 23.36; gp3 2 x 20 GB x $0.115 = 4.60; secret $0.40;
            // 1,000 calls x $0.05 / 10,000 = 0.005
            ("Db", &[23.36, 4.60, 0.40, 0.01]),
            ("Board", &[3.00]),
            // 1 GB x $0.50; 0.23 GB x $0.03
            ("Logs", &[0.50, 0.01]),
        ],
        // 21.63 + 69.95 + 28.37 + 3.00 + 0.51
        123.46,
    );
    let saving = |kind: &str, id: &str| {
        estimate
            .advice
            .iter()
            .find(|a| a.kind == kind && a.logical_id == id)
            .map(|a| a.monthly_saving_usd)
    };
    // Graviton for the Worker's on-demand quarter: 36.04 now; 730 x $0.03238 = 23.64 and
    // 1460 x $0.00356 = 5.20 on ARM; saves 7.20.
    assert_eq!(saving("graviton", "Worker"), Some(7.20));
    // Spot for the rest of it: 730 x $0.01269464 = 9.27, 1460 x $0.00139396 = 2.04;
    // saves 36.04 - 11.31 = 24.73. Never for the ARM service: Spot is x86 only.
    assert_eq!(saving("fargate-spot", "Worker"), Some(24.73));
    assert_eq!(saving("fargate-spot", "Web"), None);
    // Single-AZ outside prod: half of (23.36 + 4.60).
    assert_eq!(saving("single-az", "Db"), Some(13.98));
    assert!(saving("schedule", "Web").is_some());
    assert!(estimate.advice.iter().all(|a| !a.risk.is_empty()));
}
