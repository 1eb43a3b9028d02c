//! Environment spec -> CloudFormation: the template a senior AWS engineer would write by
//! hand, for one environment, with blue and green services behind one ALB. Output is
//! deterministic (objects are sorted maps), so the same spec gives byte-identical JSON.

use crate::infra::policy::{Policy, PolicyError, PolicyReport};
use crate::infra::profile::NatPolicy;
use crate::infra::spec::{EnvironmentSpec, ServiceSpec};
use crate::model::{Environment, Release};
use crate::names::Colour;
use crate::promotion::rollout::Rollout;
use serde_json::{json, Map, Value};

const AZ_LETTERS: [&str; 3] = ["A", "B", "C"];

/// Why log groups have no customer-managed KMS key (checkov CKV_AWS_158).
const LOGS_KMS: &str = "CloudWatch Logs encrypts every log group with AWS-owned keys; a customer KMS key is a compliance choice with a cost (docs/security.md)";

/// An egress rule that allows nothing. A security group without `SecurityGroupEgress`
/// gets AWS's default allow-all egress; listing this rule removes the default, so a group
/// that never starts a connection (the database's, the cache's) cannot start one.
/// Type 252 code 86 is no ICMP message, to a broadcast address: nothing matches it.
fn no_egress() -> Value {
    json!([{"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "CidrIp": "255.255.255.255/32",
            "Description": "No egress: replaces the default allow-all rule"}])
}

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

/// The stack output holding a colour's target group dimension for CloudWatch.
pub fn target_group_output(service: &str, colour: Colour) -> String {
    logical_id(
        "",
        service,
        &format!("{}TargetGroupFullName", colour_title(colour)),
    )
}

/// `Blue` or `Green`, as logical ids spell the colours.
pub fn colour_title(colour: Colour) -> &'static str {
    match colour {
        Colour::Blue => "Blue",
        Colour::Green => "Green",
    }
}

fn r(id: &str) -> Value {
    json!({"Ref": id})
}
fn att(id: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [id, attribute]})
}
fn sub(text: &str) -> Value {
    json!({"Fn::Sub": text})
}

/// ELB access-log delivery accounts for the regions that predate the log-delivery
/// service principal (AWS docs, "Enable access logs for your Application Load Balancer").
const ELB_ACCOUNTS: [(&str, &str); 10] = [
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-central-1", "054676820928"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ap-northeast-1", "582318560864"),
];

struct Builder<'a> {
    env: &'a Environment,
    spec: &'a EnvironmentSpec,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
    tags: Value,
}

/// The resource types Ferry generates that take `Tags`; every one gets the app, env and
/// managed-by tags.
const TAGGED: [&str; 20] = [
    "AWS::EC2::VPC",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Subnet",
    "AWS::EC2::EIP",
    "AWS::EC2::NatGateway",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::FlowLog",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::S3::Bucket",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ECS::Cluster",
    "AWS::ECS::TaskDefinition",
    "AWS::ECS::Service",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::ElastiCache::ReplicationGroup",
];

impl Builder<'_> {
    fn add(&mut self, id: &str, kind: &str, mut properties: Value) -> &mut Map<String, Value> {
        // Built by hand, not with `json!`: the macro deep-copies every interpolated Value
        // through serde, which was most of the generation time.
        if TAGGED.contains(&kind) {
            if let Some(props) = properties.as_object_mut() {
                props.insert("Tags".into(), self.tags.clone());
            }
        }
        let mut resource = Map::new();
        resource.insert("Type".into(), Value::String(kind.to_owned()));
        resource.insert("Properties".into(), properties);
        self.resources
            .insert(id.to_owned(), Value::Object(resource));
        self.resources
            .get_mut(id)
            .and_then(Value::as_object_mut)
            .expect("just inserted")
    }

    /// Suppresses a checkov check on one resource, with the reason, where checkov reads
    /// it (`Metadata.checkov.skip`). Every suppression is a trade docs/security.md
    /// explains; call this only where the trade holds (the profile that makes it).
    fn skip(&mut self, id: &str, check: &str, reason: &str) {
        let resource = self
            .resources
            .get_mut(id)
            .and_then(Value::as_object_mut)
            .expect("suppress checks on a resource already added");
        let skips = resource
            .entry("Metadata")
            .or_insert_with(|| json!({"checkov": {"skip": []}}))["checkov"]["skip"]
            .as_array_mut()
            .expect("Metadata.checkov.skip is a list");
        skips.push(json!({"id": check, "comment": reason}));
    }

    fn output(&mut self, name: &str, value: Value, description: &str) {
        self.outputs.insert(
            name.to_owned(),
            json!({"Description": description, "Value": value, "Export": {"Name": sub(&format!("${{AWS::StackName}}-{name}"))}}),
        );
    }

    fn azs(&self) -> &'static [&'static str] {
        &AZ_LETTERS[..usize::from(self.spec.profile.az_count)]
    }

    fn alarm_name(&self, check: &str) -> String {
        format!("ferry/{}/{}/{check}", self.env.app, self.env.name)
    }
}

/// The template for `env` running `release` (the spec's images before the first
/// release), with traffic on `live`. Policy is not checked here; see [`render`].
pub fn generate(env: &Environment, release: Option<&Release>, live: Colour) -> Value {
    generate_rollout(env, &Rollout::steady(live, release))
}

