//! Pinned promotions on moto (issue 15, must-have 1): what a promotion deploys is fixed
//! when it is created. A spec saved mid-bake reaches no stack until the next promotion,
//! and the container that goes live in staging is the one dev runs, byte for byte.

use e2e::{
    app_spec, assert_settled, deploy_stack_running, deployed_template, put_target_metrics,
    release_image, seed_app_with, step, unique_app, Local,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The container definitions of the web service's `colour` task definition.
fn containers(template: &Value, colour: &str) -> Value {
    template["Resources"][format!("Web{colour}TaskDefinition")]["Properties"]
        ["ContainerDefinitions"]
        .clone()
}

/// Polls the promotion until it has recorded `name`.
async fn wait_for_step(local: &Local, id: &str, name: &str) -> Value {
    let start = Instant::now();
    loop {
        let record = local
            .api("GET", &format!("/promotions/{id}"), None, &[])
            .await
            .unwrap()
            .body;
        let steps = record["steps"].as_array().cloned().unwrap_or_default();
        if steps.iter().any(|s| s["name"] == name) {
            return record;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no {name} after 3 minutes: {record}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_spec_saved_during_a_bake_does_not_change_what_the_promotion_deploys() {
    let local = Local::connect().await;
    let app = unique_app("pinned");
    // A 10% canary that bakes long enough for the spec to be saved during it.
    let settings = json!({
        "steps": [{"weight": 10, "bake_seconds": 15}, {"weight": 100}],
        "watch_window_seconds": 1,
        "analysis": {"period_seconds": 1, "window_seconds": 120}
    });
    seed_app_with(&local, &app, settings.clone()).await.unwrap();
    let stack = format!("ferry-{app}-staging");
    put_target_metrics(&local, &stack, "blue", 0.2, 120)
        .await
        .unwrap();
    put_target_metrics(&local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": "Custom"});
    let started = local
        .api("POST", "/promotions", Some(&body), &[])
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{started:?}");
    let id = started.body["id"].as_str().unwrap().to_owned();
    let execution = started.body["execution_arn"].as_str().unwrap().to_owned();

    wait_for_step(&local, &id, "Shift 1").await;
    let env_path = format!("/apps/{app}/environments/staging");
    let current = local.api("GET", &env_path, None, &[]).await.unwrap();
    let version = current.body["version"]
        .as_u64()
        .expect("a version")
        .to_string();
    let mut changed = app_spec(&app, &settings);
    changed["services"][0]["environment"] = json!({"SAVED_MID_BAKE": "yes"});
    changed["services"][0]["desired_count"] = json!(3);
    let saved = local
        .api(
            "PUT",
            &env_path,
            Some(&json!({"spec": changed})),
            &[("If-Match", &version)],
        )
        .await
        .unwrap();
    assert_eq!(
        saved.status, 200,
        "the spec may be saved mid-promotion: {saved:?}"
    );

    let status = local
        .wait_for_execution(&execution, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(status, "SUCCEEDED");
    // Ended, the lock free, all traffic on green, which passed its checks.
    let record = assert_settled(&local, &app, "staging", &id, "Succeeded", "green")
        .await
        .unwrap();
    assert_eq!(step(&record, "Analyse 1")["outcome"], "Succeeded");

    let pinned = step(&record, "GenerateTemplate")["detail"]["pinned"]["sha256"]
        .as_str()
        .expect("GenerateTemplate pinned a template")
        .to_owned();
    assert_eq!(
        step(&record, "Deploy")["detail"]["template"]["sha256"],
        pinned.as_str()
    );
    for derived in ["Shift 1", "Shift 2", "Finalise"] {
        assert_eq!(
            step(&record, derived)["detail"]["template"]["derived_from"],
            pinned.as_str(),
            "{derived}"
        );
    }
    let deployed = deployed_template(&local, &stack).await;
    let text = deployed.to_string();
    assert!(
        !text.contains("SAVED_MID_BAKE"),
        "the saved spec reached the stack"
    );
    for (id, resource) in deployed["Resources"].as_object().unwrap() {
        if resource["Type"] == "AWS::ECS::Service" {
            let count = resource["Properties"]["DesiredCount"].as_u64().unwrap();
            assert!(
                count == 0 || count == 2,
                "{id} runs {count} tasks, not the pinned 2"
            );
        }
    }
    // Kept for the next promotion.
    let after = local.api("GET", &env_path, None, &[]).await.unwrap().body;
    assert_eq!(after["spec"]["services"][0]["desired_count"], 3, "{after}");
}

#[tokio::test]
async fn the_container_that_goes_live_is_the_one_the_source_runs_byte_for_byte() {
    let local = Local::connect().await;
    let app = unique_app("artefact");
    let settings = e2e::fast_promotions();
    seed_app_with(&local, &app, settings.clone()).await.unwrap();
    let stack = format!("ferry-{app}-staging");
    put_target_metrics(&local, &stack, "blue", 0.2, 120)
        .await
        .unwrap();
    put_target_metrics(&local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
    // Dev runs the release CI recorded there (seed_app_with's image and config).
    let dev = local
        .api("GET", &format!("/apps/{app}/environments/dev"), None, &[])
        .await
        .unwrap()
        .body;
    let release: ferry_core::model::Release =
        serde_json::from_value(dev["deployed_release"].clone()).expect("dev has a release");
    assert_eq!(release.image.as_str(), release_image(&app));
    deploy_stack_running(&local, &app_spec(&app, &settings), "dev", Some(&release))
        .await
        .unwrap();

    let ended = e2e::promote_to_staging(&local, &app, "BlueGreen")
        .await
        .unwrap();
    assert_eq!(ended.status, "SUCCEEDED", "{}", ended.record);
    assert_settled(
        &local,
        &app,
        "staging",
        ended.record["id"].as_str().unwrap(),
        "Succeeded",
        "green",
    )
    .await
    .unwrap();

    let in_dev = containers(
        &deployed_template(&local, &format!("ferry-{app}-dev")).await,
        "Blue",
    );
    let live_in_staging = containers(&deployed_template(&local, &stack).await, "Green");
    assert_eq!(
        serde_json::to_string(&in_dev).unwrap(),
        serde_json::to_string(&live_in_staging).unwrap(),
        "staging's live container is dev's"
    );
    let variables = live_in_staging[0]["Environment"].to_string();
    assert!(
        variables.contains("FEATURE_CHECKOUT_V2"),
        "the release's config: {variables}"
    );
    assert_eq!(live_in_staging[0]["Image"], release.image.as_str());
}
