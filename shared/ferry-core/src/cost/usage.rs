//! Usage files: how much traffic, log data and transfer an environment has, for the
//! charges that depend on it. Modelled on Infracost's usage file: per-kind defaults,
//! per-resource overrides by logical id, and documented defaults per profile.
//!
//! ```yaml
//! version: 1
//! defaults:
//!   alb: {lcu_per_hour: 2}
//!   log_group: {gb_ingested: 5}
//! resources:
//!   WebLogGroup: {gb_ingested: 20}
//!   Database: {backup_gb: 50}
//! ```

use crate::infra::profile::ProfileName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UsageError {
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    #[error("{file}: {key}: {problem}")]
    BadValue {
        file: String,
        key: String,
        problem: String,
    },
}

/// One resource's usage; every field is optional and falls back to the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceUsage {
    /// Average Load Balancer Capacity Units per hour.
    pub lcu_per_hour: Option<f64>,
    /// GB a month through a NAT gateway or an interface endpoint.
    pub gb_processed: Option<f64>,
    /// GB a month written to a log group, or to an S3 bucket.
    pub gb_ingested: Option<f64>,
    /// GB held in a log group or a bucket (default: a month's writing times the days it is
    /// kept / 30).
    pub gb_stored: Option<f64>,
    /// RDS backup GB beyond the free amount (100% of the provisioned storage).
    pub backup_gb: Option<f64>,
    /// Secrets Manager API calls a month.
    pub api_calls: Option<f64>,
    /// GB a month sent to the internet.
    pub gb_out: Option<f64>,
    /// Hours a month the resource runs (730 = always; a schedule lowers it).
    pub hours_per_month: Option<f64>,
    /// Requests a month: a Lambda function's invocations, an HTTP API's requests, a
    /// queue's requests, a topic's publishes.
    pub requests: Option<f64>,
    /// A Lambda function's average billed duration per invocation, in milliseconds.
    pub duration_ms: Option<f64>,
    /// DynamoDB read request units a month (on demand).
    pub read_units: Option<f64>,
    /// DynamoDB write request units a month (on demand), index writes included.
    pub write_units: Option<f64>,
    /// Step Functions state transitions a month (Standard workflows).
    pub transitions: Option<f64>,
    /// Metrics a Lambda function requests from CloudWatch `GetMetricData` a month.
    pub metrics_requested: Option<f64>,
    /// Custom metric-months a Lambda function's EMF logs create (a metric sent in only
    /// some hours of the month counts for those hours: CloudWatch prorates by the hour).
    pub custom_metrics: Option<f64>,
    /// Email notifications a month from an SNS topic.
    pub emails: Option<f64>,
    /// S3 PUT, COPY, POST and LIST requests a month to a bucket.
    pub put_requests: Option<f64>,
    /// S3 GET and other requests a month to a bucket (lifecycle expirations and DELETEs
    /// are free).
    pub get_requests: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KindDefaults {
    pub alb: ResourceUsage,
    pub nat_gateway: ResourceUsage,
    pub vpc_endpoint: ResourceUsage,
    pub log_group: ResourceUsage,
    pub rds: ResourceUsage,
    pub secret: ResourceUsage,
    pub data_transfer: ResourceUsage,
    pub fargate: ResourceUsage,
    pub elasticache: ResourceUsage,
    pub lambda: ResourceUsage,
    pub dynamodb: ResourceUsage,
    pub step_functions: ResourceUsage,
    pub http_api: ResourceUsage,
    pub sqs: ResourceUsage,
    pub sns: ResourceUsage,
    pub s3: ResourceUsage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageDocument {
    version: u8,
    profile: Option<ProfileName>,
    #[serde(default)]
    defaults: KindDefaults,
    #[serde(default)]
    resources: BTreeMap<String, ResourceUsage>,
    /// How much Ferry does, for pricing Ferry's own template (`infra/ferry.json`).
    ferry: Option<super::bill::FerrySection>,
}

/// The YAML reader's first line gives where ("line 3 column 23") but, for a value of the
/// wrong type, not which key; reading the well-formed document again through
/// serde_path_to_error names the key too.
fn malformed(text: &str, error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let location = first
        .split_once(": ")
        .map(|(at, _)| at)
        .filter(|at| at.starts_with("line "));
    let keyed = serde_saphyr::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_path_to_error::deserialize::<_, UsageDocument>(value).err())
        .map(|e| format!("{}: {}", e.path(), e.inner()));
    match (location, keyed) {
        (Some(at), Some(keyed)) => format!("{at}: {keyed}"),
        _ => first.to_owned(),
    }
}

