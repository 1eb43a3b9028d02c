//! Engine tests of waiting without Lambda time (issue 15, must-have 2) and of the
//! post-Finalise watch window (3c), on the in-memory ports. A stack operation is started
//! by one step and looked at by `check_stack` until it settles, as the state machine's
//! Wait/Check/Choice loop does; the in-memory CloudFormation can be slow (a change stays
//! UPDATE_IN_PROGRESS until the test settles it). Every scenario ends with the promotion
//! in a terminal state, the lock free, and all traffic on a colour that passed its checks.

use chrono::Utc;
use ferry_core::infra::deploy::ChangeSets;
use ferry_core::infra::spec::AppSpec;
use ferry_core::model::{App, Environment, PromotionStatus, Release};
use ferry_core::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use ferry_core::ports::prelude::*;
use ferry_core::promotion::{
    self, Action, ExecutionEnded, PromotionRequest, StackOp, StepError, StepInput, StepPolicy,
    Steps,
};
use ferry_testkit::{InMemoryMetrics, InMemoryStacks, InMemoryStore, Settle};
use serde_json::{json, Value};

const SPEC: &str = r#"{
  "app": "shop",
  "services": [{"name": "web", "image": "repo/shop", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2}],
  "environments": {
    "staging": {"profile": "staging", "promotion": {"watch_window_seconds": 300}}
  }
}"#;

const STACK: &str = "ferry-shop-staging";

fn app() -> AppName {
    AppName::parse("app", "shop").unwrap()
}
fn env(name: &str) -> EnvName {
    EnvName::parse("env", name).unwrap()
}
fn id() -> PromotionId {
    PromotionId::parse("id", "p1").unwrap()
}

struct World {
    store: InMemoryStore,
    stacks: InMemoryStacks,
    metrics: InMemoryMetrics,
    policy: StepPolicy,
}

