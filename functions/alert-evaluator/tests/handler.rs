use alert_evaluator::handler::Sources;
use ferry_core::monitoring::jobs::Notify;
use ferry_core::monitoring::noise::Notification;
use ferry_core::monitoring::notify::{Channel, DeliveryError, Message};
use ferry_core::names::{AppName, EnvName};
use ferry_core::ports::prelude::*;
use ferry_testkit::{seed_shop, InMemoryMetrics, InMemoryStacks, InMemoryStore};
use serde_json::Value;

const ALARM: &str = include_str!("fixtures/eventbridge-alarm-state-change.json");
const SCHEDULE: &str = include_str!("fixtures/eventbridge-schedule.json");

/// The alarm path needs no stacks, metrics or channels: empty ones.
async fn handle(store: &InMemoryStore, event: Value) -> Result<Value, ferry_lambda::FunctionError> {
    let (stacks, metrics) = (InMemoryStacks::new(), InMemoryMetrics::new());
    let sources = Sources {
        stacks: &stacks,
        metrics: &metrics,
        notify: Notify {
            channels: vec![],
            region: "us-east-1".into(),
        },
        workflow: &ferry_testkit::InMemoryWorkflow::new(),
    };
    alert_evaluator::handler::handle(store, &sources, event).await
}

/// A channel that keeps what it is asked to send.
#[derive(Default)]
struct Kept(std::sync::Mutex<Vec<Notification>>);

#[async_trait::async_trait]
impl Channel for Kept {
    fn name(&self) -> &str {
        "kept"
    }
    async fn send(&self, n: &Notification, _dashboard: &str) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
    async fn send_message(&self, _: &Message) -> Result<(), DeliveryError> {
        unreachable!("the alert-evaluator sends incident notifications only")
    }
}

/// The seeded shop with its dev stack deployed.
async fn deployed_shop_dev() -> (InMemoryStore, AppName, EnvName, InMemoryStacks) {
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
    (store, app, dev, stacks)
}

/// The schedule fixture and its time.
fn schedule() -> (Value, chrono::DateTime<chrono::Utc>) {
    let schedule: Value = serde_json::from_str(SCHEDULE).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(schedule["time"].as_str().unwrap())
        .unwrap()
        .to_utc();
    (schedule, now)
}

/// Every minute, each environment's rules (the profile's defaults here) are evaluated
/// against its deployed stack's series; a breach of 3 of 5 one-minute datapoints is
/// recorded as an alert, and its end as its resolution.
#[tokio::test]
async fn scheduled_evaluation_records_rule_breaches_and_their_end() {
    let (store, app, dev, stacks) = deployed_shop_dev().await;
    let metrics = InMemoryMetrics::new();
    let kept = Kept::default();
    let sources = Sources {
        stacks: &stacks,
        metrics: &metrics,
        notify: Notify {
            channels: vec![&kept],
            region: "us-east-1".into(),
        },
        workflow: &ferry_testkit::InMemoryWorkflow::new(),
    };
    let (schedule, now) = schedule();
    // The database's CPU over dev's 90% threshold for the last 4 minutes.
    for minute in 1..=4 {
        metrics.put(
            "CPUUtilization",
            &[("DBInstanceIdentifier", "ferry-shop-dev-Database")],
            now - chrono::Duration::minutes(minute) + chrono::Duration::seconds(5),
            97.0,
        );
    }
    let summary = alert_evaluator::handler::handle(&store, &sources, schedule.clone())
        .await
        .unwrap();
    assert_eq!(summary["environments"], 1, "{summary}");
    assert_eq!(summary["state_changes"], 1, "{summary}");
    let open = store.open_alerts(&app, &dev).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].alarm_name, "ferry/shop/dev/rule/database-cpu");
    // group_wait (30 s) holds the first notification; the next minute sends it, once.
    assert!(kept.0.lock().unwrap().is_empty());
    let mut next = schedule.clone();
    next["time"] = (now + chrono::Duration::minutes(1)).to_rfc3339().into();
    metrics.put(
        "CPUUtilization",
        &[("DBInstanceIdentifier", "ferry-shop-dev-Database")],
        now + chrono::Duration::seconds(5),
        98.0,
    );
    let summary = alert_evaluator::handler::handle(&store, &sources, next)
        .await
        .unwrap();
    assert_eq!(
        summary["notifications"][0]["outcome"], "Delivered { attempts: 1 }",
        "{summary}"
    );
    {
        let sent = kept.0.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].firing[0].rule, "database-cpu");
        let cause = sent[0].incident.as_ref().unwrap().root_cause().unwrap();
        assert_eq!(cause.component, "database");
    }

    // Five minutes later the CPU is back down: the alert resolves.
    let mut later = schedule;
    let then = now + chrono::Duration::minutes(5);
    later["time"] = then.to_rfc3339().into();
    for minute in 1..=5 {
        metrics.put(
            "CPUUtilization",
            &[("DBInstanceIdentifier", "ferry-shop-dev-Database")],
            then - chrono::Duration::minutes(minute) + chrono::Duration::seconds(5),
            20.0,
        );
    }
    let summary = alert_evaluator::handler::handle(&store, &sources, later)
        .await
        .unwrap();
    assert_eq!(summary["state_changes"], 1, "{summary}");
    assert!(store.open_alerts(&app, &dev).await.unwrap().is_empty());
}

