//! Policy: cfn-guard rules run on every generated template. A failed rule is an error
//! unless the environment waives it with a reason.
//!
//! Three sets of rules apply: Ferry's own (`policy/ferry.guard`), the account's (a rules
//! file named in the configuration, installed once at start-up), and the app's own (the
//! spec's `policy.rules`). Each is parsed once per process, and evaluated on its own view
//! of the template: the part its rules can read, derived by cfn-guard from the parsed
//! rules, which keeps the check fast whatever the rules are.

use crate::infra::spec::Waiver;
use crate::validation::FieldError;
use cfn_guard::{FailedCheck, FailedRule, PreparedRules};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

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
    /// How many rules were checked: Ferry's, the account's and the app's.
    #[serde(default)]
    pub rules_checked: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("cfn-guard could not evaluate the template against {rules}: {message}")]
    Engine {
        rules: &'static str,
        message: String,
    },
    #[error("account policy rules are already installed; a process has one set")]
    AccountRulesInstalled,
}

/// Policy rules a team wrote (an app's, or an account's): cfn-guard rules text that
/// parses, defines at least one rule, and names none of Ferry's own rules, so a waiver's
/// rule name always means one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyRules(String);

impl PolicyRules {
    /// `field` names where the text came from in the error (`policy.rules`, a file, a
    /// variable); the message is cfn-guard's when the text does not parse.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let names = prepared(text, |rules| {
            rules
                .rule_names()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map_err(|message| FieldError::new(field, message))?;
        if names.is_empty() {
            return Err(FieldError::new(
                field,
                "defines no rule: write `rule <name> { ... }`, the name being what a waiver names",
            ));
        }
        if let Some(own) = names.iter().find(|n| RULES.iter().any(|r| r.name == *n)) {
            return Err(FieldError::new(
                field,
                format!("rule {own} is one of Ferry's own rules; give yours another name"),
            ));
        }
        Ok(PolicyRules(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The rules' names, in the order they are written.
    pub fn rule_names(&self) -> Vec<String> {
        prepared(&self.0, |rules| {
            rules.rule_names().into_iter().map(str::to_owned).collect()
        })
        .unwrap_or_default()
    }
}

impl TryFrom<String> for PolicyRules {
    type Error = FieldError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse("policy.rules", &text)
    }
}

impl From<PolicyRules> for String {
    fn from(rules: PolicyRules) -> String {
        rules.0
    }
}

/// At most this many distinct rules texts are kept parsed; past it (a long-running
/// process fed many different specs), a text is parsed each time it is checked.
const CACHED_TEXTS: usize = 256;

/// Runs `f` on `text` parsed, parsing each distinct text once per process: parsing costs
/// more than evaluating. A text that does not parse is an error with cfn-guard's message.
fn prepared<T>(text: &str, f: impl FnOnce(&PreparedRules<'_>) -> T) -> Result<T, String> {
    type Cache = Mutex<HashMap<String, &'static PreparedRules<'static>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let cached = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(text)
        .copied();
    if let Some(rules) = cached {
        return Ok(f(rules));
    }
    let full = cache.lock().unwrap_or_else(|e| e.into_inner()).len() >= CACHED_TEXTS;
    if full {
        return Ok(f(&parse(text)?));
    }
    // Leaked so the parsed rules can borrow it for the life of the process, as the
    // built-in rules borrow their `&'static str`: bounded by `CACHED_TEXTS`.
    know_class_cases();
    let text: &'static str = Box::leak(text.to_owned().into_boxed_str());
    let rules: &'static PreparedRules<'static> = Box::leak(Box::new(parse(text)?));
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(text.to_owned(), rules);
    Ok(f(rules))
}

/// cfn-guard's parser on text a team wrote: an internal error (a panic) is reported as
/// the text's problem rather than taking the process down.
fn parse(text: &str) -> Result<PreparedRules<'_>, String> {
    catch_unwind(|| PreparedRules::parse(text, "policy.rules"))
        .map_err(|_| {
            "cfn-guard failed on these rules (an internal error while parsing)".to_owned()
        })?
        .map_err(|e| {
            format!(
                "cfn-guard rejects these rules: {}",
                one_line(&e.to_string())
            )
        })
}

/// cfn-guard's parse errors quote the rest of the text from where parsing stopped, over
/// many lines: on one line, and cut short, an error reads as one (the CLI's are one line).
fn one_line(message: &str) -> String {
    const MAX: usize = 300;
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &flat[..cut]),
        None => flat,
    }
}

/// Ferry's own rules, parsed once.
fn builtin() -> &'static PreparedRules<'static> {
    static PREPARED: OnceLock<PreparedRules<'static>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        know_class_cases();
        PreparedRules::parse(RULES_FILE, "ferry.guard").expect("Ferry's own rules parse")
    })
}

/// Gives cfn-guard the class-case spellings of the keys Ferry's rules read, computed
/// ahead of time (`class_cases.rs`, kept in step by a test), so that a process checking one
/// template does not compile cruet's singularization regexes: that was half of
/// `ferry template`'s time. Keys other rules read are spelled by cruet as before.
fn know_class_cases() {
    cfn_guard::prepared::know_class_cases(super::class_cases::CLASS_CASES);
}

static ACCOUNT_RULES: OnceLock<PolicyRules> = OnceLock::new();

