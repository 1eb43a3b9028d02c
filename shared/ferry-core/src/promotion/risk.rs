//! The explained risk score of a promotion.

use crate::infra::profile::ProfileName;
use crate::names::EnvName;
use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

pub struct RiskInputs<'a> {
    pub target_env: &'a EnvName,
    /// The target's profile: what it is, whatever it is called.
    pub target_profile: ProfileName,
    /// Resources the deploy's change set would replace (task definitions aside: they are
    /// replaced by every release).
    pub replacements: usize,
    /// Resources it would modify beyond the new colour's own (infrastructure changes
    /// riding along with the release).
    pub infra_changes: usize,
    /// Resources the change set would delete.
    pub deletions: usize,
    /// Changes to the database, the cache or the access-log bucket (whatever the kind:
    /// their replacements are refused unless allowed, see `infra::stateful`).
    pub stateful_changes: usize,
    /// Changes to security groups and their rules: who may reach what.
    pub security_group_changes: usize,
    pub open_alerts: usize,
    pub config_changes: usize,
    pub spec_changes: usize,
    pub recent_promotions: usize,
    pub recent_failures: usize,
    pub hours_since_last_failure: Option<f64>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub factor: String,
    pub points: u8,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    pub score: u8,
    pub factors: Vec<RiskFactor>,
}

/// An explained risk score from 0 to 100: every point comes from a named factor.
pub fn assess(inputs: &RiskInputs) -> Risk {
    let mut factors = Vec::new();
    let mut add = |factor: &str, points: u8, why: String| {
        if points > 0 {
            factors.push(RiskFactor {
                factor: factor.into(),
                points,
                why,
            });
        }
    };
    // By the target's profile, not its name: `eu-prod` on the prod profile is prod.
    let env_points = match inputs.target_profile {
        ProfileName::Prod => 30,
        ProfileName::Staging => 10,
        ProfileName::Dev => 0,
    };
    add(
        "target_environment",
        env_points,
        format!(
            "target is {} ({} profile)",
            inputs.target_env, inputs.target_profile
        ),
    );
    add(
        "change_set_replacements",
        (inputs.replacements * 10).min(30) as u8,
        format!("the change set replaces {} resources", inputs.replacements),
    );
    add(
        "resources_modified",
        (inputs.infra_changes * 3).min(15) as u8,
        format!(
            "the change set also modifies {} resources beyond the new colour",
            inputs.infra_changes
        ),
    );
    add(
        "deletions",
        (inputs.deletions * 10).min(20) as u8,
        format!("the change set deletes {} resources", inputs.deletions),
    );
    add(
        "stateful_changes",
        (inputs.stateful_changes * 15).min(30) as u8,
        format!(
            "the change set changes {} data stores (database, cache, log bucket)",
            inputs.stateful_changes
        ),
    );
    add(
        "security_groups",
        (inputs.security_group_changes * 5).min(15) as u8,
        format!(
            "the change set changes {} security groups or rules",
            inputs.security_group_changes
        ),
    );
    add(
        "open_alerts",
        (inputs.open_alerts * 10).min(20) as u8,
        format!("{} alarms of the target are in ALARM", inputs.open_alerts),
    );
    add(
        "config_diff",
        (inputs.config_changes * 3).min(15) as u8,
        format!("{} config keys change", inputs.config_changes),
    );
    add(
        "spec_diff",
        (inputs.spec_changes * 10) as u8,
        "source and target specs differ".into(),
    );
    if inputs.recent_promotions > 0 {
        let rate = inputs.recent_failures as f64 / inputs.recent_promotions as f64;
        add(
            "recent_failure_rate",
            (rate * 20.0).round() as u8,
            format!(
                "{} of the last {} promotions failed",
                inputs.recent_failures, inputs.recent_promotions
            ),
        );
    }
    if let Some(hours) = inputs.hours_since_last_failure {
        if hours < 24.0 {
            add(
                "recent_failure",
                10,
                format!("last failure {hours:.1} h ago"),
            );
        }
    }
    let weekend = matches!(inputs.now.weekday(), Weekday::Sat | Weekday::Sun);
    add(
        "weekend",
        if weekend { 10 } else { 0 },
        "promotion on a weekend".into(),
    );
    let hour = inputs.now.hour();
    add(
        "time_of_day",
        if !(8..18).contains(&hour) { 5 } else { 0 },
        format!("outside working hours ({hour:02}:00 UTC)"),
    );
    let score = factors
        .iter()
        .map(|f| u32::from(f.points))
        .sum::<u32>()
        .min(100) as u8;
    Risk { score, factors }
}
