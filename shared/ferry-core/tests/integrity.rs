//! Engine tests of promotion integrity, on the in-memory ports: approval from each
//! environment's own policy (never its name), decisions by stable principal, recorded
//! before the pipeline is told; and locks that never leak: a busy stack waited for, a
//! rollback that gives up, an execution that ends outside its steps, the unlock of last
//! resort.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use ferry_core::infra::environments::{record_release, ReleaseError, ReleaseRequest};
use ferry_core::infra::spec::AppSpec;
use ferry_core::model::{Actor, App, Decision, Environment, PromotionStatus, Release};
use ferry_core::monitoring::notify::{Channel, DeliveryError, Message, Outbox};
use ferry_core::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use ferry_core::ports::prelude::*;
use ferry_core::ports::ExecutionStatus;
use ferry_core::promotion::unlock::{unlock, UnlockError, UnlockRequest};
use ferry_core::promotion::{
    self, decide, Action, DecideError, ExecutionEnded, PromotionRequest, StepError, StepInput,
    StepPolicy, Steps,
};
use ferry_testkit::{InMemoryMetrics, InMemoryStacks, InMemoryStore, InMemoryWorkflow, Settle};
use serde_json::json;
use std::sync::Mutex;

/// Environments named like prod that are not on its profile, and the other way round,
/// and some with a policy of their own.
const SPEC: &str = r#"{
  "app": "shop",
  "services": [{"name": "web", "image": "repo/shop", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2}],
  "environments": {
    "production": {"profile": "prod"},
    "eu-prod": {"profile": "prod"},
    "prod-like": {"profile": "dev"},
    "lenient": {"profile": "prod", "promotion": {"approval": "never"}},
    "strict-dev": {"profile": "dev", "promotion": {"approval": "always", "approvers": 2}}
  }
}"#;

const ENVS: [&str; 8] = [
    "dev",
    "staging",
    "prod",
    "production",
    "eu-prod",
    "prod-like",
    "lenient",
    "strict-dev",
];

fn app() -> AppName {
    AppName::parse("app", "shop").unwrap()
}
fn env(name: &str) -> EnvName {
    EnvName::parse("env", name).unwrap()
}
fn id(name: &str) -> PromotionId {
    PromotionId::parse("id", name).unwrap()
}
/// A Tuesday at 10:00 UTC: no weekend or night points in the risk score.
fn tuesday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

/// A channel that keeps what it is asked to send.
#[derive(Default)]
struct Kept(Mutex<Vec<Message>>);

#[async_trait]
impl Channel for Kept {
    fn name(&self) -> &str {
        "kept"
    }
    async fn send_message(&self, message: &Message) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

struct World {
    store: InMemoryStore,
    stacks: InMemoryStacks,
    metrics: InMemoryMetrics,
    workflow: InMemoryWorkflow,
    kept: Kept,
}

impl World {
    async fn new() -> World {
        let world = World {
            store: InMemoryStore::new(),
            stacks: InMemoryStacks::new(),
            metrics: InMemoryMetrics::new(),
            workflow: InMemoryWorkflow::new(),
            kept: Kept::default(),
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
        for name in ENVS {
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
        world
    }

    fn steps<'a>(&'a self, channels: &'a [&'a dyn Channel]) -> Steps<'a> {
        Steps {
            environments: &self.store,
            promotions: &self.store,
            alerts: &self.store,
            stacks: &self.stacks,
            metrics: &self.metrics,
            faults: None,
            policy: StepPolicy::default(),
            outbox: Some(Outbox {
                channels,
                ledger: &self.store,
            }),
            now: tuesday_morning,
        }
    }

    /// A promotion from dev, requested by `by`.
    async fn promote(&self, name: &str, target: &str, strategy: Strategy, by: Actor) {
        promotion::create(
            &self.store,
            PromotionRequest {
                app: app(),
                source_env: env("dev"),
                target_env: env(target),
                strategy,
                allow_replace: vec![],
                kind: Default::default(),
                reason: None,
            },
            id(name),
            by,
            Utc::now(),
        )
        .await
        .unwrap();
        ferry_testkit::pin_promotion_template(&self.store, &id(name)).await;
    }