impl World {
    /// dev (released) and staging (blue, live), and a blue/green promotion into staging.
    async fn new() -> World {
        let world = World {
            store: InMemoryStore::new(),
            stacks: InMemoryStacks::new(),
            metrics: InMemoryMetrics::new(),
            policy: StepPolicy::default(),
        };
        world
            .store
            .create_app(&App {
                name: app(),
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        let spec = AppSpec::parse(SPEC).unwrap();
        for name in ["dev", "staging"] {
            let release = (name == "dev").then(|| Release {
                image: ImageRef::parse("image", &format!("repo/shop@sha256:{}", "ab".repeat(32)))
                    .unwrap(),
                config: Default::default(),
                recorded_at: Utc::now(),
            });
            let environment = Environment {
                deployed_release: release,
                ..spec.new_environment(name).unwrap()
            };
            world.stacks.deploy(
                &environment.stack_name,
                ferry_core::infra::template::generate(
                    &environment,
                    environment.deployed_release.as_ref(),
                    Colour::Blue,
                ),
            );
            world
                .store
                .put_environment(&environment, None)
                .await
                .unwrap();
        }
        promotion::create(
            &world.store,
            PromotionRequest {
                app: app(),
                source_env: env("dev"),
                target_env: env("staging"),
                strategy: Strategy::BlueGreen,
                allow_replace: vec![],
                kind: Default::default(),
                reason: None,
            },
            id(),
            "ana".into(),
            Utc::now(),
        )
        .await
        .unwrap();
        ferry_testkit::pin_promotion_template(&world.store, &id()).await;
        // The green target group is healthy, for the smoke check at weight 0.
        let group = format!(
            "{STACK}/{}",
            ferry_core::infra::template::target_group_output("web", Colour::Green)
        );
        let lb = format!("{STACK}/LoadBalancerFullName");
        world.metrics.put(
            "HealthyHostCount",
            &[("TargetGroup", &group), ("LoadBalancer", &lb)],
            Utc::now() - chrono::Duration::seconds(30),
            2.0,
        );
        world
    }

    fn steps(&self) -> Steps<'_> {
        Steps {
            environments: &self.store,
            promotions: &self.store,
            alerts: &self.store,
            stacks: &self.stacks,
            metrics: &self.metrics,
            faults: Some(&self.store),
            policy: self.policy.clone(),
            outbox: None,
            now: Utc::now,
        }
    }

    async fn run(&self, action: Action, step: Option<usize>) -> Result<Value, StepError> {
        self.steps().run(&input(action, step)).await
    }

    async fn settle(&self, action: Action, step: Option<usize>) -> Result<Value, StepError> {
        self.steps().settle(&input(action, step)).await
    }

    async fn check(&self, op: &StackOp) -> Result<Value, StepError> {
        self.steps()
            .run(&StepInput {
                stack: Some(op.clone()),
                ..input(Action::CheckStack, None)
            })
            .await
    }

    /// Validate, Deploy, and both traffic steps judged: all traffic on green, blue
    /// still running with none, the watch window about to begin.
    async fn at_full_weight(&self) {
        self.run(Action::Validate, None).await.unwrap();
        self.settle(Action::Deploy, None).await.unwrap();
        for step in [0, 1] {
            self.settle(Action::Shift, Some(step)).await.unwrap();
            self.run(Action::Analyse, Some(step)).await.unwrap();
        }
    }

    async fn environment(&self) -> Environment {
        self.store
            .get_environment(&app(), &env("staging"))
            .await
            .unwrap()
            .unwrap()
    }

    async fn step_names(&self) -> Vec<String> {
        let promotion = self.store.get_promotion(&id()).await.unwrap().unwrap();
        promotion.steps.into_iter().map(|s| s.name).collect()
    }

    fn template(&self) -> Value {
        self.stacks.template(STACK).unwrap()
    }

    /// The listener's weights (blue, green) and the services' desired counts.
    fn traffic(&self) -> ((u64, u64), (u64, u64)) {
        let t = self.template();
        let groups = &t["Resources"]["HttpsListener"]["Properties"]["DefaultActions"][0]
            ["ForwardConfig"]["TargetGroups"];
        let count = |s: &str| {
            t["Resources"][s]["Properties"]["DesiredCount"]
                .as_u64()
                .unwrap()
        };
        (
            (
                groups[0]["Weight"].as_u64().unwrap(),
                groups[1]["Weight"].as_u64().unwrap(),
            ),
            (count("WebBlueService"), count("WebGreenService")),
        )
    }

    /// How every scenario ends: `status`, the lock free, all traffic on `colour`, which
    /// is the live colour, and the other scaled to zero.
    async fn assert_settled(&self, status: PromotionStatus, colour: Colour) {
        let promotion = self.store.get_promotion(&id()).await.unwrap().unwrap();
        assert_eq!(promotion.status, status, "{:?}", promotion.steps);
        assert!(status.is_terminal());
        let staging = self.environment().await;
        assert!(staging.active_promotion.is_none(), "the lock is free");
        assert_eq!(staging.live_colour, colour);
        let expected = match colour {
            Colour::Blue => ((100, 0), (2, 0)),
            Colour::Green => ((0, 100), (0, 2)),
        };
        assert_eq!(self.traffic(), expected, "all traffic on {colour}");
    }
}

fn input(action: Action, step: Option<usize>) -> StepInput {
    StepInput {
        action,
        promotion_id: id(),
        cause: None,
        task_token: None,
        step,
        stack: None,
    }
}

fn op(detail: &Value) -> StackOp {
    serde_json::from_value(detail["stack"].clone()).expect("a stack operation")
}

#[tokio::test]
async fn a_stack_operation_returns_at_once_and_is_looked_at_until_it_settles() {
    let world = World::new().await;
    world.run(Action::Validate, None).await.unwrap();
    world.stacks.set_slow(true);
    let started = world.run(Action::Deploy, None).await.unwrap();
    let mut deploy = op(&started);
    assert!(!deploy.settled);
    assert!(deploy.change_set.is_some(), "executed: {started}");
    assert_eq!(deploy.wait_seconds, 10, "the first wait");
    assert_eq!(
        world.stacks.stack_status(STACK).await.unwrap().as_deref(),
        Some("UPDATE_IN_PROGRESS"),
        "the step returned with the stack still changing"
    );
    // Each look at a stack still changing waits twice as long, up to a minute, and is
    // not written to the timeline.
    let mut waits = Vec::new();
    for _ in 0..4 {
        let looked = world.check(&deploy).await.unwrap();
        deploy = op(&looked);
        assert!(!deploy.settled);
        waits.push(deploy.wait_seconds);
    }
    assert_eq!(waits, [20, 40, 60, 60]);
    assert_eq!(deploy.checks, 4);
    assert_eq!(
        world.step_names().await,
        ["GenerateTemplate", "Validate", "Deploy"]
    );
    // Settled: recorded, and the pipeline goes on.
    world.stacks.set_status(STACK, "UPDATE_COMPLETE");
    let settled = world.check(&deploy).await.unwrap();
    assert!(op(&settled).settled);
    assert_eq!(settled["stack_status"], "UPDATE_COMPLETE");
    assert_eq!(
        world.step_names().await,
        ["GenerateTemplate", "Validate", "Deploy", "Deploy settled"]
    );
    world.stacks.set_slow(false);
    world.settle(Action::Shift, Some(0)).await.unwrap();
    world.run(Action::Analyse, Some(0)).await.unwrap();
    world.settle(Action::Shift, Some(1)).await.unwrap();
    world.run(Action::Analyse, Some(1)).await.unwrap();
    world.settle(Action::Finalise, None).await.unwrap();
    world
        .assert_settled(PromotionStatus::Succeeded, Colour::Green)
        .await;
}

#[tokio::test]
async fn a_stack_change_past_its_deadline_fails_deploy_and_the_rollback_restores_blue() {
    let mut world = World::new().await;
    world.policy.stack_wait.deadline = std::time::Duration::ZERO;
    world.run(Action::Validate, None).await.unwrap();
    world.stacks.set_slow(true);
    let deploy = op(&world.run(Action::Deploy, None).await.unwrap());
    let late = world.check(&deploy).await.unwrap_err();
    assert_eq!(
        late.name(),
        "DeployFailed",
        "the name Rollback's Catch matches"
    );
    assert!(late.to_string().contains("did not finish"), "{late}");
    // Rollback finds the update under way: cancels it, keeps the lock, and is retried.
    let busy = world.run(Action::Rollback, None).await.unwrap_err();
    assert_eq!(busy.name(), "StackBusy");
    assert_eq!(world.stacks.cancelled(), [STACK]);
    assert!(world.environment().await.active_promotion.is_some());
    world.stacks.set_status(STACK, "UPDATE_ROLLBACK_COMPLETE");
    world.stacks.set_slow(false);
    let mut world = world;
    world.policy = StepPolicy::default();
    let rolled_back = world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "DeployFailed", "Cause": "{}"})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    assert_eq!(rolled_back["lock"], "released");
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

