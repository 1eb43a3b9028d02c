//! Environment against environment: will prod behave like staging did? Both templates
//! are generated from the spec each stack runs, names normalised (`shop-staging-web`
//! and `shop-prod-web` are one name), and every remaining difference is named by what
//! explains it: the profile (dev, staging, prod, with the spec's `settings`), the
//! spec's own values for that environment (its `environments.<env>` overrides, or a
//! spec saved at another version), or nothing, which is the difference to look at.
//! Each environment's live drift, from its latest check, is listed beside it.

use crate::infra::live_drift::{equivalent, LiveDrift};
use crate::infra::template;
use crate::model::Environment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Explanation {
    /// The releases (or live colours) they run: images, config, which colour serves.
    Release,
    /// The environments' profiles differ here (retention, Multi-AZ, deletion protection...).
    Profile,
    /// The spec says so for one of them: an `environments.<env>` override, or a spec
    /// saved at another version; `spec_fields` names the fields.
    Spec,
    /// Neither explains it.
    Unexplained,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvDifference {
    /// `Resources.Database.Properties.BackupRetentionPeriod`, or a resource only one has.
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
    pub explained_by: Explanation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvComparison {
    pub app: String,
    pub from: String,
    pub to: String,
    pub differences: Vec<EnvDifference>,
    /// Spec fields that differ (profile aside), with each side's value.
    pub spec_fields: Vec<EnvDifference>,
    /// Each side's live drift from its latest check (drift lines only).
    pub from_drift: Vec<LiveDrift>,
    pub to_drift: Vec<LiveDrift>,
}

impl EnvComparison {
    pub fn unexplained(&self) -> usize {
        self.differences
            .iter()
            .filter(|d| d.explained_by == Explanation::Unexplained)
            .count()
    }
}

/// The template of `env` with every spelling of its own name replaced by `{env}`, so
/// two environments' templates line up.
fn normalised(env: &Environment) -> Value {
    let t = template::generate(env, env.deployed_release.as_ref(), env.live_colour);
    let text = t.to_string();
    let own = format!("{}-{}", env.app, env.name);
    let text = text
        .replace(&own, "{app}-{env}")
        .replace(&format!("{}/{}", env.app, env.name), "{app}/{env}")
        .replace(&format!("\"{}\"", env.name), "\"{env}\"")
        .replace(&format!("/{}/", env.name), "/{env}/");
    serde_json::from_str(&text).unwrap_or(t)
}

/// Leaves that differ between `a` and `b`, by path.
fn leaves(
    path: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(&p, x.get(k), y.get(k), out);
            }
        }
        (Some(x), Some(y)) if equivalent(x, y) => {}
        // Lists of named things (services) by name, other lists by position.
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            let named = |v: &Vec<Value>| -> Option<Vec<(String, Value)>> {
                v.iter()
                    .map(|e| Some((e.get("name")?.as_str()?.to_owned(), e.clone())))
                    .collect()
            };
            let by_position = |v: &Vec<Value>| -> Vec<(String, Value)> {
                v.iter()
                    .enumerate()
                    .map(|(i, e)| (i.to_string(), e.clone()))
                    .collect()
            };
            let (x, y) = match (named(x), named(y)) {
                (Some(x), Some(y)) => (x, y),
                _ => (by_position(x), by_position(y)),
            };
            let keys: BTreeSet<&String> = x.iter().chain(&y).map(|(k, _)| k).collect();
            for k in keys {
                let find = |list: &Vec<(String, Value)>| {
                    list.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
                };
                leaves(
                    &format!("{path}.{k}"),
                    find(&x).as_ref(),
                    find(&y).as_ref(),
                    out,
                );
            }
        }
        (None, None) => {}
        _ => out.push((path.to_owned(), a.cloned(), b.cloned())),
    }
}

fn diff(a: &Value, b: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    let mut out = Vec::new();
    leaves("", Some(a), Some(b), &mut out);
    out
}

