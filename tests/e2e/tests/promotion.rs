//! A promotion from dev to staging through the real functions on moto.

use e2e::{seed_app, unique_app, Local};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_promotion_runs_every_step_and_records_it_in_dynamodb() {
    let local = Local::connect().await;
    let app = unique_app("shop");
    seed_app(&local, &app).await.unwrap();
    let key = format!("{app}-to-staging");
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "BlueGreen"});

    let started = local
        .api(
            "POST",
            "/promotions",
            Some(&body),
            &[("idempotency-key", &key)],
        )
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();
    assert!(
        execution.ends_with(&format!(":{key}")),
        "the execution is named by the idempotency key"
    );

    // A client retry with the same key: same promotion, no second execution.
    let retried = local
        .api(
            "POST",
            "/promotions",
            Some(&body),
            &[("idempotency-key", &key)],
        )
        .await
        .unwrap();
    assert_eq!(
        (retried.status, &retried.body["execution_arn"]),
        (200, &json!(execution))
    );

    let status = local
        .wait_for_execution(&execution, Duration::from_secs(300))
        .await
        .unwrap();
    let states = local.states_entered(&execution).await.unwrap();
    println!(
        "execution {execution}: {status}\nstates entered: {}",
        states.join(" -> ")
    );
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(
        states,
        [
            "Validate",
            "GenerateTemplate",
            "AssessRisk",
            "NeedsApproval",
            "Deploy",
            "DeployWait",
            "CheckDeploy",
            "DeploySettled",
            "Shift",
            "ShiftWait",
            "CheckShift",
            "ShiftSettled",
            "Bake",
            "Analyse",
            "Judged",
            "Shift",
            "ShiftWait",
            "CheckShift",
            "ShiftSettled",
            "Bake",
            "Analyse",
            "Judged",
            "WatchWindow",
            "Finalise",
            "FinaliseWait",
            "CheckFinalise",
            "FinaliseSettled",
            "Promoted"
        ]
    );

    // The record, as the API returns it, has every step the functions ran.
    let record = local
        .api("GET", &format!("/promotions/{key}"), None, &[])
        .await
        .unwrap();
    println!(
        "GET /promotions/{key}:\n{}",
        serde_json::to_string_pretty(&record.body).unwrap()
    );
    assert_eq!(record.body["status"], "Succeeded");
    let steps: Vec<&str> = record.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "Validate",
            "GenerateTemplate",
            "AssessRisk",
            "Deploy",
            "Deploy settled",
            "Shift 1",
            "Shift 1 settled",
            "Analyse 1",
            "Shift 2",
            "Shift 2 settled",
            "Analyse 2",
            "Watch",
            "Finalise",
            "Finalise settled"
        ]
    );
    assert!(record.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["outcome"] == "Succeeded"));

    // And DynamoDB itself: the target now runs the release on the other colour, unlocked.
    let staging = local
        .item(&format!("APP#{app}"), "ENV#staging")
        .await
        .unwrap()
        .expect("staging item");
    println!("staging item: {staging:?}");
    assert_eq!(staging["live_colour"].as_s().unwrap(), "green");
    assert!(!staging.contains_key("active_promotion"), "lock released");
    let release = staging["deployed_release"].as_m().unwrap();
    assert_eq!(release["image"].as_s().unwrap(), &e2e::release_image(&app));
    let items = local.items_under(&format!("PROMO#{key}")).await.unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|i| i["SK"].as_s().unwrap().starts_with("STEP#"))
            .count(),
        14
    );
    // And the listener on moto: all traffic on green.
    let weights = e2e::listener_weights(&local, &format!("ferry-{app}-staging"))
        .await
        .unwrap();
    assert_eq!(weights, [0, 100]);
}

