//! Locks that never leak, on the local AWS: an execution stopped mid-bake is rolled back
//! and its lock freed by promotion-step from the status-change event (which moto's
//! EventBridge does not deliver, so the test sends it: docs/local-aws.md); and the unlock
//! route, the last resort, for a lock whose execution is gone. Each ends with the
//! promotion ended, the lock free and all traffic on the colour that passed its checks.

use e2e::{assert_settled, listener_weights, seed_app_with, unique_app, Local};
use serde_json::json;
use std::time::{Duration, Instant};

/// Waits until the execution has entered `state` `times` times.
async fn entered(local: &Local, execution: &str, state: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let states = local.states_entered(execution).await.unwrap();
        if states.iter().filter(|s| *s == state).count() >= times {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{execution} never entered {state} {times} times: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn stop(local: &Local, execution: &str) {
    local
        .sfn
        .stop_execution()
        .execution_arn(execution)
        .cause("an operator stopped it")
        .send()
        .await
        .unwrap();
    assert_eq!(
        local
            .wait_for_execution(execution, Duration::from_secs(60))
            .await
            .unwrap(),
        "ABORTED"
    );
}

#[tokio::test]
async fn an_execution_stopped_during_a_bake_is_rolled_back_and_its_lock_freed() {
    let local = Local::connect().await;
    let app = unique_app("stopped");
    // Blue/green with a ten-minute bake after the switch: long enough to stop it in.
    let mut promotion = e2e::fast_promotions();
    promotion["blue_green_bake_seconds"] = json!(600);
    seed_app_with(&local, &app, promotion).await.unwrap();
    let stack = format!("ferry-{app}-staging");
    e2e::put_target_metrics(&local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "BlueGreen"});
    let started = local
        .api("POST", "/promotions", Some(&body), &[])
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();
    // The second Bake is the one after all traffic moved to green.
    entered(&local, &execution, "Bake", 2).await;
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [0, 100]);
    stop(&local, &execution).await;
    assert_eq!(
        local.lock_holder(&app, "staging").await.unwrap().as_deref(),
        Some(id.as_str()),
        "stopped, the execution released nothing itself"
    );

    let handled = local.execution_status_change(&execution).await.unwrap();
    assert!(handled.function_error.is_none(), "{}", handled.body);
    assert_eq!(handled.body["lock"], "released", "{}", handled.body);
    let record = assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
    let last = record["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["name"], "ExecutionEnded");
    assert_eq!(last["detail"]["execution"]["status"], "ABORTED");

    // Delivered again (EventBridge delivers at least once): nothing changes.
    let again = local.execution_status_change(&execution).await.unwrap();
    assert!(again.body["ignored"].is_string(), "{}", again.body);
    let after = assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
    assert_eq!(after["steps"], record["steps"]);
}

#[tokio::test]
async fn unlock_is_the_last_resort_for_a_lock_no_execution_will_release() {
    let local = Local::connect().await;
    local.grant_roles().await.unwrap();
    let app = unique_app("unlock");
    // A smoke-check step that bakes ten minutes with no users on the new colour.
    let mut promotion = e2e::fast_promotions();
    promotion["steps"] = json!([{"weight": 0, "bake_seconds": 600}, {"weight": 100}]);
    seed_app_with(&local, &app, promotion).await.unwrap();
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "Custom"});
    let started = local
        .api_authorized(
            e2e::jwt("ana@example.com"),
            "POST",
            "/promotions",
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();
    entered(&local, &execution, "Bake", 1).await;
    let path = format!("/apps/{app}/environments/staging/unlock");
    let reason = json!({"reason": "the status-change event went to the dead-letter queue"});

    // While the execution runs, it owns its lock: stopping it is the way.
    let running = local.api("POST", &path, Some(&reason), &[]).await.unwrap();
    assert_eq!(running.status, 409, "{:?}", running.body);
    assert!(running.body["detail"]
        .as_str()
        .unwrap()
        .contains("still running"));

    // Stopped, and its status change lost: the lock would stay held.
    stop(&local, &execution).await;
    assert_eq!(
        local.lock_holder(&app, "staging").await.unwrap().as_deref(),
        Some(id.as_str())
    );
    let not_admin = local
        .api_authorized(e2e::jwt("bo@example.com"), "POST", &path, Some(&reason))
        .await
        .unwrap();
    assert_eq!(not_admin.status, 403, "{:?}", not_admin.body);
    let no_reason = local
        .api("POST", &path, Some(&json!({})), &[])
        .await
        .unwrap();
    assert_eq!(no_reason.status, 400, "{:?}", no_reason.body);
    assert_eq!(no_reason.content_type, "application/problem+json");
    assert_eq!(no_reason.body["errors"][0]["field"], "reason");
    let missing = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/nowhere/unlock"),
            Some(&reason),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(missing.status, 404, "{:?}", missing.body);

    let unlocked = local.api("POST", &path, Some(&reason), &[]).await.unwrap();
    assert_eq!(unlocked.status, 200, "{:?}", unlocked.body);
    assert_eq!(unlocked.body["unlock"]["by"], e2e::LOCAL_ADMIN);
    // Stopped in its smoke check: all traffic still on blue, the colour that passed.
    let record = assert_settled(&local, &app, "staging", &id, "Failed", "blue")
        .await
        .unwrap();
    assert_eq!(
        record["unlocked"]["reason"],
        "the status-change event went to the dead-letter queue"
    );
    assert_eq!(record["unlocked"]["by"], e2e::LOCAL_ADMIN);
    let again = local.api("POST", &path, Some(&reason), &[]).await.unwrap();
    assert_eq!(again.status, 409, "not locked any more: {:?}", again.body);
}