    async fn run(&self, action: Action, name: &str) -> Result<serde_json::Value, StepError> {
        let channels: [&dyn Channel; 1] = [&self.kept];
        self.steps(&channels)
            .settle(&StepInput {
                action,
                promotion_id: id(name),
                cause: None,
                task_token: None,
                step: None,
                stack: None,
            })
            .await
    }

    /// Runs AwaitApproval with `token`, as the state machine does.
    async fn wait(&self, name: &str, token: &str) -> serde_json::Value {
        let channels: [&dyn Channel; 1] = [&self.kept];
        self.steps(&channels)
            .settle(&StepInput {
                action: Action::AwaitApproval,
                promotion_id: id(name),
                cause: None,
                task_token: Some(token.into()),
                step: None,
                stack: None,
            })
            .await
            .unwrap()
    }

    async fn environment(&self, name: &str) -> Environment {
        self.store
            .get_environment(&app(), &env(name))
            .await
            .unwrap()
            .unwrap()
    }

    async fn status(&self, name: &str) -> PromotionStatus {
        self.store
            .get_promotion(&id(name))
            .await
            .unwrap()
            .unwrap()
            .status
    }

    fn weights(&self, target: &str) -> (u64, u64) {
        let template = self
            .stacks
            .template(&format!("ferry-shop-{target}"))
            .unwrap();
        let groups = &template["Resources"]["HttpsListener"]["Properties"]["DefaultActions"][0]
            ["ForwardConfig"]["TargetGroups"];
        (
            groups[0]["Weight"].as_u64().unwrap(),
            groups[1]["Weight"].as_u64().unwrap(),
        )
    }
}

fn ana() -> Actor {
    Actor {
        name: "ana@example.com".into(),
        principal: "sub-ana".into(),
    }
}
fn bo() -> Actor {
    Actor {
        name: "bo@example.com".into(),
        principal: "sub-bo".into(),
    }
}
fn cy() -> Actor {
    Actor {
        name: "cy@example.com".into(),
        principal: "sub-cy".into(),
    }
}

// ---------------------------------------------------------------- approval policy

