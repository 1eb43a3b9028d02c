//! Engine tests: promotions on the in-memory store, no AWS involved.

use chrono::{TimeZone, Utc};
use ferry_core::infra::profile::ProfileName;
use ferry_core::infra::spec::AppSpec;
use ferry_core::model::{App, Environment, PromotionStatus, Release, StepOutcome};
use ferry_core::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use ferry_core::ports::prelude::*;
use ferry_core::promotion::{
    self, assess, Action, CreateError, PromotionRequest, RiskInputs, StepError, StepInput,
    StepPolicy, Steps,
};
use ferry_testkit::{InMemoryMetrics, InMemoryStacks, InMemoryStore, Settle, SHOP_SPEC};
use serde_json::json;

fn app() -> AppName {
    AppName::parse("app", "shop").unwrap()
}
fn env(name: &str) -> EnvName {
    EnvName::parse("env", name).unwrap()
}
fn image(byte: &str) -> ImageRef {
    ImageRef::parse("image", &format!("repo/shop@sha256:{}", byte.repeat(32))).unwrap()
}

/// The store, plus the environments' stacks and their metrics.
struct World {
    store: InMemoryStore,
    stacks: InMemoryStacks,
    metrics: InMemoryMetrics,
}

impl std::ops::Deref for World {
    type Target = InMemoryStore;
    fn deref(&self) -> &InMemoryStore {
        &self.store
    }
}

async fn seeded() -> World {
    let store = InMemoryStore::new();
    let stacks = InMemoryStacks::new();
    store
        .create_app(&App {
            name: app(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    for (name, release) in [("dev", Some("ab")), ("staging", None), ("prod", None)] {
        let environment = Environment {
            app: app(),
            name: env(name),
            spec: AppSpec::parse(SHOP_SPEC)
                .unwrap()
                .environment(name)
                .unwrap(),
            stack_name: format!("ferry-shop-{name}"),
            deployed_release: release.map(|b| Release {
                image: image(b),
                config: Default::default(),
                recorded_at: Utc::now(),
            }),
            live_colour: Colour::Blue,
            active_promotion: None,
            version: 0,
            updated_at: Utc::now(),
            deployed_spec: None,
        };
        stacks.deploy(
            &environment.stack_name,
            ferry_core::infra::template::generate(
                &environment,
                environment.deployed_release.as_ref(),
                Colour::Blue,
            ),
        );
        store.put_environment(&environment, None).await.unwrap();
    }
    World {
        store,
        stacks,
        metrics: InMemoryMetrics::new(),
    }
}

fn request(source: &str, target: &str) -> PromotionRequest {
    PromotionRequest {
        app: app(),
        source_env: env(source),
        target_env: env(target),
        strategy: Strategy::BlueGreen,
        allow_replace: vec![],
        kind: Default::default(),
        reason: None,
    }
}

async fn create(
    store: &InMemoryStore,
    id: &str,
    source: &str,
    target: &str,
) -> Result<promotion::Created, CreateError> {
    let created = promotion::create(
        store,
        request(source, target),
        PromotionId::parse("id", id).unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await?;
    ferry_testkit::pin_promotion_template(store, &created.promotion.id).await;
    Ok(created)
}

fn steps(world: &World) -> Steps<'_> {
    Steps {
        environments: &world.store,
        promotions: &world.store,
        alerts: &world.store,
        stacks: &world.stacks,
        metrics: &world.metrics,
        faults: None,
        policy: StepPolicy::default(),
        outbox: None,
        now: Utc::now,
    }
}

fn input(action: Action, id: &str) -> StepInput {
    StepInput {
        action,
        promotion_id: PromotionId::parse("id", id).unwrap(),
        cause: None,
        task_token: None,
        step: None,
        stack: None,
    }
}

fn at_step(action: Action, id: &str, step: usize) -> StepInput {
    StepInput {
        step: Some(step),
        stack: None,
        ..input(action, id)
    }
}

#[test]
fn request_parse_reports_every_bad_field_at_once() {
    let errors = PromotionRequest::parse(&json!({
        "app": "Shop", "source_env": "dev", "target_env": "dev", "strategy": "YOLO", "colour": "red"
    }))
    .unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["app", "strategy", "target_env", "colour"],
        "{errors}"
    );
    let missing = PromotionRequest::parse(&json!({})).unwrap_err();
    assert!(missing.0.iter().all(|e| e.message == "is required"));
    assert_eq!(
        PromotionRequest::parse(&json!([1])).unwrap_err().0[0].field,
        "body"
    );
}

#[tokio::test]
async fn create_refuses_unknown_app_and_environments_and_writes_nothing() {
    let store = seeded().await;
    let unknown_app = promotion::create(
        &store.store,
        PromotionRequest {
            app: AppName::parse("app", "nope").unwrap(),
            ..request("dev", "staging")
        },
        PromotionId::parse("id", "p1").unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await;
    assert!(matches!(unknown_app, Err(CreateError::Invalid(e)) if e.0[0].field == "app"));
    let unknown_env = create(&store, "p2", "qa", "perf").await;
    match unknown_env {
        Err(CreateError::Invalid(errors)) => {
            let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["target_env", "source_env"]);
        }
        other => panic!("{other:?}"),
    }
    let no_release = create(&store, "p3", "staging", "prod").await;
    assert!(
        matches!(no_release, Err(CreateError::Invalid(e)) if e.0[0].message.contains("no deployed release"))
    );
    for id in ["p1", "p2", "p3"] {
        assert!(store
            .get_promotion(&PromotionId::parse("id", id).unwrap())
            .await
            .unwrap()
            .is_none());
    }
    assert!(store
        .get_environment(&app(), &env("prod"))
        .await
        .unwrap()
        .unwrap()
        .active_promotion
        .is_none());
}

#[tokio::test]
async fn one_active_promotion_per_environment_and_replays_are_idempotent() {
    let store = seeded().await;
    let first = create(&store, "p1", "dev", "staging").await.unwrap();
    assert!(!first.replayed);
    let replay = create(&store, "p1", "dev", "staging").await.unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.promotion.id, first.promotion.id);
    assert!(matches!(
        create(&store, "p1", "dev", "prod").await,
        Err(CreateError::KeyReused(_))
    ));
    match create(&store, "p2", "dev", "staging").await {
        Err(CreateError::Busy { holder, .. }) => assert_eq!(holder, "p1"),
        other => panic!("{other:?}"),
    }
    // Another environment is not blocked.
    assert!(create(&store, "p3", "dev", "prod").await.is_ok());
}

#[tokio::test]
async fn a_full_run_flips_the_colour_records_the_release_and_frees_the_lock() {
    let store = seeded().await;
    create(&store, "p1", "dev", "staging").await.unwrap();
    let before = store
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    healthy(&store, "staging", Colour::Green);
    for step in [
        input(Action::Validate, "p1"),
        input(Action::AssessRisk, "p1"),
        input(Action::Deploy, "p1"),
        at_step(Action::Shift, "p1", 0),
        at_step(Action::Analyse, "p1", 0),
        at_step(Action::Shift, "p1", 1),
        at_step(Action::Analyse, "p1", 1),
        input(Action::Finalise, "p1"),
    ] {
        steps(&store).settle(&step).await.unwrap();
    }
    assert_eq!(
        listener_weights(&store, "staging"),
        (0, 100),
        "all traffic on green"
    );
    assert_eq!(
        desired_counts(&store, "staging"),
        (0, 2),
        "blue scaled to zero"
    );
    let after = store
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.live_colour, Colour::Green);
    assert_eq!(after.deployed_release.unwrap().image, image("ab"));
    assert!(after.active_promotion.is_none());
    assert!(after.version > before.version);
    let promotion = store
        .get_promotion(&PromotionId::parse("id", "p1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(promotion.status, PromotionStatus::Succeeded);
    let names: Vec<&str> = promotion.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "GenerateTemplate",
            "Validate",
            "AssessRisk",
            "Deploy",
            "Deploy settled",
            "Shift 1",
            "Shift 1 settled",
            "Analyse 1",
            "Shift 2",
            "Shift 2 settled",
            "Analyse 2",
            "Finalise",
            "Finalise settled"
        ]
    );
    assert_eq!(
        promotion.steps[7].detail["smoke"]["web"]["healthy_hosts"],
        2.0
    );
    // The next promotion to staging may go now.
    assert!(create(&store, "p2", "dev", "staging").await.is_ok());
}

