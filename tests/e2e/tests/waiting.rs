//! Waiting in the state machine, not in Lambda, and the post-Finalise watch window, on
//! moto (issue 15, must-haves 2 and 3c): an alarm in the window rolls back to the old
//! colour; a crash just after ExecuteChangeSet, and a TransientError, are retried by the
//! state machine and the promotion still converges. Every scenario ends in a recorded
//! terminal state, with the lock free and all traffic on a colour that passed its checks.

use aws_sdk_cloudwatch::types::StateValue;
use e2e::{
    assert_settled, ended, listener_weights, seed_with_traffic, start_promotion_to_staging, step,
    unique_app, Local,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A canary's shape (10%, then 100%) with one-second bakes, and a watch window of
/// `window` seconds.
fn settings(window: u64) -> Value {
    json!({
        "steps": [{"weight": 10, "bake_seconds": 1}, {"weight": 100}],
        "watch_window_seconds": window,
        "analysis": {"period_seconds": 1, "window_seconds": 120}
    })
}

/// The errors the execution's tasks failed with, in order (retried ones included).
async fn task_failures(local: &Local, execution: &str) -> Vec<String> {
    local
        .history(execution)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| {
            e.task_failed_event_details()
                .map(|d| d.error().unwrap_or_default().to_owned())
                .or_else(|| {
                    e.lambda_function_failed_event_details()
                        .map(|d| d.error().unwrap_or_default().to_owned())
                })
        })
        .collect()
}

