//! The records Ferry keeps. Their storage layout (keys, GSIs, TTL) is the DynamoDB
//! adapter's business and is documented in the README.

use crate::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub name: AppName,
    pub created_at: DateTime<Utc>,
}

/// What one environment should run. Issue-sized for now: services, an optional
/// database and an optional cache; the template engine reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub database: Option<DatabaseSpec>,
    #[serde(default)]
    pub cache: Option<CacheSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    pub port: u16,
    /// Fargate CPU units (256 = 0.25 vCPU).
    pub cpu: u32,
    /// MiB.
    pub memory: u32,
    #[serde(default = "default_desired_count")]
    pub desired_count: u32,
}

fn default_desired_count() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine: String,
    pub instance_class: String,
    pub storage_gb: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    pub engine: String,
    pub node_type: String,
}

/// Fargate's valid CPU and memory pairs, so a bad spec fails here and not in a
/// CloudFormation rollback twenty minutes later.
const FARGATE_CPU: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

impl EnvironmentSpec {
    /// Parses and validates a spec given as JSON; errors carry the path under `field`.
    pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationErrors> {
        let spec: EnvironmentSpec = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                field.to_owned()
            } else {
                format!("{field}.{path}")
            };
            ValidationErrors::from(crate::FieldError::new(at, e.inner().to_string()))
        })?;
        spec.validate(&format!("{field}."))?;
        Ok(spec)
    }

    /// Checks every field and reports every problem at once, each with its path.
    pub fn validate(&self, prefix: &str) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut seen = std::collections::BTreeSet::new();
        for (i, service) in self.services.iter().enumerate() {
            let path = format!("{prefix}services[{i}]");
            if crate::names::EnvName::parse("name", &service.name).is_err() {
                errors.push(
                    format!("{path}.name"),
                    format!("'{}' is not a valid service name; use lowercase letters, digits and single dashes", service.name),
                );
            }
            if !seen.insert(service.name.as_str()) {
                errors.push(
                    format!("{path}.name"),
                    format!("'{}' is used twice", service.name),
                );
            }
            if service.port == 0 {
                errors.push(format!("{path}.port"), "must be between 1 and 65535");
            }
            if !FARGATE_CPU.contains(&service.cpu) {
                errors.push(
                    format!("{path}.cpu"),
                    format!(
                        "{} is not a valid Fargate CPU value; use one of 256, 512, 1024, 2048, 4096, 8192, 16384",
                        service.cpu
                    ),
                );
            } else if let Err(message) = check_fargate_memory(service.cpu, service.memory) {
                errors.push(format!("{path}.memory"), message);
            }
            if service.desired_count > 100 {
                errors.push(
                    format!("{path}.desired_count"),
                    format!("{} is above the limit of 100", service.desired_count),
                );
            }
        }
        if let Some(db) = &self.database {
            if !["postgres", "mysql"].contains(&db.engine.as_str()) {
                errors.push(
                    format!("{prefix}database.engine"),
                    format!("'{}' is not supported; use postgres or mysql", db.engine),
                );
            }
            if !db.instance_class.starts_with("db.") {
                errors.push(
                    format!("{prefix}database.instance_class"),
                    format!(
                        "'{}' is not an RDS instance class such as db.t4g.micro",
                        db.instance_class
                    ),
                );
            }
            if !(20..=65536).contains(&db.storage_gb) {
                errors.push(
                    format!("{prefix}database.storage_gb"),
                    format!("{} is outside 20..=65536 GB", db.storage_gb),
                );
            }
        }
        if let Some(cache) = &self.cache {
            if !["valkey", "redis"].contains(&cache.engine.as_str()) {
                errors.push(
                    format!("{prefix}cache.engine"),
                    format!("'{}' is not supported; use valkey or redis", cache.engine),
                );
            }
            if !cache.node_type.starts_with("cache.") {
                errors.push(
                    format!("{prefix}cache.node_type"),
                    format!(
                        "'{}' is not a node type such as cache.t4g.micro",
                        cache.node_type
                    ),
                );
            }
        }
        errors.into_result()
    }
}

