//! Who may do what. Callers are identified by API Gateway (JWT claims or the IAM
//! principal); their role comes from an access policy stored with Ferry's state, mapping
//! principals and groups to roles. Roles are ordered: each includes the ones below.

use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads apps, environments, promotions and reports.
    Viewer,
    /// Records releases and starts promotions.
    Deployer,
    /// Approves or rejects promotions.
    Approver,
    /// Creates apps and environments, and edits the access policy.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Deployer, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Deployer => "deployer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A caller as the API saw them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// What Ferry shows and records, and what access policies name: the JWT's email (or
    /// subject), or the IAM caller's ARN. Empty: anonymous.
    pub principal: String,
    /// Who the caller is, stably, for telling people apart (a requester approving their
    /// own promotion): the JWT's `sub`; for an assumed IAM role, the role's ARN plus its
    /// `sts:SourceIdentity` where there is one, so re-assuming the role under a new
    /// session name is not a new person. See [`stable_iam_principal`].
    pub stable: String,
    /// JWT group claims; for an assumed IAM role, the role's ARN.
    pub groups: Vec<String>,
}

impl Identity {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A JWT caller: shown by email (else subject), told apart by subject (else email,
    /// when the token has no `sub`).
    pub fn jwt(email: Option<&str>, sub: Option<&str>, groups: Vec<String>) -> Self {
        fn non_empty(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        match (non_empty(email), non_empty(sub)) {
            (None, None) => Self::anonymous(),
            (email, sub) => {
                let shown = email.or(sub).expect("one is set");
                Self {
                    principal: shown.to_owned(),
                    stable: sub.or(email).expect("one is set").to_owned(),
                    groups,
                }
            }
        }
    }

    /// An IAM caller, by the ARN API Gateway's IAM authorizer passes (`userArn`).
    pub fn iam(arn: &str, source_identity: Option<&str>) -> Self {
        if arn.trim().is_empty() {
            return Self::anonymous();
        }
        Self {
            principal: arn.to_owned(),
            stable: stable_iam_principal(arn, source_identity),
            groups: iam_groups(arn),
        }
    }

    /// A caller named in local-identity mode: the name is both.
    pub fn named(name: &str, groups: Vec<String>) -> Self {
        Self {
            principal: name.to_owned(),
            stable: name.to_owned(),
            groups,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.principal.is_empty()
    }

    /// How the caller is recorded on promotions and approvals.
    pub fn name(&self) -> &str {
        if self.is_anonymous() {
            "anonymous"
        } else {
            &self.principal
        }
    }

    /// The caller as promotions and approvals record them: shown name and stable
    /// principal.
    pub fn actor(&self) -> crate::model::Actor {
        crate::model::Actor {
            name: self.name().to_owned(),
            principal: if self.stable.is_empty() {
                self.name().to_owned()
            } else {
                self.stable.clone()
            },
        }
    }

    /// The names an access policy (or the admin list) may know the caller by.
    fn names(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.principal)
            .chain((self.stable != self.principal).then_some(&self.stable))
    }
}

/// An IAM caller's stable principal. An assumed role's session
/// (`arn:aws:sts::123456789012:assumed-role/Releasers/ana-1`) is the role
/// (`arn:aws:iam::123456789012:role/Releasers`), plus `#<source identity>` when the
/// session carries `sts:SourceIdentity`: the session name is whatever the caller chose
/// when assuming the role, so it cannot tell people apart, while a source identity is
/// set once and kept through role chaining. Anything else (an IAM user) is its ARN.
pub fn stable_iam_principal(arn: &str, source_identity: Option<&str>) -> String {
    let base = iam_groups(arn)
        .into_iter()
        .next()
        .unwrap_or_else(|| arn.to_owned());
    match source_identity.map(str::trim).filter(|s| !s.is_empty()) {
        Some(source) => format!("{base}#{source}"),
        None => base,
    }
}

/// The stored mapping from principals and groups to roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicy {
    #[serde(default)]
    pub principals: BTreeMap<String, Role>,
    #[serde(default)]
    pub groups: BTreeMap<String, Role>,
}

impl AccessPolicy {
    /// The highest role any of the caller's principal or groups maps to. `admins` are
    /// the principals Ferry's own deployment names, so an empty policy never locks
    /// everyone out.
    pub fn role_of(&self, identity: &Identity, admins: &[String]) -> Option<Role> {
        if identity.is_anonymous() {
            return None;
        }
        if identity.names().any(|name| admins.contains(name)) {
            return Some(Role::Admin);
        }
        let by_principal = identity
            .names()
            .filter_map(|name| self.principals.get(name).copied())
            .max();
        let by_group = identity
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g).copied())
            .max();
        by_principal.max(by_group)
    }

    /// Reads a `PUT /access` body, naming every bad entry.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = body.as_object() else {
            errors.push("body", "must be a JSON object");
            return Err(errors);
        };
        let mut policy = AccessPolicy::default();
        for (key, value) in object {
            let target = match key.as_str() {
                "principals" => &mut policy.principals,
                "groups" => &mut policy.groups,
                other => {
                    errors.push(other, "is not a known field; use principals, groups");
                    continue;
                }
            };
            let Some(entries) = value.as_object() else {
                errors.push(key.clone(), "must be an object of name -> role");
                continue;
            };
            for (name, role) in entries {
                let field = format!("{key}.{name}");
                if name.trim().is_empty() {
                    errors.push(field, "a name must not be empty");
                    continue;
                }
                match role.as_str().and_then(Role::parse) {
                    Some(role) => {
                        target.insert(name.clone(), role);
                    }
                    None => errors.push(
                        field,
                        format!("{role} is not a role; use viewer, deployer, approver or admin"),
                    ),
                }
            }
        }
        errors.into_result().map(|()| policy)
    }
}

