use ferry_core::names::{AppName, EnvName, PromotionId, Strategy};
use ferry_core::ports::prelude::*;
use ferry_core::promotion::{self, PromotionRequest, StepPolicy, Steps};
use ferry_testkit::{seed_shop, InMemoryMetrics, InMemoryStacks, InMemoryStore};
use promotion_step::handler::handle;
use serde_json::{json, Value};

const VALIDATE: &str = include_str!("fixtures/validate-task.json");
/// EventBridge's "Step Functions Execution Status Change" for a stopped execution, as
/// AWS documents it.
const ABORTED: &str = include_str!("fixtures/eventbridge-execution-aborted.json");

struct World {
    store: InMemoryStore,
    stacks: InMemoryStacks,
    metrics: InMemoryMetrics,
}

impl World {
    fn steps(&self) -> Steps<'_> {
        Steps {
            environments: &self.store,
            promotions: &self.store,
            alerts: &self.store,
            stacks: &self.stacks,
            metrics: &self.metrics,
            faults: None,
            policy: StepPolicy::default(),
            outbox: None,
            now: chrono::Utc::now,
        }
    }
}

/// The shop app with a promotion to staging, whose stack is deployed.
async fn with_promotion() -> World {
    let store = InMemoryStore::new();
    seed_shop(&store).await.unwrap();
    let staging = store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let stacks = InMemoryStacks::new();
    stacks.deploy(
        &staging.stack_name,
        ferry_core::infra::template::generate(&staging, None, staging.live_colour),
    );
    let request = PromotionRequest {
        app: AppName::parse("a", "shop").unwrap(),
        source_env: EnvName::parse("e", "dev").unwrap(),
        target_env: EnvName::parse("e", "staging").unwrap(),
        strategy: Strategy::BlueGreen,
        allow_replace: vec![],
        kind: Default::default(),
        reason: None,
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
    ferry_testkit::pin_promotion_template(&store, &PromotionId::parse("id", "release-42").unwrap())
        .await;
    World {
        store,
        stacks,
        metrics: InMemoryMetrics::new(),
    }
}

#[tokio::test]
async fn the_task_payload_runs_the_named_step() {
    let world = with_promotion().await;
    let payload: Value = serde_json::from_str(VALIDATE).unwrap();
    let result = handle(&world.steps(), payload).await.unwrap();
    assert_eq!(result["lock"], "held");
}

#[tokio::test]
async fn failures_carry_the_names_the_state_machine_matches() {
    let world = with_promotion().await;
    let err = handle(
        &world.steps(),
        json!({"action": "validate", "promotion_id": "nope"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, "PromotionNotFound");
    let err = handle(
        &world.steps(),
        json!({"action": "launch", "promotion_id": "release-42"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
    assert!(err.message.contains("launch"), "{}", err.message);
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ferry-EnvironmentStackRole-1A2B3C";

#[test]
fn config_needs_the_stack_role_and_the_artifacts_bucket() {
    let without_role = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_ARTIFACTS_BUCKET" => Some("ferry-artifacts".into()),
        _ => None,
    });
    assert_eq!(
        promotion_step::config::Config::load(&without_role)
            .unwrap_err()
            .to_string(),
        "FERRY_STACK_ROLE_ARN: is not set"
    );
    let not_a_role = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_STACK_ROLE_ARN" => Some("arn:aws:iam::123456789012:user/ana".into()),
        "FERRY_ARTIFACTS_BUCKET" => Some("ferry-artifacts".into()),
        _ => None,
    });
    assert_eq!(
        promotion_step::config::Config::load(&not_a_role)
            .unwrap_err()
            .variable,
        "FERRY_STACK_ROLE_ARN"
    );
    let without_bucket = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_STACK_ROLE_ARN" => Some(ROLE.into()),
        _ => None,
    });
    let config = promotion_step::config::Config::load(&without_bucket);
    assert_eq!(config.unwrap_err().variable, "FERRY_ARTIFACTS_BUCKET");
}

#[test]
fn config_rejects_thresholds_above_100_by_name() {
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_STACK_ROLE_ARN" => Some(ROLE.into()),
        "FERRY_ARTIFACTS_BUCKET" => Some("ferry-artifacts".into()),
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

#[test]
fn fault_injection_cannot_be_switched_on_inside_lambda() {
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_STACK_ROLE_ARN" => Some(ROLE.into()),
        "FERRY_ARTIFACTS_BUCKET" => Some("ferry-artifacts".into()),
        "FERRY_FAULT_INJECTION" => Some("true".into()),
        "AWS_LAMBDA_INITIALIZATION_TYPE" => Some("on-demand".into()),
        _ => None,
    });
    let err = promotion_step::config::Config::load(&env).unwrap_err();
    assert_eq!(err.variable, "FERRY_FAULT_INJECTION");
}

