//! Policy: cfn-guard rules (`policy/ferry.guard`) run on every generated template. A
//! failed rule is an error unless the environment waives it with a reason.

use crate::infra::spec::Waiver;
use cfn_guard::{FailedCheck, FailedRule, PreparedRules};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::OnceLock;

pub const RULES_FILE: &str = include_str!("../../policy/ferry.guard");

pub struct Rule {
    pub name: &'static str,
    pub covers: &'static str,
}

/// Every rule in `policy/ferry.guard`, in its order; a test keeps the two in step.
pub const RULES: [Rule; 13] = [
    Rule {
        name: "rds_storage_encrypted",
        covers: "encryption",
    },
    Rule {
        name: "rds_not_public",
        covers: "public access",
    },
    Rule {
        name: "cache_encrypted",
        covers: "encryption",
    },
    Rule {
        name: "s3_encrypted_and_private",
        covers: "encryption, public access",
    },
    Rule {
        name: "open_ingress_only_https",
        covers: "least-privilege security groups",
    },
    Rule {
        name: "ingress_from_security_groups",
        covers: "least-privilege security groups",
    },
    Rule {
        name: "prod_deletion_protection",
        covers: "deletion protection in prod",
    },
    Rule {
        name: "log_retention_set",
        covers: "cost, hygiene",
    },
    Rule {
        name: "tasks_not_public",
        covers: "public access",
    },
    Rule {
        name: "containers_read_only_root",
        covers: "container hardening",
    },
    Rule {
        name: "containers_not_root",
        covers: "container hardening",
    },
    Rule {
        name: "egress_restricted",
        covers: "least-privilege security groups",
    },
    Rule {
        name: "rds_backups",
        covers: "backups",
    },
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    /// What failed, with the rule's message.
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    pub violations: Vec<Violation>,
    /// Violations the environment waived, with the reason given.
    pub waived: Vec<(Violation, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("cfn-guard could not evaluate the template: {0}")]
    Engine(String),
}

/// The resource types the rules select (`Type == '...'`), read from the rules file
/// itself so a new rule's types are picked up without a second list to keep in step.
fn checked_types() -> &'static Vec<String> {
    static TYPES: OnceLock<Vec<String>> = OnceLock::new();
    TYPES.get_or_init(|| {
        RULES_FILE
            .split("Type == '")
            .skip(1)
            .filter_map(|rest| rest.split('\'').next().map(str::to_owned))
            .collect()
    })
}

/// The types whose whole `Properties` a rule binds (`let x = Resources.*[ Type == 'T' ].Properties`)
/// and then reads by bare name: the view keeps all of their properties.
fn whole_properties_types() -> &'static Vec<String> {
    static TYPES: OnceLock<Vec<String>> = OnceLock::new();
    TYPES.get_or_init(|| {
        RULES_FILE
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("let ") && line.ends_with("].Properties"))
            .filter_map(|line| line.split("Type == '").nth(1)?.split('\'').next())
            .map(str::to_owned)
            .collect()
    })
}

/// The properties the rules read (`Properties.X`), from the rules file as well.
fn checked_properties() -> &'static Vec<String> {
    static PROPERTIES: OnceLock<Vec<String>> = OnceLock::new();
    PROPERTIES.get_or_init(|| {
        let mut names: Vec<String> = RULES_FILE
            .split("Properties.")
            .skip(1)
            .filter_map(|rest| {
                rest.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .map(str::to_owned)
            })
            .filter(|name| !name.is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

/// For a list property the rules read only item by item (`Properties.P[*].X`, and
/// never `Properties.P` otherwise), the item keys they read: the view keeps just those.
/// A task definition's container definitions are most of its size (environment,
/// secrets, logging), and the rules read two keys of them.
fn checked_item_keys() -> &'static Vec<(String, Vec<String>)> {
    static KEYS: OnceLock<Vec<(String, Vec<String>)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ident = |rest: &str| {
            rest.split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let mut read: Vec<(String, Option<String>)> = RULES_FILE
            .split("Properties.")
            .skip(1)
            .map(|rest| {
                let name = ident(rest);
                let item = rest[name.len()..].strip_prefix("[*].").map(ident);
                (name, item)
            })
            .collect();
        read.sort();
        read.dedup();
        let mut keys: Vec<(String, Vec<String>)> = Vec::new();
        for (name, _) in &read {
            let items: Option<Vec<String>> = read
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, item)| item.clone())
                .collect();
            if let Some(items) = items {
                if !keys.iter().any(|(n, _)| n == name) {
                    keys.push((name.clone(), items));
                }
            }
        }
        keys
    })
}

/// The resource attributes the rules read besides `Type` and `Properties` (as
/// `%db_instances.DeletionPolicy`): a resource's `Metadata` (checkov's suppressions),
/// `DependsOn` and the rest stay out of the view unless a rule names them.
fn checked_resource_keys() -> &'static Vec<&'static str> {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            "DeletionPolicy",
            "UpdateReplacePolicy",
            "DependsOn",
            "Condition",
            "Metadata",
            "CreationPolicy",
            "UpdatePolicy",
        ]
        .into_iter()
        .filter(|key| RULES_FILE.contains(&format!(".{key}")))
        .collect()
    })
}

