use ferry_core::cost::Catalog;
use ferry_core::model::ReportKind;
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::prelude::*;
use ferry_testkit::{seed_shop, InMemoryStore};
use serde_json::{json, Value};

const TASK: &str = include_str!("fixtures/generate-task.json");

async fn handle(
    store: &InMemoryStore,
    payload: Value,
) -> Result<Value, ferry_lambda::FunctionError> {
    let catalog = Catalog::bundled("us-east-1").unwrap();
    template_generator::handler::handle(store, &catalog, payload).await
}

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

/// Each template is priced against the last one generated for the environment, so a
/// promotion's GenerateTemplate step says what the change adds a month.
#[tokio::test]
async fn the_summary_says_what_the_change_adds_a_month() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let task = json!({"app": "shop", "env": "dev"});
    let first = handle(&store, task.clone()).await.unwrap();
    assert_eq!(
        first["cost"]["summary"],
        "this change leaves the monthly cost unchanged"
    );
    assert_eq!(first["cost"]["monthly_usd_after"], 101.11);

    // One more web task on Spot (0.5 vCPU, 1 GB): 2 -> 3 tasks.
    let (app, dev) = (
        AppName::parse("a", "shop").unwrap(),
        EnvName::parse("e", "dev").unwrap(),
    );
    let mut env = store.get_environment(&app, &dev).await.unwrap().unwrap();
    env.spec.services[0].desired_count = 3;
    store
        .put_environment(&env, Some(env.version))
        .await
        .unwrap();
    let second = handle(&store, task).await.unwrap();
    // Before: 730 vCPU-h x $0.01264355 = 9.23, 1460 GB-h x $0.00138835 = 2.03 (11.26).
    // After: 1095 vCPU-h x $0.01264355 = 13.8447 -> 13.84, 2190 GB-h x $0.00138835 = 3.0405
    // -> 3.04 (16.88). 16.88 - 11.26 = 5.62.
    assert_eq!(second["cost"]["summary"], "this change adds $5.62/month");
    assert_eq!(second["cost"]["delta_usd"], 5.62);
    assert_eq!(second["cost"]["changes"][0]["logical_id"], "WebBlueService");
}
