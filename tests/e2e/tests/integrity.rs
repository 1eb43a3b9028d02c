//! Approval integrity on the local AWS: approval comes from an environment's profile (or
//! its own setting), never its name; the requester cannot approve from a second session
//! of the same role; a decision Step Functions did not get goes through when sent again.
//! Every scenario ends with its promotion ended, the lock free and all traffic on the
//! colour that passed its checks.

use e2e::{
    assert_settled, deploy_stack, iam_session, jwt, put_target_metrics, seed_app, unique_app, Local,
};
use serde_json::{json, Value};
use std::time::Duration;

/// shop's spec with environments that look like prod by name or by profile only.
fn spec(app: &str) -> Value {
    let mut spec = e2e::app_spec(app, &e2e::fast_promotions());
    spec["environments"] = json!({
        "production": {"profile": "prod"},
        "eu-prod": {"profile": "prod"},
        "prod-like": {"profile": "dev"},
    });
    spec
}

/// `env` of `app` created from `document` through the API, and its stack deployed.
async fn with_env(local: &Local, app: &str, document: &Value, env: &str) {
    let created = local
        .api(
            "PUT",
            &format!("/apps/{app}/environments/{env}"),
            Some(&json!({"spec": document})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    deploy_stack(local, document, env).await.unwrap();
}

/// Starts dev -> `env` (blue/green) as `requester`: (id, execution).
async fn start(local: &Local, app: &str, env: &str, requester: Value) -> (String, String) {
    let body = json!({"app": app, "source_env": "dev", "target_env": env, "strategy": "BlueGreen"});
    let started = local
        .api_authorized(requester, "POST", "/promotions", Some(&body))
        .await
        .unwrap();
    assert_eq!(started.status, 202, "{:?}", started.body);
    (
        started.body["id"].as_str().unwrap().to_owned(),
        started.body["execution_arn"].as_str().unwrap().to_owned(),
    )
}

/// The new colour's health, just before the promotion's smoke check looks at it.
async fn healthy_green(local: &Local, app: &str, env: &str) {
    put_target_metrics(local, &format!("ferry-{app}-{env}"), "green", 0.2, 120)
        .await
        .unwrap();
}

async fn ended(local: &Local, execution: &str) -> (String, Vec<String>) {
    let status = local
        .wait_for_execution(execution, Duration::from_secs(300))
        .await
        .unwrap();
    (status, local.states_entered(execution).await.unwrap())
}

#[tokio::test]
async fn environments_on_the_prod_profile_need_approval_whatever_their_name() {
    let local = Local::connect().await;
    local.grant_roles().await.unwrap();
    let app = unique_app("profile");
    seed_app(&local, &app).await.unwrap();
    let document = spec(&app);
    for env in ["production", "eu-prod", "prod-like"] {
        with_env(&local, &app, &document, env).await;
    }
    // prod-like is on the dev profile: it goes straight through.
    healthy_green(&local, &app, "prod-like").await;
    let (like, like_execution) = start(&local, &app, "prod-like", jwt("ana@example.com")).await;
    let (status, states) = ended(&local, &like_execution).await;
    assert_eq!(status, "SUCCEEDED", "{states:?}");
    assert!(!states.contains(&"AwaitApproval".to_owned()), "{states:?}");
    assert_settled(&local, &app, "prod-like", &like, "Succeeded", "green")
        .await
        .unwrap();

    // production and eu-prod are on the prod profile: both wait for an approval.
    let (production, production_execution) =
        start(&local, &app, "production", jwt("ana@example.com")).await;
    let (eu, eu_execution) = start(&local, &app, "eu-prod", jwt("ana@example.com")).await;
    for id in [&production, &eu] {
        let waiting = local.wait_for_status(id, "AwaitingApproval").await.unwrap();
        let risk = waiting["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "AssessRisk")
            .unwrap();
        assert_eq!(risk["detail"]["approval"], "always", "{risk}");
    }
    healthy_green(&local, &app, "production").await;
    let approved = local
        .api_authorized(
            jwt("bo@example.com"),
            "POST",
            &format!("/promotions/{production}/approve"),
            Some(&json!({"comment": "checked"})),
        )
        .await
        .unwrap();
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let rejected = local
        .api_authorized(
            jwt("bo@example.com"),
            "POST",
            &format!("/promotions/{eu}/reject"),
            Some(&json!({"comment": "not this week"})),
        )
        .await
        .unwrap();
    assert_eq!(rejected.status, 200, "{:?}", rejected.body);
    let (status, states) = ended(&local, &production_execution).await;
    assert_eq!(status, "SUCCEEDED", "{states:?}");
    assert!(states.contains(&"AwaitApproval".to_owned()));
    assert_settled(
        &local,
        &app,
        "production",
        &production,
        "Succeeded",
        "green",
    )
    .await
    .unwrap();
    let (status, _) = ended(&local, &eu_execution).await;
    assert_eq!(status, "FAILED");
    assert_settled(&local, &app, "eu-prod", &eu, "Rejected", "blue")
        .await
        .unwrap();

    // Approvers were told, with the exact command.
    let posts = local.slack_posts().await.unwrap();
    let asked = posts
        .iter()
        .map(Value::to_string)
        .find(|p| p.contains(&format!("ferry approve {production}")))
        .expect("an approval request on Slack");
    assert!(asked.contains("target_environment"), "{asked}");
    // And nobody could record a release on them directly.
    let direct = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/eu-prod/releases"),
            Some(&json!({"image": e2e::release_image("direct")})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(direct.status, 409, "{:?}", direct.body);
    assert_eq!(direct.content_type, "application/problem+json");
}

#[tokio::test]
async fn the_requester_cannot_approve_from_a_second_session_of_the_same_role() {
    let local = Local::connect().await;
    local.grant_roles().await.unwrap();
    let app = unique_app("session");
    seed_app(&local, &app).await.unwrap();
    let document = e2e::app_spec(&app, &e2e::fast_promotions());
    with_env(&local, &app, &document, "prod").await;
    let (id, execution) = start(&local, &app, "prod", iam_session("ana-1")).await;
    local
        .wait_for_status(&id, "AwaitingApproval")
        .await
        .unwrap();

    let own = local
        .api_authorized(
            iam_session("ana-2"),
            "POST",
            &format!("/promotions/{id}/approve"),
            Some(&json!({"comment": "a new session"})),
        )
        .await
        .unwrap();
    assert_eq!(own.status, 403, "{:?}", own.body);
    assert!(
        own.body["detail"]
            .as_str()
            .unwrap()
            .contains(e2e::RELEASERS_ROLE),
        "{:?}",
        own.body
    );
    healthy_green(&local, &app, "prod").await;
    let approved = local
        .api_authorized(
            jwt("bo@example.com"),
            "POST",
            &format!("/promotions/{id}/approve"),
            Some(&json!({"comment": "checked"})),
        )
        .await
        .unwrap();
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let (status, states) = ended(&local, &execution).await;
    assert_eq!(status, "SUCCEEDED", "{states:?}");
    let record = assert_settled(&local, &app, "prod", &id, "Succeeded", "green")
        .await
        .unwrap();
    let approvals = record["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "the refused attempt recorded nothing");
    assert_eq!(approvals[0]["principal"], "sub-bo@example.com");
}

#[tokio::test]
async fn a_decision_step_functions_did_not_get_goes_through_when_sent_again() {
    let local = Local::connect().await;
    local.grant_roles().await.unwrap();
    let app = unique_app("resend");
    seed_app(&local, &app).await.unwrap();
    let document = e2e::app_spec(&app, &e2e::fast_promotions());
    with_env(&local, &app, &document, "prod").await;
    let (id, execution) = start(&local, &app, "prod", jwt("ana@example.com")).await;
    local
        .wait_for_status(&id, "AwaitingApproval")
        .await
        .unwrap();

    // SendTaskSuccess fails once (the api's fault injection: moto cannot fail it).
    let fault = format!("promotions/{id}/complete_approval");
    local
        .fault(&fault, Some("ServiceUnavailable"))
        .await
        .unwrap();
    let approve = || async {
        local
            .api_authorized(
                jwt("bo@example.com"),
                "POST",
                &format!("/promotions/{id}/approve"),
                Some(&json!({"comment": "checked"})),
            )
            .await
            .unwrap()
    };
    let failed = approve().await;
    assert_eq!(failed.status, 503, "{:?}", failed.body);
    let waiting = local
        .item(&format!("PROMO#{id}"), "#PROMO")
        .await
        .unwrap()
        .unwrap();
    assert!(
        waiting.contains_key("approval_token"),
        "the wait stays open for the same decision"
    );
    assert_eq!(
        local
            .sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .unwrap()
            .status
            .as_str(),
        "RUNNING"
    );
    local.fault(&fault, None).await.unwrap();
    healthy_green(&local, &app, "prod").await;
    let retried = approve().await;
    assert_eq!(retried.status, 200, "{:?}", retried.body);
    let (status, states) = ended(&local, &execution).await;
    assert_eq!(status, "SUCCEEDED", "{states:?}");
    let record = assert_settled(&local, &app, "prod", &id, "Succeeded", "green")
        .await
        .unwrap();
    assert_eq!(
        record["approvals"].as_array().unwrap().len(),
        1,
        "recorded once"
    );
    let token = local
        .item(&format!("PROMO#{id}"), "#PROMO")
        .await
        .unwrap()
        .unwrap();
    assert!(!token.contains_key("approval_token"), "cleared once told");
}