/// A property's value as the view keeps it: list items cut to the keys the rules read,
/// where [`checked_item_keys`] knows them.
fn property_view(name: &str, value: &Value) -> Value {
    match (checked_item_keys().iter().find(|(n, _)| n == name), value) {
        (Some((_, keys)), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    Value::Object(fields) => Value::Object(
                        fields
                            .iter()
                            .filter(|(key, _)| keys.contains(key))
                            .map(|(key, v)| (key.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// Only what the rules can see: cfn-guard's cost grows with the document, and most of a
/// template (subnets, routes, alarms, the dashboard, container definitions) is of no
/// interest to any rule. Types and properties are both read from the rules file.
fn policy_view(template: &Value) -> Value {
    let types = checked_types();
    let properties = checked_properties();
    let resource_keys = checked_resource_keys();
    let resources: serde_json::Map<String, Value> = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| types.iter().any(|k| k == t))
        })
        .map(|(id, r)| {
            let whole = r["Type"]
                .as_str()
                .is_some_and(|t| whole_properties_types().iter().any(|k| k == t));
            // Copies only the properties kept: the others (tags, an ECS service's load
            // balancers and deployment settings) can be large, and copying them was wasted.
            let view: serde_json::Map<String, Value> = r
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(key, _)| {
                    key.as_str() == "Type"
                        || key.as_str() == "Properties"
                        || resource_keys.contains(&key.as_str())
                })
                .map(|(key, value)| match value {
                    Value::Object(props) if key == "Properties" => (
                        key.clone(),
                        Value::Object(
                            props
                                .iter()
                                .filter(|(name, _)| whole || properties.contains(name))
                                .map(|(name, v)| (name.clone(), property_view(name, v)))
                                .collect(),
                        ),
                    ),
                    _ => (key.clone(), value.clone()),
                })
                .collect();
            (id.clone(), Value::Object(view))
        })
        .collect();
    // Not `json!`, which would deep-copy `resources` once more through serde.
    let mut view = serde_json::Map::new();
    view.insert("Metadata".into(), template["Metadata"].clone());
    view.insert("Resources".into(), Value::Object(resources));
    Value::Object(view)
}

/// The rules, parsed once: parsing `policy/ferry.guard` costs more than evaluating it.
fn prepared() -> Result<&'static PreparedRules<'static>, PolicyError> {
    static PREPARED: OnceLock<Result<PreparedRules<'static>, String>> = OnceLock::new();
    PREPARED
        .get_or_init(|| PreparedRules::parse(RULES_FILE, "ferry.guard").map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PolicyError::Engine(e.clone()))
}

/// Runs every rule on `template`.
pub fn check(template: &Value, waivers: &[Waiver]) -> Result<PolicyReport, PolicyError> {
    let failed = prepared()?
        .evaluate(&policy_view(template), "template.json")
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let mut report = PolicyReport::default();
    for violation in violations(failed) {
        match waivers.iter().find(|w| w.rule == violation.rule) {
            Some(waiver) => report.waived.push((violation, waiver.reason.clone())),
            None => report.violations.push(violation),
        }
    }
    Ok(report)
}

/// The failed rules, with their messages, one violation per rule name.
fn violations(failed: Vec<FailedRule>) -> Vec<Violation> {
    let mut violations: Vec<Violation> = Vec::new();
    for FailedRule { rule, checks } in failed {
        let mut messages: Vec<String> = checks.iter().map(message).collect();
        messages.sort();
        messages.dedup();
        match violations.iter_mut().find(|v| v.rule == rule) {
            Some(existing) => existing.messages.extend(messages),
            None => violations.push(Violation { rule, messages }),
        }
    }
    violations
}

/// A failed check's message, as `LogicalId: what to fix`: the rule's message when it has
/// one, else cfn-guard's, and the resource named in cfn-guard's.
fn message(check: &FailedCheck) -> String {
    let error = &check.error_message;
    let custom = check
        .custom_message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let resource = error
        .split("/Resources/")
        .nth(1)
        .and_then(|rest| rest.split(['/', '[']).next())
        .unwrap_or("template");
    let message = custom.unwrap_or_else(|| error.split(" Value traversed").next().unwrap_or(error));
    format!("{resource}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The view is what keeps the check fast: it must keep every key a rule reads (the
    /// rule tests prove that by breaking them) and drop the rest.
    #[test]
    fn the_view_keeps_what_the_rules_read_and_drops_the_rest() {
        let template = json!({"Metadata": {"Ferry": {"Profile": "prod"}}, "Resources": {
            "Task": {"Type": "AWS::ECS::TaskDefinition", "DependsOn": "Role",
                     "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_1", "comment": "why"}]}},
                     "Properties": {"Family": "f", "ContainerDefinitions": [{
                         "Name": "web", "User": "1000", "ReadonlyRootFilesystem": true,
                         "Environment": [{"Name": "A", "Value": "b"}]}]}},
            "Database": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
                         "Properties": {"StorageEncrypted": true, "DBInstanceClass": "db.t4g.micro"}},
            "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.0.0/24"}}}});
        assert_eq!(
            policy_view(&template),
            json!({"Metadata": {"Ferry": {"Profile": "prod"}}, "Resources": {
                "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
                    {"User": "1000", "ReadonlyRootFilesystem": true}]}},
                "Database": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
                             "Properties": {"StorageEncrypted": true}}}})
        );
    }
}
