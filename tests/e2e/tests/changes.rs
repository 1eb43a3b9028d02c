//! Infrastructure changes through the pipeline, on moto (issue 21): a spec change
//! deployed on its own keeps the live colour and the promoted image; losing a data store
//! is refused unless asked for; a failing change puts the previous template back; and
//! `ferry deploy` no longer goes around the pipeline.

use e2e::{
    app_spec, assert_settled, deployed_template, fast_promotions, promote_to_staging,
    put_target_metrics, release_image, seed_app_with, step, unique_app, Local,
};
use serde_json::{json, Value};
use std::time::Duration;

/// Seeds `app` (dev released, staging deployed blue) with healthy traffic on both colours.
async fn seeded(local: &Local, prefix: &str) -> (String, String) {
    let app = unique_app(prefix);
    seed_app_with(local, &app, fast_promotions()).await.unwrap();
    let stack = format!("ferry-{app}-staging");
    put_target_metrics(local, &stack, "blue", 0.2, 120)
        .await
        .unwrap();
    put_target_metrics(local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
    (app, stack)
}

/// `POST .../changes` with `spec` saved at the environment's current version; the change
/// id and its execution.
async fn apply(local: &Local, app: &str, spec: &Value, extra: Value) -> (String, String) {
    let path = format!("/apps/{app}/environments/staging");
    let version = local.api("GET", &path, None, &[]).await.unwrap().body["version"]
        .as_u64()
        .expect("a version")
        .to_string();
    let mut body = json!({"reason": "e2e: a change on its own", "spec": spec});
    for (key, value) in extra.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    let started = local
        .api(
            "POST",
            &format!("{path}/changes"),
            Some(&body),
            &[("If-Match", &version)],
        )
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{started:?}");
    (
        started.body["id"].as_str().unwrap().to_owned(),
        started.body["execution_arn"].as_str().unwrap().to_owned(),
    )
}

fn desired(template: &Value, id: &str) -> u64 {
    template["Resources"][id]["Properties"]["DesiredCount"]
        .as_u64()
        .unwrap()
}

/// The `ferry` binary `cargo build --workspace --bins` made (scripts/e2e does).
fn ferry_binary() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        std::path::PathBuf::from,
    );
    target.join("debug/ferry")
}

