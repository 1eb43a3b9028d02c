use alert_evaluator::handler::handle;
use ferry_core::memory::InMemoryStore;
use ferry_core::ports::Store;
use serde_json::Value;

const ALARM: &str = include_str!("fixtures/eventbridge-alarm-state-change.json");

#[tokio::test]
async fn records_the_alarm_against_its_environment_once_per_event() {
    let store = InMemoryStore::new();
    let event: Value = serde_json::from_str(ALARM).unwrap();
    let first = handle(&store, event.clone()).await.unwrap();
    assert_eq!(first["app"], "shop");
    assert_eq!(first["env"], "prod");
    assert_eq!(first["state"], "ALARM");
    assert_eq!(first["duplicate"], false);
    // EventBridge delivers at least once: the same event id is recorded once.
    let again = handle(&store, event).await.unwrap();
    assert_eq!(
        (again["duplicate"].as_bool(), again["alarm_count"].as_u64()),
        (Some(true), Some(1))
    );
    let state = store
        .get_alert_state("ferry/shop/prod/alb-5xx")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.state, "ALARM");
}

#[tokio::test]
async fn other_events_are_refused_with_the_field_named() {
    let store = InMemoryStore::new();
    let mut event: Value = serde_json::from_str(ALARM).unwrap();
    event["detail-type"] = "Scheduled Event".into();
    assert!(handle(&store, event)
        .await
        .unwrap_err()
        .message
        .contains("detail-type"));
    let err = handle(&store, serde_json::json!({"hello": "world"}))
        .await
        .unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
}