#[tokio::test]
async fn rollback_frees_the_lock_and_records_the_caught_error() {
    let store = seeded().await;
    create(&store, "p1", "dev", "staging").await.unwrap();
    let cause = json!({"Error": "ValidationFailed", "Cause": "{\"errorType\":\"ValidationFailed\",\"errorMessage\":\"no release\"}"});
    let result = steps(&store)
        .settle(&StepInput {
            cause: Some(cause),
            ..input(Action::Rollback, "p1")
        })
        .await
        .unwrap();
    assert_eq!(result["reason"], "ValidationFailed: no release");
    assert_eq!(result["lock"], "released");
    let staging = store
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    assert!(staging.active_promotion.is_none());
    assert_eq!(
        staging.live_colour,
        Colour::Blue,
        "rollback leaves traffic where it was"
    );
    let promotion = store
        .get_promotion(&PromotionId::parse("id", "p1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(promotion.status, PromotionStatus::RolledBack);
}

#[tokio::test]
async fn a_stray_execution_cannot_touch_a_finished_promotion() {
    let store = seeded().await;
    create(&store, "p1", "dev", "staging").await.unwrap();
    for action in [Action::Validate, Action::Deploy, Action::Finalise] {
        steps(&store).settle(&input(action, "p1")).await.unwrap();
    }
    let finished = store.stacks.template("ferry-shop-staging");
    let err = steps(&store)
        .settle(&input(Action::Validate, "p1"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LockLost");
    let rollback = steps(&store)
        .settle(&input(Action::Rollback, "p1"))
        .await
        .unwrap();
    assert_eq!(rollback["lock"], "not held");
    assert_eq!(
        store.stacks.template("ferry-shop-staging"),
        finished,
        "a stray rollback leaves the stack alone"
    );
    let promotion = store
        .get_promotion(&PromotionId::parse("id", "p1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        promotion.status,
        PromotionStatus::Succeeded,
        "the ending stays as it was"
    );
    let last = promotion.steps.iter().rev().nth(1).unwrap();
    assert_eq!(
        (last.name.as_str(), last.outcome),
        ("Validate", StepOutcome::Failed)
    );
}

#[tokio::test]
async fn unknown_promotions_fail_with_a_stable_error_name() {
    let store = seeded().await;
    let err = steps(&store)
        .settle(&input(Action::Validate, "missing"))
        .await
        .unwrap_err();
    assert_eq!(err, StepError::PromotionNotFound("missing".into()));
    assert_eq!(err.name(), "PromotionNotFound");
}

#[tokio::test]
async fn prod_always_needs_approval() {
    let store = seeded().await;
    create(&store, "p1", "dev", "prod").await.unwrap();
    let risk = steps(&store)
        .settle(&input(Action::AssessRisk, "p1"))
        .await
        .unwrap();
    assert_eq!(risk["requires_approval"], true);
    assert!(risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["factor"] == "target_environment" && f["points"] == 30));
}

#[test]
fn risk_is_the_sum_of_named_factors() {
    let prod = env("prod");
    // Saturday 2026-11-28, 23:00 UTC.
    let saturday_night = Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap();
    let risk = assess(&RiskInputs {
        target_env: &prod,
        target_profile: ProfileName::Prod,
        replacements: 1,
        infra_changes: 2,
        deletions: 0,
        stateful_changes: 0,
        security_group_changes: 0,
        open_alerts: 1,
        config_changes: 2,
        spec_changes: 1,
        recent_promotions: 4,
        recent_failures: 2,
        hours_since_last_failure: Some(3.0),
        now: saturday_night,
    });
    let points: Vec<(&str, u8)> = risk
        .factors
        .iter()
        .map(|f| (f.factor.as_str(), f.points))
        .collect();
    assert_eq!(
        points,
        [
            ("target_environment", 30),
            ("change_set_replacements", 10),
            ("resources_modified", 6),
            ("open_alerts", 10),
            ("config_diff", 6),
            ("spec_diff", 10),
            ("recent_failure_rate", 10),
            ("recent_failure", 10),
            ("weekend", 10),
            ("time_of_day", 5),
        ]
    );
    assert_eq!(risk.score, 100, "capped at 100");
    let calm = assess(&RiskInputs {
        target_env: &env("dev"),
        target_profile: ProfileName::Dev,
        replacements: 0,
        infra_changes: 0,
        deletions: 0,
        stateful_changes: 0,
        security_group_changes: 0,
        open_alerts: 0,
        config_changes: 0,
        spec_changes: 0,
        recent_promotions: 0,
        recent_failures: 0,
        hours_since_last_failure: None,
        now: Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap(),
    });
    assert_eq!((calm.score, calm.factors.len()), (0, 0));
}

#[tokio::test]
async fn an_approval_timeout_ends_the_promotion_rejected() {
    let store = seeded().await;
    create(&store, "p1", "dev", "prod").await.unwrap();
    let wait = StepInput {
        task_token: Some("t".into()),
        ..input(Action::AwaitApproval, "p1")
    };
    steps(&store).settle(&wait).await.unwrap();
    let id = PromotionId::parse("id", "p1").unwrap();
    assert_eq!(
        store.get_promotion(&id).await.unwrap().unwrap().status,
        PromotionStatus::AwaitingApproval
    );
    let timeout = json!({"Error": "States.Timeout", "Cause": "timed out"});
    let result = steps(&store)
        .settle(&StepInput {
            cause: Some(timeout),
            ..input(Action::Rollback, "p1")
        })
        .await
        .unwrap();
    assert_eq!(
        result["reason"],
        "Rejected (timeout): no decision before the approval timeout"
    );
    assert_eq!(
        store.get_promotion(&id).await.unwrap().unwrap().status,
        PromotionStatus::Rejected
    );
    assert!(store
        .get_environment(&app(), &env("prod"))
        .await
        .unwrap()
        .unwrap()
        .active_promotion
        .is_none());
}

/// The green (or blue) target group reports healthy hosts, as the ALB would.
fn healthy(world: &World, env: &str, colour: Colour) {
    let stack = format!("ferry-shop-{env}");
    let group = format!(
        "{stack}/{}",
        ferry_core::infra::template::target_group_output("web", colour)
    );
    let lb = format!("{stack}/LoadBalancerFullName");
    for seconds in [90, 30] {
        world.metrics.put(
            "HealthyHostCount",
            &[("TargetGroup", &group), ("LoadBalancer", &lb)],
            Utc::now() - chrono::Duration::seconds(seconds),
            2.0,
        );
    }
}

/// Latency samples for one colour's target group: one data point per second.
fn latency(world: &World, env: &str, colour: Colour, base: f64, seconds: i64) {
    let stack = format!("ferry-shop-{env}");
    let group = format!(
        "{stack}/{}",
        ferry_core::infra::template::target_group_output("web", colour)
    );
    let lb = format!("{stack}/LoadBalancerFullName");
    let dims = [
        ("TargetGroup", group.as_str()),
        ("LoadBalancer", lb.as_str()),
    ];
    for i in 0..seconds {
        // A deterministic wobble of +-10% around the base.
        let wobble = 1.0 + 0.1 * ((i * 7919 % 21) as f64 - 10.0) / 10.0;
        let at = Utc::now() - chrono::Duration::seconds(seconds - i);
        world
            .metrics
            .put("TargetResponseTime", &dims, at, base * wobble);
        world.metrics.put("RequestCount", &dims, at, 100.0);
        world
            .metrics
            .put("HTTPCode_Target_5XX_Count", &dims, at, 0.0);
    }
}

fn listener_weights(world: &World, env: &str) -> (u64, u64) {
    let template = world.stacks.template(&format!("ferry-shop-{env}")).unwrap();
    let groups = &template["Resources"]["HttpsListener"]["Properties"]["DefaultActions"][0]
        ["ForwardConfig"]["TargetGroups"];
    (
        groups[0]["Weight"].as_u64().unwrap(),
        groups[1]["Weight"].as_u64().unwrap(),
    )
}

fn desired_counts(world: &World, env: &str) -> (u64, u64) {
    let template = world.stacks.template(&format!("ferry-shop-{env}")).unwrap();
    let count = |id: &str| {
        template["Resources"][id]["Properties"]["DesiredCount"]
            .as_u64()
            .unwrap()
    };
    (count("WebBlueService"), count("WebGreenService"))
}

/// A canary into staging with a one-minute analysis window sampled per second.
async fn canary(world: &World, id: &str) {
    let mut staging = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    staging.spec.promotion.analysis.period_seconds = 1;
    staging.spec.promotion.analysis.window_seconds = Some(60);
    let version = staging.version;
    world
        .put_environment(&staging, Some(version))
        .await
        .unwrap();
    promotion::create(
        &world.store,
        PromotionRequest {
            strategy: Strategy::Canary10Percent5Minutes,
            ..request("dev", "staging")
        },
        PromotionId::parse("id", id).unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    ferry_testkit::pin_promotion_template(&world.store, &PromotionId::parse("id", id).unwrap())
        .await;
    for step in [
        input(Action::Validate, id),
        input(Action::Deploy, id),
        at_step(Action::Shift, id, 0),
    ] {
        steps(world).settle(&step).await.unwrap();
    }
}

#[tokio::test]
async fn a_canary_step_sets_the_weights_and_passes_a_healthy_new_colour() {
    let world = seeded().await;
    canary(&world, "c1").await;
    assert_eq!(listener_weights(&world, "staging"), (90, 10));
    assert_eq!(
        desired_counts(&world, "staging"),
        (2, 2),
        "both colours run during the canary"
    );
    latency(&world, "staging", Colour::Blue, 0.200, 60);
    latency(&world, "staging", Colour::Green, 0.200, 60);
    let analysis = steps(&world)
        .settle(&at_step(Action::Analyse, "c1", 0))
        .await
        .unwrap();
    assert_eq!(analysis["judge"]["outcome"], "Pass", "{analysis}");
    assert_eq!(analysis["done"], false);
    assert_eq!(analysis["next_step"], 1);
    let metrics: Vec<&str> = analysis["judge"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["latency_p50", "latency_p99", "error_rate_5xx"]);
}

#[tokio::test]
async fn a_latency_regression_fails_the_canary_and_rollback_puts_all_traffic_back() {
    let world = seeded().await;
    canary(&world, "c2").await;
    latency(&world, "staging", Colour::Blue, 0.200, 60);
    latency(&world, "staging", Colour::Green, 0.300, 60);
    let error = steps(&world)
        .settle(&at_step(Action::Analyse, "c2", 0))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "CanaryFailed");
    let id = PromotionId::parse("id", "c2").unwrap();
    let record = world.get_promotion(&id).await.unwrap().unwrap();
    let analysed = record.steps.last().unwrap();
    assert_eq!(
        analysed.detail["analysis"]["metrics"][0]["classification"],
        "High"
    );
    let cause = json!({"Error": "CanaryFailed", "Cause": format!("{{\"errorType\":\"CanaryFailed\",\"errorMessage\":\"{error}\"}}")});
    let rollback = steps(&world)
        .settle(&StepInput {
            cause: Some(cause),
            ..input(Action::Rollback, "c2")
        })
        .await
        .unwrap();
    assert_eq!(rollback["lock"], "released");
    assert_eq!(listener_weights(&world, "staging"), (100, 0));
    assert_eq!(
        desired_counts(&world, "staging"),
        (2, 0),
        "the new colour scaled down"
    );
    assert_eq!(
        world.get_promotion(&id).await.unwrap().unwrap().status,
        PromotionStatus::RolledBack
    );
}

#[tokio::test]
async fn an_alarm_during_the_bake_fails_the_step() {
    let world = seeded().await;
    canary(&world, "c3").await;
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-p99-latency", "ALARM");
    world
        .metrics
        .set_alarm("ferry/shop/prod/web-p99-latency", "ALARM");
    let error = steps(&world)
        .settle(&at_step(Action::Analyse, "c3", 0))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "AlarmFired");
    assert_eq!(
        error.to_string(),
        "in ALARM during the bake: ferry/shop/staging/web-p99-latency"
    );
}

#[tokio::test]
async fn an_alarm_that_fired_and_cleared_within_the_bake_fails_the_step() {
    let world = seeded().await;
    canary(&world, "c3").await;
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(3);
    // Before the bake: fired and cleared hours ago, not this promotion's doing.
    world
        .metrics
        .set_alarm_at("ferry/shop/staging/api-5xx", "ALARM", long_ago);
    world
        .metrics
        .set_alarm_at("ferry/shop/staging/api-5xx", "OK", long_ago);
    let before = steps(&world)
        .settle(&at_step(Action::Analyse, "c3", 0))
        .await
        .err()
        .map(|e| e.name().to_string());
    assert_ne!(
        before.as_deref(),
        Some("AlarmFired"),
        "an alarm from before the bake"
    );
    // During the bake: fired and back to OK by the time Analyse looks.
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-p99-latency", "ALARM");
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-p99-latency", "OK");
    let error = steps(&world)
        .settle(&at_step(Action::Analyse, "c3", 0))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "AlarmFired");
    assert_eq!(
        error.to_string(),
        "in ALARM during the bake: ferry/shop/staging/web-p99-latency"
    );
}

#[test]
fn at_full_weight_the_alarms_watch_the_candidate_colour() {
    use ferry_core::infra::spec::AppSpec;
    use ferry_core::infra::template::generate_rollout;
    use ferry_core::promotion::rollout::{Candidate, Rollout};
    let spec = AppSpec::parse(include_str!("../../../examples/two-services.yaml")).unwrap();
    let env = spec.new_environment("prod").unwrap();
    let release = Release {
        image: image("cd"),
        config: Default::default(),
        recorded_at: Utc::now(),
    };
    let watched = |weight| {
        let template = generate_rollout(
            &env,
            &Rollout {
                live: Colour::Blue,
                live_release: None,
                candidate: Some(Candidate {
                    release: &release,
                    weight,
                }),
            },
        );
        let alarm = &template["Resources"]["WebLatencyP99Alarm"]["Properties"];
        let group = alarm["Dimensions"][1]["Value"]["Fn::GetAtt"][0].clone();
        let cpu = &template["Resources"]["WebCpuAlarm"]["Properties"]["Dimensions"][1];
        (group, cpu["Value"]["Fn::GetAtt"][0].clone())
    };
    assert_eq!(
        watched(10),
        (json!("WebBlueTargetGroup"), json!("WebBlueService"))
    );
    assert_eq!(
        watched(100),
        (json!("WebGreenTargetGroup"), json!("WebGreenService"))
    );
}

#[tokio::test]
async fn a_failed_change_set_fails_the_step_and_rollback_still_releases_the_lock() {
    let world = seeded().await;
    create(&world, "p1", "dev", "staging").await.unwrap();
    steps(&world)
        .settle(&input(Action::Validate, "p1"))
        .await
        .unwrap();
    world.stacks.fail_next_executions(1);
    let error = steps(&world)
        .settle(&input(Action::Deploy, "p1"))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "DeployFailed");
    let rollback = steps(&world)
        .settle(&input(Action::Rollback, "p1"))
        .await
        .unwrap();
    assert_eq!(rollback["lock"], "released");
}

#[tokio::test]
async fn injected_faults_are_honoured_only_when_fault_injection_is_on() {
    let world = seeded().await;
    create(&world, "p1", "dev", "staging").await.unwrap();
    world
        .store
        .inject_fault("shop/staging/assess_risk", "FaultInjected");
    steps(&world)
        .settle(&input(Action::AssessRisk, "p1"))
        .await
        .unwrap();
    let on = Steps {
        faults: Some(&world.store),
        ..steps(&world)
    };
    let error = on
        .settle(&input(Action::AssessRisk, "p1"))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "FaultInjected");
    assert_eq!(
        error.to_string(),
        "fault injected at shop/staging/assess_risk"
    );
}