#[tokio::test]
async fn a_spec_change_on_its_own_keeps_green_and_the_promoted_image() {
    let local = Local::connect().await;
    let (app, stack) = seeded(&local, "change").await;
    let promoted = promote_to_staging(&local, &app, "BlueGreen").await.unwrap();
    assert_eq!(promoted.status, "SUCCEEDED", "{}", promoted.record);

    // `ferry deploy` would put blue and the spec's image back: it refuses, naming apply.
    let spec_file = std::env::temp_dir().join(format!("{app}.json"));
    std::fs::write(&spec_file, app_spec(&app, &fast_promotions()).to_string()).unwrap();
    let certificate = local.certificate().await.unwrap();
    let output = std::process::Command::new(ferry_binary())
        .args(["deploy", spec_file.to_str().unwrap(), "--env", "staging"])
        .arg(format!("--parameter=CertificateArn={certificate}"))
        .output()
        .expect("the ferry binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "ferry deploy went around the pipeline"
    );
    assert!(
        stderr.contains("is live on green") && stderr.contains("ferry apply"),
        "{stderr}"
    );

    let mut spec = app_spec(&app, &fast_promotions());
    spec["services"][0]["desired_count"] = json!(3);
    // And a new alarm threshold: the p99 latency alarm at 1.5 s (staging's default is 2).
    spec["environments"] =
        json!({"staging": {"settings": {"alarms": {"p99_latency_seconds": 1.5}}}});
    let (id, execution) = apply(&local, &app, &spec, json!({})).await;
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(status, "SUCCEEDED");
    // Ended, the lock free, all traffic still on green, which passed its watch.
    let record = assert_settled(&local, &app, "staging", &id, "Succeeded", "green")
        .await
        .unwrap();
    assert_eq!(record["kind"], "change");
    assert_eq!(record["reason"], "e2e: a change on its own");
    assert!(step(&record, "Deploy")["detail"]["previous_template"].is_string());
    let deployed = deployed_template(&local, &stack).await;
    assert_eq!(
        desired(&deployed, "WebGreenService"),
        3,
        "the change on the live colour"
    );
    assert_eq!(desired(&deployed, "WebBlueService"), 0);
    assert_eq!(
        deployed["Resources"]["WebGreenTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
            ["Image"],
        release_image(&app).as_str(),
        "the promoted image stays"
    );
    assert_eq!(
        deployed["Resources"]["WebLatencyP99Alarm"]["Properties"]["Threshold"], 1.5,
        "the new threshold"
    );

    // The spec the stack runs is on the record; one saved since (PUT) waits for the next
    // change, and does not ride along with the next release.
    let env_path = format!("/apps/{app}/environments/staging");
    let staging = local.api("GET", &env_path, None, &[]).await.unwrap().body;
    assert_eq!(
        staging["deployed_spec"]["spec_version"], record["pinned"]["spec_version"],
        "{staging}"
    );
    spec["services"][0]["desired_count"] = json!(5);
    let saved = local
        .api(
            "PUT",
            &env_path,
            Some(&json!({"spec": spec})),
            &[("If-Match", &staging["version"].to_string())],
        )
        .await
        .unwrap();
    assert_eq!(saved.status, 200, "{saved:?}");
    let released = promote_to_staging(&local, &app, "BlueGreen").await.unwrap();
    assert_eq!(released.status, "SUCCEEDED", "{}", released.record);
    let deployed = deployed_template(&local, &stack).await;
    assert_eq!(
        desired(&deployed, "WebBlueService"),
        3,
        "the release deployed the spec the stack ran, not the one saved since"
    );
}

#[tokio::test]
async fn a_change_that_deletes_the_database_is_refused_without_allow_replace() {
    let local = Local::connect().await;
    let (app, stack) = seeded(&local, "dbgone").await;
    let mut spec = app_spec(&app, &fast_promotions());
    spec.as_object_mut().unwrap().remove("database");
    let (id, execution) = apply(&local, &app, &spec, json!({})).await;
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(status, "FAILED");
    let record = assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
    let refused = step(&record, "AssessRisk");
    assert_eq!(
        refused["detail"]["error"], "ReplacementRefused",
        "{refused}"
    );
    assert!(
        refused["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-replace Database"),
        "{refused}"
    );
    assert!(
        deployed_template(&local, &stack).await["Resources"]
            .get("Database")
            .is_some(),
        "the database is still there"
    );
}

#[tokio::test]
async fn a_failing_change_puts_the_previous_template_back_and_frees_the_lock() {
    let local = Local::connect().await;
    let (app, stack) = seeded(&local, "badchange").await;
    let before = deployed_template(&local, &stack).await;
    // The change deploys, then its watch fails.
    local
        .fault(&format!("{app}/staging/analyse"), Some("FaultInjected"))
        .await
        .unwrap();
    let mut spec = app_spec(&app, &fast_promotions());
    spec["services"][0]["desired_count"] = json!(3);
    let (id, execution) = apply(&local, &app, &spec, json!({})).await;
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(600))
        .await
        .unwrap();
    local
        .fault(&format!("{app}/staging/analyse"), None)
        .await
        .unwrap();
    assert_eq!(status, "FAILED");
    let record = assert_settled(&local, &app, "staging", &id, "RolledBack", "blue")
        .await
        .unwrap();
    assert_eq!(
        desired(&deployed_template(&local, &stack).await, "WebBlueService"),
        2,
        "{record}"
    );
    assert_eq!(
        deployed_template(&local, &stack).await,
        before,
        "the previous template is back"
    );
}