/// The kinds of resource a usage value can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alb,
    NatGateway,
    VpcEndpoint,
    LogGroup,
    Rds,
    Secret,
    DataTransfer,
    Fargate,
    ElastiCache,
    Lambda,
    DynamoDb,
    StepFunctions,
    HttpApi,
    Sqs,
    Sns,
    S3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Whose documented defaults fill the gaps.
    pub profile: ProfileName,
    /// Where the values came from: "profile defaults" or the usage file's path.
    pub origin: String,
    defaults: KindDefaults,
    resources: BTreeMap<String, ResourceUsage>,
    /// Values a usage model derived per resource (Ferry's own bill): the file's values for
    /// a resource or its kind win over them, and they over the profile's defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    modelled: BTreeMap<String, ResourceUsage>,
    /// The file's `ferry:` section, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ferry: Option<super::bill::FerrySection>,
}

impl Usage {
    /// Nothing but the profile's documented defaults.
    pub fn profile_defaults(profile: ProfileName) -> Usage {
        Usage {
            profile,
            origin: format!("{profile} profile defaults"),
            defaults: KindDefaults::default(),
            resources: BTreeMap::new(),
            modelled: BTreeMap::new(),
            ferry: None,
        }
    }

    /// Parses a usage file; `file` names it in every error. A `profile:` in the file wins
    /// over `profile`.
    pub fn parse(text: &str, file: &str, profile: ProfileName) -> Result<Usage, UsageError> {
        let document: UsageDocument =
            serde_saphyr::from_str(text).map_err(|e| UsageError::Malformed {
                file: file.to_owned(),
                message: malformed(text, &e.to_string()),
            })?;
        if document.version != 1 {
            return Err(UsageError::BadValue {
                file: file.to_owned(),
                key: "version".into(),
                problem: format!("must be 1, got {}", document.version),
            });
        }
        let kinds = [
            ("alb", &document.defaults.alb),
            ("nat_gateway", &document.defaults.nat_gateway),
            ("vpc_endpoint", &document.defaults.vpc_endpoint),
            ("log_group", &document.defaults.log_group),
            ("rds", &document.defaults.rds),
            ("secret", &document.defaults.secret),
            ("data_transfer", &document.defaults.data_transfer),
            ("fargate", &document.defaults.fargate),
            ("elasticache", &document.defaults.elasticache),
            ("lambda", &document.defaults.lambda),
            ("dynamodb", &document.defaults.dynamodb),
            ("step_functions", &document.defaults.step_functions),
            ("http_api", &document.defaults.http_api),
            ("sqs", &document.defaults.sqs),
            ("sns", &document.defaults.sns),
            ("s3", &document.defaults.s3),
        ];
        for (kind, usage) in kinds {
            check_values(file, &format!("defaults.{kind}"), usage)?;
        }
        for (id, usage) in &document.resources {
            check_values(file, &format!("resources.{id}"), usage)?;
        }
        if let Some(ferry) = &document.ferry {
            ferry.check().map_err(|e| UsageError::BadValue {
                file: file.to_owned(),
                key: format!("ferry.{}", e.key),
                problem: e.problem,
            })?;
        }
        Ok(Usage {
            profile: document.profile.unwrap_or(profile),
            origin: file.to_owned(),
            defaults: document.defaults,
            resources: document.resources,
            modelled: BTreeMap::new(),
            ferry: document.ferry,
        })
    }

    /// Sets what a usage model derived for one resource; the file's own values still win.
    pub fn set_modelled(&mut self, logical_id: &str, usage: ResourceUsage) {
        self.modelled.insert(logical_id.to_owned(), usage);
    }

    /// What a usage model derived for one resource, if anything.
    pub fn modelled(&self, logical_id: &str) -> Option<&ResourceUsage> {
        self.modelled.get(logical_id)
    }