/// The template for `env` at one moment of a promotion: each colour with its release,
/// its tasks running or not, and its share of the listener's traffic.
pub fn generate_rollout(env: &Environment, rollout: &Rollout) -> Value {
    let live = rollout.live;
    let spec = &env.spec;
    let mut b = Builder {
        env,
        spec,
        resources: Map::new(),
        outputs: Map::new(),
        tags: json!([
            {"Key": "ferry:app", "Value": env.app.as_str()},
            {"Key": "ferry:env", "Value": env.name.as_str()},
            {"Key": "ferry:managed-by", "Value": "ferry"},
        ]),
    };
    network(&mut b);
    load_balancer(&mut b);
    cluster(&mut b);
    for (index, service) in spec.services.iter().enumerate() {
        ecs_service(&mut b, index, service, rollout);
    }
    if spec.database.is_some() {
        database(&mut b);
    }
    if spec.cache.is_some() {
        cache(&mut b);
    }
    alarms_and_dashboard(&mut b, rollout.watched());

    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Ferry environment {}/{} ({} profile). Generated by Ferry; edit the spec, not this file.", env.app, env.name, spec.profile_name),
        "Metadata": {"Ferry": {"App": env.app.as_str(), "Environment": env.name.as_str(), "Profile": spec.profile_name.to_string(), "LiveColour": live.to_string()}},
        "Parameters": {
            "CertificateArn": {
                "Type": "String",
                "Description": "ACM certificate for the HTTPS listener",
                "AllowedPattern": "^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$",
                "ConstraintDescription": "an ACM certificate ARN"
            }
        },
    });
    // Moved in, not interpolated into `json!`: the macro deep-copies a Value through
    // serde, and these two are nearly the whole template (copying them was 40% of
    // generation).
    let top = template.as_object_mut().expect("an object");
    top.insert("Resources".into(), Value::Object(b.resources));
    top.insert("Outputs".into(), Value::Object(b.outputs));
    if spec.profile.alb_access_logs {
        let mapping: Map<String, Value> = ELB_ACCOUNTS
            .iter()
            .map(|(region, account)| (region.to_string(), json!({"Account": account})))
            .collect();
        let mut mappings = Map::new();
        mappings.insert("ElbLogDelivery".into(), Value::Object(mapping));
        top.insert("Mappings".into(), Value::Object(mappings));
    }
    template
}

/// CloudFormation's limits on one stack: a template read from S3 (`TemplateURL`) holds
/// at most 1,000,000 bytes, and a stack at most 500 resources. (Inline, `TemplateBody`, is
/// 51,200 bytes; Ferry uploads anything larger.) A spec whose template breaks either is
/// refused when it is rendered, at validation, not by CloudFormation at its first deploy.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
pub const MAX_RESOURCES: usize = 500;
/// CloudFormation's limit on a template sent inline (`TemplateBody`): a larger one goes
/// through Ferry's artifacts bucket (the CloudFormation adapter's `TEMPLATE_BODY_LIMIT`),
/// which Ferry's own bill prices.
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("the template breaks {} policy rule(s): {}", .0.violations.len(), describe_violations(.0))]
    Policy(PolicyReport),
    #[error(transparent)]
    Engine(#[from] PolicyError),
    #[error("the template would have {resources} resources, over CloudFormation's limit of {MAX_RESOURCES} per stack; split the services across environments or apps")]
    TooManyResources { resources: usize },
    #[error("the template would be {bytes} bytes, over CloudFormation's limit of {MAX_TEMPLATE_BYTES} bytes for a template in S3; the services' environment variables and secrets are the usual cause")]
    TooLarge { bytes: usize },
}