#[tokio::test]
async fn approval_follows_the_profile_or_the_environments_own_setting_never_its_name() {
    let world = World::new().await;
    let mut wants = Vec::new();
    for (i, target) in ENVS.iter().filter(|e| **e != "dev").enumerate() {
        let name = format!("p{i}");
        world
            .promote(&name, target, Strategy::BlueGreen, ana())
            .await;
        let risk = world.run(Action::AssessRisk, &name).await.unwrap();
        wants.push((
            *target,
            risk["requires_approval"].as_bool().unwrap(),
            risk["approval"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        wants,
        [
            // staging's profile gates by risk: this promotion's score is below 60.
            ("staging", false, "risk".to_owned()),
            ("prod", true, "always".into()),
            ("production", true, "always".into()),
            ("eu-prod", true, "always".into()),
            ("prod-like", false, "never".into()),
            ("lenient", false, "never".into()),
            ("strict-dev", true, "always".into()),
        ]
    );
}

#[tokio::test]
async fn the_risk_score_counts_the_profile_not_the_name() {
    let world = World::new().await;
    world
        .promote("p1", "eu-prod", Strategy::BlueGreen, ana())
        .await;
    world
        .promote("p2", "prod-like", Strategy::BlueGreen, ana())
        .await;
    let points = |risk: &serde_json::Value| {
        risk["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["factor"] == "target_environment")
            .map(|f| f["points"].as_u64().unwrap())
    };
    let eu = world.run(Action::AssessRisk, "p1").await.unwrap();
    let like = world.run(Action::AssessRisk, "p2").await.unwrap();
    assert_eq!((points(&eu), points(&like)), (Some(30), None));
}

#[tokio::test]
async fn releases_reach_a_gated_environment_only_by_promotion() {
    let world = World::new().await;
    let request = || ReleaseRequest {
        image: ImageRef::parse("image", &format!("repo/shop@sha256:{}", "cd".repeat(32))).unwrap(),
        config: Default::default(),
    };
    for gated in ["prod", "eu-prod", "staging", "strict-dev"] {
        let refused = record_release(&world.store, &app(), &env(gated), request(), Utc::now())
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, ReleaseError::Gated { .. })
                && refused.to_string().contains("ferry promote shop"),
            "{gated}: {refused}"
        );
        assert!(world.environment(gated).await.deployed_release.is_none());
    }
    for open in ["dev", "prod-like", "lenient"] {
        record_release(&world.store, &app(), &env(open), request(), Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{open}: {e}"));
    }
}

// ---------------------------------------------------------------- decisions

#[tokio::test]
async fn the_requester_cannot_approve_under_another_name_of_the_same_principal() {
    let world = World::new().await;
    world
        .promote("p1", "prod", Strategy::BlueGreen, ana())
        .await;
    world.run(Action::AssessRisk, "p1").await.unwrap();
    world.wait("p1", "token-1").await;
    // The same role (principal), re-assumed under another session name.
    let again = Actor {
        name: "arn:aws:sts::123456789012:assumed-role/Releasers/ana-2".into(),
        principal: "sub-ana".into(),
    };
    let refused = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Approved,
        &again,
        "",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, DecideError::Forbidden(_)), "{refused}");
    assert!(world.workflow.completed().is_empty());
    let p = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    assert!(p.approvals.is_empty(), "a refused decision records nothing");
    // Someone else may.
    let decided = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Approved,
        &bo(),
        "ok",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(decided.resumed);
    assert_eq!(decided.promotion.approvals[0].principal, "sub-bo");
}

#[tokio::test]
async fn several_approvers_are_several_people_and_the_last_resumes_the_pipeline() {
    let world = World::new().await;
    world
        .promote("p1", "strict-dev", Strategy::BlueGreen, ana())
        .await;
    world.run(Action::AssessRisk, "p1").await.unwrap();
    world.wait("p1", "token-1").await;
    let approve = |by: Actor| {
        let world = &world;
        async move {
            decide(
                &world.store,
                &world.workflow,
                &id("p1"),
                Decision::Approved,
                &by,
                "",
                Utc::now(),
            )
            .await
        }
    };
    let first = approve(bo()).await.unwrap();
    assert_eq!(
        (first.approvals, first.needed, first.resumed),
        (1, 2, false)
    );
    // The same person again is a retry, not a second approver.
    let again = approve(bo()).await.unwrap();
    assert_eq!((again.approvals, again.resumed), (1, false));
    assert!(world.workflow.completed().is_empty());
    let second = approve(cy()).await.unwrap();
    assert_eq!((second.approvals, second.resumed), (2, true));
    let completed = world.workflow.completed();
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0].2["approvers"],
        json!(["bo@example.com", "cy@example.com"])
    );
    assert!(second.promotion.approval_token.is_none(), "token cleared");
}

#[tokio::test]
async fn a_decision_the_pipeline_could_not_be_told_of_goes_through_when_sent_again() {
    let world = World::new().await;
    world
        .promote("p1", "prod", Strategy::BlueGreen, ana())
        .await;
    world.run(Action::AssessRisk, "p1").await.unwrap();
    world.wait("p1", "token-1").await;
    world.workflow.fail_next_completions(1);
    let failed = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Approved,
        &bo(),
        "checked",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(failed, DecideError::Workflow(_)), "{failed}");
    let p = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    assert_eq!(
        p.approval_token.as_deref(),
        Some("token-1"),
        "the wait stays open"
    );
    assert_eq!(p.approvals.len(), 1, "the decision is on the record");
    assert_eq!(p.status, PromotionStatus::AwaitingApproval);

    let retried = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Approved,
        &bo(),
        "checked",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(retried.resumed);
    assert_eq!(world.workflow.completed().len(), 1);
    assert_eq!(retried.promotion.approvals.len(), 1, "recorded once");
    assert!(retried.promotion.approval_token.is_none());
    // Changing one's mind after the pipeline moved on is a conflict, not a second call.
    let late = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Rejected,
        &bo(),
        "wait",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(late, DecideError::NotAwaiting(_)), "{late}");
}

