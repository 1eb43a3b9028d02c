//! Live drift: the template Ferry generates for an environment against what each
//! resource's own service says it is now, property by property. Template drift
//! ([`super::drift`]) only sees a stack updated outside Ferry; this sees a console change
//! to a service, a security group rule, the database or an alarm.
//!
//! The readers behind [`LiveResources`] return each resource's state in CloudFormation's
//! property names, only the properties they read; this module resolves the template's
//! `Ref`s to physical ids, fills in the defaults AWS applies, compares numbers and
//! strings as one, rules as sets, and removes what is expected to move (desired count
//! inside autoscaling's range; listener weights, which a promotion sets).

use crate::ports::{LiveRead, LiveResources, StacksError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What a live check found wrong with one resource, in CloudFormation's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LiveDriftKind {
    /// A property differs from the template.
    Modified,
    /// The resource is gone.
    Deleted,
    /// Something the template does not declare: an extra rule in a Ferry-owned group.
    Added,
    /// Ferry could not read it; `reason` says why.
    NotChecked,
}

/// How a property differs, as CloudFormation's drift detection names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Difference {
    Add,
    Remove,
    NotEqual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveDrift {
    pub logical_id: String,
    pub resource_type: String,
    pub kind: LiveDriftKind,
    /// The property, `SecurityGroupIngress` or `ContainerDefinitions.web.Image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl LiveDrift {
    /// Whether this is drift (not a resource Ferry could not read).
    pub fn is_drift(&self) -> bool {
        self.kind != LiveDriftKind::NotChecked
    }
    /// The stable name of one drift, which an `accept` names and an alert dedups on.
    pub fn key(&self) -> String {
        match &self.property {
            Some(p) => format!("{}.{p}", self.logical_id),
            None => self.logical_id.clone(),
        }
    }
}

/// The resource types a live reader covers. Other types are NOT_CHECKED here; on AWS,
/// CloudFormation's DetectStackDrift is the place for them.
pub const READ_TYPES: [&str; 7] = [
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::EC2::SecurityGroup",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::RDS::DBInstance",
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::LogGroup",
];

const NO_READER: &str = "Ferry has no live reader for";

/// A NOT_CHECKED line only because Ferry has no reader for the type (DetectStackDrift's
/// part on AWS), not because a read failed.
pub fn unread_type(d: &LiveDrift) -> bool {
    d.kind == LiveDriftKind::NotChecked
        && d.reason
            .as_deref()
            .is_some_and(|r| r.starts_with(NO_READER))
}

/// Reads every resource of the template that has a physical id, then compares.
pub async fn check(
    template: &Value,
    physical_ids: &BTreeMap<String, String>,
    live: &dyn LiveResources,
) -> Result<Vec<LiveDrift>, StacksError> {
    let mut reads = BTreeMap::new();
    for (id, resource) in resources(template) {
        let kind = resource["Type"].as_str().unwrap_or_default();
        let Some(physical) = physical_ids.get(id) else {
            continue;
        };
        if READ_TYPES.contains(&kind) {
            reads.insert(id.clone(), live.read(kind, physical).await?);
        }
    }
    Ok(compare(template, physical_ids, &reads))
}

fn resources(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
    template["Resources"].as_object().into_iter().flatten()
}

/// The comparison itself, pure: the template, each logical id's physical id, and what
/// the readers returned by logical id.
pub fn compare(
    template: &Value,
    physical_ids: &BTreeMap<String, String>,
    reads: &BTreeMap<String, LiveRead>,
) -> Vec<LiveDrift> {
    let mut out = Vec::new();
    for (id, resource) in resources(template) {
        let kind = resource["Type"].as_str().unwrap_or_default();
        let drift = |k, reason: Option<String>| LiveDrift {
            logical_id: id.clone(),
            resource_type: kind.to_owned(),
            kind: k,
            property: None,
            difference: None,
            expected: None,
            actual: None,
            reason,
        };
        match reads.get(id) {
            None if !physical_ids.contains_key(id) => out.push(drift(
                LiveDriftKind::NotChecked,
                Some("the stack has no such resource (template drift reports it)".into()),
            )),
            None => out.push(drift(
                LiveDriftKind::NotChecked,
                Some(format!("{NO_READER} {kind}")),
            )),
            Some(LiveRead::Deleted) => out.push(drift(LiveDriftKind::Deleted, None)),
            Some(LiveRead::NotChecked(reason)) => {
                out.push(drift(LiveDriftKind::NotChecked, Some(reason.clone())))
            }
            Some(LiveRead::Found(actual)) => {
                let expected = expected_properties(template, id, resource);
                compare_resource(
                    id,
                    kind,
                    &expected,
                    actual,
                    template,
                    physical_ids,
                    &mut out,
                );
            }
        }
    }
    out
}