#[tokio::test]
async fn custom_strategy_needs_steps_in_the_target_spec() {
    let world = seeded().await;
    let error = promotion::create(
        &world.store,
        PromotionRequest {
            strategy: Strategy::Custom,
            ..request("dev", "staging")
        },
        PromotionId::parse("id", "x").unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("strategy: the Custom strategy needs promotion.steps"),
        "{error}"
    );
}

#[tokio::test]
async fn a_marginal_canary_is_reported_for_a_human_decision() {
    let world = seeded().await;
    let mut staging = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    // Four metrics in one group: a 50% latency increase fails only the one that watches
    // for increases, so the score is 3 of 4 = 75, the marginal threshold.
    let metric = |name: &str, metric: &str, stat: &str, direction: &str| {
        serde_json::from_value::<ferry_core::promotion::rollout::AnalysisMetric>(json!({
            "name": name, "metric": metric, "stat": stat, "direction": direction}))
        .unwrap()
    };
    staging.spec.promotion.analysis.metrics = vec![
        metric("latency_up", "TargetResponseTime", "Average", "increase"),
        metric("latency_down", "TargetResponseTime", "Maximum", "decrease"),
        metric("requests", "RequestCount", "Sum", "either"),
        metric("errors", "HTTPCode_Target_5XX_Count", "Sum", "increase"),
    ];
    let version = staging.version;
    world
        .put_environment(&staging, Some(version))
        .await
        .unwrap();
    canary(&world, "m1").await;
    latency(&world, "staging", Colour::Blue, 0.200, 60);
    latency(&world, "staging", Colour::Green, 0.300, 60);
    let analysis = steps(&world)
        .settle(&at_step(Action::Analyse, "m1", 0))
        .await
        .unwrap();
    assert_eq!(analysis["marginal"], true, "{analysis}");
    assert_eq!(analysis["judge"]["outcome"], "Marginal");
    assert_eq!(analysis["judge"]["score"], 75.0);
    // The state machine then parks it for the approval endpoint.
    let wait = StepInput {
        task_token: Some("t".into()),
        ..input(Action::AwaitApproval, "m1")
    };
    steps(&world).settle(&wait).await.unwrap();
    let id = PromotionId::parse("id", "m1").unwrap();
    assert_eq!(
        world.get_promotion(&id).await.unwrap().unwrap().status,
        PromotionStatus::AwaitingApproval
    );
}

