use cost_analyzer::handler::handle;
use ferry_core::cost::Catalog;
use ferry_core::memory::{seed_shop, InMemoryStore};
use ferry_core::model::ReportKind;
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::Store;
use serde_json::Value;

const SCHEDULE: &str = include_str!("fixtures/eventbridge-schedule.json");

#[tokio::test]
async fn a_scheduled_event_writes_one_priced_report_per_environment() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let summary = handle(&store, &catalog, serde_json::from_str(SCHEDULE).unwrap())
        .await
        .unwrap();
    assert_eq!(summary["environments"].as_array().unwrap().len(), 2);
    let report = store
        .latest_report(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "dev").unwrap(),
            ReportKind::Cost,
        )
        .await
        .unwrap()
        .expect("a cost report for dev");
    // 2 ARM tasks of 0.5 vCPU / 1 GB: 2 x (0.5 x 0.03238 + 1 x 0.00356) x 730 = 28.84
    // a single-AZ db.t4g.micro with 20 GB gp3: 0.016 x 730 + 20 x 0.115 = 11.68 + 2.30 = 13.98
    // the ALB with 2 public IPv4 addresses (dev has 2 AZs): (0.0225 + 2 x 0.005) x 730 = 23.73
    // 7 alarms over 9 metrics (the 5xx-rate alarm reads 3): 9 x 0.10 = 0.90; a dashboard: 3.00
    // 28.84 + 13.98 + 23.73 + 0.90 + 3.00 = 70.45
    assert_eq!(report.body["monthly_usd"], 70.45, "{}", report.body);
    assert_eq!(
        report.created_at.to_rfc3339(),
        "2015-10-08T16:53:06+00:00",
        "the schedule's time, not the clock's"
    );
}

#[tokio::test]
async fn events_other_than_schedules_are_refused_by_name() {
    let store = InMemoryStore::new();
    let mut event: Value = serde_json::from_str(SCHEDULE).unwrap();
    event["detail-type"] = "Object Created".into();
    let err = handle(&store, &Catalog::bundled("us-east-1").unwrap(), event)
        .await
        .unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
    assert!(err.message.contains("detail-type"));
}

#[test]
fn config_names_a_region_without_prices() {
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_PRICING_REGION" => Some("ap-south-7".into()),
        _ => None,
    });
    let err = cost_analyzer::config::Config::load(&env).unwrap_err();
    assert_eq!(err.variable, "FERRY_PRICING_REGION");
}
