//! Canary promotions on moto: the real functions shift the listener's weights through
//! change sets on the environment's stack, and judge the colours on metrics put into
//! moto's CloudWatch. A latency regression or an alarm rolls traffic back.

use aws_sdk_cloudwatch::types::StateValue;
use e2e::{listener_weights, promote_to_staging, seed_with_traffic, step, unique_app, Local};
use serde_json::{json, Value};

/// Canary10Percent5Minutes's shape (10%, then 100%) with a one-second bake, so the test
/// does not wait five minutes; the judge reads the last two minutes, per second.
fn canary_settings() -> Value {
    json!({
        "steps": [{"weight": 10, "bake_seconds": 1}, {"weight": 100}],
        "watch_window_seconds": 1,
        "analysis": {"period_seconds": 1, "window_seconds": 120}
    })
}

#[tokio::test]
async fn a_healthy_canary_reaches_100_percent() {
    let local = Local::connect().await;
    let app = unique_app("canary");
    let stack = seed_with_traffic(&local, &app, canary_settings(), 0.2)
        .await
        .unwrap();
    let ended = promote_to_staging(&local, &app, "Custom").await.unwrap();
    let history = local.history(&ended.execution).await.unwrap();
    println!(
        "canary: {}; {} history events; states entered ({}): {}",
        ended.status,
        history.len(),
        ended.states.len(),
        ended.states.join(" -> ")
    );
    println!(
        "record:\n{}",
        serde_json::to_string_pretty(&ended.record).unwrap()
    );
    assert_eq!(ended.status, "SUCCEEDED");
    assert_eq!(ended.record["status"], "Succeeded");
    assert_eq!(
        step(&ended.record, "Shift 1")["detail"]["weights"],
        json!({"blue": 90, "green": 10})
    );
    let judged = step(&ended.record, "Analyse 1");
    assert_eq!(judged["detail"]["judge"]["outcome"], "Pass");
    assert_eq!(
        judged["detail"]["judge"]["metrics"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [0, 100]);
}

#[tokio::test]
async fn a_latency_regression_rolls_back_at_the_first_step() {
    let local = Local::connect().await;
    let app = unique_app("slow");
    let stack = seed_with_traffic(&local, &app, canary_settings(), 0.3)
        .await
        .unwrap();
    let ended = promote_to_staging(&local, &app, "Custom").await.unwrap();
    println!(
        "regression: {}; {}",
        ended.status,
        ended.states.join(" -> ")
    );
    assert_eq!(ended.status, "FAILED");
    assert_eq!(
        ended.states.iter().filter(|s| *s == "Shift").count(),
        1,
        "rolled back at the first step"
    );
    assert_eq!(ended.states.last().unwrap(), "RolledBack");
    assert_eq!(ended.record["status"], "RolledBack");
    let judged = step(&ended.record, "Analyse 1");
    println!(
        "judge: {}",
        serde_json::to_string_pretty(&judged["detail"]).unwrap()
    );
    assert_eq!(judged["detail"]["error"], "CanaryFailed");
    assert_eq!(
        judged["detail"]["analysis"]["metrics"][0]["classification"],
        "High"
    );
    assert_eq!(
        listener_weights(&local, &stack).await.unwrap(),
        [100, 0],
        "all traffic back on blue"
    );
    let staging = local
        .item(&format!("APP#{app}"), "ENV#staging")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(staging["live_colour"].as_s().unwrap(), "blue");
    assert!(!staging.contains_key("active_promotion"), "lock released");
}

#[tokio::test]
async fn an_alarm_during_the_bake_rolls_back() {
    let local = Local::connect().await;
    let app = unique_app("alarm");
    let stack = seed_with_traffic(&local, &app, canary_settings(), 0.2)
        .await
        .unwrap();
    let alarm = format!("ferry/{app}/staging/e2e-injected");
    e2e::put_alarm(&local, &alarm).await;
    set_alarm(&local, &alarm, StateValue::Alarm).await;

    let ended = promote_to_staging(&local, &app, "Custom").await.unwrap();
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.record["status"], "RolledBack");
    let judged = step(&ended.record, "Analyse 1");
    assert_eq!(judged["detail"]["error"], "AlarmFired");
    assert_eq!(judged["detail"]["analysis"]["alarms"], json!([alarm]));
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [100, 0]);
}