/// The template's properties with `Ref`s resolved; a value that needs anything else
/// (`Fn::GetAtt`, `Fn::Sub`) resolves to `None` and is not compared.
fn resolve(value: &Value, physical_ids: &BTreeMap<String, String>) -> Option<Value> {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            physical_ids.get(map["Ref"].as_str()?).map(|p| json!(p))
        }
        Value::Object(map) if map.keys().any(|k| k.starts_with("Fn::")) => None,
        Value::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), resolve(v, physical_ids)?)))
                .collect(),
        )),
        Value::Array(items) => items
            .iter()
            .map(|v| resolve(v, physical_ids))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

/// The template's properties plus what the template says elsewhere about this resource:
/// a security group's standalone ingress and egress rules.
fn expected_properties(template: &Value, id: &str, resource: &Value) -> Map<String, Value> {
    let mut props = resource["Properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if resource["Type"] == "AWS::EC2::SecurityGroup" {
        for (key, rule_type) in [
            ("SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress"),
            ("SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress"),
        ] {
            let mut rules = props
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if key == "SecurityGroupEgress" && !props.contains_key(key) {
                // AWS gives a group without egress rules one that allows everything.
                rules.push(json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}));
            }
            for (_, other) in resources(template) {
                if other["Type"] == rule_type && other["Properties"]["GroupId"]["Ref"] == id {
                    let mut rule = other["Properties"].clone();
                    rule.as_object_mut().map(|r| r.remove("GroupId"));
                    rules.push(rule);
                }
            }
            props.insert(key.into(), Value::Array(rules));
        }
    }
    props
}

/// Values AWS fills in when the template leaves a property out.
fn default_for(kind: &str, property: &str) -> Option<Value> {
    Some(match (kind, property) {
        ("AWS::RDS::DBInstance", "MultiAZ") => json!(false),
        ("AWS::RDS::DBInstance", "DeletionProtection") => json!(false),
        ("AWS::RDS::DBInstance", "PubliclyAccessible") => json!(false),
        ("AWS::RDS::DBInstance", "StorageEncrypted") => json!(false),
        ("AWS::RDS::DBInstance", "BackupRetentionPeriod") => json!(1),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "HealthCheckPath") => json!("/"),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "HealthCheckIntervalSeconds") => json!(30),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "HealthyThresholdCount") => json!(5),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "UnhealthyThresholdCount") => json!(2),
        ("AWS::ECS::Service", "DesiredCount") => json!(1),
        ("AWS::CloudWatch::Alarm", "AlarmActions") => json!([]),
        ("AWS::CloudWatch::Alarm", "OKActions") => json!([]),
        ("AWS::CloudWatch::Alarm", "DatapointsToAlarm") => return None,
        _ => return None,
    })
}

fn compare_resource(
    id: &str,
    kind: &str,
    expected: &Map<String, Value>,
    actual: &Value,
    template: &Value,
    physical_ids: &BTreeMap<String, String>,
    out: &mut Vec<LiveDrift>,
) {
    let Some(actual) = actual.as_object() else {
        return;
    };
    let diff = |property: String, difference, expected: Option<Value>, actual: Option<Value>| {
        let kind_of = if difference == Difference::Add {
            LiveDriftKind::Added
        } else {
            LiveDriftKind::Modified
        };
        LiveDrift {
            logical_id: id.to_owned(),
            resource_type: kind.to_owned(),
            kind: kind_of,
            property: Some(property),
            difference: Some(difference),
            expected,
            actual,
            reason: None,
        }
    };
    for (property, have) in actual {
        let want = match expected.get(property) {
            Some(v) => resolve(v, physical_ids),
            None => default_for(kind, property),
        };
        let Some(want) = want else { continue };
        match (kind, property.as_str()) {
            ("AWS::EC2::SecurityGroup", "SecurityGroupIngress" | "SecurityGroupEgress") => {
                let want: BTreeSet<String> = rules(&want);
                let have: BTreeSet<String> = rules(have);
                // Each rule its own line, named in the property, so two added rules are
                // two drifts and an accept names the one it means.
                for extra in have.difference(&want) {
                    let rule = parse(extra);
                    let name = format!("{property}[{}]", rule_name(&rule));
                    out.push(diff(name, Difference::Add, None, Some(rule)));
                }
                for gone in want.difference(&have) {
                    let rule = parse(gone);
                    let name = format!("{property}[{}]", rule_name(&rule));
                    out.push(diff(name, Difference::Remove, Some(rule), None));
                }
            }
            ("AWS::ECS::TaskDefinition", "ContainerDefinitions") => {
                containers(&want, have, &mut |path, d, w, h| {
                    out.push(diff(format!("ContainerDefinitions.{path}"), d, w, h))
                });
            }
            ("AWS::ECS::Service", "DesiredCount")
                if within_scaling(template, id, have).unwrap_or(false) => {}
            _ if equivalent(&want, have) => {}
            _ => out.push(diff(
                property.clone(),
                Difference::NotEqual,
                Some(want),
                Some(have.clone()),
            )),
        }
    }
}

