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
    let summary = handle(
        &store,
        &catalog,
        None,
        serde_json::from_str(SCHEDULE).unwrap(),
    )
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
    // Each environment's estimate leaves as an EMF document: EstimatedMonthlyCost{app,env}.
    let dev_metric = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["env"] == "dev")
        .unwrap();
    assert_eq!(dev_metric["EstimatedMonthlyCost"], 101.11);
    assert_eq!(dev_metric["app"], "shop");
    let directive = &dev_metric["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Ferry");
    assert_eq!(directive["Dimensions"], serde_json::json!([["app", "env"]]));
    assert_eq!(directive["Metrics"][0]["Name"], "EstimatedMonthlyCost");
    assert_eq!(dev_metric["_aws"]["Timestamp"], 1444323186000_i64);
}

/// A budget below the estimate raises `ferry/shop/dev/budget`; raising the budget clears it.
#[tokio::test]
async fn an_estimate_over_the_budget_raises_an_alert_that_clears_when_it_fits() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let (app, dev) = (
        AppName::parse("a", "shop").unwrap(),
        EnvName::parse("e", "dev").unwrap(),
    );
    let set_budget = |usd: f64| {
        let store = &store;
        let (app, dev) = (&app, &dev);
        async move {
            let mut env = store.get_environment(app, dev).await.unwrap().unwrap();
            env.spec.budget_usd_month = Some(usd);
            store
                .put_environment(&env, Some(env.version))
                .await
                .unwrap();
        }
    };
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let mut event: Value = serde_json::from_str(SCHEDULE).unwrap();

    set_budget(100.0).await;
    let summary = handle(&store, &catalog, None, event.clone()).await.unwrap();
    assert_eq!(summary["over_budget"], 1);
    let open = store.open_alerts(&app, &dev).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].alarm_name, "ferry/shop/dev/budget");
    let state = store
        .get_alert_state("ferry/shop/dev/budget")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.state, "ALARM");

    set_budget(150.0).await;
    event["time"] = "2015-10-15T16:53:06Z".into();
    let summary = handle(&store, &catalog, None, event).await.unwrap();
    assert_eq!(summary["over_budget"], 0);
    assert!(store.open_alerts(&app, &dev).await.unwrap().is_empty());
}

#[tokio::test]
async fn events_other_than_schedules_are_refused_by_name() {
    let store = InMemoryStore::new();
    let mut event: Value = serde_json::from_str(SCHEDULE).unwrap();
    event["detail-type"] = "Object Created".into();
    let err = handle(&store, &Catalog::bundled("us-east-1").unwrap(), None, event)
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

/// Rightsizing from 14 days of utilisation: the deployed stack's physical names lead to
/// the service's CloudWatch series; P99.5 with 20% headroom picks the new task size.
#[tokio::test]
async fn utilisation_from_the_deployed_stack_rightsizes_tasks() {
    use ferry_core::memory::{InMemoryMetrics, InMemoryStacks};
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let (app, dev) = (
        AppName::parse("a", "shop").unwrap(),
        EnvName::parse("e", "dev").unwrap(),
    );
    let env = store.get_environment(&app, &dev).await.unwrap().unwrap();
    let stacks = InMemoryStacks::new();
    stacks.deploy(
        &env.stack_name,
        ferry_core::template::generate(&env, env.deployed_release.as_ref(), env.live_colour),
    );
    let metrics = InMemoryMetrics::new();
    let now = chrono::DateTime::parse_from_rfc3339("2015-10-08T16:53:06Z")
        .unwrap()
        .to_utc();
    // The web service (512 CPU units, 1024 MiB) peaks at 15% CPU and 25% memory.
    let dims = [
        ("ClusterName", "ferry-shop-dev-Cluster"),
        ("ServiceName", "ferry-shop-dev-WebBlueService"),
    ];
    for i in 0..4032_i64 {
        let at = now - chrono::Duration::minutes(5 * (4032 - i));
        metrics.put("CPUUtilization", &dims, at, 5.0 + (i % 11) as f64);
        metrics.put("MemoryUtilization", &dims, at, 20.0 + (i % 6) as f64);
    }
    let rightsizing = cost_analyzer_rightsizing(&stacks, &metrics);
    let catalog = Catalog::bundled("us-east-1").unwrap();
    handle(
        &store,
        &catalog,
        Some(rightsizing),
        serde_json::from_str(SCHEDULE).unwrap(),
    )
    .await
    .unwrap();
    let report = store
        .latest_report(&app, &dev, ReportKind::Cost)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        report.body["rightsizing"]["resources_measured"], 1,
        "{}",
        report.body["rightsizing"]
    );
    let advice = report.body["advice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "rightsize")
        .expect("rightsizing advice");
    assert_eq!(advice["logical_id"], "WebBlueService");
    // Needs 512 x 15% x 1.2 = 92 CPU units and 1024 x 25% x 1.2 = 307 MiB: 256 / 512.
    assert!(
        advice["action"]
            .as_str()
            .unwrap()
            .contains("to 256 CPU / 512 MiB"),
        "{advice}"
    );
    // Spot now: 730 vCPU-h x $0.01264355 = 9.23, 1460 GB-h x $0.00138835 = 2.03 (11.26);
    // halved: 365 x $0.01264355 = 4.61, 730 x $0.00138835 = 1.01 (5.62). Saves 5.64.
    assert_eq!(advice["monthly_saving_usd"], 5.64);
}

fn cost_analyzer_rightsizing<'a>(
    stacks: &'a ferry_core::memory::InMemoryStacks,
    metrics: &'a ferry_core::memory::InMemoryMetrics,
) -> ferry_core::jobs::Rightsizing<'a> {
    ferry_core::jobs::Rightsizing { stacks, metrics }
}
