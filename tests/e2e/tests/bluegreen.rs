//! Blue/green promotions on moto: the new colour is smoke-checked in its own target
//! group with no users on it, then takes all traffic while the old colour stays warm
//! for the bake. A new colour with no healthy targets never takes traffic.

use e2e::{listener_weights, put_target_metrics, seed_app, seed_app_with, unique_app, Local};
use serde_json::{json, Value};
use std::time::Duration;

async fn promote(local: &Local, app: &str) -> (String, Vec<String>, Value) {
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "BlueGreen"});
    let started = local
        .api("POST", "/promotions", Some(&body), &[])
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(300))
        .await
        .unwrap();
    let states = local.states_entered(&execution).await.unwrap();
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await
        .unwrap()
        .body;
    (status, states, record)
}

fn step<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {record}"))
}

#[tokio::test]
async fn blue_green_smoke_checks_switches_and_bakes() {
    let local = Local::connect().await;
    let app = unique_app("bg");
    seed_app(&local, &app).await.unwrap();
    let (status, states, record) = promote(&local, &app).await;
    println!("blue/green: {status}; {}", states.join(" -> "));
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(
        step(&record, "Shift 1")["detail"]["weights"],
        json!({"blue": 100, "green": 0})
    );
    assert_eq!(
        step(&record, "Analyse 1")["detail"]["smoke"]["web"]["healthy_hosts"],
        2.0
    );
    assert_eq!(
        step(&record, "Shift 2")["detail"]["weights"],
        json!({"blue": 0, "green": 100})
    );
    assert_eq!(step(&record, "Shift 2")["detail"]["bake_seconds"], 1);
    assert_eq!(
        listener_weights(&local, &format!("ferry-{app}-staging"))
            .await
            .unwrap(),
        [0, 100]
    );
}

#[tokio::test]
async fn a_new_colour_without_healthy_targets_never_takes_traffic() {
    let local = Local::connect().await;
    let app = unique_app("bgfail");
    seed_app_with(&local, &app, e2e::fast_promotions())
        .await
        .unwrap();
    // The old colour is healthy; the new one reports no healthy hosts at all.
    put_target_metrics(&local, &format!("ferry-{app}-staging"), "blue", 0.2, 120)
        .await
        .unwrap();
    let (status, states, record) = promote(&local, &app).await;
    println!("blue/green rollback: {status}; {}", states.join(" -> "));
    assert_eq!(status, "FAILED");
    assert_eq!(record["status"], "RolledBack");
    let smoke = step(&record, "Analyse 1");
    assert_eq!(smoke["detail"]["error"], "SmokeFailed");
    assert_eq!(
        smoke["detail"]["message"],
        "web on green: no health data for its target group"
    );
    let rollback = step(&record, "Rollback");
    assert_eq!(
        rollback["detail"]["traffic"]["weights"],
        json!({"blue": 100, "green": 0})
    );
    assert_eq!(rollback["detail"]["traffic"]["new_colour"], "scaled to 0");
    assert_eq!(
        listener_weights(&local, &format!("ferry-{app}-staging"))
            .await
            .unwrap(),
        [100, 0]
    );
}