/// An alarm that enters ALARM and leaves it again between two looks (here: flicking for a
/// moment every second, OK otherwise) is caught from CloudWatch's alarm history, not
/// missed because it reads OK when the bake ends.
#[tokio::test]
async fn an_alarm_that_fires_and_clears_within_the_bake_rolls_back() {
    let local = Local::connect().await;
    let app = unique_app("flicker");
    let stack = seed_with_traffic(&local, &app, canary_settings(), 0.2)
        .await
        .unwrap();
    let alarm = format!("ferry/{app}/staging/e2e-flicker");
    e2e::put_alarm(&local, &alarm).await;
    let flicker = {
        let local = Local::connect().await;
        let alarm = alarm.clone();
        tokio::spawn(async move {
            loop {
                set_alarm(&local, &alarm, StateValue::Alarm).await;
                set_alarm(&local, &alarm, StateValue::Ok).await;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
    };
    let ended = promote_to_staging(&local, &app, "Custom").await.unwrap();
    flicker.abort();
    let _ = flicker.await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.record["status"], "RolledBack");
    let judged = step(&ended.record, "Analyse 1");
    assert_eq!(judged["detail"]["error"], "AlarmFired");
    assert_eq!(judged["detail"]["analysis"]["alarms"], json!([alarm]));
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [100, 0]);
    let staging = local
        .item(&format!("APP#{app}"), "ENV#staging")
        .await
        .unwrap()
        .unwrap();
    assert!(!staging.contains_key("active_promotion"), "lock released");
}

async fn set_alarm(local: &Local, alarm: &str, state: StateValue) {
    local
        .cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(state)
        .state_reason("e2e")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_fault_injected_mid_promotion_rolls_back_and_releases_the_lock() {
    let local = Local::connect().await;
    let app = unique_app("fault");
    let stack = seed_with_traffic(&local, &app, canary_settings(), 0.2)
        .await
        .unwrap();
    // The functions run with FERRY_FAULT_INJECTION on (local runs only).
    local
        .dynamodb
        .put_item()
        .table_name(&local.table)
        .item(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("FAULT#{app}/staging/shift")),
        )
        .item(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("#FAULT".into()),
        )
        .item(
            "error",
            aws_sdk_dynamodb::types::AttributeValue::S("FaultInjected".into()),
        )
        .send()
        .await
        .unwrap();

    let ended = promote_to_staging(&local, &app, "Custom").await.unwrap();
    println!("fault: {}; {}", ended.status, ended.states.join(" -> "));
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.record["status"], "RolledBack");
    let rollback = step(&ended.record, "Rollback");
    assert!(
        rollback["detail"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("FaultInjected"),
        "{rollback}"
    );
    assert_eq!(
        step(&ended.record, "Rollback settled")["detail"]["lock"],
        "released"
    );
    assert_eq!(listener_weights(&local, &stack).await.unwrap(), [100, 0]);
}

/// The named strategy itself, five-minute bake and all: how many state transitions one
/// `Canary10Percent5Minutes` promotion costs (Step Functions bills per transition). Each
/// stack operation (Deploy, two Shifts, Finalise) is a start, a Wait, a look and a
/// Choice; on moto a change set completes at once, so each is looked at once: 4 + 4 +
/// 2 x 7 + 6 = 28. On AWS every further look at a stack still changing adds 3 (Wait,
/// look, Choice). The watch window is one task (waiting on its token) whatever its
/// length; one second here.
#[tokio::test]
async fn canary_10_percent_5_minutes_costs_28_state_transitions() {
    let local = Local::connect().await;
    let app = unique_app("c10p5");
    // The judge looks back 15 minutes, past the five-minute bake, to the samples put now.
    let settings = json!({"watch_window_seconds": 1,
                          "analysis": {"period_seconds": 1, "window_seconds": 900}});
    seed_with_traffic(&local, &app, settings, 0.2)
        .await
        .unwrap();
    let ended = promote_to_staging(&local, &app, "Canary10Percent5Minutes")
        .await
        .unwrap();
    println!(
        "Canary10Percent5Minutes: {}; {} state transitions: {}",
        ended.status,
        ended.states.len(),
        ended.states.join(" -> ")
    );
    assert_eq!(ended.status, "SUCCEEDED");
    assert_eq!(ended.states.len(), 28, "{:?}", ended.states);
    assert!(ended.states.len() <= 30, "the cost target");
    let id = ended.record["id"].as_str().unwrap();
    e2e::assert_settled(&local, &app, "staging", id, "Succeeded", "green")
        .await
        .unwrap();
}
