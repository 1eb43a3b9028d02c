//! What the checks of `infra/ferry.json` share: the repository's files, the template, the
//! templates Ferry generates, and the CloudFormation resource schemas cfn-lint ships.

use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `infra/ferry.json`.
pub fn ferry_template() -> Value {
    let text = std::fs::read_to_string(root().join("infra/ferry.json")).expect("infra/ferry.json");
    serde_json::from_str(&text).expect("infra/ferry.json is JSON")
}

pub fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().expect("Resources")
}

/// Every resource of `type_name`, by logical id.
pub fn of_type<'a>(template: &'a Value, type_name: &str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

/// Every example under every environment it has, as Ferry renders it: the templates
/// Ferry can generate.
pub fn generated_templates() -> Vec<(String, Value)> {
    let mut all = Vec::new();
    let examples = std::fs::read_dir(root().join("examples")).expect("examples/");
    let mut paths: Vec<PathBuf> = examples.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = AppSpec::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for env in spec.environment_names() {
            let environment = spec.new_environment(&env).unwrap();
            let (template, _) =
                ferry_core::infra::template::render(&environment, None, Colour::Blue)
                    .unwrap_or_else(|e| panic!("{}/{env}: {e}", path.display()));
            all.push((format!("{}/{env}", path.display()), template));
        }
    }
    all
}

/// The CloudFormation resource schemas that cfn-lint ships, in the project's virtualenv
/// (`scripts/setup` installs it; `make test` runs setup first).
pub fn schemas_dir() -> PathBuf {
    let lib = root().join(".venv/lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|_| panic!("{} is missing: run scripts/setup, which installs cfn-lint and its resource schemas", lib.display()))
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("python3")))
        .expect("a python3.* folder in .venv/lib");
    python.join("site-packages/cfnlint/data/schemas")
}

/// The permissions of the create, update and delete handlers of each type, from its
/// resource schema, with the types that need each.
pub fn handler_permissions(types: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let schemas = schemas_dir();
    let providers: Value = serde_json::from_str(
        &std::fs::read_to_string(schemas.join("providers/us-east-1.json")).unwrap(),
    )
    .unwrap();
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for type_name in types {
        let file = providers[type_name]
            .as_str()
            .unwrap_or_else(|| panic!("cfn-lint has no schema for {type_name}"));
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(schemas.join(format!("resources/{file}.json"))).unwrap(),
        )
        .unwrap();
        for handler in ["create", "update", "delete"] {
            for permission in schema["handlers"][handler]["permissions"]
                .as_array()
                .into_iter()
                .flatten()
            {
                needed
                    .entry(permission.as_str().unwrap().to_owned())
                    .or_default()
                    .insert(type_name.clone());
            }
        }
    }
    needed
}

/// A statement's actions, whether one string or a list.
pub fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(list) => list
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        _ => vec![],
    }
}

/// The statements of a role's inline policies, with `Fn::If` statements taken as if
/// their condition held.
pub fn inline_statements(role: &Value) -> Vec<Value> {
    role["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|s| match s.get("Fn::If") {
            Some(branches) => branches[1].clone(),
            None => s,
        })
        .collect()
}