fn listener_weights(world: &World) -> (u64, u64) {
    let template = world.stacks.template("ferry-shop-staging").unwrap();
    let groups = &template["Resources"]["HttpsListener"]["Properties"]["DefaultActions"][0]
        ["ForwardConfig"]["TargetGroups"];
    (
        groups[0]["Weight"].as_u64().unwrap(),
        groups[1]["Weight"].as_u64().unwrap(),
    )
}

/// An execution stopped while it baked with all traffic on the new colour: the status
/// change puts it back on the live colour, records the end and frees the lock, once.
#[tokio::test]
async fn a_stopped_execution_is_rolled_back_and_its_lock_freed_from_the_event() {
    let world = with_promotion().await;
    let id = PromotionId::parse("id", "release-42").unwrap();
    let event: Value = serde_json::from_str(ABORTED).unwrap();
    world
        .store
        .set_execution_arn(&id, event["detail"]["executionArn"].as_str().unwrap())
        .await
        .unwrap();
    for step in [
        json!({"action": "validate", "promotion_id": "release-42"}),
        json!({"action": "deploy", "promotion_id": "release-42"}),
        json!({"action": "shift", "promotion_id": "release-42", "step": 0}),
        json!({"action": "shift", "promotion_id": "release-42", "step": 1}),
    ] {
        handle(&world.steps(), step).await.unwrap();
    }
    assert_eq!(listener_weights(&world), (0, 100), "baking on green");

    let ended = handle(&world.steps(), event.clone()).await.unwrap();
    assert_eq!(ended["lock"], "released", "{ended}");
    assert_eq!(ended["status"], "RolledBack");
    assert_eq!(listener_weights(&world), (100, 0), "back on blue");
    let staging = world
        .store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(staging.active_promotion.is_none());
    let promotion = world.store.get_promotion(&id).await.unwrap().unwrap();
    assert_eq!(promotion.steps.last().unwrap().name, "ExecutionEnded");
    assert_eq!(
        promotion.steps.last().unwrap().detail["execution"]["status"],
        "ABORTED"
    );

    // EventBridge delivers at least once: the second delivery changes nothing.
    let again = handle(&world.steps(), event).await.unwrap();
    assert!(again["ignored"].is_string(), "{again}");
    let after = world.store.get_promotion(&id).await.unwrap().unwrap();
    assert_eq!(after.steps.len(), promotion.steps.len());
}

#[tokio::test]
async fn an_event_of_another_kind_is_refused_by_name() {
    let world = with_promotion().await;
    let mut event: Value = serde_json::from_str(ABORTED).unwrap();
    event["detail-type"] = json!("Step Functions State Machine Status Change");
    let err = handle(&world.steps(), event).await.unwrap_err();
    assert_eq!(err.name, "InvalidEvent");
    assert!(err.message.contains("detail-type"), "{}", err.message);
}

/// The state machine's stack loop through the handler: Deploy's payload, then
/// `check_stack` with the operation Deploy returned, as CheckDeploy passes
/// `$.cursor.stack` on.
#[tokio::test]
async fn check_stack_takes_the_operation_the_start_step_returned() {
    let world = with_promotion().await;
    for action in ["validate", "deploy"] {
        let payload = json!({"action": action, "promotion_id": "release-42"});
        let result = handle(&world.steps(), payload).await.unwrap();
        if action == "deploy" {
            assert_eq!(result["stack"]["operation"], "deploy", "{result}");
            assert_eq!(result["stack"]["settled"], false);
            let check = json!({"action": "check_stack", "promotion_id": "release-42",
                               "stack": result["stack"]});
            let looked = handle(&world.steps(), check).await.unwrap();
            assert_eq!(looked["stack"]["settled"], true, "{looked}");
            assert_eq!(looked["stack"]["checks"], 1);
        }
    }
    let missing = json!({"action": "check_stack", "promotion_id": "release-42"});
    let err = handle(&world.steps(), missing).await.unwrap_err();
    assert_eq!(err.name.as_str(), "ValidationFailed");
}

#[test]
fn config_bounds_the_first_wait_on_a_stack() {
    let with = |wait: &'static str| {
        ferry_lambda::Env::from_fn(move |name| match name {
            "FERRY_TABLE_NAME" => Some("t".into()),
            "FERRY_STACK_ROLE_ARN" => Some(ROLE.into()),
            "FERRY_ARTIFACTS_BUCKET" => Some("ferry-artifacts".into()),
            "FERRY_STACK_WAIT_SECONDS" => Some(wait.into()),
            _ => None,
        })
    };
    let config = promotion_step::config::Config::load(&with("1")).unwrap();
    assert_eq!(config.policy.stack_wait.first_seconds, 1);
    for bad in ["0", "120"] {
        let err = promotion_step::config::Config::load(&with(bad)).unwrap_err();
        assert_eq!(err.variable, "FERRY_STACK_WAIT_SECONDS");
    }
}