#[tokio::test]
async fn a_crash_just_after_execute_change_set_is_retried_and_follows_its_own_change() {
    let world = World::new().await;
    world.run(Action::Validate, None).await.unwrap();
    world.settle(Action::Deploy, None).await.unwrap();
    world.settle(Action::Shift, Some(0)).await.unwrap();
    world.run(Action::Analyse, Some(0)).await.unwrap();
    // The first attempt executes its change set (all traffic to green), then fails
    // before it returns.
    world
        .store
        .inject_fault_times("shop/staging/shift/executed", "TransientError", 1);
    world.stacks.set_slow(true);
    let crashed = world.run(Action::Shift, Some(1)).await.unwrap_err();
    assert_eq!(
        crashed.name(),
        "TransientError",
        "retried by the state machine"
    );
    assert_eq!(
        world.stacks.stack_status(STACK).await.unwrap().as_deref(),
        Some("UPDATE_IN_PROGRESS")
    );
    // The retry finds the stack changing: its own change, followed rather than refused
    // or made again.
    let retried = world.run(Action::Shift, Some(1)).await.unwrap();
    assert!(retried["resumed"].is_string(), "{retried}");
    let shift = op(&retried);
    assert!(!shift.settled && shift.change_set.is_none());
    world.stacks.set_status(STACK, "UPDATE_COMPLETE");
    let settled = world.check(&shift).await.unwrap();
    assert!(op(&settled).settled);
    assert_eq!(settled["weight"], 100);
    world.stacks.set_slow(false);
    world.run(Action::Analyse, Some(1)).await.unwrap();
    world.settle(Action::Finalise, None).await.unwrap();
    world
        .assert_settled(PromotionStatus::Succeeded, Colour::Green)
        .await;
}

#[tokio::test]
async fn the_old_colour_stays_warm_through_the_watch_window_and_is_scaled_down_after_it() {
    let world = World::new().await;
    world.at_full_weight().await;
    // The last Analyse tells the state machine how long to watch: the spec's window.
    let promotion = world.store.get_promotion(&id()).await.unwrap().unwrap();
    assert_eq!(promotion.steps.last().unwrap().detail["watch_seconds"], 300);
    assert_eq!(
        world.traffic(),
        ((0, 100), (2, 2)),
        "all traffic on green, blue still running"
    );
    assert_eq!(world.environment().await.live_colour, Colour::Blue);
    // After the window: blue scaled down; until that settles, nothing is recorded as
    // live and the lock is held.
    world.stacks.set_slow(true);
    let finalise = world.run(Action::Finalise, None).await.unwrap();
    assert_eq!(finalise["alarms"], "none in ALARM during the watch window");
    let staging = world.environment().await;
    assert_eq!(staging.live_colour, Colour::Blue);
    assert_eq!(staging.active_promotion, Some(id()));
    world.stacks.set_status(STACK, "UPDATE_COMPLETE");
    let done = world.check(&op(&finalise)).await.unwrap();
    assert_eq!(done["lock"], "released");
    world
        .assert_settled(PromotionStatus::Succeeded, Colour::Green)
        .await;
}