#[tokio::test]
async fn an_approver_cannot_approve_and_then_reject_the_same_wait() {
    let world = World::new().await;
    world
        .promote("p1", "strict-dev", Strategy::BlueGreen, ana())
        .await;
    world.run(Action::AssessRisk, "p1").await.unwrap();
    world.wait("p1", "token-1").await;
    decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Approved,
        &bo(),
        "",
        Utc::now(),
    )
    .await
    .unwrap();
    let refused = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Rejected,
        &bo(),
        "changed my mind",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, DecideError::AlreadyDecided(_)),
        "{refused}"
    );
    // Another approver's rejection ends it, whatever the count.
    let rejected = decide(
        &world.store,
        &world.workflow,
        &id("p1"),
        Decision::Rejected,
        &cy(),
        "not now",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(rejected.resumed);
    assert!(!world.workflow.completed()[0].1, "SendTaskFailure");
}

#[tokio::test]
async fn approvers_are_told_why_it_waits_and_the_exact_command() {
    let world = World::new().await;
    world
        .promote("p1", "eu-prod", Strategy::BlueGreen, ana())
        .await;
    world.run(Action::AssessRisk, "p1").await.unwrap();
    let waited = world.wait("p1", "token-1").await;
    assert_eq!(waited["notified"][0]["channel"], "kept");
    let sent = world.kept.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let slack = sent[0].slack.to_string();
    for needed in [
        "shop/eu-prod: promotion p1 waits for approval",
        "ferry approve p1 --comment",
        "ferry reject p1 --comment",
        "target_environment",
        "target is eu-prod (prod profile)",
    ] {
        assert!(slack.contains(needed), "{needed}: {slack}");
        assert!(
            sent[0].email_body.contains(needed),
            "{needed}: {}",
            sent[0].email_body
        );
    }
    // A Lambda retry of the same wait does not send it twice.
    world.wait("p1", "token-1").await;
    assert_eq!(world.kept.0.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------- locks

/// Runs p1 into staging (blue/green) up to its first bake, with traffic still on blue.
async fn deployed(world: &World) {
    world
        .promote("p1", "staging", Strategy::BlueGreen, ana())
        .await;
    for action in [Action::Validate, Action::AssessRisk, Action::Deploy] {
        world.run(action, "p1").await.unwrap();
    }
}

fn rollback(cause: &str) -> StepInput {
    StepInput {
        action: Action::Rollback,
        promotion_id: id("p1"),
        cause: Some(json!({"Error": cause, "Cause": "{}"})),
        task_token: None,
        step: None,
        stack: None,
    }
}

#[tokio::test]
async fn rollback_cancels_its_own_interrupted_update_and_waits_holding_the_lock() {
    let world = World::new().await;
    deployed(&world).await;
    world
        .stacks
        .set_status("ferry-shop-staging", "UPDATE_IN_PROGRESS");
    let channels: [&dyn Channel; 0] = [];
    let busy = world
        .steps(&channels)
        .settle(&rollback("DeployFailed"))
        .await
        .unwrap_err();
    assert_eq!(busy.name(), "StackBusy");
    assert!(
        busy.to_string().contains("its update was cancelled"),
        "{busy}"
    );
    assert_eq!(world.stacks.cancelled(), ["ferry-shop-staging"]);
    assert_eq!(
        world.environment("staging").await.active_promotion,
        Some(id("p1")),
        "the lock is kept while the stack is busy"
    );
    assert_eq!(world.status("p1").await, PromotionStatus::Running);
    // Still rolling back its cancelled update: waited for, not cancelled again.
    let again = world
        .steps(&channels)
        .settle(&rollback("DeployFailed"))
        .await
        .unwrap_err();
    assert_eq!(again.name(), "StackBusy");
    assert_eq!(world.stacks.cancelled().len(), 1);
    // Settled: the retry puts traffic back and frees the lock.
    world
        .stacks
        .set_status("ferry-shop-staging", "UPDATE_ROLLBACK_COMPLETE");
    let done = world
        .steps(&channels)
        .settle(&rollback("DeployFailed"))
        .await
        .unwrap();
    assert_eq!(done["lock"], "released");
    assert_eq!(world.status("p1").await, PromotionStatus::RolledBack);
    assert!(world
        .environment("staging")
        .await
        .active_promotion
        .is_none());
    assert_eq!(world.weights("staging"), (100, 0), "all traffic on blue");
}

#[tokio::test]
async fn a_rollback_that_gave_up_frees_the_lock_and_tells_people() {
    let world = World::new().await;
    deployed(&world).await;
    let cause = json!({"Error": "StackBusy", "Cause": "{\"errorMessage\":\"stack ferry-shop-staging is UPDATE_ROLLBACK_IN_PROGRESS\"}"});
    let told: [&dyn Channel; 1] = [&world.kept];
    let result = world
        .steps(&told)
        .settle(&StepInput {
            action: Action::RollbackFailed,
            cause: Some(cause),
            ..rollback("unused")
        })
        .await
        .unwrap();
    assert_eq!(result["lock"], "released");
    assert_eq!(world.status("p1").await, PromotionStatus::Failed);
    assert!(world
        .environment("staging")
        .await
        .active_promotion
        .is_none());
    let sent = world.kept.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .email_body
            .contains("Check the listener weights of stack ferry-shop-staging"),
        "{}",
        sent[0].email_body
    );
    assert!(sent[0]
        .email_subject
        .contains("the rollback of promotion p1 failed"));
}

fn aborted(at: DateTime<Utc>) -> ExecutionEnded {
    ExecutionEnded {
        promotion_id: id("p1"),
        execution_arn: InMemoryWorkflow::arn(&id("p1")),
        status: "ABORTED".into(),
        error: None,
        cause: None,
        stopped_at: at,
    }
}

#[tokio::test]
async fn an_execution_stopped_mid_bake_puts_traffic_back_and_frees_the_lock_once() {
    let world = World::new().await;
    deployed(&world).await;
    // Shift 1 (weight 0) then Shift 2: all traffic on green, baking.
    for (action, step) in [(Action::Shift, 0), (Action::Shift, 1)] {
        world
            .steps(&[])
            .settle(&StepInput {
                action,
                step: Some(step),
                stack: None,
                cause: None,
                ..rollback("unused")
            })
            .await
            .unwrap();
    }
    assert_eq!(world.weights("staging"), (0, 100));
    let ended = world
        .steps(&[])
        .execution_ended(&aborted(tuesday_morning()))
        .await
        .unwrap();
    assert_eq!(ended["lock"], "released", "{ended}");
    assert_eq!(
        world.weights("staging"),
        (100, 0),
        "all traffic back on blue"
    );
    let staging = world.environment("staging").await;
    assert!(staging.active_promotion.is_none());
    assert_eq!(staging.live_colour, Colour::Blue, "blue passed its checks");
    let p = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    assert_eq!(p.status, PromotionStatus::RolledBack);
    let last = p.steps.last().unwrap();
    assert_eq!(last.name, "ExecutionEnded");
    assert!(
        last.detail["reason"]
            .as_str()
            .unwrap()
            .starts_with("ExecutionAborted"),
        "{}",
        last.detail
    );
    // Redelivered: already ended, left alone.
    let again = world
        .steps(&[])
        .execution_ended(&aborted(tuesday_morning()))
        .await
        .unwrap();
    assert!(
        again["ignored"].as_str().unwrap().contains("already ended"),
        "{again}"
    );
    let steps_after = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    assert_eq!(steps_after.steps.len(), p.steps.len(), "nothing written");
}

#[tokio::test]
async fn a_promotion_its_own_rollback_ended_is_left_alone() {
    let world = World::new().await;
    deployed(&world).await;
    world
        .steps(&[])
        .settle(&rollback("CanaryFailed"))
        .await
        .unwrap();
    let before = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    let failed = ExecutionEnded {
        status: "FAILED".into(),
        error: Some("PromotionRolledBack".into()),
        ..aborted(tuesday_morning())
    };
    let ignored = world.steps(&[]).execution_ended(&failed).await.unwrap();
    assert!(ignored["ignored"].is_string(), "{ignored}");
    let after = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_stack_still_busy_after_the_give_up_time_frees_the_lock_untouched_and_says_so() {
    let world = World::new().await;
    deployed(&world).await;
    world
        .stacks
        .set_status("ferry-shop-staging", "UPDATE_ROLLBACK_IN_PROGRESS");
    // Within the give-up time: retried, lock kept.
    let told: [&dyn Channel; 1] = [&world.kept];
    let soon = tuesday_morning() - chrono::Duration::seconds(30);
    let busy = world
        .steps(&told)
        .execution_ended(&aborted(soon))
        .await
        .unwrap_err();
    assert_eq!(busy.name(), "StackBusy");
    assert!(world
        .environment("staging")
        .await
        .active_promotion
        .is_some());
    // Past it: released, Failed, and people told.
    let late = tuesday_morning() - chrono::Duration::seconds(180);
    let ended = world
        .steps(&told)
        .execution_ended(&aborted(late))
        .await
        .unwrap();
    assert_eq!(ended["status"], "Failed", "{ended}");
    assert!(world
        .environment("staging")
        .await
        .active_promotion
        .is_none());
    assert_eq!(world.status("p1").await, PromotionStatus::Failed);
    assert_eq!(world.kept.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unlock_is_refused_while_the_execution_runs_and_recorded_when_it_is_not() {
    let world = World::new().await;
    world
        .promote("p1", "prod", Strategy::BlueGreen, ana())
        .await;
    let arn = InMemoryWorkflow::arn(&id("p1"));
    world
        .store
        .set_execution_arn(&id("p1"), &arn)
        .await
        .unwrap();
    world.workflow.set_status(&arn, ExecutionStatus::Running);
    let admin = Actor::from("admin@example.com");
    let request = || UnlockRequest {
        reason: "the status-change event went to the dead-letter queue".into(),
    };
    let running = unlock(
        &world.store,
        &world.workflow,
        &app(),
        &env("prod"),
        request(),
        &admin,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(running, UnlockError::StillRunning { .. }),
        "{running}"
    );
    assert!(running.to_string().contains("stop-execution"));
    assert!(world.environment("prod").await.active_promotion.is_some());

    world
        .workflow
        .set_status(&arn, ExecutionStatus::Ended("ABORTED".into()));
    let unlocked = unlock(
        &world.store,
        &world.workflow,
        &app(),
        &env("prod"),
        request(),
        &admin,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(unlocked.status, Some(PromotionStatus::Failed));
    assert!(unlocked.environment.active_promotion.is_none());
    let p = world.store.get_promotion(&id("p1")).await.unwrap().unwrap();
    let record = p.unlocked.unwrap();
    assert_eq!(record.by, "admin@example.com");
    assert!(record.reason.contains("dead-letter queue"));
    let again = unlock(
        &world.store,
        &world.workflow,
        &app(),
        &env("prod"),
        request(),
        &admin,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(again, UnlockError::NotLocked(_)), "{again}");
}

#[tokio::test]
async fn a_promotion_that_could_outlast_its_execution_is_refused_at_the_start() {
    let world = World::new().await;
    let request = PromotionRequest {
        app: app(),
        source_env: env("dev"),
        target_env: env("prod"),
        strategy: Strategy::Linear10PercentEvery3Minutes,
        allow_replace: vec![],
        kind: Default::default(),
        reason: None,
    };
    // Ten waits for a decision of up to seven days each.
    let refused = promotion::start(
        &world.store,
        &world.workflow,
        request.clone(),
        id("p1"),
        ana(),
        7 * 86_400,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("longer than a promotion's execution may run"),
        "{refused}"
    );
    assert!(
        world.environment("prod").await.active_promotion.is_none(),
        "no lock taken"
    );
    assert!(world.workflow.started().is_empty());
    promotion::start(
        &world.store,
        &world.workflow,
        request,
        id("p1"),
        ana(),
        86_400,
        Utc::now(),
    )
    .await
    .unwrap();
}