    /// Logical ids the file sets values for that the template does not have: most
    /// likely a typo, whose values would otherwise be silently unused.
    pub fn unmatched_resources(&self, template: &serde_json::Value) -> Vec<String> {
        self.resources
            .keys()
            .filter(|id| template["Resources"].get(id.as_str()).is_none())
            .cloned()
            .collect()
    }

    /// A value for one resource: its own entry, then its kind's defaults, then the
    /// profile's documented default.
    pub fn value(
        &self,
        logical_id: &str,
        kind: Kind,
        field: fn(&ResourceUsage) -> Option<f64>,
    ) -> f64 {
        self.resources
            .get(logical_id)
            .and_then(field)
            .or_else(|| field(self.defaults_for(kind)))
            .or_else(|| self.modelled.get(logical_id).and_then(field))
            .or_else(|| field(&profile_defaults(self.profile, kind)))
            .unwrap_or(0.0)
    }

    /// Whether a resource has a value of its own, from the kind's defaults in the file, or
    /// from a usage model.
    pub fn is_set(
        &self,
        logical_id: &str,
        kind: Kind,
        field: fn(&ResourceUsage) -> Option<f64>,
    ) -> bool {
        self.resources.get(logical_id).and_then(field).is_some()
            || field(self.defaults_for(kind)).is_some()
            || self.modelled.get(logical_id).and_then(field).is_some()
    }

    fn defaults_for(&self, kind: Kind) -> &ResourceUsage {
        let d = &self.defaults;
        match kind {
            Kind::Alb => &d.alb,
            Kind::NatGateway => &d.nat_gateway,
            Kind::VpcEndpoint => &d.vpc_endpoint,
            Kind::LogGroup => &d.log_group,
            Kind::Rds => &d.rds,
            Kind::Secret => &d.secret,
            Kind::DataTransfer => &d.data_transfer,
            Kind::Fargate => &d.fargate,
            Kind::ElastiCache => &d.elasticache,
            Kind::Lambda => &d.lambda,
            Kind::DynamoDb => &d.dynamodb,
            Kind::StepFunctions => &d.step_functions,
            Kind::HttpApi => &d.http_api,
            Kind::Sqs => &d.sqs,
            Kind::Sns => &d.sns,
            Kind::S3 => &d.s3,
        }
    }
}

fn check_values(file: &str, path: &str, usage: &ResourceUsage) -> Result<(), UsageError> {
    let fields = [
        ("lcu_per_hour", usage.lcu_per_hour),
        ("gb_processed", usage.gb_processed),
        ("gb_ingested", usage.gb_ingested),
        ("gb_stored", usage.gb_stored),
        ("backup_gb", usage.backup_gb),
        ("api_calls", usage.api_calls),
        ("gb_out", usage.gb_out),
        ("hours_per_month", usage.hours_per_month),
        ("requests", usage.requests),
        ("duration_ms", usage.duration_ms),
        ("read_units", usage.read_units),
        ("write_units", usage.write_units),
        ("transitions", usage.transitions),
        ("metrics_requested", usage.metrics_requested),
        ("custom_metrics", usage.custom_metrics),
        ("emails", usage.emails),
        ("put_requests", usage.put_requests),
        ("get_requests", usage.get_requests),
    ];
    for (name, value) in fields {
        let Some(value) = value else { continue };
        let problem = if !value.is_finite() {
            Some(format!("must be a number, got {value}"))
        } else if value < 0.0 {
            Some(format!("must be zero or more, got {value}"))
        } else if name == "hours_per_month" && value > 744.0 {
            Some(format!("a month has at most 744 hours, got {value}"))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(UsageError::BadValue {
                file: file.to_owned(),
                key: format!("{path}.{name}"),
                problem,
            });
        }
    }
    Ok(())
}