#[tokio::test]
async fn an_alarm_in_the_watch_window_rolls_back_to_the_warm_old_colour() {
    let world = World::new().await;
    world.at_full_weight().await;
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-5xx", "ALARM");
    world.metrics.set_alarm("ferry/shop/staging/web-5xx", "OK");
    let fired = world.settle(Action::Finalise, None).await.unwrap_err();
    assert_eq!(fired.name(), "AlarmFired");
    assert!(fired.to_string().contains("watch window"), "{fired}");
    assert_eq!(
        world.traffic(),
        ((0, 100), (2, 2)),
        "nothing scaled down: blue is still warm"
    );
    let rolled_back = world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "AlarmFired", "Cause": "{}"})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    assert_eq!(rolled_back["lock"], "released");
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

#[test]
fn the_watch_window_defaults_to_ten_minutes_and_is_bounded() {
    let spec = AppSpec::parse(SPEC).unwrap();
    assert_eq!(
        spec.new_environment("staging")
            .unwrap()
            .spec
            .watch_window_seconds(),
        300
    );
    assert_eq!(
        spec.new_environment("dev")
            .unwrap()
            .spec
            .watch_window_seconds(),
        600
    );
    let too_long = SPEC.replace("300", "90000");
    let error = AppSpec::parse(&too_long)
        .and_then(|s| s.new_environment("staging").map(|_| s))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("watch_window_seconds"), "{error}");
}

#[tokio::test]
async fn a_restore_the_status_change_handler_left_running_is_waited_for_not_cancelled() {
    let mut world = World::new().await;
    world.policy.restore_wait = std::time::Duration::ZERO;
    world.policy.polling.interval = std::time::Duration::ZERO;
    world.at_full_weight().await;
    world.stacks.set_slow(true);
    let ended = ExecutionEnded {
        promotion_id: id(),
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:promotions:p1".into(),
        status: "ABORTED".into(),
        error: None,
        cause: None,
        stopped_at: Utc::now(),
    };
    // The restore is started and still changing at the function's bound: recorded, the
    // lock held, and the invocation failed for EventBridge's redelivery.
    let busy = world.steps().execution_ended(&ended).await.unwrap_err();
    assert_eq!(busy.name(), "StackBusy");
    assert!(world.step_names().await.contains(&"Restore".to_owned()));
    assert!(world.environment().await.active_promotion.is_some());
    // Redelivered while it still runs: waited for, not cancelled.
    let again = world.steps().execution_ended(&ended).await.unwrap_err();
    assert_eq!(again.name(), "StackBusy");
    assert!(
        world.stacks.cancelled().is_empty(),
        "the restore was not cancelled"
    );
    // Redelivered once it settled: the lock released, the promotion ended.
    world.stacks.set_status(STACK, "UPDATE_COMPLETE");
    world.stacks.set_slow(false);
    let done = world.steps().execution_ended(&ended).await.unwrap();
    assert_eq!(done["lock"], "released", "{done}");
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

fn alarm(name: &str, state: &str) -> ferry_core::monitoring::jobs::AlarmChange {
    ferry_core::monitoring::jobs::AlarmChange {
        event_id: format!("{name}-{state}"),
        alarm_name: name.into(),
        state: state.into(),
        previous_state: None,
        reason: "Threshold Crossed".into(),
        metric: None,
        changed_at: Utc::now(),
    }
}

/// The watch window is a task waiting on its token, not a sleep: the alarm's event fails
/// the task with AlarmFired at once, so the promotion rolls back to the warm old colour
/// minutes before the window would have ended.
#[tokio::test]
async fn an_alarm_event_in_the_watch_window_cuts_it_short() {
    use ferry_core::monitoring::jobs::cut_watch_short;
    let world = World::new().await;
    world.at_full_weight().await;
    let watching = world
        .steps()
        .run(&StepInput {
            task_token: Some("watch-token".into()),
            ..input(Action::Watch, None)
        })
        .await
        .unwrap();
    assert_eq!(watching["watch_seconds"], 300);
    let workflow = ferry_testkit::InMemoryWorkflow::new();
    let cut = |change| {
        let (store, workflow) = (&world.store, &workflow);
        async move {
            cut_watch_short(store, store, workflow, &change, Utc::now())
                .await
                .unwrap()
        }
    };
    // Another environment's alarm, and an OK, leave the window alone.
    assert_eq!(cut(alarm("ferry/shop/prod/web-5xx", "ALARM")).await, None);
    assert_eq!(cut(alarm("ferry/shop/staging/web-5xx", "OK")).await, None);
    assert!(workflow.failed().is_empty());
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-5xx", "ALARM");
    assert_eq!(
        cut(alarm("ferry/shop/staging/web-5xx", "ALARM")).await,
        Some(id())
    );
    let failed = workflow.failed();
    assert_eq!(failed.len(), 1);
    let (token, error, cause) = &failed[0];
    assert_eq!(
        (token.as_str(), *error),
        ("watch-token", ferry_core::error::ErrorName::AlarmFired)
    );
    assert_eq!(cause["alarms"], json!(["ferry/shop/staging/web-5xx"]));
    let promotion = world.store.get_promotion(&id()).await.unwrap().unwrap();
    let ended = promotion.steps.last().unwrap();
    assert_eq!(
        (ended.name.as_str(), ended.detail["error"].as_str()),
        ("Watch", Some("AlarmFired"))
    );
    assert_eq!(
        ended.detail["alarms"],
        json!(["ferry/shop/staging/web-5xx"])
    );
    // EventBridge delivers again: the task is gone, and that is not an error.
    assert_eq!(
        cut(alarm("ferry/shop/staging/web-5xx", "ALARM")).await,
        None
    );
    // The state machine's Catch sends the failure to Rollback.
    let rolled_back = world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "AlarmFired", "Cause": cause.to_string()})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    assert_eq!(rolled_back["lock"], "released");
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