/// Waits until promotion `id` is in its watch window, with its Watch task's token stored.
async fn into_watch_window(local: &Local, id: &str, execution: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let states = local.states_entered(execution).await.unwrap();
        let record = local
            .api("GET", &format!("/promotions/{id}"), None, &[])
            .await
            .unwrap()
            .body;
        let watching = record["steps"]
            .as_array()
            .and_then(|steps| steps.last())
            .is_some_and(|s| s["name"] == "Watch");
        if watching && states.iter().any(|s| s == "WatchWindow") {
            return;
        }
        assert!(
            Instant::now() < deadline
                && !["Succeeded", "RolledBack", "Failed"]
                    .contains(&record["status"].as_str().unwrap_or_default()),
            "never reached the watch window: {states:?} {record}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The alarm's event (EventBridge to the alert-evaluator; sent by the test, as moto's
/// EventBridge does not deliver CloudWatch's) ends a ten-minute window at once: the
/// Watch task fails with AlarmFired, and the promotion rolls back to blue, still warm,
/// without waiting for the window's end.
#[tokio::test]
async fn an_alarm_event_ends_the_watch_window_at_once() {
    let local = Local::connect().await;
    let app = unique_app("watchnow");
    let stack = seed_with_traffic(&local, &app, settings(600), 0.2)
        .await
        .unwrap();
    let alarm = format!("ferry/{app}/staging/web-5xx");
    e2e::put_alarm(&local, &alarm).await;
    let (id, execution) = start_promotion_to_staging(&local, &app, "Custom")
        .await
        .unwrap();
    into_watch_window(&local, &id, &execution).await;
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [0, 100]);
    local
        .cloudwatch
        .set_alarm_state()
        .alarm_name(&alarm)
        .state_value(StateValue::Alarm)
        .state_reason("e2e")
        .send()
        .await
        .unwrap();
    let fired = Instant::now();
    let run = local
        .invoke(
            "alert-evaluator",
            &e2e::alarm_change(&alarm, "ALARM", "OK", chrono::Utc::now()),
        )
        .await
        .unwrap();
    assert!(run.function_error.is_none(), "{}", run.body);
    assert_eq!(run.body["rolled_back"], json!(id), "{}", run.body);
    let ended = ended(&local, &id, execution).await.unwrap();
    let took = fired.elapsed();
    println!(
        "alarm event in a 600 s window: {} after {took:?}; {}",
        ended.status,
        ended.states.join(" -> ")
    );
    assert!(took < Duration::from_secs(300), "{took:?}: not at once");
    assert_eq!(ended.status, "FAILED");
    assert!(
        !ended.states.iter().any(|s| s == "Finalise"),
        "the window was cut short, not waited out: {:?}",
        ended.states
    );
    let watch = ended.record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|s| s["name"] == "Watch")
        .unwrap();
    assert_eq!(watch["outcome"], "Failed", "{watch}");
    assert_eq!(watch["detail"]["alarms"], json!([alarm]), "{watch}");
    assert_eq!(
        step(&ended.record, "Rollback")["detail"]["reason"]
            .as_str()
            .unwrap_or_default()
            .split(':')
            .next(),
        Some("AlarmFired")
    );
    assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_alarm_in_the_watch_window_rolls_back_to_the_old_colour() {
    let local = Local::connect().await;
    let app = unique_app("watch");
    let stack = seed_with_traffic(&local, &app, settings(30), 0.2)
        .await
        .unwrap();
    let alarm = format!("ferry/{app}/staging/e2e-watch");
    e2e::put_alarm(&local, &alarm).await;
    let (id, execution) = start_promotion_to_staging(&local, &app, "Custom")
        .await
        .unwrap();
    // Into the window: all traffic on green, blue still running with none.
    into_watch_window(&local, &id, &execution).await;
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [0, 100]);
    assert_eq!(
        local.lock_holder(&app, "staging").await.unwrap().as_deref(),
        Some(id.as_str()),
        "the window is part of the promotion"
    );
    // The alarm fires and clears within the window.
    for state in [StateValue::Alarm, StateValue::Ok] {
        local
            .cloudwatch
            .set_alarm_state()
            .alarm_name(&alarm)
            .state_value(state)
            .state_reason("e2e")
            .send()
            .await
            .unwrap();
    }
    let ended = ended(&local, &id, execution).await.unwrap();
    println!(
        "watch window: {}; {}",
        ended.status,
        ended.states.join(" -> ")
    );
    assert_eq!(ended.status, "FAILED");
    let finalise = step(&ended.record, "Finalise");
    assert_eq!(finalise["detail"]["error"], "AlarmFired", "{finalise}");
    assert_eq!(finalise["detail"]["analysis"]["alarms"], json!([alarm]));
    assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_crash_just_after_execute_change_set_is_retried_and_converges() {
    let local = Local::connect().await;
    let app = unique_app("crash");
    seed_with_traffic(&local, &app, settings(1), 0.2)
        .await
        .unwrap();
    // Shift 1 executes its change set (10% to green), then fails before returning.
    local
        .fault_times(
            &format!("{app}/staging/shift/executed"),
            "TransientError",
            1,
        )
        .await
        .unwrap();
    let (id, execution) = start_promotion_to_staging(&local, &app, "Custom")
        .await
        .unwrap();
    let ended = ended(&local, &id, execution).await.unwrap();
    println!("crash: {}; {}", ended.status, ended.states.join(" -> "));
    assert_eq!(ended.status, "SUCCEEDED", "{}", ended.record);
    assert_eq!(
        task_failures(&local, &ended.execution).await,
        ["TransientError"],
        "the crash, retried once"
    );
    // The retry found the change made: nothing left to change, and it went on.
    assert_eq!(
        step(&ended.record, "Shift 1")["detail"]["weights"],
        json!({"blue": 90, "green": 10})
    );
    assert_settled(&local, &app, "staging", &id, "Succeeded", "green")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transient_error_is_retried_by_the_state_machine_then_succeeds() {
    let local = Local::connect().await;
    let app = unique_app("transient");
    seed_with_traffic(&local, &app, settings(1), 0.2)
        .await
        .unwrap();
    local
        .fault_times(&format!("{app}/staging/check_stack"), "TransientError", 1)
        .await
        .unwrap();
    let (id, execution) = start_promotion_to_staging(&local, &app, "Custom")
        .await
        .unwrap();
    let ended = ended(&local, &id, execution).await.unwrap();
    println!("transient: {}; {}", ended.status, ended.states.join(" -> "));
    assert_eq!(ended.status, "SUCCEEDED", "{}", ended.record);
    assert_eq!(
        task_failures(&local, &ended.execution).await,
        ["TransientError"]
    );
    assert_settled(&local, &app, "staging", &id, "Succeeded", "green")
        .await
        .unwrap();
}
