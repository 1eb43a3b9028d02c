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
    // Dev, priced with the dev profile's usage defaults (us-east-1 catalog):
    // 3 interface endpoints in 2 AZs: 1460 h x $0.01 = 14.60, 5 GB x $0.01 = 0.05 -> 3 x 14.65 = 43.95
    // the ALB: 730 h x $0.0225 = 16.43, 2 x 730 IPv4-h x $0.005 = 7.30, 0.5 LCU x 730 h x $0.008
    //   = 2.92 -> 26.65
    // the web log group: 1 GB x $0.50 = 0.50; 1 GB x 7 days / 30 = 0.23 GB x $0.03 = 0.01 -> 0.51
    // 2 Spot tasks of 0.5 vCPU / 1 GB: 730 vCPU-h x $0.01264355 = 9.23, 1460 GB-h x $0.00138835
    //   = 2.03 -> 11.26
    // db.t4g.micro 730 h x $0.016 = 11.68, 20 GB gp3 x $0.115 = 2.30, its managed secret $0.40,
    //   1,000 API calls x $0.05 / 10,000 = 0.01 -> 14.39
    // 7 alarms over 9 metrics x $0.10 = 0.90; a dashboard 3.00; 5 GB out x $0.09 = 0.45
    // 43.95 + 26.65 + 0.51 + 11.26 + 14.39 + 0.90 + 3.00 + 0.45 = 101.11
    assert_eq!(report.body["monthly_usd"], 101.11, "{}", report.body);
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