fn describe_violations(report: &PolicyReport) -> String {
    report
        .violations
        .iter()
        .map(|v| {
            format!(
                "{} ({}); waive it under environments.<env>.waivers with a reason if intended",
                v.rule,
                v.messages.join("; ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`generate`], then the policy rules: a violation the environment did not waive is
/// an error. The report lists what was waived, and why.
pub fn render(
    env: &Environment,
    release: Option<&Release>,
    live: Colour,
) -> Result<(Value, PolicyReport), RenderError> {
    render_rollout(env, &Rollout::steady(live, release))
}

/// [`generate_rollout`], then the policy rules, as [`render`].
pub fn render_rollout(
    env: &Environment,
    rollout: &Rollout,
) -> Result<(Value, PolicyReport), RenderError> {
    let template = generate_rollout(env, rollout);
    let report = check(&env.spec, &template)?;
    Ok((template, report))
}

/// CloudFormation's limits and the policy rules on a template for `spec`: a violation
/// the spec does not waive is an error.
pub fn check(spec: &EnvironmentSpec, template: &Value) -> Result<PolicyReport, RenderError> {
    check_stack_limits(template)?;
    let report = Policy::for_app(spec.policy.rules.as_ref()).check(template, &spec.waivers)?;
    if report.violations.is_empty() {
        Ok(report)
    } else {
        Err(RenderError::Policy(report))
    }
}

fn check_stack_limits(template: &Value) -> Result<(), RenderError> {
    let resources = template["Resources"].as_object().map_or(0, |r| r.len());
    if resources > MAX_RESOURCES {
        return Err(RenderError::TooManyResources { resources });
    }
    // Deployed as compact JSON (CloudFormationStacks sends `to_string()`).
    let bytes = template.to_string().len();
    if bytes > MAX_TEMPLATE_BYTES {
        return Err(RenderError::TooLarge { bytes });
    }
    Ok(())
}

fn network(b: &mut Builder) {
    let profile = b.spec.profile.clone();
    b.add(
        "Vpc",
        "AWS::EC2::VPC",
        json!({"CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true}),
    );
    b.add("InternetGateway", "AWS::EC2::InternetGateway", json!({}));
    b.add(
        "InternetGatewayAttachment",
        "AWS::EC2::VPCGatewayAttachment",
        json!({"VpcId": r("Vpc"), "InternetGatewayId": r("InternetGateway")}),
    );
    b.add(
        "PublicRouteTable",
        "AWS::EC2::RouteTable",
        json!({"VpcId": r("Vpc")}),
    );
    b.add("PublicDefaultRoute", "AWS::EC2::Route", json!({"RouteTableId": r("PublicRouteTable"), "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": r("InternetGateway")}))
        .insert("DependsOn".into(), json!("InternetGatewayAttachment"));
    b.add(
        "IsolatedRouteTable",
        "AWS::EC2::RouteTable",
        json!({"VpcId": r("Vpc")}),
    );

    let azs = b.azs();
    for (i, az) in azs.iter().enumerate() {
        let zone = json!({"Fn::Select": [i, {"Fn::GetAZs": ""}]});
        for (tier, cidr, table) in [
            (
                "Public",
                format!("10.0.{i}.0/24"),
                "PublicRouteTable".to_owned(),
            ),
            (
                "Private",
                format!("10.0.{}.0/20", (i + 1) * 16),
                format!("PrivateRouteTable{az}"),
            ),
            (
                "Isolated",
                format!("10.0.{}.0/24", 200 + i),
                "IsolatedRouteTable".to_owned(),
            ),
        ] {
            let subnet = format!("{tier}Subnet{az}");
            b.add(&subnet, "AWS::EC2::Subnet", json!({"VpcId": r("Vpc"), "CidrBlock": cidr, "AvailabilityZone": zone, "MapPublicIpOnLaunch": false}));
            b.add(
                &format!("{subnet}RouteTableAssociation"),
                "AWS::EC2::SubnetRouteTableAssociation",
                json!({"SubnetId": r(&subnet), "RouteTableId": r(&table)}),
            );
        }
        b.add(
            &format!("PrivateRouteTable{az}"),
            "AWS::EC2::RouteTable",
            json!({"VpcId": r("Vpc")}),
        );
        let nat = match profile.nat {
            NatPolicy::None => None,
            NatPolicy::Single => Some("A"),
            NatPolicy::PerAz => Some(*az),
        };
        if let Some(nat_az) = nat {
            if nat_az == *az {
                b.add(
                    &format!("NatEip{az}"),
                    "AWS::EC2::EIP",
                    json!({"Domain": "vpc"}),
                )
                .insert("DependsOn".into(), json!("InternetGatewayAttachment"));
                b.add(&format!("NatGateway{az}"), "AWS::EC2::NatGateway", json!({"SubnetId": r(&format!("PublicSubnet{az}")), "AllocationId": att(&format!("NatEip{az}"), "AllocationId")}));
            }
            b.add(&format!("PrivateDefaultRoute{az}"), "AWS::EC2::Route", json!({"RouteTableId": r(&format!("PrivateRouteTable{az}")), "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": r(&format!("NatGateway{nat_az}"))}));
        }
    }
    let mut route_tables: Vec<Value> = azs
        .iter()
        .map(|az| r(&format!("PrivateRouteTable{az}")))
        .collect();
    route_tables.push(r("IsolatedRouteTable"));
    b.add("S3GatewayEndpoint", "AWS::EC2::VPCEndpoint", json!({
        "VpcId": r("Vpc"), "VpcEndpointType": "Gateway", "ServiceName": sub("com.amazonaws.${AWS::Region}.s3"), "RouteTableIds": route_tables}));

    if profile.nat == NatPolicy::None {
        // No NAT: tasks reach ECR, CloudWatch Logs and their secrets through endpoints.
        b.add("EndpointSecurityGroup", "AWS::EC2::SecurityGroup", json!({
            "GroupDescription": "VPC interface endpoints, reachable from the services",
            "VpcId": r("Vpc"),
            "SecurityGroupEgress": no_egress(),
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "SourceSecurityGroupId": r("ServiceSecurityGroup"), "Description": "HTTPS from the services"}]}));
        let mut services = vec![
            ("EcrApi", "ecr.api"),
            ("EcrDkr", "ecr.dkr"),
            ("Logs", "logs"),
        ];
        let secrets: Vec<&String> = b
            .spec
            .services
            .iter()
            .flat_map(|s| s.secrets.values())
            .collect();
        if secrets.iter().any(|s| s.contains(":secretsmanager:")) {
            services.push(("SecretsManager", "secretsmanager"));
        }
        if secrets.iter().any(|s| s.contains(":ssm:")) {
            services.push(("Ssm", "ssm"));
        }
        let subnets: Vec<Value> = azs
            .iter()
            .map(|az| r(&format!("PrivateSubnet{az}")))
            .collect();
        for (id, service) in services {
            b.add(
                &format!("{id}Endpoint"),
                "AWS::EC2::VPCEndpoint",
                json!({
                "VpcId": r("Vpc"), "VpcEndpointType": "Interface", "PrivateDnsEnabled": true,
                "ServiceName": sub(&format!("com.amazonaws.${{AWS::Region}}.{service}")),
                "SubnetIds": subnets, "SecurityGroupIds": [r("EndpointSecurityGroup")]}),
            );
        }
    }
    if profile.flow_logs {
        b.add(
            "FlowLogGroup",
            "AWS::Logs::LogGroup",
            json!({"RetentionInDays": profile.log_retention_days}),
        );
        b.skip("FlowLogGroup", "CKV_AWS_158", LOGS_KMS);
        b.add("FlowLogRole", "AWS::IAM::Role", json!({
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "flow-logs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], "Resource": att("FlowLogGroup", "Arn")}]}}]}));
        b.add("FlowLog", "AWS::EC2::FlowLog", json!({
            "ResourceId": r("Vpc"), "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": r("FlowLogGroup"), "DeliverLogsPermissionArn": att("FlowLogRole", "Arn")}));
    }
    b.output("VpcId", r("Vpc"), "The environment's VPC");
    b.output("PrivateSubnets", json!({"Fn::Join": [",", azs.iter().map(|az| r(&format!("PrivateSubnet{az}"))).collect::<Vec<_>>()]}), "Subnets the services run in");
}

fn load_balancer(b: &mut Builder) {
    let profile = b.spec.profile.clone();
    let ports: Vec<u16> = {
        let mut p: Vec<u16> = b.spec.services.iter().map(|s| s.port).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    // Egress: only to the services, through the standalone AlbToServiceEgress rules
    // below; `no_egress` removes AWS's default allow-all.
    b.add("AlbSecurityGroup", "AWS::EC2::SecurityGroup", json!({
        "GroupDescription": "The load balancer: HTTPS (and HTTP) from anywhere",
        "VpcId": r("Vpc"),
        "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "HTTPS"},
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": if profile.allow_http { "HTTP (dev)" } else { "HTTP, redirected to HTTPS" }},
        ],
        "SecurityGroupEgress": no_egress()}));
    b.skip(
        "AlbSecurityGroup",
        "CKV_AWS_260",
        if profile.allow_http {
            "Port 80 forwards plain HTTP because the profile sets allow_http (dev's default); allow_http: false makes it a redirect"
        } else {
            "Port 80 only answers with a redirect to HTTPS, so http:// links still work; it serves nothing in the clear"
        },
    );
    for port in &ports {
        b.add(&format!("AlbToServiceEgress{port}"), "AWS::EC2::SecurityGroupEgress", json!({
            "GroupId": r("AlbSecurityGroup"), "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "DestinationSecurityGroupId": r("ServiceSecurityGroup"), "Description": "to the services"}));
        b.add(&format!("ServiceFromAlbIngress{port}"), "AWS::EC2::SecurityGroupIngress", json!({
            "GroupId": r("ServiceSecurityGroup"), "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "SourceSecurityGroupId": r("AlbSecurityGroup"), "Description": "from the load balancer"}));
    }
    let mut alb = json!({
    "Type": "application", "Scheme": "internet-facing",
    "Subnets": b.azs().iter().map(|az| r(&format!("PublicSubnet{az}"))).collect::<Vec<_>>(),
    "SecurityGroups": [r("AlbSecurityGroup")],
    "LoadBalancerAttributes": [
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        {"Key": "access_logs.s3.enabled", "Value": if profile.alb_access_logs { "true" } else { "false" }},
    ]});
    // Versioned, so a deleted or overwritten log can be recovered for two weeks: access
    // logs are evidence. Lifecycle expiry leaves a noncurrent version, which goes too.
    if profile.alb_access_logs {
        alb["LoadBalancerAttributes"]
            .as_array_mut()
            .expect("array")
            .push(json!({"Key": "access_logs.s3.bucket", "Value": r("AccessLogBucket")}));
        b.add("AccessLogBucket", "AWS::S3::Bucket", json!({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "expire", "Status": "Enabled", "ExpirationInDays": profile.log_retention_days,
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 14}},
                {"Id": "delete-markers", "Status": "Enabled", "ExpiredObjectDeleteMarker": true}]}}))
            .extend([("DeletionPolicy".to_owned(), json!("Retain")), ("UpdateReplacePolicy".to_owned(), json!("Retain"))]);
        b.skip("AccessLogBucket", "CKV_AWS_18", "This is the access-log bucket: logging access to it needs another bucket, which this check would flag in turn");
        b.add("AccessLogBucketPolicy", "AWS::S3::BucketPolicy", json!({
            "Bucket": r("AccessLogBucket"),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "ElbLogDelivery", "Effect": "Allow",
                 "Principal": {"AWS": {"Fn::Sub": ["arn:${AWS::Partition}:iam::${ElbAccount}:root", {"ElbAccount": {"Fn::FindInMap": ["ElbLogDelivery", {"Ref": "AWS::Region"}, "Account"]}}]}},
                 "Action": "s3:PutObject", "Resource": sub("${AccessLogBucket.Arn}/AWSLogs/${AWS::AccountId}/*")},
                {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [att("AccessLogBucket", "Arn"), sub("${AccessLogBucket.Arn}/*")],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}));
    }
    let lb = b.add(
        "LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        alb,
    );
    if profile.alb_access_logs {
        lb.insert("DependsOn".into(), json!("AccessLogBucketPolicy"));
    } else {
        b.skip(
            "LoadBalancer",
            "CKV_AWS_91",
            "No access logs: the profile sets alb_access_logs: false (dev's and staging's default) to save the S3 cost",
        );
    }
    b.output(
        "LoadBalancerDns",
        att("LoadBalancer", "DNSName"),
        "Point the app's DNS name here",
    );
    b.output(
        "LoadBalancerFullName",
        att("LoadBalancer", "LoadBalancerFullName"),
        "For CloudWatch metrics",
    );
}

/// The forward action of one service, weighted between the colours' target groups.
fn forward(service: &ServiceSpec, rollout: &Rollout) -> Value {
    let group = |colour: Colour| {
        json!({"TargetGroupArn": r(&logical_id("", &service.name, &format!("{}TargetGroup", colour_title(colour)))),
               "Weight": rollout.weight(colour)})
    };
    json!([{"Type": "forward", "ForwardConfig": {"TargetGroups": [group(Colour::Blue), group(Colour::Green)]}}])
}

fn cluster(b: &mut Builder) {
    let profile = b.spec.profile.clone();
    b.add("Cluster", "AWS::ECS::Cluster", json!({
        "ClusterSettings": [{"Name": "containerInsights", "Value": if profile.container_insights { "enabled" } else { "disabled" }}]}));
    if !profile.container_insights {
        b.skip(
            "Cluster",
            "CKV_AWS_65",
            "No Container Insights: the profile sets container_insights: false (dev's and staging's default) to save its metric cost",
        );
    }
    b.add("ClusterCapacityProviders", "AWS::ECS::ClusterCapacityProviderAssociations", json!({
        "Cluster": r("Cluster"), "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "DefaultCapacityProviderStrategy": [{"CapacityProvider": if profile.fargate_spot { "FARGATE_SPOT" } else { "FARGATE" }, "Weight": 1}]}));
    b.add("ServiceSecurityGroup", "AWS::EC2::SecurityGroup", json!({
        "GroupDescription": "Service tasks: from the load balancer only",
        "VpcId": r("Vpc"),
        "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "HTTPS to AWS APIs and the internet"}]}));

    // One execution role for the cluster's tasks: pull images, write logs, read exactly
    // the secrets the spec names.
    let secret_arns: Vec<&String> = {
        let mut all: Vec<&String> = b
            .spec
            .services
            .iter()
            .flat_map(|s| s.secrets.values())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let mut policies = vec![];
    let ssm: Vec<&&String> = secret_arns.iter().filter(|a| a.contains(":ssm:")).collect();
    let sm: Vec<&&String> = secret_arns
        .iter()
        .filter(|a| a.contains(":secretsmanager:"))
        .collect();
    let mut statements = vec![];
    if !ssm.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ssm}));
    }
    if !sm.is_empty() {
        statements.push(
            json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": sm}),
        );
    }
    if !statements.is_empty() {
        policies.push(json!({"PolicyName": "read-secrets", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}));
    }
    b.add("TaskExecutionRole", "AWS::IAM::Role", json!({
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")],
        "Policies": policies}));
    b.output("ClusterName", r("Cluster"), "The ECS cluster");
}

/// The spec's environment variables with the release's config over them: config travels
/// with its release, so during a promotion each colour runs its own. Config values that
/// are not strings are passed as their JSON text (`3`, `true`).
fn container_environment(service: &ServiceSpec, release: Option<&Release>) -> Vec<Value> {
    let mut variables: std::collections::BTreeMap<&str, std::borrow::Cow<str>> = service
        .environment
        .iter()
        .map(|(name, value)| (name.as_str(), std::borrow::Cow::Borrowed(value.as_str())))
        .collect();
    for (name, value) in release.into_iter().flat_map(|r| &r.config) {
        let text = match value {
            Value::String(text) => std::borrow::Cow::Borrowed(text.as_str()),
            other => std::borrow::Cow::Owned(other.to_string()),
        };
        variables.insert(name.as_str(), text);
    }
    variables
        .into_iter()
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect()
}

fn ecs_service(b: &mut Builder, index: usize, service: &ServiceSpec, rollout: &Rollout) {
    let profile = b.spec.profile.clone();
    let name = &service.name;
    let logs = logical_id("", name, "LogGroup");
    let role = logical_id("", name, "TaskRole");
    let task =
        |colour: Colour| logical_id("", name, &format!("{}TaskDefinition", colour_title(colour)));

    b.add(
        &logs,
        "AWS::Logs::LogGroup",
        json!({"RetentionInDays": profile.log_retention_days}),
    );
    b.skip(&logs, "CKV_AWS_158", LOGS_KMS);
    b.add(&role, "AWS::IAM::Role", json!({
        "Description": format!("The {name} service's own permissions; none until the app needs some"),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*")}}}]}}));
    let secrets: Vec<Value> = service
        .secrets
        .iter()
        .map(|(k, v)| json!({"Name": k, "ValueFrom": v}))
        .collect();
    // tmpfs, not a bind mount: Fargate makes a bind mount writable by root only, and the
    // container runs as a user. nosuid and nodev: nothing there is a program to trust.
    let tmpfs: Vec<Value> = service
        .tmpfs
        .iter()
        .map(|(path, mib)| json!({"ContainerPath": path, "Size": mib, "MountOptions": ["nosuid", "nodev"]}))
        .collect();
    // Graviton is cheaper on demand, but Fargate Spot runs only X86_64 Linux tasks: an
    // ARM64 task on FARGATE_SPOT is never placed.
    let architecture = if b.env.spec.profile.fargate_spot {
        "X86_64"
    } else {
        "ARM64"
    };
    // A task definition per colour: during a promotion the colours run different releases.
    for colour in [Colour::Blue, Colour::Green] {
        b.add(&task(colour), "AWS::ECS::TaskDefinition", json!({
            "Family": format!("{}-{}-{}-{colour}", b.env.app, b.env.name, name),
            "Cpu": service.cpu.to_string(),
            "Memory": service.memory.to_string(),
            "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": architecture, "OperatingSystemFamily": "LINUX"},
            "ExecutionRoleArn": att("TaskExecutionRole", "Arn"),
            "TaskRoleArn": att(&role, "Arn"),
            "ContainerDefinitions": [{
                "Name": name,
                "Image": rollout.release(colour).map_or(service.image.as_str(), |r| r.image.as_str()),
                "Essential": true,
                "PortMappings": [{"ContainerPort": service.port, "Protocol": "tcp"}],
                "Environment": container_environment(service, rollout.release(colour)),
                "Secrets": secrets,
                "User": service.user,
                "ReadonlyRootFilesystem": service.read_only_root_filesystem,
                "LinuxParameters": {"Tmpfs": tmpfs},
                "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                    "awslogs-group": r(&logs), "awslogs-region": r("AWS::Region"), "awslogs-stream-prefix": name}}
            }]}));
    }

    for colour in [Colour::Blue, Colour::Green] {
        let title = colour_title(colour);
        let group = logical_id("", name, &format!("{title}TargetGroup"));
        b.add(&group, "AWS::ElasticLoadBalancingV2::TargetGroup", json!({
            "VpcId": r("Vpc"), "TargetType": "ip", "Protocol": "HTTP", "Port": service.port,
            "HealthCheckPath": service.health_check_path, "HealthCheckIntervalSeconds": 15, "HealthyThresholdCount": 2,
            "Matcher": {"HttpCode": "200-399"},
            "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]}));
        b.output(
            &group,
            r(&group),
            &format!("{name}: the {colour} target group"),
        );
        b.output(
            &format!("{group}FullName"),
            att(&group, "TargetGroupFullName"),
            &format!("{name}: the {colour} target group's CloudWatch dimension"),
        );
    }
    // The first service takes everything the others' paths do not match.
    if index == 0 {
        b.add(
            "HttpsListener",
            "AWS::ElasticLoadBalancingV2::Listener",
            json!({
            "LoadBalancerArn": r("LoadBalancer"), "Port": 443, "Protocol": "HTTPS",
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [{"CertificateArn": r("CertificateArn")}],
            "DefaultActions": forward(service, rollout)}),
        );
        let http_action = if profile.allow_http {
            forward(service, rollout)
        } else {
            json!([{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
        };
        b.add("HttpListener", "AWS::ElasticLoadBalancingV2::Listener", json!({
            "LoadBalancerArn": r("LoadBalancer"), "Port": 80, "Protocol": "HTTP", "DefaultActions": http_action}));
        if profile.allow_http {
            let why = "Plain HTTP by the profile's allow_http (dev's default, refused elsewhere); allow_http: false makes port 80 a redirect";
            b.skip("HttpListener", "CKV_AWS_2", why);
            b.skip("HttpListener", "CKV_AWS_103", why);
        }
        b.output(
            "HttpsListenerArn",
            r("HttpsListener"),
            "Promotions shift traffic on this listener",
        );
        b.output("HttpListenerArn", r("HttpListener"), "Port 80");
    } else {
        let path = service.path.clone().unwrap_or_else(|| format!("/{name}/*"));
        let listeners: &[&str] = if profile.allow_http {
            &["Https", "Http"]
        } else {
            &["Https"]
        };
        for listener in listeners {
            let rule = logical_id(listener, name, "Rule");
            let priority = index * 10 + usize::from(*listener == "Http");
            b.add(
                &rule,
                "AWS::ElasticLoadBalancingV2::ListenerRule",
                json!({
                "ListenerArn": r(&format!("{listener}Listener")), "Priority": priority,
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": [path]}}],
                "Actions": forward(service, rollout)}),
            );
        }
    }
    for colour in [Colour::Blue, Colour::Green] {
        let title = colour_title(colour);
        let id = logical_id("", name, &format!("{title}Service"));
        let group = logical_id("", name, &format!("{title}TargetGroup"));
        let desired = if rollout.running(colour) {
            service.desired_count
        } else {
            0
        };
        let depends: Vec<String> = if index == 0 {
            vec!["HttpsListener".into(), "ClusterCapacityProviders".into()]
        } else {
            vec![
                logical_id("Https", name, "Rule"),
                "ClusterCapacityProviders".into(),
            ]
        };
        b.add(&id, "AWS::ECS::Service", json!({
            "Cluster": r("Cluster"),
            "TaskDefinition": r(&task(colour)),
            "DesiredCount": desired,
            "CapacityProviderStrategy": [{"CapacityProvider": if profile.fargate_spot { "FARGATE_SPOT" } else { "FARGATE" }, "Weight": 1}],
            "DeploymentConfiguration": {"DeploymentCircuitBreaker": {"Enable": true, "Rollback": true}, "MinimumHealthyPercent": 100, "MaximumPercent": 200},
            "HealthCheckGracePeriodSeconds": 60,
            "LoadBalancers": [{"ContainerName": name, "ContainerPort": service.port, "TargetGroupArn": r(&group)}],
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "Subnets": b.azs().iter().map(|az| r(&format!("PrivateSubnet{az}"))).collect::<Vec<_>>(),
                "SecurityGroups": [r("ServiceSecurityGroup")]}},
            "EnableECSManagedTags": true,
            "PropagateTags": "SERVICE"}))
            .insert("DependsOn".into(), json!(depends));
        b.output(
            &id,
            att(&id, "Name"),
            &format!("{name}: the {colour} ECS service"),
        );

        if let Some(scaling) = &service.autoscaling {
            // The idle colour scales between 0 and 0: it costs nothing outside a promotion.
            let (min, max) = if rollout.running(colour) {
                (scaling.min, scaling.max)
            } else {
                (0, 0)
            };
            let target = logical_id("", name, &format!("{title}ScalableTarget"));
            b.add(
                &target,
                "AWS::ApplicationAutoScaling::ScalableTarget",
                json!({
                "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": {"Fn::Sub": format!("service/${{Cluster}}/${{{id}.Name}}")},
                "MinCapacity": min, "MaxCapacity": max}),
            );
            b.add(&logical_id("", name, &format!("{title}CpuScaling")), "AWS::ApplicationAutoScaling::ScalingPolicy", json!({
                "PolicyName": format!("{name}-{colour}-cpu"), "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": r(&target),
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": scaling.cpu_target, "ScaleInCooldown": 120, "ScaleOutCooldown": 60,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}));
        }
    }
}

fn database(b: &mut Builder) {
    let db = b.spec.database.clone().expect("checked by the caller");
    let profile = b.spec.profile.clone();
    let port = if db.engine == "postgres" { 5432 } else { 3306 };
    b.add(
        "DatabaseSubnetGroup",
        "AWS::RDS::DBSubnetGroup",
        json!({
        "DBSubnetGroupDescription": "Isolated subnets: no route to or from the internet",
        "SubnetIds": b.azs().iter().map(|az| r(&format!("IsolatedSubnet{az}"))).collect::<Vec<_>>()}),
    );
    b.add("DatabaseSecurityGroup", "AWS::EC2::SecurityGroup", json!({
        "GroupDescription": "The database: from the services only",
        "VpcId": r("Vpc"),
        "SecurityGroupEgress": no_egress(),
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "SourceSecurityGroupId": r("ServiceSecurityGroup"), "Description": "from the services"}]}));
    b.add("ServiceToDatabaseEgress", "AWS::EC2::SecurityGroupEgress", json!({
        "GroupId": r("ServiceSecurityGroup"), "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "DestinationSecurityGroupId": r("DatabaseSecurityGroup"), "Description": "to the database"}));
    let family = if db.engine == "postgres" {
        "postgres"
    } else {
        "mysql"
    };
    let mut properties = json!({
        "Engine": family,
        "EngineVersion": db.version,
        "DBInstanceClass": db.instance_class,
        "AllocatedStorage": db.storage_gb.to_string(),
        "StorageType": "gp3",
        "StorageEncrypted": db.encrypted,
        "MultiAZ": profile.db_multi_az,
        "ManageMasterUserPassword": true,
        "MasterUsername": "ferry",
        "PubliclyAccessible": false,
        "DBSubnetGroupName": r("DatabaseSubnetGroup"),
        "VPCSecurityGroups": [r("DatabaseSecurityGroup")],
        "BackupRetentionPeriod": profile.db_backup_retention_days,
        // Lets a service's task role connect with a short-lived IAM token instead of a
        // password; passwords still work, and it costs nothing.
        "EnableIAMDatabaseAuthentication": true,
        "DeletionProtection": profile.db_deletion_protection,
        "CopyTagsToSnapshot": true,
        "AutoMinorVersionUpgrade": true,
        "EnablePerformanceInsights": profile.db_performance_insights});
    if profile.db_performance_insights {
        properties["PerformanceInsightsRetentionPeriod"] = json!(7);
    }
    let keep = if profile.db_deletion_protection {
        "Snapshot"
    } else {
        "Delete"
    };
    b.add("Database", "AWS::RDS::DBInstance", properties)
        .extend([
            ("DeletionPolicy".to_owned(), json!(keep)),
            ("UpdateReplacePolicy".to_owned(), json!(keep)),
        ]);
    if !profile.db_multi_az {
        b.skip("Database", "CKV_AWS_157", "Single-AZ: the profile sets db_multi_az: false (dev's and staging's default); Multi-AZ doubles the instance price");
    }
    b.skip("Database", "CKV_AWS_118", "No enhanced monitoring (OS metrics each minute): Ferry alarms on RDS's own CloudWatch metrics; docs/security.md says when to add it");
    b.output(
        "DatabaseEndpoint",
        att("Database", "Endpoint.Address"),
        "The database host",
    );
    // The managed master secret (MasterUserSecret.SecretArn) is not an output until moto,
    // which the tests deploy to, can resolve that attribute; RDS shows it.
}

fn cache(b: &mut Builder) {
    let cache = b.spec.cache.clone().expect("checked by the caller");
    let multi_az = b.spec.profile.cache_multi_az;
    b.add(
        "CacheSubnetGroup",
        "AWS::ElastiCache::SubnetGroup",
        json!({
        "Description": "Isolated subnets for the cache",
        "SubnetIds": b.azs().iter().map(|az| r(&format!("IsolatedSubnet{az}"))).collect::<Vec<_>>()}),
    );
    b.add("CacheSecurityGroup", "AWS::EC2::SecurityGroup", json!({
        "GroupDescription": "The cache: from the services only",
        "VpcId": r("Vpc"),
        "SecurityGroupEgress": no_egress(),
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "SourceSecurityGroupId": r("ServiceSecurityGroup"), "Description": "from the services"}]}));
    b.add(
        "ServiceToCacheEgress",
        "AWS::EC2::SecurityGroupEgress",
        json!({
        "GroupId": r("ServiceSecurityGroup"), "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "DestinationSecurityGroupId": r("CacheSecurityGroup"), "Description": "to the cache"}),
    );
    b.add(
        "Cache",
        "AWS::ElastiCache::ReplicationGroup",
        json!({
        "ReplicationGroupDescription": format!("{} {} cache", b.env.app, b.env.name),
        "Engine": cache.engine,
        "EngineVersion": cache.version,
        "CacheNodeType": cache.node_type,
        "NumCacheClusters": if multi_az { 2 } else { 1 },
        "AutomaticFailoverEnabled": multi_az,
        "MultiAZEnabled": multi_az,
        "AtRestEncryptionEnabled": cache.encrypted,
        "TransitEncryptionEnabled": cache.encrypted,
        "CacheSubnetGroupName": r("CacheSubnetGroup"),
        "SecurityGroupIds": [r("CacheSecurityGroup")]}),
    );
    if cache.encrypted {
        b.skip("Cache", "CKV_AWS_31", "No AUTH token: only the services' security group reaches the cache, over TLS, and every service would hold the token (docs/security.md)");
    }
    b.output(
        "CacheEndpoint",
        att("Cache", "PrimaryEndPoint.Address"),
        "The cache's primary endpoint",
    );
}

fn alarm(b: &mut Builder, id: &str, check: &str, description: &str, spec: Value) {
    let mut properties = json!({
        "AlarmName": b.alarm_name(check),
        "AlarmDescription": description,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "TreatMissingData": "notBreaching",
        "ComparisonOperator": "GreaterThanThreshold",
    });
    properties
        .as_object_mut()
        .expect("object")
        .extend(spec.as_object().cloned().unwrap_or_default());
    b.add(id, "AWS::CloudWatch::Alarm", properties);
}

fn alarms_and_dashboard(b: &mut Builder, live: Colour) {
    let t = b.spec.profile.alarms.clone();
    let lb = att("LoadBalancer", "LoadBalancerFullName");
    alarm(
        b,
        "Alb5xxRateAlarm",
        "alb-5xx-rate",
        "Share of requests answered 5xx (ALB and targets)",
        json!({
        "Threshold": t.alb_5xx_rate_percent,
        "Metrics": [
            {"Id": "rate", "Label": "5xx %", "ReturnData": true, "Expression": "100 * (FILL(elb, 0) + FILL(target, 0)) / FILL(requests, 1)"},
            {"Id": "elb", "ReturnData": false, "MetricStat": {"Stat": "Sum", "Period": 60, "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": [{"Name": "LoadBalancer", "Value": lb}]}}},
            {"Id": "target", "ReturnData": false, "MetricStat": {"Stat": "Sum", "Period": 60, "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": [{"Name": "LoadBalancer", "Value": lb}]}}},
            {"Id": "requests", "ReturnData": false, "MetricStat": {"Stat": "Sum", "Period": 60, "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount", "Dimensions": [{"Name": "LoadBalancer", "Value": lb}]}}},
        ]}),
    );
    let mut widgets = vec![
        json!({"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
        "title": "Requests and 5xx", "region": "${AWS::Region}", "stat": "Sum", "period": 60,
        "metrics": [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "${LoadBalancer.LoadBalancerFullName}"],
                    [".", "HTTPCode_Target_5XX_Count", ".", "."], [".", "HTTPCode_ELB_5XX_Count", ".", "."]]}}),
    ];
    for (i, service) in b.spec.services.clone().iter().enumerate() {
        let name = &service.name;
        let live_service = logical_id("", name, &format!("{}Service", colour_title(live)));
        let live_group = logical_id("", name, &format!("{}TargetGroup", colour_title(live)));
        alarm(
            b,
            &logical_id("", name, "LatencyP99Alarm"),
            &format!("{name}-p99-latency"),
            &format!("{name}: p99 response time"),
            json!({
            "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime", "ExtendedStatistic": "p99", "Period": 60,
            "Threshold": t.p99_latency_seconds,
            "Dimensions": [{"Name": "LoadBalancer", "Value": lb}, {"Name": "TargetGroup", "Value": att(&live_group, "TargetGroupFullName")}]}),
        );
        for (metric, check, threshold) in [
            ("CPUUtilization", "cpu", t.ecs_cpu_percent),
            ("MemoryUtilization", "memory", t.ecs_memory_percent),
        ] {
            alarm(
                b,
                &logical_id(
                    "",
                    name,
                    &format!("{}Alarm", if check == "cpu" { "Cpu" } else { "Memory" }),
                ),
                &format!("{name}-{check}"),
                &format!("{name}: average {check} of the live service"),
                json!({
                "Namespace": "AWS/ECS", "MetricName": metric, "Statistic": "Average", "Period": 60, "Threshold": threshold,
                "Dimensions": [{"Name": "ClusterName", "Value": r("Cluster")}, {"Name": "ServiceName", "Value": att(&live_service, "Name")}]}),
            );
        }
        widgets.push(json!({"type": "metric", "x": 12 * ((i + 1) % 2), "y": 6 * (i + 1).div_euclid(2), "width": 12, "height": 6, "properties": {
            "title": format!("{name}: CPU and memory"), "region": "${AWS::Region}", "stat": "Average", "period": 60,
            "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName", "${Cluster}", "ServiceName", format!("${{{live_service}.Name}}")],
                        [".", "MemoryUtilization", ".", ".", ".", "."]]}}));
    }
    if b.spec.database.is_some() {
        let db = json!([{"Name": "DBInstanceIdentifier", "Value": r("Database")}]);
        alarm(
            b,
            "DatabaseCpuAlarm",
            "rds-cpu",
            "Database CPU",
            json!({"Namespace": "AWS/RDS", "MetricName": "CPUUtilization", "Statistic": "Average", "Period": 300, "Threshold": t.rds_cpu_percent, "Dimensions": db}),
        );
        alarm(
            b,
            "DatabaseFreeStorageAlarm",
            "rds-free-storage",
            "Database free storage",
            json!({"Namespace": "AWS/RDS", "MetricName": "FreeStorageSpace", "Statistic": "Minimum", "Period": 300,
            "ComparisonOperator": "LessThanThreshold", "Threshold": t.rds_free_storage_gb * 1024.0 * 1024.0 * 1024.0, "Dimensions": db}),
        );
        alarm(
            b,
            "DatabaseConnectionsAlarm",
            "rds-connections",
            "Database connections",
            json!({"Namespace": "AWS/RDS", "MetricName": "DatabaseConnections", "Statistic": "Maximum", "Period": 300, "Threshold": t.rds_connections, "Dimensions": db}),
        );
        widgets.push(json!({"type": "metric", "x": 0, "y": 100, "width": 12, "height": 6, "properties": {
            "title": "Database", "region": "${AWS::Region}", "stat": "Average", "period": 300,
            "metrics": [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "${Database}"], [".", "DatabaseConnections", ".", "."]]}}));
    }
    if b.spec.cache.is_some() {
        let cache = json!([{"Name": "ReplicationGroupId", "Value": r("Cache")}]);
        alarm(
            b,
            "CacheCpuAlarm",
            "cache-cpu",
            "Cache engine CPU",
            json!({"Namespace": "AWS/ElastiCache", "MetricName": "EngineCPUUtilization", "Statistic": "Average", "Period": 300, "Threshold": t.cache_cpu_percent, "Dimensions": cache}),
        );
        alarm(
            b,
            "CacheMemoryAlarm",
            "cache-memory",
            "Cache memory used",
            json!({"Namespace": "AWS/ElastiCache", "MetricName": "DatabaseMemoryUsagePercentage", "Statistic": "Average", "Period": 300, "Threshold": t.cache_memory_percent, "Dimensions": cache}),
        );
        alarm(
            b,
            "CacheEvictionsAlarm",
            "cache-evictions",
            "Cache evictions",
            json!({"Namespace": "AWS/ElastiCache", "MetricName": "Evictions", "Statistic": "Sum", "Period": 300, "Threshold": t.cache_evictions, "Dimensions": cache}),
        );
        widgets.push(json!({"type": "metric", "x": 12, "y": 100, "width": 12, "height": 6, "properties": {
            "title": "Cache", "region": "${AWS::Region}", "stat": "Average", "period": 300,
            "metrics": [["AWS/ElastiCache", "EngineCPUUtilization", "ReplicationGroupId", "${Cache}"], [".", "DatabaseMemoryUsagePercentage", ".", "."], [".", "Evictions", ".", ".", {"stat": "Sum"}]]}}));
    }
    let body = json!({"widgets": widgets}).to_string();
    // Named after the stack, which is unique per environment; `ferry-<app>-<env>` was not
    // (`shop-eu`/`prod` and `shop`/`eu-prod` shared one dashboard).
    b.add(
        "Dashboard",
        "AWS::CloudWatch::Dashboard",
        json!({"DashboardName": r("AWS::StackName"), "DashboardBody": {"Fn::Sub": body}}),
    );
    let alarm_names: Vec<Value> = b
        .resources
        .iter()
        .filter(|(_, v)| v["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, _)| r(id))
        .collect();
    b.output(
        "AlarmNames",
        json!({"Fn::Join": [",", alarm_names]}),
        "The environment's alarms; any in ALARM fails a promotion step",
    );
    b.output(
        "DashboardName",
        r("Dashboard"),
        "The environment's CloudWatch dashboard",
    );
}