fn check_fargate_memory(cpu: u32, memory: u32) -> Result<(), String> {
    let (min, max, step) = match cpu {
        256 => (512, 2048, 512),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        _ => (32768, 122880, 8192),
    };
    // 256 CPU also allows 512 MiB, covered by min; the step grid covers the rest.
    if memory < min || memory > max || !(memory - min).is_multiple_of(step) {
        return Err(format!(
            "{memory} MiB is not valid with cpu {cpu}; use {min} to {max} MiB in steps of {step}"
        ));
    }
    Ok(())
}

/// What an environment runs: an image pinned by digest, plus the config it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub image: ImageRef,
    #[serde(default)]
    pub config: serde_json::Map<String, Value>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub app: AppName,
    pub name: EnvName,
    pub spec: EnvironmentSpec,
    pub stack_name: String,
    pub deployed_release: Option<Release>,
    pub live_colour: Colour,
    /// The promotion holding this environment's lock, if any. Absent, not null, when
    /// free: the lock's condition expressions test `attribute_not_exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_promotion: Option<PromotionId>,
    /// Optimistic concurrency: every write states the version it read.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl Environment {
    pub fn default_stack_name(app: &AppName, env: &EnvName) -> String {
        format!("ferry-{app}-{env}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromotionStatus {
    Pending,
    Running,
    Succeeded,
    RolledBack,
    Failed,
}

impl PromotionStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::RolledBack | Self::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: PromotionId,
    pub app: AppName,
    pub source_env: EnvName,
    pub target_env: EnvName,
    pub strategy: Strategy,
    pub status: PromotionStatus,
    pub requested_by: String,
    /// The release taken from the source environment when the promotion was created,
    /// so later deploys to the source do not change what this promotion ships.
    pub release: Option<Release>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Filled on read from the step items; not stored on the promotion item itself.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutcome {
    Succeeded,
    Failed,
}

/// One step of a promotion, as recorded by the code that ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub outcome: StepOutcome,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub detail: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub promotion_id: PromotionId,
    pub decision: Decision,
    pub decided_by: String,
    pub comment: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Template,
    Cost,
    Drift,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Template => "template",
            ReportKind::Cost => "cost",
            ReportKind::Drift => "drift",
        }
    }
}

/// A report a scheduled or pipeline job produced about one environment. Reports expire
/// (DynamoDB TTL) so the table does not grow forever; the newest is what users read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub app: AppName,
    pub env: EnvName,
    pub kind: ReportKind,
    pub created_at: DateTime<Utc>,
    pub body: Value,
}

/// One alarm state change, kept so noise reduction and incidents can work on history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The EventBridge event id: a redelivered event is recorded once.
    pub event_id: String,
    pub alarm_name: String,
    pub app: Option<AppName>,
    pub env: Option<EnvName>,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    pub metric: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// The current state of one alarm as Ferry last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub alarm_name: String,
    pub app: Option<AppName>,
    pub env: Option<EnvName>,
    pub state: String,
    pub since: DateTime<Utc>,
    /// How many times this alarm has gone into ALARM: the raw material of flap detection.
    pub alarm_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(cpu: u32, memory: u32) -> ServiceSpec {
        ServiceSpec {
            name: "web".into(),
            port: 8080,
            cpu,
            memory,
            desired_count: 2,
        }
    }

    #[test]
    fn spec_reports_every_error_with_its_path() {
        let spec = EnvironmentSpec {
            services: vec![service(256, 512), service(300, 512)],
            database: Some(DatabaseSpec {
                engine: "oracle".into(),
                instance_class: "db.t4g.micro".into(),
                storage_gb: 20,
            }),
            cache: None,
        };
        let errors = spec.validate("spec.").unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.services[1].name",
                "spec.services[1].cpu",
                "spec.database.engine"
            ]
        );
        assert!(
            errors.0[1].message.contains("use one of 256, 512"),
            "{errors}"
        );
    }

    #[test]
    fn fargate_memory_must_fit_the_cpu() {
        assert!(check_fargate_memory(256, 512).is_ok());
        assert!(check_fargate_memory(1024, 3072).is_ok());
        assert!(check_fargate_memory(1024, 1024).is_err());
        assert!(check_fargate_memory(512, 1536).is_err());
    }
}
