//! Environment profiles: the documented defaults for dev, staging and prod. A spec picks
//! one per environment (by name, or `profile:`) and may override any setting.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    Dev,
    Staging,
    Prod,
}

impl ProfileName {
    pub fn for_env(name: &str) -> Option<ProfileName> {
        match name {
            "dev" => Some(ProfileName::Dev),
            "staging" => Some(ProfileName::Staging),
            "prod" => Some(ProfileName::Prod),
            _ => None,
        }
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileName::Dev => "dev",
            ProfileName::Staging => "staging",
            ProfileName::Prod => "prod",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatPolicy {
    /// No NAT gateway: tasks reach AWS APIs through VPC endpoints only.
    None,
    Single,
    PerAz,
}

/// Every setting a profile fixes. The profile table in docs/spec.md mirrors
/// [`Profile::defaults`]; keep the two in step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub az_count: u8,
    pub nat: NatPolicy,
    pub flow_logs: bool,
    pub alb_access_logs: bool,
    /// Plain HTTP listener that forwards (dev only); elsewhere port 80 redirects to HTTPS.
    pub allow_http: bool,
    pub container_insights: bool,
    pub log_retention_days: u16,
    pub fargate_spot: bool,
    pub db_multi_az: bool,
    pub db_backup_retention_days: u8,
    pub db_deletion_protection: bool,
    pub db_performance_insights: bool,
    pub cache_multi_az: bool,
    pub alarms: AlarmThresholds,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmThresholds {
    pub alb_5xx_rate_percent: f64,
    pub p99_latency_seconds: f64,
    pub ecs_cpu_percent: f64,
    pub ecs_memory_percent: f64,
    pub rds_cpu_percent: f64,
    pub rds_free_storage_gb: f64,
    pub rds_connections: f64,
    pub cache_cpu_percent: f64,
    pub cache_memory_percent: f64,
    pub cache_evictions: f64,
}

impl Profile {
    pub fn defaults(name: ProfileName) -> Profile {
        let prod = name == ProfileName::Prod;
        let dev = name == ProfileName::Dev;
        Profile {
            az_count: if dev { 2 } else { 3 },
            nat: match name {
                ProfileName::Dev => NatPolicy::None,
                ProfileName::Staging => NatPolicy::Single,
                ProfileName::Prod => NatPolicy::PerAz,
            },
            flow_logs: prod,
            alb_access_logs: prod,
            allow_http: dev,
            container_insights: prod,
            log_retention_days: match name {
                ProfileName::Dev => 7,
                ProfileName::Staging => 30,
                ProfileName::Prod => 90,
            },
            fargate_spot: dev,
            db_multi_az: prod,
            db_backup_retention_days: match name {
                ProfileName::Dev => 1,
                ProfileName::Staging => 7,
                ProfileName::Prod => 30,
            },
            db_deletion_protection: prod,
            db_performance_insights: prod,
            cache_multi_az: prod,
            alarms: AlarmThresholds {
                alb_5xx_rate_percent: match name {
                    ProfileName::Dev => 10.0,
                    ProfileName::Staging => 5.0,
                    ProfileName::Prod => 1.0,
                },
                p99_latency_seconds: if prod { 1.0 } else { 2.0 },
                ecs_cpu_percent: if prod { 80.0 } else { 90.0 },
                ecs_memory_percent: if prod { 80.0 } else { 90.0 },
                rds_cpu_percent: if prod { 80.0 } else { 90.0 },
                rds_free_storage_gb: if prod { 10.0 } else { 2.0 },
                rds_connections: if prod { 400.0 } else { 100.0 },
                cache_cpu_percent: if prod { 75.0 } else { 90.0 },
                cache_memory_percent: if prod { 80.0 } else { 90.0 },
                cache_evictions: if prod { 100.0 } else { 1000.0 },
            },
        }
    }
}

/// Log retention values CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: [u16; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