/// The group claim of a JWT as API Gateway passes it: a JSON array, or the bracketed,
/// space-separated string HTTP APIs make of array claims (`[ops admins]`).
pub fn groups_claim(value: &str) -> Vec<String> {
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(value) {
        return items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
    }
    value
        .trim_matches(|c| c == '[' || c == ']')
        .split([' ', ','])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An assumed role's session ARN names its role: that role is the caller's group, so
/// policies can map roles rather than sessions.
pub fn iam_groups(principal_arn: &str) -> Vec<String> {
    // arn:aws:sts::123456789012:assumed-role/RoleName/session
    let parts: Vec<&str> = principal_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, partition, "sts", _, account, resource] => {
            match resource.split('/').collect::<Vec<_>>().as_slice() {
                ["assumed-role", role, ..] => {
                    vec![format!("arn:{partition}:iam::{account}:role/{role}")]
                }
                _ => vec![],
            }
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn who(principal: &str, groups: &[&str]) -> Identity {
        Identity::named(principal, groups.iter().map(|g| g.to_string()).collect())
    }

    #[test]
    fn the_highest_mapped_role_wins_and_admins_are_always_admin() {
        let policy = AccessPolicy::parse(&json!({
            "principals": {"ana@example.com": "deployer"},
            "groups": {"approvers": "approver", "everyone": "viewer"}
        }))
        .unwrap();
        assert_eq!(
            policy.role_of(&who("ana@example.com", &["everyone"]), &[]),
            Some(Role::Deployer)
        );
        assert_eq!(
            policy.role_of(&who("bo@example.com", &["everyone", "approvers"]), &[]),
            Some(Role::Approver)
        );
        assert_eq!(policy.role_of(&who("cy@example.com", &[]), &[]), None);
        assert_eq!(
            policy.role_of(&who("root@example.com", &[]), &["root@example.com".into()]),
            Some(Role::Admin)
        );
        assert_eq!(policy.role_of(&Identity::anonymous(), &["".into()]), None);
        assert!(
            Role::Admin > Role::Approver
                && Role::Approver > Role::Deployer
                && Role::Deployer > Role::Viewer
        );
    }

    #[test]
    fn bad_policies_name_every_entry() {
        let errors = AccessPolicy::parse(&json!({
            "principals": {"ana": "owner"}, "teams": {}, "groups": []
        }))
        .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("principals.ana: \"owner\" is not a role"),
            "{text}"
        );
        assert!(text.contains("teams: is not a known field"), "{text}");
        assert!(text.contains("groups: must be an object"), "{text}");
    }

    #[test]
    fn group_claims_and_assumed_roles() {
        assert_eq!(groups_claim("[ops admins]"), ["ops", "admins"]);
        assert_eq!(groups_claim("[\"ops\",\"admins\"]"), ["ops", "admins"]);
        assert_eq!(
            iam_groups("arn:aws:sts::123456789012:assumed-role/Deployers/ana"),
            ["arn:aws:iam::123456789012:role/Deployers"]
        );
        assert!(iam_groups("arn:aws:iam::123456789012:user/ana").is_empty());
    }

    #[test]
    fn a_role_is_one_principal_whatever_the_session_name() {
        let first = Identity::iam(
            "arn:aws:sts::123456789012:assumed-role/Releasers/ana-1",
            None,
        );
        let again = Identity::iam(
            "arn:aws:sts::123456789012:assumed-role/Releasers/ana-2",
            None,
        );
        assert_ne!(first.principal, again.principal, "shown as the session");
        assert_eq!(first.stable, "arn:aws:iam::123456789012:role/Releasers");
        assert_eq!(first.actor().principal, again.actor().principal);
        // A source identity, set once when the role is first assumed, tells people apart.
        let ana = Identity::iam(
            "arn:aws:sts::123456789012:assumed-role/Releasers/x",
            Some("ana@example.com"),
        );
        let bo = Identity::iam(
            "arn:aws:sts::123456789012:assumed-role/Releasers/x",
            Some("bo@example.com"),
        );
        assert_eq!(
            ana.stable,
            "arn:aws:iam::123456789012:role/Releasers#ana@example.com"
        );
        assert_ne!(ana.actor().principal, bo.actor().principal);
        // An IAM user is its ARN; other partitions keep theirs.
        assert_eq!(
            stable_iam_principal("arn:aws:iam::123456789012:user/ana", None),
            "arn:aws:iam::123456789012:user/ana"
        );
        assert_eq!(
            stable_iam_principal("arn:aws-cn:sts::123456789012:assumed-role/R/s", Some(" ")),
            "arn:aws-cn:iam::123456789012:role/R"
        );
    }

    #[test]
    fn a_jwt_caller_is_told_apart_by_subject_and_shown_by_email() {
        let ana = Identity::jwt(Some("ana@example.com"), Some("sub-1"), vec![]);
        assert_eq!(
            (ana.name(), ana.stable.as_str()),
            ("ana@example.com", "sub-1")
        );
        // The same person with a changed email is still the same subject.
        let renamed = Identity::jwt(Some("ana.b@example.com"), Some("sub-1"), vec![]);
        assert_eq!(ana.actor().principal, renamed.actor().principal);
        assert_eq!(
            Identity::jwt(Some("bo@example.com"), None, vec![]).stable,
            "bo@example.com"
        );
        assert!(Identity::jwt(None, Some(""), vec![]).is_anonymous());
    }

    #[test]
    fn policies_and_admins_may_name_the_role_rather_than_the_session() {
        let session = Identity::iam(
            "arn:aws:sts::123456789012:assumed-role/platform-admins/ana",
            None,
        );
        let admins = ["arn:aws:iam::123456789012:role/platform-admins".to_owned()];
        assert_eq!(
            AccessPolicy::default().role_of(&session, &admins),
            Some(Role::Admin)
        );
        let policy = AccessPolicy::parse(&json!({
            "principals": {"arn:aws:iam::123456789012:role/platform-admins": "approver"}
        }))
        .unwrap();
        assert_eq!(policy.role_of(&session, &[]), Some(Role::Approver));
    }
}