/// The documented defaults per profile (docs/cost.md, "Usage files"). Deliberately modest:
/// a dev environment idles, prod carries real traffic.
pub fn profile_defaults(profile: ProfileName, kind: Kind) -> ResourceUsage {
    let pick = |dev: f64, staging: f64, prod: f64| {
        Some(match profile {
            ProfileName::Dev => dev,
            ProfileName::Staging => staging,
            ProfileName::Prod => prod,
        })
    };
    let mut usage = ResourceUsage {
        hours_per_month: Some(crate::cost::HOURS_PER_MONTH),
        ..ResourceUsage::default()
    };
    match kind {
        Kind::Alb => usage.lcu_per_hour = pick(0.5, 1.0, 5.0),
        Kind::NatGateway => usage.gb_processed = pick(10.0, 20.0, 100.0),
        Kind::VpcEndpoint => usage.gb_processed = pick(5.0, 10.0, 50.0),
        Kind::LogGroup => usage.gb_ingested = pick(1.0, 2.0, 10.0),
        Kind::Rds => usage.backup_gb = pick(0.0, 0.0, 0.0),
        Kind::Secret => usage.api_calls = pick(1_000.0, 10_000.0, 100_000.0),
        Kind::DataTransfer => usage.gb_out = pick(5.0, 20.0, 200.0),
        // What a bucket is written a month (estimate). Ferry's environment templates have
        // one bucket, prod's ALB access logs: gzipped lines of ~700 bytes, taken to shrink
        // tenfold, so 5 GB is ~70 M requests a month (~27 a second). Its PUTs come from the
        // load balancer writing to it (resources.rs), GETs only from a usage file.
        Kind::S3 => usage.gb_ingested = pick(0.5, 1.0, 5.0),
        // Serverless resources have no traffic of their own unless a usage file (or, for
        // Ferry's own template, its usage model) says how much: nothing is guessed.
        Kind::Fargate
        | Kind::ElastiCache
        | Kind::Lambda
        | Kind::DynamoDb
        | Kind::StepFunctions
        | Kind::HttpApi
        | Kind::Sqs
        | Kind::Sns => {}
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Usage, UsageError> {
        Usage::parse(text, "usage.yml", ProfileName::Dev)
    }

    #[test]
    fn resource_values_win_over_kind_defaults_which_win_over_the_profile() {
        let usage = parse(
            "version: 1\ndefaults:\n  log_group: {gb_ingested: 5}\nresources:\n  WebLogGroup: {gb_ingested: 20}\n",
        )
        .unwrap();
        let ingested = |id| usage.value(id, Kind::LogGroup, |u| u.gb_ingested);
        assert_eq!(
            (ingested("WebLogGroup"), ingested("ApiLogGroup")),
            (20.0, 5.0)
        );
        // Not in the file: the dev profile's documented 0.5 LCU.
        assert_eq!(usage.value("Alb", Kind::Alb, |u| u.lcu_per_hour), 0.5);
        assert_eq!(usage.value("Alb", Kind::Alb, |u| u.hours_per_month), 730.0);
    }

    #[test]
    fn resources_the_template_lacks_are_named() {
        let usage =
            parse("version: 1\nresources:\n  Nat: {gb_processed: 5}\n  Natt: {gb_processed: 5}\n")
                .unwrap();
        let template = serde_json::json!({"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}});
        assert_eq!(usage.unmatched_resources(&template), ["Natt"]);
    }

    #[test]
    fn bad_files_name_the_file_and_the_key_or_line() {
        let negative = parse("version: 1\nresources:\n  Nat: {gb_processed: -3}\n").unwrap_err();
        assert_eq!(
            negative.to_string(),
            "usage.yml: resources.Nat.gb_processed: must be zero or more, got -3"
        );
        let text = parse("version: 1\ndefaults:\n  alb: {lcu_per_hour: lots}\n").unwrap_err();
        assert_eq!(
            text.to_string(),
            "usage.yml: line 3 column 23: defaults.alb.lcu_per_hour: invalid type: string \"lots\", expected f64"
        );
        let unknown = parse("version: 1\ndefaults:\n  alb: {lcus: 2}\n")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("lcus") && unknown.contains("line 3"),
            "{unknown}"
        );
        let malformed = parse("version: 1\nresources: [\n").unwrap_err().to_string();
        assert!(malformed.starts_with("usage.yml: "), "{malformed}");
        assert_eq!(
            parse("version: 2\n").unwrap_err().to_string(),
            "usage.yml: version: must be 1, got 2"
        );
    }
}
