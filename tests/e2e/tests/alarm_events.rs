//! A CloudWatch alarm's state change through the real alert-evaluator, on the local
//! AWS: it goes through the environment's noise pipeline and reaches Slack. A test binary
//! of its own, because its scheduled runs tick every environment's pipeline at times
//! ahead of now, which would deliver other tests' notifications early.

use e2e::{alarm_change, deploy_stack, fast_promotions, posts_for, schedule, unique_app, Local};
use serde_json::{json, Value};

/// The ALB's 5xx-rate alarm is CloudWatch's, not a Ferry rule: its state change goes
/// through the same noise pipeline, so it reaches Slack once (after group_wait) naming
/// the ALB as the probable root cause, and its return to OK is sent as one resolution.
#[tokio::test]
async fn an_alb_5xx_alarm_reaches_slack_once_and_its_resolution_once() {
    let local = Local::connect().await;
    let app = unique_app("alb5xx");
    let mut spec = e2e::app_spec(&app, &fast_promotions());
    spec["alerts"] = json!({"routing": {"group_wait_seconds": 20, "group_interval_seconds": 60}});
    e2e::create_environments(&local, &app, &spec, &["staging"])
        .await
        .unwrap();
    deploy_stack(&local, &spec, "staging").await.unwrap();
    let alarm = format!("ferry/{app}/staging/alb-5xx-rate");
    let now = chrono::Utc::now();
    let mut ours_per_call = Vec::new();
    for (offset, event) in [
        (0, alarm_change(&alarm, "ALARM", "OK", now)),
        (20, schedule(now + chrono::Duration::seconds(20))),
        (40, schedule(now + chrono::Duration::seconds(40))),
        (
            60,
            alarm_change(&alarm, "OK", "ALARM", now + chrono::Duration::seconds(60)),
        ),
        (130, schedule(now + chrono::Duration::seconds(130))),
        (200, schedule(now + chrono::Duration::seconds(200))),
    ] {
        let run = local.invoke("alert-evaluator", &event).await.unwrap();
        assert!(run.function_error.is_none(), "{}", run.body);
        let ours: Vec<Value> = run.body["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.to_string().contains(&app))
            .collect();
        println!("+{offset}s: {ours:?}");
        ours_per_call.push(ours.len());
    }
    let posts = posts_for(&local, &app).await;
    let texts: Vec<String> = posts.iter().map(Value::to_string).collect();
    assert_eq!(
        posts.len(),
        2,
        "one firing post and one resolution: {texts:?}"
    );
    assert_eq!(ours_per_call.iter().sum::<usize>(), 2, "{ours_per_call:?}");
    assert!(
        texts[0].contains("firing") && texts[0].contains("alb-5xx-rate"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("Probable root cause: alb"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("resolved"), "{}", texts[1]);
}