/// Autoscaling moves a service's desired count between its target's min and max; only
/// a count outside that range is drift.
fn within_scaling(template: &Value, service_id: &str, count: &Value) -> Option<bool> {
    let count = as_number(count)?;
    let needle = format!("${{{service_id}.Name}}");
    let (_, target) = resources(template).find(|(_, r)| {
        r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
            && r["Properties"]["ResourceId"]["Fn::Sub"]
                .as_str()
                .is_some_and(|s| s.contains(&needle))
    })?;
    let min = as_number(&target["Properties"]["MinCapacity"])?;
    let max = as_number(&target["Properties"]["MaxCapacity"])?;
    Some(min <= count && count <= max)
}

/// A rule as one canonical string: protocol, ports and peer, without its description
/// (AWS keeps descriptions, but a console edit of one is not a change in access).
fn rules(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|rule| {
            let protocol = match rule["IpProtocol"].as_str() {
                Some("all") => "-1".to_owned(),
                Some(p) => p.to_lowercase(),
                None => rule["IpProtocol"].to_string(),
            };
            let port = |k: &str| match &rule[k] {
                Value::Null => "-1".to_owned(),
                v => as_number(v).map_or_else(|| v.to_string(), |n| n.to_string()),
            };
            let (from, to) = if protocol == "-1" {
                ("-1".to_owned(), "-1".to_owned())
            } else {
                (port("FromPort"), port("ToPort"))
            };
            let peer = [
                "CidrIp",
                "CidrIpv6",
                "SourceSecurityGroupId",
                "DestinationSecurityGroupId",
                "SourcePrefixListId",
                "DestinationPrefixListId",
            ]
            .iter()
            .find_map(|k| rule[*k].as_str().map(|v| format!("{k}={v}")))
            .unwrap_or_default();
            json!({"IpProtocol": protocol, "FromPort": from, "ToPort": to, "Peer": peer})
                .to_string()
        })
        .collect()
}

fn parse(rule: &str) -> Value {
    let v: Value = serde_json::from_str(rule).unwrap_or(Value::Null);
    let (peer_key, peer) = v["Peer"]
        .as_str()
        .and_then(|p| p.split_once('='))
        .unwrap_or(("Peer", ""));
    let port = |k: &str| {
        v[k].as_str()
            .and_then(|p| p.parse::<i64>().ok())
            .map_or(Value::Null, |n| json!(n))
    };
    json!({"IpProtocol": v["IpProtocol"], "FromPort": port("FromPort"), "ToPort": port("ToPort"), peer_key: peer})
}

/// `tcp:22-22:0.0.0.0/0`: a rule's protocol, ports and peer.
fn rule_name(rule: &Value) -> String {
    let port = |k: &str| match &rule[k] {
        Value::Null => "all".to_owned(),
        v => v.to_string(),
    };
    let peer = rule
        .as_object()
        .into_iter()
        .flatten()
        .find(|(k, _)| !["IpProtocol", "FromPort", "ToPort"].contains(&k.as_str()))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default();
    format!(
        "{}:{}-{}:{peer}",
        rule["IpProtocol"].as_str().unwrap_or_default(),
        port("FromPort"),
        port("ToPort")
    )
}

