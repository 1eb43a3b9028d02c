//! Drift: what Ferry would deploy now against the template the stack was last deployed
//! with (template drift, here), and against each resource's actual state (live drift,
//! [`super::live_drift`]). One report per environment holds both.

use crate::infra::live_drift::{self, LiveDrift, LiveDriftKind};
use crate::infra::template;
use crate::job::JobError;
use crate::model::Environment;
use crate::model::{Report, ReportKind};
use crate::monitoring::{AlertStatus, Labels, RawAlert};
use crate::ports::{DeployedStacks, EngineState, Environments, LiveResources, Reports};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub kind: DriftKind,
    /// For `Modified`: the top-level properties that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriftKind {
    /// Ferry would create it; the stack does not have it.
    Missing,
    /// The stack has it; Ferry would not create it.
    Unexpected,
    /// Both have it, with different type or properties.
    Modified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub stack_name: String,
    pub status: DriftStatus,
    pub resources: Vec<ResourceDrift>,
    /// Each resource against its actual state, NOT_CHECKED lines included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<LiveDrift>,
    /// The resources of types Ferry has no reader for, by type: NOT_CHECKED, one reason
    /// for all (kept apart so an hourly report stays a few KB).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unread: BTreeMap<String, Vec<String>>,
}

impl DriftReport {
    /// Resources that drifted, by either measure (NOT_CHECKED is not drift).
    pub fn drifted(&self) -> usize {
        let live: BTreeSet<&str> = self
            .live
            .iter()
            .filter(|d| d.is_drift())
            .map(|d| d.logical_id.as_str())
            .collect();
        let template: BTreeSet<&str> = self
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        live.union(&template).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriftStatus {
    InSync,
    Drifted,
    /// The environment has no deployed stack yet.
    NotDeployed,
}

pub fn compare(stack_name: &str, expected: &Value, deployed: Option<&Value>) -> DriftReport {
    let Some(deployed) = deployed else {
        return DriftReport {
            stack_name: stack_name.to_owned(),
            status: DriftStatus::NotDeployed,
            resources: vec![],
            live: vec![],
            unread: BTreeMap::new(),
        };
    };
    let empty = serde_json::Map::new();
    let want = expected["Resources"].as_object().unwrap_or(&empty);
    let have = deployed["Resources"].as_object().unwrap_or(&empty);
    let ids: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    let mut resources = Vec::new();
    for id in ids {
        let drift = match (want.get(id), have.get(id)) {
            (Some(_), None) => Some((DriftKind::Missing, vec![])),
            (None, Some(_)) => Some((DriftKind::Unexpected, vec![])),
            (Some(w), Some(h)) if !equivalent(w, h) => {
                Some((DriftKind::Modified, changed_properties(w, h)))
            }
            _ => None,
        };
        if let Some((kind, properties)) = drift {
            resources.push(ResourceDrift {
                logical_id: id.clone(),
                kind,
                properties,
            });
        }
    }
    let status = if resources.is_empty() {
        DriftStatus::InSync
    } else {
        DriftStatus::Drifted
    };
    DriftReport {
        stack_name: stack_name.to_owned(),
        status,
        resources,
        live: vec![],
        unread: BTreeMap::new(),
    }
}

/// Equal as CloudFormation reads them: `10`, `10.0` and `"10"` are one value (templates
/// pass through JSON, YAML and DynamoDB, which each spell numbers their own way).
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equivalent(v, w))
        }
        _ => match (live_drift::as_number(a), live_drift::as_number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

fn changed_properties(want: &Value, have: &Value) -> Vec<String> {
    let mut changed = BTreeSet::new();
    if want["Type"] != have["Type"] {
        changed.insert("Type".to_owned());
    }
    let empty = serde_json::Map::new();
    let wp = want["Properties"].as_object().unwrap_or(&empty);
    let hp = have["Properties"].as_object().unwrap_or(&empty);
    for key in wp.keys().chain(hp.keys()) {
        if !wp
            .get(key)
            .zip(hp.get(key))
            .is_some_and(|(w, h)| equivalent(w, h))
        {
            changed.insert(key.clone());
        }
    }
    changed.into_iter().collect()
}

/// The types a running promotion changes on purpose (colours, their task definitions
/// and scaling): not compared while it holds the environment.
const ROLLOUT_TYPES: [&str; 4] = [
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ElasticLoadBalancingV2::Listener",
];

/// One environment's drift, both measures: the template Ferry generates from the spec
/// the stack runs (not one saved since), against the deployed template and against
/// each resource's actual state.
pub async fn check_environment(
    env: &Environment,
    stacks: &dyn DeployedStacks,
    live: &dyn LiveResources,
) -> Result<DriftReport, JobError> {
    let runs = env.as_deployed();
    let expected = template::generate(&runs, env.deployed_release.as_ref(), env.live_colour);
    let deployed = stacks.deployed_template(&env.stack_name).await?;
    let mut report = compare(&env.stack_name, &expected, deployed.as_ref());
    if report.status == DriftStatus::NotDeployed {
        return Ok(report);
    }
    let physical_ids = stacks.physical_ids(&env.stack_name).await?;
    let (read, unread): (Vec<LiveDrift>, Vec<LiveDrift>) =
        live_drift::check(&expected, &physical_ids, live)
            .await?
            .into_iter()
            .partition(|d| !live_drift::unread_type(d));
    report.live = read;
    for d in unread {
        report
            .unread
            .entry(d.resource_type)
            .or_default()
            .push(d.logical_id);
    }
    if let Some(promotion) = &env.active_promotion {
        for d in report
            .live
            .iter_mut()
            .filter(|d| ROLLOUT_TYPES.contains(&d.resource_type.as_str()))
        {
            *d = LiveDrift {
                kind: LiveDriftKind::NotChecked,
                property: None,
                difference: None,
                expected: None,
                actual: None,
                reason: Some(format!("promotion {promotion} is changing it")),
                ..d.clone()
            };
        }
        report
            .live
            .dedup_by(|a, b| a.logical_id == b.logical_id && a.kind == b.kind);
    }
    if report.drifted() > 0 {
        report.status = DriftStatus::Drifted;
    }
    Ok(report)
}

/// Each drift as an alert (`drift/<resource>[.<property>]`), firing while it lasts and
/// resolved when a later check no longer finds it. An `accept` is a silence on its
/// `drift` label, with a reason (the comment) and an expiry (the end).
pub fn drift_alerts(
    env: &Environment,
    previous: Option<&DriftReport>,
    report: &DriftReport,
    now: DateTime<Utc>,
) -> Vec<RawAlert> {
    let alert = |d: &LiveDrift, status| {
        let summary = match d.kind {
            LiveDriftKind::Deleted => format!("{} ({}) was deleted", d.logical_id, d.resource_type),
            _ => format!(
                "{}: expected {}, actual {}",
                d.key(),
                d.expected.as_ref().map_or("none".into(), Value::to_string),
                d.actual.as_ref().map_or("none".into(), Value::to_string),
            ),
        };
        let labels: Labels = [
            ("app".to_owned(), env.app.to_string()),
            ("env".to_owned(), env.name.to_string()),
            ("component".to_owned(), "drift".to_owned()),
            ("drift".to_owned(), d.key()),
            ("resource".to_owned(), d.logical_id.clone()),
            ("kind".to_owned(), format!("{:?}", d.kind).to_uppercase()),
        ]
        .into();
        RawAlert {
            rule: format!("drift/{}", d.key()),
            labels,
            status,
            at: now,
            summary,
        }
    };
    let now_drifting: BTreeSet<String> = report
        .live
        .iter()
        .filter(|d| d.is_drift())
        .map(LiveDrift::key)
        .collect();
    let mut alerts: Vec<RawAlert> = report
        .live
        .iter()
        .filter(|d| d.is_drift())
        .map(|d| alert(d, AlertStatus::Firing))
        .collect();
    for gone in previous
        .into_iter()
        .flat_map(|p| &p.live)
        .filter(|d| d.is_drift() && !now_drifting.contains(&d.key()))
    {
        alerts.push(alert(gone, AlertStatus::Resolved));
    }
    alerts
}

/// Checks one environment, stores the report, and raises each drift as an alert.
pub async fn record(
    store: &(impl Reports + EngineState + ?Sized),
    env: &Environment,
    stacks: &dyn DeployedStacks,
    live: &dyn LiveResources,
    now: DateTime<Utc>,
) -> Result<DriftReport, JobError> {
    let report = check_environment(env, stacks, live).await?;
    let previous = store
        .latest_report(&env.app, &env.name, ReportKind::Drift)
        .await?
        .and_then(|r| serde_json::from_value::<DriftReport>(r.body).ok());
    let alerts = drift_alerts(env, previous.as_ref(), &report, now);
    crate::monitoring::jobs::raise(store, env, &alerts).await?;
    store
        .put_report(&Report {
            app: env.app.clone(),
            env: env.name.clone(),
            kind: ReportKind::Drift,
            created_at: now,
            body: serde_json::to_value(&report).unwrap_or(Value::Null),
        })
        .await?;
    Ok(report)
}

/// Checks every environment (the hourly schedule).
pub async fn drift_reports(
    store: &(impl Environments + Reports + EngineState + ?Sized),
    stacks: &dyn DeployedStacks,
    live: &dyn LiveResources,
    now: DateTime<Utc>,
) -> Result<Value, JobError> {
    let mut summaries = Vec::new();
    for env in store.list_environments(None).await? {
        let report = record(store, &env, stacks, live, now).await?;
        summaries.push(json!({
            "app": env.app, "env": env.name, "status": report.status,
            "drifted_resources": report.drifted(),
        }));
    }
    let drifted = summaries
        .iter()
        .filter(|s| s["status"] == json!(DriftStatus::Drifted))
        .count();
    Ok(json!({"environments": summaries, "drifted": drifted}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_missing_unexpected_and_modified_resources() {
        let expected = json!({"Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Cluster": {"Type": "AWS::ECS::Cluster"},
        }});
        let deployed = json!({"Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }});
        let report = compare("s", &expected, Some(&deployed));
        assert_eq!(report.status, DriftStatus::Drifted);
        let summary: Vec<(&str, DriftKind, Vec<String>)> = report
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.kind, r.properties.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("Bucket", DriftKind::Unexpected, vec![]),
                ("Cluster", DriftKind::Missing, vec![]),
                ("Vpc", DriftKind::Modified, vec!["CidrBlock".to_owned()]),
            ]
        );
    }

    #[test]
    fn numbers_spelled_differently_are_not_drift() {
        let expected = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"AllocatedStorage": "20", "Threshold": 10.0}}}});
        let deployed = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"AllocatedStorage": 20, "Threshold": 10}}}});
        assert_eq!(
            compare("s", &expected, Some(&deployed)).status,
            DriftStatus::InSync
        );
        let changed = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"AllocatedStorage": 30, "Threshold": 10}}}});
        assert_eq!(
            compare("s", &expected, Some(&changed)).resources[0].properties,
            ["AllocatedStorage"]
        );
    }

    #[test]
    fn each_drift_fires_an_alert_until_a_check_no_longer_finds_it() {
        let env =
            crate::infra::spec::AppSpec::parse(include_str!("../../../../examples/shop.json"))
                .unwrap()
                .new_environment("dev")
                .unwrap();
        let drift = |id: &str, property: &str| LiveDrift {
            logical_id: id.into(),
            resource_type: "AWS::RDS::DBInstance".into(),
            kind: LiveDriftKind::Modified,
            property: Some(property.into()),
            difference: Some(live_drift::Difference::NotEqual),
            expected: Some(json!(1)),
            actual: Some(json!(3)),
            reason: None,
        };
        let report = |live: Vec<LiveDrift>| DriftReport {
            stack_name: "s".into(),
            status: DriftStatus::Drifted,
            resources: vec![],
            live,
            unread: BTreeMap::new(),
        };
        let first = report(vec![
            drift("Database", "BackupRetentionPeriod"),
            drift("Database", "MultiAZ"),
        ]);
        let now = Utc::now();
        let alerts = drift_alerts(&env, None, &first, now);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].rule, "drift/Database.BackupRetentionPeriod");
        assert_eq!(alerts[0].labels["drift"], "Database.BackupRetentionPeriod");
        assert_eq!(
            alerts[0].summary,
            "Database.BackupRetentionPeriod: expected 1, actual 3"
        );
        // Put back: the next check resolves it; the other still fires.
        let second = report(vec![drift("Database", "MultiAZ")]);
        let statuses: Vec<(String, crate::monitoring::AlertStatus)> =
            drift_alerts(&env, Some(&first), &second, now)
                .into_iter()
                .map(|a| (a.rule, a.status))
                .collect();
        assert_eq!(
            statuses,
            [
                (
                    "drift/Database.MultiAZ".into(),
                    crate::monitoring::AlertStatus::Firing
                ),
                (
                    "drift/Database.BackupRetentionPeriod".into(),
                    crate::monitoring::AlertStatus::Resolved
                ),
            ]
        );
    }

    #[test]
    fn identical_templates_are_in_sync_and_no_stack_is_not_deployed() {
        let t = json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}}});
        assert_eq!(compare("s", &t, Some(&t)).status, DriftStatus::InSync);
        assert_eq!(compare("s", &t, None).status, DriftStatus::NotDeployed);
    }
}
