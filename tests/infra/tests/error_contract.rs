//! One error contract: the names the functions return (`ferry_core::error::ErrorName`) are
//! the names the promotion state machine's `Retry` and `Catch` blocks match, and the names
//! the documentation lists.

use ferry_core::error::ErrorName;
use serde_json::Value;

fn state_machine() -> Value {
    let text = std::fs::read_to_string(infra::root().join("state-machines/promotion.asl.json"))
        .expect("the state machine");
    serde_json::from_str(&text).expect("JSON")
}

/// Every state, with nested branches (Parallel, Map) walked into.
fn states(machine: &Value) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for (name, state) in machine["States"].as_object().expect("States") {
        all.push((name.clone(), state.clone()));
        for branch in state["Branches"].as_array().into_iter().flatten() {
            all.extend(states(branch));
        }
        for key in ["Iterator", "ItemProcessor"] {
            if state.get(key).is_some() {
                all.extend(states(&state[key]));
            }
        }
    }
    all
}

#[test]
fn every_name_the_state_machine_matches_is_one_the_functions_return() {
    let machine = state_machine();
    let mut matched = Vec::new();
    for (state, body) in states(&machine) {
        for block in ["Retry", "Catch"] {
            for rule in body[block].as_array().into_iter().flatten() {
                for name in rule["ErrorEquals"].as_array().expect("ErrorEquals") {
                    let name = name.as_str().unwrap();
                    // States.* and Lambda.* are Step Functions' and Lambda's own names.
                    let aws = name.starts_with("States.") || name.starts_with("Lambda.");
                    assert!(
                        aws || ErrorName::parse(name).is_some(),
                        "{state}.{block} matches {name}, which no Ferry function returns"
                    );
                    matched.push(name.to_owned());
                }
            }
        }
    }
    assert!(
        matched.contains(&"TransientError".to_owned()),
        "{matched:?}"
    );
}

#[test]
fn every_task_catches_everything() {
    for (state, body) in states(&state_machine()) {
        if body["Type"] != "Task" {
            continue;
        }
        let catches_all = body["Catch"].as_array().into_iter().flatten().any(|rule| {
            rule["ErrorEquals"]
                .as_array()
                .is_some_and(|names| names.iter().any(|n| n == "States.ALL"))
        });
        assert!(catches_all, "Task {state} has no Catch of States.ALL");
    }
}

#[test]
fn every_name_the_documentation_lists_is_real_and_every_real_name_is_listed() {
    let doc = std::fs::read_to_string(infra::root().join(ERROR_TABLE)).unwrap();
    let section = doc
        .split(ERROR_SECTION)
        .nth(1)
        .unwrap_or_else(|| panic!("{ERROR_TABLE} has no {ERROR_SECTION:?} section"))
        .split("\n#")
        .next()
        .unwrap();
    let listed: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split(','))
        .map(|name| name.trim().trim_matches('`'))
        .collect();
    for name in &listed {
        assert!(
            ErrorName::parse(name).is_some(),
            "{ERROR_TABLE} lists {name}, which is no error name"
        );
    }
    for name in ErrorName::ALL {
        assert!(
            listed.contains(&name.as_str()),
            "{ERROR_TABLE} does not list {name}"
        );
    }
}

/// Where the error names are documented, and under which heading.
const ERROR_TABLE: &str = "docs/architecture.md";
const ERROR_SECTION: &str = "\n## Function error names\n";
