use ferry_core::memory::{seed_shop, InMemoryStore};
use ferry_core::names::{AppName, EnvName, PromotionId, Strategy};
use ferry_core::promotion::{self, PromotionRequest, StepPolicy};
use promotion_step::handler::handle;
use serde_json::{json, Value};

const VALIDATE: &str = include_str!("fixtures/validate-task.json");

async fn with_promotion() -> InMemoryStore {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let request = PromotionRequest {
        app: AppName::parse("a", "shop").unwrap(),
        source_env: EnvName::parse("e", "dev").unwrap(),
        target_env: EnvName::parse("e", "staging").unwrap(),
        strategy: Strategy::BlueGreen,
    };
    promotion::create(
        &store,
        request,
        PromotionId::parse("id", "release-42").unwrap(),
        "ana".into(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    store
}

#[tokio::test]
async fn the_task_payload_runs_the_named_step() {
    let store = with_promotion().await;
    let payload: Value = serde_json::from_str(VALIDATE).unwrap();
    let result = handle(&store, StepPolicy::default(), payload)
        .await
        .unwrap();
    assert_eq!(result["lock"], "held");
}

#[tokio::test]
async fn failures_carry_the_names_the_state_machine_matches() {
    let store = with_promotion().await;
    let err = handle(
        &store,
        StepPolicy::default(),
        json!({"action": "validate", "promotion_id": "nope"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, "PromotionNotFound");
    let err = handle(
        &store,
        StepPolicy::default(),
        json!({"action": "launch", "promotion_id": "release-42"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
    assert!(err.message.contains("launch"), "{}", err.message);
}

#[test]
fn config_rejects_thresholds_above_100_by_name() {
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_APPROVAL_THRESHOLD" => Some("150".into()),
        _ => None,
    });
    assert_eq!(
        promotion_step::config::Config::load(&env)
            .unwrap_err()
            .variable,
        "FERRY_APPROVAL_THRESHOLD"
    );
}