/// Makes `rules` the account's for the rest of the process: read from the configuration
/// at start-up, before any spec is parsed, since they decide which waivers are valid.
/// Installing the same rules again is allowed; other rules are an error.
pub fn install_account_rules(rules: PolicyRules) -> Result<(), PolicyError> {
    let installed = ACCOUNT_RULES.get_or_init(|| rules.clone());
    if *installed == rules {
        Ok(())
    } else {
        Err(PolicyError::AccountRulesInstalled)
    }
}

/// The account's rules, if the configuration named any.
pub fn account_rules() -> Option<&'static PolicyRules> {
    ACCOUNT_RULES.get()
}

/// The rules that apply to an app's templates: Ferry's, the account's and the app's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy<'a> {
    pub account: Option<&'a PolicyRules>,
    pub app: Option<&'a PolicyRules>,
}

impl<'a> Policy<'a> {
    /// Ferry's rules, the account's installed with [`install_account_rules`], and `app`'s.
    pub fn for_app(app: Option<&'a PolicyRules>) -> Policy<'a> {
        Policy {
            account: account_rules(),
            app,
        }
    }

    /// Every rule's name: what a waiver may name.
    pub fn rule_names(&self) -> Vec<String> {
        let mut names: Vec<String> = RULES.iter().map(|r| r.name.to_owned()).collect();
        for rules in [self.account, self.app].into_iter().flatten() {
            names.extend(rules.rule_names());
        }
        names
    }

    /// Runs every rule on `template`; a failed rule that `waivers` names is waived.
    pub fn check(&self, template: &Value, waivers: &[Waiver]) -> Result<PolicyReport, PolicyError> {
        let mut failed = evaluate(builtin(), template, "Ferry's rules")?;
        let mut rules_checked = RULES.len();
        for (rules, which) in [
            (self.account, "the account's rules"),
            (self.app, "the app's policy.rules"),
        ] {
            let Some(rules) = rules else { continue };
            let (names, result) = prepared(rules.as_str(), |prepared| {
                (
                    prepared.rule_names().len(),
                    evaluate(prepared, template, which),
                )
            })
            .map_err(|message| PolicyError::Engine {
                rules: which,
                message,
            })?;
            rules_checked += names;
            failed.extend(result?);
        }
        let mut report = PolicyReport {
            rules_checked,
            ..PolicyReport::default()
        };
        for violation in violations(failed) {
            match waivers.iter().find(|w| w.rule == violation.rule) {
                Some(waiver) => report.waived.push((violation, waiver.reason.clone())),
                None => report.violations.push(violation),
            }
        }
        Ok(report)
    }
}

/// Runs Ferry's rules and the account's on `template`, as [`Policy::check`].
pub fn check(template: &Value, waivers: &[Waiver]) -> Result<PolicyReport, PolicyError> {
    Policy::for_app(None).check(template, waivers)
}

/// `rules` on their view of `template`. cfn-guard's internal errors (panics, which rules
/// a team wrote may reach) are reported as errors, not a crashed process.
fn evaluate(
    rules: &PreparedRules<'_>,
    template: &Value,
    which: &'static str,
) -> Result<Vec<FailedRule>, PolicyError> {
    let engine = |message: String| PolicyError::Engine {
        rules: which,
        message,
    };
    catch_unwind(AssertUnwindSafe(|| {
        rules.evaluate(&rules.view(template), "template.json")
    }))
    .map_err(|_| engine("an internal error in cfn-guard (a panic)".into()))?
    .map_err(|e| engine(e.to_string()))
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
    #[test]
    fn the_class_case_table_is_cruets_for_every_key_the_rules_read() {
        let expected: Vec<(String, String)> = super::builtin()
            .keys_read()
            .into_iter()
            .map(|key| {
                (
                    key.to_owned(),
                    cfn_guard::prepared::class_case_by_cruet(key),
                )
            })
            .collect();
        let table: Vec<(String, String)> = super::super::class_cases::CLASS_CASES
            .iter()
            .map(|(key, class)| (key.to_string(), class.to_string()))
            .collect();
        if table != expected {
            let mut text = String::from(CLASS_CASES_HEADER);
            for (key, class) in &expected {
                text.push_str(&format!("    ({key:?}, {class:?}),\n"));
            }
            text.push_str("];\n");
            if std::env::var_os("FERRY_BLESS").is_some() {
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/infra/class_cases.rs");
                std::fs::write(path, text).unwrap();
            } else {
                panic!("src/infra/class_cases.rs is out of step with policy/ferry.guard: rerun this test with FERRY_BLESS=1 to rewrite it");
            }
        }
    }

    const CLASS_CASES_HEADER: &str = "\
//! Generated by `FERRY_BLESS=1 cargo test -p ferry-core class_case_table`; do not edit.
//! Each key Ferry's policy rules read, with its class-case spelling by cruet, which
//! cfn-guard tries when a document lacks the key (see `policy::know_class_cases`).

pub const CLASS_CASES: &[(&str, &str)] = &[
";

    use super::*;
    use serde_json::json;

    /// The view is what keeps the check fast: it must keep every key a rule reads (the
    /// rule tests prove that by breaking them) and drop the rest: here, resources of types
    /// no rule selects, keys no rule names, and a task's container settings but the two read.
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
        assert!(!builtin().views_everything());
        assert_eq!(
            *builtin().view(&template),
            json!({"Metadata": {"Ferry": {"Profile": "prod"}}, "Resources": {
                "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
                    {"User": "1000", "ReadonlyRootFilesystem": true}]}},
                "Database": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
                             "Properties": {"StorageEncrypted": true}}}})
        );
    }
}
