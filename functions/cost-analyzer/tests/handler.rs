use cost_analyzer::handler::{handle, Ferry};
use ferry_core::cost::Catalog;
use ferry_core::model::ReportKind;
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::prelude::*;
use ferry_testkit::{seed_shop, InMemoryStore};
use serde_json::Value;

const SCHEDULE: &str = include_str!("fixtures/eventbridge-schedule.json");
/// Ferry's template as the reference test in ferry-core froze it, so the figures below do
/// not move as infra/ferry.json grows.
const FROZEN_FERRY: &str =
    include_str!("../../../shared/ferry-core/tests/fixtures/ferry-template.json");

fn frozen_ferry() -> Value {
    serde_json::from_str(FROZEN_FERRY).unwrap()
}

fn ferry(template: &Value) -> Ferry<'_> {
    Ferry {
        template,
        schedules: Default::default(),
    }
}

#[tokio::test]
async fn a_scheduled_event_writes_one_priced_report_per_environment() {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let template = frozen_ferry();
    let summary = handle(
        &store,
        &catalog,
        None,
        &ferry(&template),
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
    let template = frozen_ferry();

    set_budget(100.0).await;
    let summary = handle(&store, &catalog, None, &ferry(&template), event.clone())
        .await
        .unwrap();
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
    let summary = handle(&store, &catalog, None, &ferry(&template), event)
        .await
        .unwrap();
    assert_eq!(summary["over_budget"], 0);
    assert!(store.open_alerts(&app, &dev).await.unwrap().is_empty());
}

#[tokio::test]
async fn events_other_than_schedules_are_refused_by_name() {
    let store = InMemoryStore::new();
    let mut event: Value = serde_json::from_str(SCHEDULE).unwrap();
    event["detail-type"] = "Object Created".into();
    let template = frozen_ferry();
    let err = handle(
        &store,
        &Catalog::bundled("us-east-1").unwrap(),
        None,
        &ferry(&template),
        event,
    )
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
    use ferry_testkit::{InMemoryMetrics, InMemoryStacks};
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
        ferry_core::infra::template::generate(&env, env.deployed_release.as_ref(), env.live_colour),
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
    let template = frozen_ferry();
    handle(
        &store,
        &catalog,
        Some(rightsizing),
        &ferry(&template),
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
    stacks: &'a ferry_testkit::InMemoryStacks,
    metrics: &'a ferry_testkit::InMemoryMetrics,
) -> ferry_core::cost::report::Rightsizing<'a> {
    ferry_core::cost::report::Rightsizing { stacks, metrics }
}

/// The weekly run reports Ferry's own monthly cost beside the apps', from what Ferry knows:
/// the environments in the store, the promotions started in the last 30 days and each
/// environment's alert rules. No AWS call is added: only the store is read.
#[tokio::test]
async fn the_schedule_reports_ferrys_own_cost_beside_the_apps() {
    use ferry_core::names::{PromotionId, Strategy};
    use ferry_core::promotion::{self, PromotionRequest};
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    // One promotion a week before the scheduled run counts; one two months before does not.
    for (id, at) in [
        ("old-1", "2015-08-01T10:00:00Z"),
        ("recent-1", "2015-10-01T10:00:00Z"),
    ] {
        promotion::create(
            &store,
            PromotionRequest {
                app: AppName::parse("a", "shop").unwrap(),
                source_env: EnvName::parse("e", "dev").unwrap(),
                target_env: EnvName::parse("e", "staging").unwrap(),
                strategy: Strategy::BlueGreen,
                allow_replace: vec![],
                kind: Default::default(),
                reason: None,
            },
            PromotionId::parse("id", id).unwrap(),
            "ana".into(),
            chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc(),
        )
        .await
        .unwrap();
        // Release the lock, as Finalise would, so the next one can start.
        let staging = EnvName::parse("e", "staging").unwrap();
        let app = AppName::parse("a", "shop").unwrap();
        let mut env = store
            .get_environment(&app, &staging)
            .await
            .unwrap()
            .unwrap();
        env.active_promotion = None;
        store
            .put_environment(&env, Some(env.version))
            .await
            .unwrap();
    }
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let template = frozen_ferry();
    let summary = handle(
        &store,
        &catalog,
        None,
        &ferry(&template),
        serde_json::from_str(SCHEDULE).unwrap(),
    )
    .await
    .unwrap();
    let own = &summary["ferry"];
    assert_eq!(own["environments"], 2.0, "{own}");
    // 1 promotion in 30 days, scaled to 730 h: 1 x 730 / 720 = 1.013889 -> 1.01.
    assert_eq!(own["promotions_per_month"], 1.01, "{own}");
    // The seeded shop's dev and staging each evaluate 5 series, as evaluate::targets plans
    // them for the shop's rules (evaluate_rules on the same seeded shop reads 10).
    assert_eq!(own["metrics_per_evaluation"], 10.0, "{own}");
    // The shop's templates fit inline (under 51,200 bytes): none goes through the bucket.
    assert_eq!(own["template_upload_share"], 0.0, "{own}");
    // By hand (us-east-1, the model's figures, 43,800 evaluations a month):
    // alert-evaluator: 43,840 invocations x $0.20 / 1M = 0.01; 43,800 x (150 + 2 x 250) ms
    //   + 40 x 50 ms = 28,472,000 ms x 0.25 GB = 7,118 GB-s x $0.0000133334 = 0.09;
    //   GetMetricData 43,800 x 2 x 5 = 438,000 metrics x $0.01 / 1,000 = 4.38 -> 4.48;
    //   its logs 43,840 x 1,500 B = 0.061244 GB x $0.50 = 0.03.
    // The table: writes 43,800 x 2 x 2 + 40 x 4 + 730 x 2 x 8 + 4.345238 x 2 x 15
    //   + 1.013889 x 130 = 187,302 = 0.187302 M x $0.625 = 0.12; reads 43,800 x 2 x 8.25
    //   + 40 + 730 x 2 x 0.25 + 4.345238 x 2 x 1.25 + 1.013889 x 40 + 1,418.69 API requests
    //   x 2 = 725,994 = 0.725994 M x $0.125 = 0.09; storage 2 x 14,000 + 1.013889 x 260 KB
    //   = 0.026955 GB x $0.25 = 0.01 and its point-in-time recovery x $0.20 = 0.01 -> 0.23.
    // drift-checker: 730 x (150 + 2 x 1,000) ms x 0.25 GB = 392.4 GB-s = 0.01.
    // cost-analyzer's EMF: 3 metrics x 4.345238 hours / 730 = 0.017857 x $0.30 = 0.01.
    // Everything else is under half a cent (the access log's 1,418.69 x 330 B, the state
    // machine's 16.2 transitions x 1,300 B, the topic's 10 notifications; no template is
    // uploaded). 4.48 + 0.03 + 0.23 + 0.01 + 0.01 = 4.76, used; and Ferry's 15 health
    // alarms at $0.10: 6.26 in all.
    assert_eq!(own["monthly_usd"], 6.26, "{own}");
    assert_eq!(own["usage_based_usd"], 4.76, "{own}");
    assert!(own["unpriced"].as_array().unwrap().is_empty(), "{own}");
    // It leaves as an EMF metric too, and is kept for reading back.
    let metric = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m.get("FerryMonthlyCost").is_some())
        .expect("the FerryMonthlyCost metric");
    assert_eq!(metric["FerryMonthlyCost"], 6.26);
    assert_eq!(metric["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Ferry");
    let kept = store.ferry_cost().await.unwrap().unwrap().value;
    assert_eq!(kept.figure.monthly_usd, 6.26);
    assert_eq!(kept.computed_at.to_rfc3339(), "2015-10-08T16:53:06+00:00");
}

/// The template compiled into the function is Ferry's own, and its schedules come from
/// the stack's parameters when they are set.
#[test]
fn the_compiled_in_template_and_the_schedules_are_read() {
    let template: Value = serde_json::from_str(cost_analyzer::config::FERRY_TEMPLATE).unwrap();
    assert!(ferry_core::cost::bill::is_ferry_template(&template));
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_PRICING_REGION" => Some("us-east-1".into()),
        "FERRY_ALERT_EVALUATION_SCHEDULE" => Some("rate(5 minutes)".into()),
        "FERRY_DRIFT_CHECK_SCHEDULE" => Some("rate(1 hour)".into()),
        _ => None,
    });
    let config = cost_analyzer::config::Config::load(&env).unwrap();
    assert_eq!(config.schedules.evaluations_per_minute, Some(0.2));
    assert_eq!(config.schedules.drift_checks_per_month, Some(730.0));
    assert_eq!(config.schedules.cost_reports_per_month, None);
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_PRICING_REGION" => Some("us-east-1".into()),
        "FERRY_DRIFT_CHECK_SCHEDULE" => Some("whenever".into()),
        _ => None,
    });
    let err = cost_analyzer::config::Config::load(&env).unwrap_err();
    assert_eq!(err.variable, "FERRY_DRIFT_CHECK_SCHEDULE");
}

