//! Blue/green promotions on moto: the new colour is smoke-checked in its own target
//! group with no users on it, then takes all traffic while the old colour stays warm
//! for the bake. A new colour with no healthy targets never takes traffic.

use e2e::{
    listener_weights, promote_to_staging, put_target_metrics, seed_app, seed_app_with, step,
    unique_app, Local,
};
use serde_json::json;

#[tokio::test]
async fn blue_green_smoke_checks_switches_and_bakes() {
    let local = Local::connect().await;
    let app = unique_app("bg");
    seed_app(&local, &app).await.unwrap();
    let ended = promote_to_staging(&local, &app, "BlueGreen").await.unwrap();
    println!(
        "blue/green: {}; {}",
        ended.status,
        ended.states.join(" -> ")
    );
    assert_eq!(ended.status, "SUCCEEDED");
    let record = &ended.record;
    assert_eq!(
        step(record, "Shift 1")["detail"]["weights"],
        json!({"blue": 100, "green": 0})
    );
    assert_eq!(
        step(record, "Analyse 1")["detail"]["smoke"]["web"]["healthy_hosts"],
        2.0
    );
    assert_eq!(
        step(record, "Shift 2")["detail"]["weights"],
        json!({"blue": 0, "green": 100})
    );
    assert_eq!(step(record, "Shift 2")["detail"]["bake_seconds"], 1);
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
    let ended = promote_to_staging(&local, &app, "BlueGreen").await.unwrap();
    println!(
        "blue/green rollback: {}; {}",
        ended.status,
        ended.states.join(" -> ")
    );
    assert_eq!(ended.status, "FAILED");
    let record = &ended.record;
    assert_eq!(record["status"], "RolledBack");
    let smoke = step(record, "Analyse 1");
    assert_eq!(smoke["detail"]["error"], "SmokeFailed");
    assert_eq!(
        smoke["detail"]["message"],
        "web on green: no health data for its target group"
    );
    let rollback = step(record, "Rollback");
    assert_eq!(
        rollback["detail"]["traffic"]["weights"],
        json!({"blue": 100, "green": 0})
    );
    let restored = step(record, "Rollback settled");
    assert_eq!(restored["detail"]["traffic"]["new_colour"], "scaled to 0");
    assert_eq!(restored["detail"]["lock"], "released");
    assert_eq!(
        listener_weights(&local, &format!("ferry-{app}-staging"))
            .await
            .unwrap(),
        [100, 0]
    );
}