#[tokio::test]
async fn risk_counts_what_the_deploy_change_set_would_change_beyond_the_release() {
    let calm_world = seeded().await;
    create(&calm_world, "r1", "dev", "staging").await.unwrap();
    let calm = steps(&calm_world)
        .settle(&input(Action::AssessRisk, "r1"))
        .await
        .unwrap();
    assert_eq!(calm["change_set"]["beyond_the_new_colour"], 0, "{calm}");
    assert!(
        calm["change_set"]["changes"].as_u64().unwrap() > 0,
        "the release itself changes the green colour"
    );
    // The stored spec moved on since the stack was deployed: the release would carry
    // an infrastructure change with it.
    let world = seeded().await;
    change_staging_log_retention(&world).await;
    create(&world, "r2", "dev", "staging").await.unwrap();
    let risky = steps(&world)
        .settle(&input(Action::AssessRisk, "r2"))
        .await
        .unwrap();
    let factor = risky["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == "resources_modified");
    assert!(factor.is_some(), "{risky}");
    assert!(risky["score"].as_u64() > calm["score"].as_u64());
}

async fn change_staging_log_retention(world: &World) {
    let mut staging = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    staging.spec.profile.log_retention_days = 400;
    let version = staging.version;
    world
        .put_environment(&staging, Some(version))
        .await
        .unwrap();
}

/// The spec is pinned when the promotion is created: one saved mid-promotion changes
/// neither the risk the promotion is judged on nor any template it deploys, from Deploy
/// to Finalise. The next release does not take it either: releases deploy the spec the
/// stack runs, and a saved spec reaches the stack through an infrastructure change.
#[tokio::test]
async fn a_spec_saved_mid_promotion_changes_nothing_it_deploys() {
    let world = seeded().await;
    create(&world, "s1", "dev", "staging").await.unwrap();
    healthy(&world, "staging", Colour::Green);
    steps(&world)
        .settle(&input(Action::Validate, "s1"))
        .await
        .unwrap();
    let pinned = world
        .pinned_template(
            &PromotionId::parse("id", "s1").unwrap(),
            ferry_core::model::TemplateRole::Deploy,
        )
        .await
        .unwrap()
        .expect("GenerateTemplate pinned one");
    // The start's detail says what it sent; settle() returns the last look's.
    let deployed = steps(&world)
        .run(&input(Action::Deploy, "s1"))
        .await
        .unwrap();
    steps(&world)
        .settle(&input(Action::Deploy, "s1"))
        .await
        .unwrap();
    assert_eq!(
        deployed["template"]["sha256"],
        pinned.sha256.as_str(),
        "Deploy sends the pinned text: {deployed}"
    );
    assert!(deployed["template"]["derived_from"].is_null());
    change_staging_log_retention(&world).await;
    let risk = steps(&world)
        .settle(&input(Action::AssessRisk, "s1"))
        .await
        .unwrap();
    assert_eq!(risk["change_set"]["beyond_the_new_colour"], 0, "{risk}");
    let plan = world
        .get_promotion(&PromotionId::parse("id", "s1").unwrap())
        .await
        .unwrap()
        .unwrap()
        .plan;
    for index in 0..plan.len() {
        let shifted = steps(&world)
            .run(&at_step(Action::Shift, "s1", index))
            .await
            .unwrap();
        steps(&world)
            .settle(&at_step(Action::Shift, "s1", index))
            .await
            .unwrap();
        // The smoke step (weight 0) is Deploy's traffic, so it sends the pinned text
        // itself; every other step a template derived from it.
        let sent = &shifted["template"];
        assert!(
            sent["derived_from"] == pinned.sha256.as_str()
                || (shifted["weight"] == 0 && sent["sha256"] == pinned.sha256.as_str()),
            "{shifted}"
        );
        steps(&world)
            .settle(&at_step(Action::Analyse, "s1", index))
            .await
            .unwrap();
    }
    steps(&world)
        .settle(&input(Action::Finalise, "s1"))
        .await
        .unwrap();
    let stack = world
        .stacks
        .template(
            &world
                .get_environment(&app(), &env("staging"))
                .await
                .unwrap()
                .unwrap()
                .stack_name,
        )
        .expect("the stack exists");
    let retention: Vec<&serde_json::Value> = stack["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Logs::LogGroup")
        .map(|r| &r["Properties"]["RetentionInDays"])
        .collect();
    assert!(!retention.is_empty());
    assert!(
        retention.iter().all(|days| **days != 400),
        "the saved spec reached the stack: {retention:?}"
    );
    // Ended, lock free, all traffic on the new colour that passed its checks.
    let after = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    assert!(after.active_promotion.is_none());
    assert_eq!(
        after.spec.profile.log_retention_days, 400,
        "the saved spec is kept, for a change to deploy"
    );
    let deployed = after.deployed_spec.clone().expect("recorded at Finalise");
    assert_ne!(deployed.spec.profile.log_retention_days, 400);
    // The next release pins the spec the stack runs, not the saved one.
    let next_release = create(&world, "s3", "dev", "staging").await;
    assert!(next_release.is_ok(), "{next_release:?}");
    let pinned_spec = |id: &str| {
        let world = &world;
        let id = PromotionId::parse("id", id).unwrap();
        async move {
            world
                .get_promotion(&id)
                .await
                .unwrap()
                .unwrap()
                .pinned
                .unwrap()
        }
    };
    let release = pinned_spec("s3").await;
    assert_eq!(
        (
            release.spec_version,
            release.spec.profile.log_retention_days
        ),
        (
            deployed.spec_version,
            deployed.spec.profile.log_retention_days
        ),
        "a release carries no infrastructure change"
    );
    // A change is how the saved spec gets there.
    world
        .unlock(
            &app(),
            &env("staging"),
            &PromotionId::parse("id", "s3").unwrap(),
            None,
        )
        .await
        .unwrap();
    let change = promotion::create(
        &world.store,
        PromotionRequest::change(
            app(),
            env("staging"),
            &json!({"reason": "longer retention"}),
        )
        .unwrap(),
        PromotionId::parse("id", "c1").unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await;
    assert!(change.is_ok(), "{change:?}");
    assert_eq!(pinned_spec("c1").await.spec.profile.log_retention_days, 400);
}

/// A change set that would delete (or replace) a data store is refused at AssessRisk,
/// before anything is deployed, unless the request named it; named, it goes ahead with
/// the loss in the risk score.
#[tokio::test]
async fn losing_a_data_store_is_refused_unless_the_request_names_it() {
    for allowed in [vec![], vec!["Database".to_owned()]] {
        let world = seeded().await;
        let mut staging = world
            .get_environment(&app(), &env("staging"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            staging.spec.database.is_some(),
            "the fixture has a database"
        );
        staging.spec.database = None;
        let version = staging.version;
        world
            .put_environment(&staging, Some(version))
            .await
            .unwrap();
        let created = promotion::create(
            &world.store,
            PromotionRequest {
                allow_replace: allowed.clone(),
                ..request("dev", "staging")
            },
            PromotionId::parse("id", "d1").unwrap(),
            "alice".into(),
            Utc::now(),
        )
        .await
        .unwrap();
        ferry_testkit::pin_promotion_template(&world.store, &created.promotion.id).await;
        let assessed = steps(&world).settle(&input(Action::AssessRisk, "d1")).await;
        if allowed.is_empty() {
            let error = assessed.unwrap_err();
            assert_eq!(error.name(), "ReplacementRefused");
            assert!(
                error
                    .to_string()
                    .contains("delete Database (AWS::RDS::DBInstance)"),
                "{error}"
            );
            assert!(
                error.to_string().contains("--allow-replace Database"),
                "{error}"
            );
        } else {
            let risk = assessed.unwrap();
            let factors: Vec<&str> = risk["factors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["factor"].as_str().unwrap())
                .collect();
            assert!(
                factors.contains(&"deletions") && factors.contains(&"stateful_changes"),
                "{risk}"
            );
        }
    }
}

/// Promotes dev's release into staging (blue/green), leaving green live.
async fn promoted_to_green(world: &World) {
    create(world, "rel", "dev", "staging").await.unwrap();
    healthy(world, "staging", Colour::Green);
    for step in [
        input(Action::Validate, "rel"),
        input(Action::Deploy, "rel"),
        at_step(Action::Shift, "rel", 0),
        at_step(Action::Analyse, "rel", 0),
        at_step(Action::Shift, "rel", 1),
        at_step(Action::Analyse, "rel", 1),
        input(Action::Finalise, "rel"),
    ] {
        steps(world).settle(&step).await.unwrap();
    }
    assert_eq!(listener_weights(world, "staging"), (0, 100));
}

/// `ferry apply`'s request: staging's stored spec, with three web tasks, as a change.
async fn change_desired_count(world: &World, id: &str) {
    let mut staging = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    staging.spec.services[0].desired_count = 3;
    let version = staging.version;
    world
        .put_environment(&staging, Some(version))
        .await
        .unwrap();
    let request =
        PromotionRequest::change(app(), env("staging"), &json!({"reason": "more web tasks"}))
            .unwrap();
    let created = promotion::create(
        &world.store,
        request,
        PromotionId::parse("id", id).unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    ferry_testkit::pin_promotion_template(&world.store, &created.promotion.id).await;
}

fn web_image(world: &World, colour: &str) -> String {
    let template = world.stacks.template("ferry-shop-staging").unwrap();
    template["Resources"][format!("Web{colour}TaskDefinition")]["Properties"]
        ["ContainerDefinitions"][0]["Image"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An infrastructure change deploys in place through the pipeline: the live colour and
/// the promoted release stay, the new size lands on the live colour, and the lock is
/// free after its watch.
#[tokio::test]
async fn a_change_deploys_in_place_keeping_the_live_colour_and_the_release() {
    let world = seeded().await;
    promoted_to_green(&world).await;
    let promoted_image = web_image(&world, "Green");
    change_desired_count(&world, "c1").await;
    healthy(&world, "staging", Colour::Green);
    let plan = world
        .get_promotion(&PromotionId::parse("id", "c1").unwrap())
        .await
        .unwrap()
        .unwrap()
        .plan;
    assert_eq!(plan.len(), 1, "one watch step: {plan:?}");
    assert_eq!(plan[0].weight, 0);
    for step in [
        input(Action::Validate, "c1"),
        input(Action::AssessRisk, "c1"),
        input(Action::Deploy, "c1"),
        at_step(Action::Shift, "c1", 0),
        at_step(Action::Analyse, "c1", 0),
        input(Action::Finalise, "c1"),
    ] {
        steps(&world).settle(&step).await.unwrap();
    }
    assert_eq!(
        listener_weights(&world, "staging"),
        (0, 100),
        "green keeps all traffic"
    );
    assert_eq!(
        desired_counts(&world, "staging"),
        (0, 3),
        "the change on the live colour"
    );
    assert_eq!(
        web_image(&world, "Green"),
        promoted_image,
        "the promoted image stays"
    );
    let after = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.live_colour, Colour::Green);
    assert_eq!(after.deployed_release.unwrap().image, image("ab"));
    assert!(after.active_promotion.is_none());
    let change = world
        .get_promotion(&PromotionId::parse("id", "c1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.status, PromotionStatus::Succeeded);
    assert_eq!(change.reason.as_deref(), Some("more web tasks"));
}

/// An alarm during a change's watch puts the template from before it back: the old size,
/// the traffic and the image where they were, the lock free.
#[tokio::test]
async fn a_change_that_sets_an_alarm_off_puts_the_previous_template_back() {
    let world = seeded().await;
    promoted_to_green(&world).await;
    let before = world.stacks.template("ferry-shop-staging").unwrap();
    change_desired_count(&world, "c2").await;
    for step in [
        input(Action::Validate, "c2"),
        input(Action::Deploy, "c2"),
        at_step(Action::Shift, "c2", 0),
    ] {
        steps(&world).settle(&step).await.unwrap();
    }
    assert_eq!(desired_counts(&world, "staging"), (0, 3));
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-p99-latency", "ALARM");
    let error = steps(&world)
        .settle(&at_step(Action::Analyse, "c2", 0))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "AlarmFired");
    let rollback = StepInput {
        cause: Some(json!({"Error": "AlarmFired", "Cause": "{}"})),
        ..input(Action::Rollback, "c2")
    };
    steps(&world).settle(&rollback).await.unwrap();
    assert_eq!(
        world.stacks.template("ferry-shop-staging").unwrap(),
        before,
        "the stack runs the template from before the change"
    );
    assert_eq!(listener_weights(&world, "staging"), (0, 100));
    let after = world
        .get_environment(&app(), &env("staging"))
        .await
        .unwrap()
        .unwrap();
    assert!(after.active_promotion.is_none());
    assert_eq!(after.live_colour, Colour::Green);
    assert_eq!(
        world
            .get_promotion(&PromotionId::parse("id", "c2").unwrap())
            .await
            .unwrap()
            .unwrap()
            .status,
        PromotionStatus::RolledBack
    );
}