#[tokio::test]
async fn a_stray_execution_fails_validation_and_is_caught_into_rollback() {
    let local = Local::connect().await;
    let app = unique_app("stray");
    seed_app(&local, &app).await.unwrap();
    let key = format!("{app}-p1");
    let body = json!({"app": app, "source_env": "dev", "target_env": "staging"});
    let started = local
        .api(
            "POST",
            "/promotions",
            Some(&body),
            &[("idempotency-key", &key)],
        )
        .await
        .unwrap();
    let first = started.body["execution_arn"].as_str().unwrap().to_owned();
    assert_eq!(
        local
            .wait_for_execution(&first, Duration::from_secs(300))
            .await
            .unwrap(),
        "SUCCEEDED"
    );

    // Someone starts the pipeline again for the finished promotion: it must not hold or
    // touch the lock, and the error name must reach the Catch as Lambda reports it.
    let second = local
        .sfn
        .start_execution()
        .state_machine_arn(&local.state_machine_arn)
        .name(format!("{key}-again"))
        .input(
            json!({"promotion_id": key, "app": app, "source_env": "dev", "target_env": "staging"})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .execution_arn;
    assert_eq!(
        local
            .wait_for_execution(&second, Duration::from_secs(300))
            .await
            .unwrap(),
        "FAILED"
    );
    let states = local.states_entered(&second).await.unwrap();
    println!("stray execution states: {}", states.join(" -> "));
    assert_eq!(
        states,
        [
            "Validate",
            "Rollback",
            "RollbackWait",
            "CheckRollback",
            "RollbackSettled",
            "RolledBack"
        ]
    );
    let history = local.history(&second).await.unwrap();
    let failure = history
        .iter()
        .find_map(|e| {
            e.task_failed_event_details()
                .map(|d| d.error().unwrap_or_default().to_owned())
                .or_else(|| {
                    e.lambda_function_failed_event_details()
                        .map(|d| d.error().unwrap_or_default().to_owned())
                })
        })
        .expect("a task failure in the history");
    assert_eq!(failure, "LockLost");

    let record = local
        .api("GET", &format!("/promotions/{key}"), None, &[])
        .await
        .unwrap();
    assert_eq!(
        record.body["status"], "Succeeded",
        "the first ending stands"
    );
    let last = record.body["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["name"].as_str(), last["detail"]["lock"].as_str()),
        (Some("Rollback"), Some("not held"))
    );
}

#[tokio::test]
async fn only_one_promotion_per_environment_and_bad_input_writes_nothing() {
    let local = Local::connect().await;
    let app = unique_app("busy");
    seed_app(&local, &app).await.unwrap();
    let body = json!({"app": app, "source_env": "dev", "target_env": "staging"});
    let (key_a, key_b) = (format!("{app}-a"), format!("{app}-b"));
    let (headers_a, headers_b) = (
        [("idempotency-key", key_a.as_str())],
        [("idempotency-key", key_b.as_str())],
    );
    let (a, b) = tokio::join!(
        local.api("POST", "/promotions", Some(&body), &headers_a),
        local.api("POST", "/promotions", Some(&body), &headers_b),
    );
    let mut statuses = [a.unwrap().status, b.unwrap().status];
    statuses.sort();
    assert_eq!(statuses, [202, 409]);

    let bad = [
        (
            json!({"app": app, "source_env": "dev", "target_env": "qa"}),
            "target_env",
        ),
        (
            json!({"app": "no-such-app", "source_env": "dev", "target_env": "staging"}),
            "app",
        ),
        (
            json!({"app": app, "source_env": "dev", "target_env": "dev"}),
            "target_env",
        ),
        (
            json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "Nope"}),
            "strategy",
        ),
    ];
    for (i, (request, field)) in bad.into_iter().enumerate() {
        let key = format!("{app}-bad-{i}");
        let r = local
            .api(
                "POST",
                "/promotions",
                Some(&request),
                &[("idempotency-key", &key)],
            )
            .await
            .unwrap();
        assert_eq!(
            (r.status, r.content_type.as_str()),
            (400, "application/problem+json"),
            "{:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], field, "{:?}", r.body);
        assert!(
            local
                .items_under(&format!("PROMO#{key}"))
                .await
                .unwrap()
                .is_empty(),
            "nothing written for {key}"
        );
    }
}