/// Containers by name; within each, the fields the reader returned, with environment
/// variables compared as a set.
fn containers(
    want: &Value,
    have: &Value,
    report: &mut dyn FnMut(String, Difference, Option<Value>, Option<Value>),
) {
    let by_name = |v: &Value| -> BTreeMap<String, Value> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["Name"].as_str()?.to_owned(), c.clone())))
            .collect()
    };
    let (want, have) = (by_name(want), by_name(have));
    for (name, h) in &have {
        let Some(w) = want.get(name) else {
            report(name.clone(), Difference::Add, None, Some(h.clone()));
            continue;
        };
        for (field, hv) in h.as_object().into_iter().flatten() {
            let Some(wv) = w.get(field) else { continue };
            let same = if field == "Environment" {
                env_set(wv) == env_set(hv)
            } else {
                equivalent(wv, hv)
            };
            if !same {
                report(
                    format!("{name}.{field}"),
                    Difference::NotEqual,
                    Some(wv.clone()),
                    Some(hv.clone()),
                );
            }
        }
    }
    for (name, w) in &want {
        if !have.contains_key(name) {
            report(name.clone(), Difference::Remove, Some(w.clone()), None);
        }
    }
}

fn env_set(v: &Value) -> BTreeSet<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = match &e["Value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (e["Name"].as_str().unwrap_or_default().to_owned(), value)
        })
        .collect()
}

