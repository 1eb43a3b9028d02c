//! Prod promotions wait for an approval (`.waitForTaskToken` on moto's Step Functions):
//! approved by someone else, they proceed; the requester cannot approve; a rejection
//! ends them Rejected with the lock released.

use e2e::{seed_app, unique_app, Local};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn with_prod(local: &Local, app: &str) {
    with_prod_settings(local, app, e2e::fast_promotions()).await
}

async fn with_prod_settings(local: &Local, app: &str, promotion: Value) {
    local.grant_roles().await.unwrap();
    seed_app(local, app).await.unwrap();
    let spec = local
        .api(
            "GET",
            &format!("/apps/{app}/environments/staging"),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(spec.status, 200);
    let document = e2e::app_spec(app, &promotion);
    let created = local
        .api(
            "PUT",
            &format!("/apps/{app}/environments/prod"),
            Some(&json!({"spec": document})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    e2e::deploy_stack(local, &document, "prod").await.unwrap();
    let stack = format!("ferry-{app}-prod");
    e2e::put_target_metrics(local, &stack, "green", 0.2, 120)
        .await
        .unwrap();
}

async fn start(local: &Local, app: &str, requester: &str) -> (String, String) {
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "prod", "strategy": "BlueGreen"});
    let started = local
        .api_as(Some(requester), "POST", "/promotions", Some(&body), &[])
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    (
        started.body["id"].as_str().unwrap().to_owned(),
        started.body["execution_arn"].as_str().unwrap().to_owned(),
    )
}

async fn wait_for_status(local: &Local, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let record = local
            .api("GET", &format!("/promotions/{id}"), None, &[])
            .await
            .unwrap()
            .body;
        if record["status"] == status {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "promotion {id} never reached {status}: {record}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn approved_by_another_identity_the_promotion_proceeds() {
    let local = Local::connect().await;
    let app = unique_app("approve");
    with_prod(&local, &app).await;
    let (id, execution) = start(&local, &app, "ana@example.com").await;
    let waiting = wait_for_status(&local, &id, "AwaitingApproval").await;
    assert!(
        waiting.get("approval_token").is_none(),
        "the task token is not shown"
    );

    let own = local
        .api_as(
            Some("ana@example.com"),
            "POST",
            &format!("/promotions/{id}/approve"),
            Some(&json!({})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(own.status, 403, "{:?}", own.body);

    let approved = local
        .api_as(
            Some("bo@example.com"),
            "POST",
            &format!("/promotions/{id}/approve"),
            Some(&json!({"comment": "checked the dashboards"})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(
        local
            .wait_for_execution(&execution, Duration::from_secs(120))
            .await
            .unwrap(),
        "SUCCEEDED"
    );
    let states = local.states_entered(&execution).await.unwrap();
    println!("approved prod promotion: {}", states.join(" -> "));
    assert_eq!(
        states,
        [
            "Validate",
            "GenerateTemplate",
            "AssessRisk",
            "NeedsApproval",
            "AwaitApproval",
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
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await
        .unwrap()
        .body;
    assert_eq!(record["status"], "Succeeded");
    assert_eq!(record["approvals"][0]["decided_by"], "bo@example.com");
    assert_eq!(record["approvals"][0]["comment"], "checked the dashboards");
}

#[tokio::test]
async fn a_rejection_ends_the_promotion_rejected_and_frees_the_environment() {
    let local = Local::connect().await;
    let app = unique_app("reject");
    with_prod(&local, &app).await;
    let (id, execution) = start(&local, &app, "ana@example.com").await;
    wait_for_status(&local, &id, "AwaitingApproval").await;
    let rejected = local
        .api_as(
            Some("bo@example.com"),
            "POST",
            &format!("/promotions/{id}/reject"),
            Some(&json!({"comment": "not during the sale"})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rejected.status, 200, "{:?}", rejected.body);
    assert_eq!(
        local
            .wait_for_execution(&execution, Duration::from_secs(120))
            .await
            .unwrap(),
        "FAILED"
    );
    let states = local.states_entered(&execution).await.unwrap();
    println!("rejected prod promotion: {}", states.join(" -> "));
    assert_eq!(
        states,
        [
            "Validate",
            "GenerateTemplate",
            "AssessRisk",
            "NeedsApproval",
            "AwaitApproval",
            "Rollback",
            "RollbackWait",
            "CheckRollback",
            "RollbackSettled",
            "RolledBack"
        ]
    );
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await
        .unwrap()
        .body;
    assert_eq!(record["status"], "Rejected", "{record}");
    assert_eq!(record["approvals"][0]["decision"], "Rejected");
    let prod = local
        .item(&format!("APP#{app}"), "ENV#prod")
        .await
        .unwrap()
        .unwrap();
    assert!(!prod.contains_key("active_promotion"), "lock released");
    assert_eq!(
        prod["live_colour"].as_s().unwrap(),
        "blue",
        "traffic never moved"
    );
}

#[tokio::test]
async fn no_decision_before_the_timeout_ends_it_rejected_timeout() {
    let local = Local::connect().await;
    let app = unique_app("timeout");
    // Prod's own approval timeout, from its spec: two seconds instead of Ferry's 24 h.
    let mut settings = e2e::fast_promotions();
    settings["approval_timeout_seconds"] = json!(2);
    with_prod_settings(&local, &app, settings).await;
    let (id, execution) = start(&local, &app, "ana@example.com").await;
    assert_eq!(
        local
            .wait_for_execution(&execution, Duration::from_secs(120))
            .await
            .unwrap(),
        "FAILED"
    );
    let states = local.states_entered(&execution).await.unwrap();
    println!("timed-out prod promotion: {}", states.join(" -> "));
    assert_eq!(
        &states[states.len() - 6..],
        [
            "AwaitApproval",
            "Rollback",
            "RollbackWait",
            "CheckRollback",
            "RollbackSettled",
            "RolledBack"
        ]
    );
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await
        .unwrap()
        .body;
    assert_eq!(record["status"], "Rejected", "{record}");
    let rollback = record["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(
        rollback["detail"]["reason"],
        "Rejected (timeout): no decision before the approval timeout"
    );
    let prod = local
        .item(&format!("APP#{app}"), "ENV#prod")
        .await
        .unwrap()
        .unwrap();
    assert!(!prod.contains_key("active_promotion"), "lock released");
}

#[tokio::test]
async fn callers_without_the_role_are_refused() {
    let local = Local::connect().await;
    let app = unique_app("roles");
    seed_app(&local, &app).await.unwrap();
    let body = json!({"app": app, "source_env": "dev", "target_env": "staging"});
    // A JWT caller in no group Ferry knows: authenticated, but no role.
    let mut event = e2e::apigw_v2_event("POST", "/promotions", Some(body.to_string()), &[]);
    event["requestContext"]["authorizer"] =
        json!({"jwt": {"claims": {"email": "eve@example.com"}, "scopes": []}});
    let answer = local.invoke("api", &event).await.unwrap();
    assert_eq!(answer.body["statusCode"], 403, "{}", answer.body);
    // And the local-identity header does not override an authorizer's caller.
    let mut event = e2e::apigw_v2_event(
        "POST",
        "/promotions",
        Some(body.to_string()),
        &[("x-ferry-identity", e2e::LOCAL_ADMIN)],
    );
    event["requestContext"]["authorizer"] =
        json!({"jwt": {"claims": {"email": "eve@example.com"}, "scopes": []}});
    let answer = local.invoke("api", &event).await.unwrap();
    assert_eq!(answer.body["statusCode"], 403, "{}", answer.body);
}
