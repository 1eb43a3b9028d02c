//! Engine tests: promotions on the in-memory store, no AWS involved.

use chrono::{TimeZone, Utc};
use ferry_core::memory::{InMemoryStore, SHOP_SPEC};
use ferry_core::model::{App, Environment, PromotionStatus, Release, StepOutcome};
use ferry_core::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use ferry_core::ports::Store;
use ferry_core::promotion::{
    self, assess, Action, CreateError, PromotionRequest, RiskInputs, StepError, StepInput,
    StepPolicy, Steps,
};
use ferry_core::spec::AppSpec;
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

async fn seeded() -> InMemoryStore {
    let store = InMemoryStore::new();
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
        };
        store.put_environment(&environment, None).await.unwrap();
    }
    store
}

fn request(source: &str, target: &str) -> PromotionRequest {
    PromotionRequest {
        app: app(),
        source_env: env(source),
        target_env: env(target),
        strategy: Strategy::BlueGreen,
    }
}

async fn create(
    store: &InMemoryStore,
    id: &str,
    source: &str,
    target: &str,
) -> Result<promotion::Created, CreateError> {
    promotion::create(
        store,
        request(source, target),
        PromotionId::parse("id", id).unwrap(),
        "alice".into(),
        Utc::now(),
    )
    .await
}

fn steps(store: &InMemoryStore) -> Steps<'_> {
    Steps {
        store,
        policy: StepPolicy::default(),
        now: Utc::now,
    }
}

fn input(action: Action, id: &str) -> StepInput {
    StepInput {
        action,
        promotion_id: PromotionId::parse("id", id).unwrap(),
        cause: None,
        task_token: None,
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
        &store,
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
    for action in [
        Action::Validate,
        Action::AssessRisk,
        Action::Deploy,
        Action::Finalise,
    ] {
        steps(&store).run(&input(action, "p1")).await.unwrap();
    }
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
    assert_eq!(names, ["Validate", "AssessRisk", "Deploy", "Finalise"]);
    // The next promotion to staging may go now.
    assert!(create(&store, "p2", "dev", "staging").await.is_ok());
}

#[tokio::test]
async fn rollback_frees_the_lock_and_records_the_caught_error() {
    let store = seeded().await;
    create(&store, "p1", "dev", "staging").await.unwrap();
    let cause = json!({"Error": "ValidationFailed", "Cause": "{\"errorType\":\"ValidationFailed\",\"errorMessage\":\"no release\"}"});
    let result = steps(&store)
        .run(&StepInput {
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
        steps(&store).run(&input(action, "p1")).await.unwrap();
    }
    let err = steps(&store)
        .run(&input(Action::Validate, "p1"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LockLost");
    let rollback = steps(&store)
        .run(&input(Action::Rollback, "p1"))
        .await
        .unwrap();
    assert_eq!(rollback["lock"], "not held");
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
        .run(&input(Action::Validate, "missing"))
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
        .run(&input(Action::AssessRisk, "p1"))
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
            ("config_diff", 6),
            ("spec_diff", 10),
            ("recent_failure_rate", 10),
            ("recent_failure", 10),
            ("weekend", 10),
            ("time_of_day", 5),
        ]
    );
    assert_eq!(risk.score, 81);
    let calm = assess(&RiskInputs {
        target_env: &env("dev"),
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
    steps(&store).run(&wait).await.unwrap();
    let id = PromotionId::parse("id", "p1").unwrap();
    assert_eq!(
        store.get_promotion(&id).await.unwrap().unwrap().status,
        PromotionStatus::AwaitingApproval
    );
    let timeout = json!({"Error": "States.Timeout", "Cause": "timed out"});
    let result = steps(&store)
        .run(&StepInput {
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