#[tokio::test]
async fn records_the_alarm_against_its_environment_once_per_event() {
    let store = InMemoryStore::new();
    let event: Value = serde_json::from_str(ALARM).unwrap();
    let first = handle(&store, event.clone()).await.unwrap();
    assert_eq!(first["app"], "shop");
    assert_eq!(first["env"], "prod");
    assert_eq!(first["state"], "ALARM");
    assert_eq!(first["duplicate"], false);
    // EventBridge delivers at least once: the same event id is recorded once.
    let again = handle(&store, event).await.unwrap();
    assert_eq!(
        (again["duplicate"].as_bool(), again["alarm_count"].as_u64()),
        (Some(true), Some(1))
    );
    let state = store
        .get_alert_state("ferry/shop/prod/alb-5xx")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.state, "ALARM");
}

/// A malformed event is logged and counted, not failed (EventBridge would redeliver the
/// same bad event), and nothing is recorded from it.
#[tokio::test]
async fn malformed_events_are_counted_and_ignored_with_the_field_named() {
    let store = InMemoryStore::new();
    let mut event: Value = serde_json::from_str(ALARM).unwrap();
    event["detail-type"] = "Object Created".into();
    let answer = handle(&store, event).await.unwrap();
    assert!(
        answer["malformed"]
            .as_str()
            .unwrap()
            .contains("detail-type"),
        "{answer}"
    );
    let answer = handle(&store, serde_json::json!({"hello": "world"}))
        .await
        .unwrap();
    assert!(answer["malformed"].is_string(), "{answer}");
    assert!(store
        .get_alert_state("ferry/shop/prod/alb-5xx")
        .await
        .unwrap()
        .is_none());
}

/// A silence set through the API mutes the notification; the alert is still recorded.
#[tokio::test]
async fn a_silence_keeps_a_breach_from_being_notified() {
    let (store, app, dev, stacks) = deployed_shop_dev().await;
    let metrics = InMemoryMetrics::new();
    let kept = Kept::default();
    let sources = Sources {
        stacks: &stacks,
        metrics: &metrics,
        notify: Notify {
            channels: vec![&kept],
            region: "us-east-1".into(),
        },
        workflow: &ferry_testkit::InMemoryWorkflow::new(),
    };
    let (schedule, now) = schedule();
    let silence = ferry_core::monitoring::silence_from_request(
        "s1",
        &serde_json::json!({"matchers": ["component=database"], "starts_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
            "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339(), "comment": "database maintenance"}),
        "ops@ferry.local",
        now,
    )
    .unwrap();
    store
        .save_silences(
            &AppName::parse("app", "shop").unwrap(),
            &EnvName::parse("env", "dev").unwrap(),
            &[silence],
            0,
        )
        .await
        .unwrap();
    for minute in 1..=6 {
        metrics.put(
            "CPUUtilization",
            &[("DBInstanceIdentifier", "ferry-shop-dev-Database")],
            now - chrono::Duration::minutes(minute)
                + chrono::Duration::minutes(2)
                + chrono::Duration::seconds(5),
            97.0,
        );
    }
    for step in 0..3 {
        let mut event = schedule.clone();
        event["time"] = (now + chrono::Duration::minutes(step)).to_rfc3339().into();
        alert_evaluator::handler::handle(&store, &sources, event)
            .await
            .unwrap();
    }
    assert_eq!(
        store.open_alerts(&app, &dev).await.unwrap().len(),
        1,
        "recorded"
    );
    assert!(kept.0.lock().unwrap().is_empty(), "but silenced");
}