/// An alarm that fired before the Watch step stored its token has no event left to cut
/// the window: the step's own look at the alarms fails it.
#[tokio::test]
async fn an_alarm_just_before_the_watch_begins_fails_the_watch_step() {
    let world = World::new().await;
    world.at_full_weight().await;
    world
        .metrics
        .set_alarm("ferry/shop/staging/web-p99-latency", "ALARM");
    let fired = world
        .steps()
        .run(&StepInput {
            task_token: Some("watch-token".into()),
            ..input(Action::Watch, None)
        })
        .await
        .unwrap_err();
    assert_eq!(fired.name(), "AlarmFired");
    world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "AlarmFired", "Cause": "{}"})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

/// Deploy executed its change set (green scaled up on the new image), then failed
/// `TransientError` on every retry the state machine makes: its step is never recorded,
/// yet green is running. Rollback still puts the stack back, green to zero.
#[tokio::test]
async fn a_deploy_that_executed_then_failed_every_retry_is_still_put_back() {
    let world = World::new().await;
    world.run(Action::Validate, None).await.unwrap();
    let risk = world.run(Action::AssessRisk, None).await.unwrap();
    assert_eq!(risk["requires_approval"], false, "{risk}");
    world
        .store
        .inject_fault_times("shop/staging/deploy/executed", "TransientError", 4);
    for _ in 0..4 {
        let failed = world.run(Action::Deploy, None).await.unwrap_err();
        assert_eq!(failed.name(), "TransientError");
    }
    assert!(!world.step_names().await.contains(&"Deploy".to_owned()));
    assert_eq!(
        world.traffic(),
        ((100, 0), (2, 2)),
        "green runs, unrecorded"
    );
    let rolled_back = world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "TransientError", "Cause": "{}"})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    assert_eq!(rolled_back["lock"], "released", "{rolled_back}");
    world
        .assert_settled(PromotionStatus::RolledBack, Colour::Blue)
        .await;
}

/// A promotion that never passed its gate (rejected here) never had Deploy run: its
/// rollback leaves the stack alone, even with a spec saved since that would change it.
#[tokio::test]
async fn a_rejected_promotion_leaves_the_stack_untouched() {
    let world = World::new().await;
    world.run(Action::Validate, None).await.unwrap();
    world.run(Action::AssessRisk, None).await.unwrap();
    let before = world.template();
    let rolled_back = world
        .steps()
        .settle(&StepInput {
            cause: Some(json!({"Error": "PromotionRejected", "Cause": "{}"})),
            ..input(Action::Rollback, None)
        })
        .await
        .unwrap();
    assert_eq!(
        rolled_back["traffic"],
        "untouched: the promotion never deployed"
    );
    assert_eq!(world.template(), before);
    world
        .assert_settled(PromotionStatus::Rejected, Colour::Blue)
        .await;
}
