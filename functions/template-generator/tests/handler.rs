use ferry_core::memory::{seed_shop, InMemoryStore};
use ferry_core::model::ReportKind;
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::Store;
use serde_json::{json, Value};
use template_generator::handler::handle;

const TASK: &str = include_str!("fixtures/generate-task.json");

#[tokio::test]
async fn generates_and_stores_the_template_for_an_environment() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let summary = handle(&store, json!({"app": "shop", "env": "dev"}))
        .await
        .unwrap();
    assert_eq!(summary["stack_name"], "ferry-shop-dev");
    assert_eq!(summary["colour"], "blue");
    let report = store
        .latest_report(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "dev").unwrap(),
            ReportKind::Template,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        report.body["template"]["Resources"]["Database"]["Properties"]["StorageEncrypted"],
        true
    );
}

#[tokio::test]
async fn a_task_for_an_unknown_promotion_or_environment_fails_by_name() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let payload: Value = serde_json::from_str(TASK).unwrap();
    assert_eq!(handle(&store, payload).await.unwrap_err().name, "NotFound");
    let err = handle(&store, json!({"app": "shop", "env": "Prod!"}))
        .await
        .unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
}