/// Compares `from` with `to` (each with its latest live drift, if any).
pub fn compare(
    from: &Environment,
    to: &Environment,
    from_drift: Vec<LiveDrift>,
    to_drift: Vec<LiveDrift>,
) -> EnvComparison {
    let (from, to) = (from.as_deployed(), to.as_deployed());
    // `from` with `to`'s release, then also `to`'s profile: a difference the first
    // substitution removes is the release's, one the second removes the profile's.
    let mut released = from.clone();
    released.deployed_release = to.deployed_release.clone();
    released.live_colour = to.live_colour;
    let mut reprofiled = released.clone();
    reprofiled.spec.profile_name = to.spec.profile_name;
    reprofiled.spec.profile = to.spec.profile.clone();
    let (a, b) = (normalised(&from), normalised(&to));
    let paths = |x: &Environment| -> BTreeSet<String> {
        diff(&normalised(x), &b).into_iter().map(|d| d.0).collect()
    };
    let (not_release, not_profile) = (paths(&released), paths(&reprofiled));

    let spec_json = |e: &Environment| {
        let mut v = serde_json::to_value(&e.spec).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.remove("profile");
            m.remove("profile_name");
        }
        v
    };
    let spec_fields: Vec<EnvDifference> = diff(&spec_json(&from), &spec_json(&to))
        .into_iter()
        .map(|(path, from, to)| EnvDifference {
            path,
            from,
            to,
            explained_by: Explanation::Spec,
        })
        .collect();

    let differences = diff(&a, &b)
        .into_iter()
        .map(|(path, x, y)| {
            let explained_by = if !not_release.contains(&path) {
                Explanation::Release
            } else if !not_profile.contains(&path) {
                Explanation::Profile
            } else if !spec_fields.is_empty() {
                Explanation::Spec
            } else {
                Explanation::Unexplained
            };
            EnvDifference {
                path,
                from: x,
                to: y,
                explained_by,
            }
        })
        .collect();
    EnvComparison {
        app: from.app.to_string(),
        from: from.name.to_string(),
        to: to.name.to_string(),
        differences,
        spec_fields,
        from_drift: from_drift.into_iter().filter(LiveDrift::is_drift).collect(),
        to_drift: to_drift.into_iter().filter(LiveDrift::is_drift).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::spec::AppSpec;

    fn envs(text: &str) -> (Environment, Environment) {
        let spec = AppSpec::parse(text).unwrap();
        (
            spec.new_environment("staging").unwrap(),
            spec.new_environment("prod").unwrap(),
        )
    }

    #[test]
    fn one_spec_under_two_profiles_differs_only_by_profile() {
        let (staging, prod) = envs(include_str!("../../../../examples/shop.json"));
        let c = compare(&staging, &prod, vec![], vec![]);
        assert!(!c.differences.is_empty());
        assert_eq!(c.spec_fields, []);
        let unexplained: Vec<&EnvDifference> = c
            .differences
            .iter()
            .filter(|d| d.explained_by != Explanation::Profile)
            .collect();
        assert_eq!(unexplained, Vec::<&EnvDifference>::new());
        assert!(c.differences.iter().any(|d| d.path
            == "Resources.Database.Properties.DeletionProtection"
            && d.explained_by == Explanation::Profile));
    }

    #[test]
    fn an_override_is_named_as_the_spec_and_names_its_field() {
        let (staging, prod) = envs(include_str!(
            "../../../../examples/web-postgres-valkey.yaml"
        ));
        let c = compare(&staging, &prod, vec![], vec![]);
        assert!(
            c.spec_fields.iter().any(|f| f.path.starts_with("services")),
            "{:#?}",
            c.spec_fields
        );
        assert!(c
            .differences
            .iter()
            .any(|d| d.explained_by == Explanation::Spec));
        assert_eq!(c.unexplained(), 0);
    }

    #[test]
    fn the_same_environment_has_no_differences() {
        let (staging, _) = envs(include_str!("../../../../examples/shop.json"));
        let c = compare(&staging, &staging, vec![], vec![]);
        assert_eq!(c.differences, []);
    }
}