/// Equal as AWS reads them: `10`, `10.0` and `"10"` are one value, `true` and `"true"`
/// too, and a list of strings is a set (AWS returns alarm actions and subnets in its
/// own order).
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        (Value::Array(x), Value::Array(y)) if x.iter().chain(y).all(Value::is_string) => {
            x.iter().filter_map(Value::as_str).collect::<BTreeSet<_>>()
                == y.iter().filter_map(Value::as_str).collect::<BTreeSet<_>>()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equivalent(v, w))
        }
        (Value::Bool(x), Value::String(s)) | (Value::String(s), Value::Bool(x)) => {
            s.eq_ignore_ascii_case(if *x { "true" } else { "false" })
        }
        _ => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Value {
        json!({"Resources": {
            "ServiceSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "services",
                "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "HTTPS"}]}},
            "AlbSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "alb"}},
            "ServiceFromAlbIngress80": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                "GroupId": {"Ref": "ServiceSecurityGroup"}, "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                "SourceSecurityGroupId": {"Ref": "AlbSecurityGroup"}, "Description": "from the load balancer"}},
            "WebBlueService": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 2, "TaskDefinition": {"Ref": "WebBlueTask"}}},
            "WebBlueScalableTarget": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
                "ResourceId": {"Fn::Sub": "service/${Cluster}/${WebBlueService.Name}"}, "MinCapacity": 2, "MaxCapacity": 6}},
            "Database": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "BackupRetentionPeriod": 7, "StorageEncrypted": true}},
            "ErrorAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 5, "EvaluationPeriods": 3, "AlarmActions": [{"Ref": "Topic"}]}},
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        }})
    }

    fn ids() -> BTreeMap<String, String> {
        [
            ("ServiceSecurityGroup", "sg-svc"),
            ("AlbSecurityGroup", "sg-alb"),
            ("ServiceFromAlbIngress80", "sgr-1"),
            (
                "WebBlueService",
                "arn:aws:ecs:us-east-1:1:service/c/web-blue",
            ),
            (
                "WebBlueTask",
                "arn:aws:ecs:us-east-1:1:task-definition/web:3",
            ),
            ("WebBlueScalableTarget", "t"),
            ("Database", "shop-prod-db"),
            ("ErrorAlarm", "shop-prod-errors"),
            ("Topic", "arn:aws:sns:us-east-1:1:alerts"),
            ("Vpc", "vpc-1"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
    }

    /// What the services say about a freshly deployed stack, in their own spelling:
    /// numbers as numbers, defaults filled in, no descriptions, rules in their order.
    fn fresh() -> BTreeMap<String, LiveRead> {
        [
            ("ServiceSecurityGroup", json!({
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "SourceSecurityGroupId": "sg-alb"}],
                "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]})),
            ("AlbSecurityGroup", json!({
                "SecurityGroupIngress": [],
                "SecurityGroupEgress": [{"IpProtocol": "-1", "FromPort": null, "ToPort": null, "CidrIp": "0.0.0.0/0"}]})),
            ("WebBlueService", json!({"DesiredCount": 2, "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:3"})),
            ("Database", json!({"DBInstanceClass": "db.t4g.micro", "AllocatedStorage": 20, "BackupRetentionPeriod": 7,
                "MultiAZ": false, "DeletionProtection": false, "PubliclyAccessible": false, "StorageEncrypted": true})),
            ("ErrorAlarm", json!({"Threshold": 5.0, "EvaluationPeriods": 3, "AlarmActions": ["arn:aws:sns:us-east-1:1:alerts"]})),
        ]
        .into_iter()
        .map(|(id, v)| (id.to_owned(), LiveRead::Found(v)))
        .collect()
    }

    fn drifts(reads: &BTreeMap<String, LiveRead>) -> Vec<LiveDrift> {
        compare(&template(), &ids(), reads)
            .into_iter()
            .filter(LiveDrift::is_drift)
            .collect()
    }

    #[test]
    fn a_fresh_stack_read_in_each_services_own_spelling_has_no_drift() {
        assert_eq!(drifts(&fresh()), []);
        // And what was not read is listed with its reason, not counted as drift.
        let unchecked: Vec<String> = compare(&template(), &ids(), &fresh())
            .into_iter()
            .filter(|d| !d.is_drift())
            .map(|d| d.logical_id)
            .collect();
        assert!(unchecked.contains(&"Vpc".to_owned()), "{unchecked:?}");
    }

    #[test]
    fn console_changes_are_reported_with_expected_and_actual_values() {
        let mut reads = fresh();
        reads.insert("ServiceSecurityGroup".into(), LiveRead::Found(json!({
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "SourceSecurityGroupId": "sg-alb"}],
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]})));
        reads.insert("WebBlueService".into(), LiveRead::Found(json!({"DesiredCount": 9, "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:3"})));
        let LiveRead::Found(db) = reads.get_mut("Database").unwrap() else {
            unreachable!()
        };
        db["BackupRetentionPeriod"] = json!(1);
        reads.insert("ErrorAlarm".into(), LiveRead::Deleted);

        let found: Vec<(String, LiveDriftKind, Option<Value>, Option<Value>)> = drifts(&reads)
            .into_iter()
            .map(|d| (d.key(), d.kind, d.expected, d.actual))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "ServiceSecurityGroup.SecurityGroupIngress[tcp:22-22:0.0.0.0/0]".into(),
                    LiveDriftKind::Added,
                    None,
                    Some(
                        json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"})
                    )
                ),
                (
                    "WebBlueService.DesiredCount".into(),
                    LiveDriftKind::Modified,
                    Some(json!(2)),
                    Some(json!(9))
                ),
                (
                    "Database.BackupRetentionPeriod".into(),
                    LiveDriftKind::Modified,
                    Some(json!(7)),
                    Some(json!(1))
                ),
                ("ErrorAlarm".into(), LiveDriftKind::Deleted, None, None),
            ]
        );
    }

    #[test]
    fn autoscaling_inside_its_range_is_not_drift() {
        let mut reads = fresh();
        reads.insert("WebBlueService".into(), LiveRead::Found(json!({"DesiredCount": 6, "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:3"})));
        assert_eq!(drifts(&reads), []);
    }

    #[test]
    fn a_removed_rule_and_a_new_task_definition_are_modifications() {
        let mut reads = fresh();
        reads.insert("ServiceSecurityGroup".into(), LiveRead::Found(json!({
            "SecurityGroupIngress": [],
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]})));
        reads.insert("WebBlueService".into(), LiveRead::Found(json!({"DesiredCount": 2, "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:4"})));
        let found: Vec<(String, Option<Difference>)> = drifts(&reads)
            .into_iter()
            .map(|d| (d.key(), d.difference))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "ServiceSecurityGroup.SecurityGroupIngress[tcp:80-80:sg-alb]".into(),
                    Some(Difference::Remove)
                ),
                (
                    "WebBlueService.TaskDefinition".into(),
                    Some(Difference::NotEqual)
                ),
            ]
        );
    }

    #[test]
    fn containers_compare_by_name_with_environment_as_a_set() {
        let want = json!([{"Name": "web", "Image": "web:1", "Environment": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}]}]);
        let same = json!([{"Name": "web", "Image": "web:1", "Environment": [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}]}]);
        let changed = json!([
            {"Name": "web", "Image": "web:2", "Environment": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}]},
            {"Name": "sidecar", "Image": "x"}]);
        let mut seen = Vec::new();
        containers(&want, &same, &mut |p, d, _, _| seen.push((p, d)));
        assert_eq!(seen, []);
        containers(&want, &changed, &mut |p, d, _, _| seen.push((p, d)));
        assert_eq!(
            seen,
            [
                ("sidecar".to_owned(), Difference::Add),
                ("web.Image".to_owned(), Difference::NotEqual)
            ]
        );
    }
}
