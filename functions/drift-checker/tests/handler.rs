use drift_checker::handler::handle;
use ferry_core::infra::template;
use ferry_core::model::ReportKind;
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::prelude::*;
use ferry_testkit::{seed_shop, InMemoryLive, InMemoryStacks, InMemoryStore};

const SCHEDULE: &str = include_str!("fixtures/eventbridge-schedule.json");

#[tokio::test]
async fn reports_in_sync_drifted_and_not_deployed_environments() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let app = AppName::parse("a", "shop").unwrap();
    let dev = store
        .get_environment(&app, &EnvName::parse("e", "dev").unwrap())
        .await
        .unwrap()
        .unwrap();
    let stacks = InMemoryStacks::new();
    // dev is deployed with a hand edit: the database removed from the stack.
    let mut deployed = template::generate(&dev, dev.deployed_release.as_ref(), dev.live_colour);
    deployed["Resources"]
        .as_object_mut()
        .unwrap()
        .remove("Database");
    stacks.deploy(&dev.stack_name, deployed);

    let summary = handle(
        &store,
        &stacks,
        &InMemoryLive::new(),
        serde_json::from_str(SCHEDULE).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(summary["drifted"], 1);
    let report = store
        .latest_report(&app, &dev.name, ReportKind::Drift)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.body["status"], "Drifted");
    assert_eq!(report.body["resources"][0]["logical_id"], "Database");
    assert_eq!(report.body["resources"][0]["kind"], "Missing");
    let staging = store
        .latest_report(
            &app,
            &EnvName::parse("e", "staging").unwrap(),
            ReportKind::Drift,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(staging.body["status"], "NotDeployed");
}