/// Whether templates go through the artifacts bucket is measured, not assumed: the share
/// of promotions (by environment when there were none) whose environment's template is
/// over CloudFormation's 51,200-byte inline limit, and those templates' mean size.
#[tokio::test]
async fn the_share_of_templates_uploaded_is_measured_from_the_environments() {
    use ferry_core::names::{PromotionId, Strategy};
    use ferry_core::promotion::{self, PromotionRequest};
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    // two-services.yaml with a third service: its prod template is over the limit.
    let mut document = ferry_core::infra::spec::parse_document(include_str!(
        "../../../examples/two-services.yaml"
    ))
    .unwrap();
    document["services"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "admin", "image": "repo/admin", "port": 8080, "cpu": 256, "memory": 512, "path": "/admin/*"}));
    let spec = ferry_core::infra::spec::AppSpec::from_document(document).unwrap();
    let prod = spec.new_environment("prod").unwrap();
    let bytes = ferry_core::infra::template::generate(&prod, None, prod.live_colour)
        .to_string()
        .len();
    assert!(bytes > 51_200, "{bytes}");
    store
        .create_app(&ferry_core::model::App {
            name: spec.app.clone(),
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    store.put_environment(&prod, None).await.unwrap();
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let template = frozen_ferry();
    let run = || async {
        handle(
            &store,
            &catalog,
            None,
            &ferry(&template),
            serde_json::from_str(SCHEDULE).unwrap(),
        )
        .await
        .unwrap()
    };
    // No promotions yet: one environment of the three has a template that large.
    let summary = run().await;
    let share = summary["ferry"]["template_upload_share"].as_f64().unwrap();
    assert!((share - 1.0 / 3.0).abs() < 1e-12, "{share}");
    let kept = store.ferry_cost().await.unwrap().unwrap().value;
    assert_eq!(
        kept.assumptions["figures"]["uploaded_template_bytes"],
        bytes as f64
    );
    // One promotion, into the shop's staging, whose template fits inline: nothing goes
    // through the bucket.
    promotion::create(
        &store,
        PromotionRequest {
            app: AppName::parse("a", "shop").unwrap(),
            source_env: EnvName::parse("e", "dev").unwrap(),
            target_env: EnvName::parse("e", "staging").unwrap(),
            strategy: Strategy::BlueGreen,
            allow_replace: vec![],
            kind: Default::default(),
            reason: None,
        },
        PromotionId::parse("id", "recent-1").unwrap(),
        "ana".into(),
        chrono::DateTime::parse_from_rfc3339("2015-10-01T10:00:00Z")
            .unwrap()
            .to_utc(),
    )
    .await
    .unwrap();
    let summary = run().await;
    assert_eq!(summary["ferry"]["template_upload_share"], 0.0);
}
