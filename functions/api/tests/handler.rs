//! Handler tests: real API Gateway v2 events (from aws_lambda_events' fixtures) through
//! the api handler, on the in-memory store and workflow.

use api::handler::{handle, Deps, MAX_BODY_BYTES};
use ferry_core::names::{AppName, EnvName, PromotionId};
use ferry_core::ports::prelude::*;
use ferry_testkit::{InMemoryStore, InMemoryWorkflow};
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use std::sync::Arc;

const FIXTURE: &str = include_str!("fixtures/apigw-v2-request.json");
const JWT_FIXTURE: &str = include_str!("fixtures/apigw-v2-request-jwt.json");
const ADMIN: &str = "admin@example.com";

fn event(
    fixture: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    for (name, value) in headers {
        event["headers"][*name] = json!(value);
    }
    if let Some(body) = body {
        event["headers"]["content-length"] = json!(body.len().to_string());
        event["body"] = json!(body);
    }
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

struct Harness {
    store: Arc<InMemoryStore>,
    workflow: Arc<InMemoryWorkflow>,
    deps: Deps,
}

impl Harness {
    async fn new() -> Self {
        let store = Arc::new(InMemoryStore::new());
        let workflow = Arc::new(InMemoryWorkflow::new());
        let deps = Deps {
            store: store.clone(),
            workflow: workflow.clone(),
            stacks: Arc::new(ferry_testkit::InMemoryStacks::new()),
            live: Arc::new(ferry_testkit::InMemoryLive::new()),
            approval_timeout_seconds: 3600,
            admins: vec![ADMIN.into()],
            // The plain fixture has no authorizer: requests name their caller in
            // x-ferry-identity, as local runs do.
            local_identity: true,
        };
        let policy = ferry_core::access::AccessPolicy::parse(&json!({
            "principals": {"ana@example.com": "deployer", "bo@example.com": "approver", "vi@example.com": "viewer"}
        }))
        .unwrap();
        store.put_access_policy(&policy).await.unwrap();
        Self {
            store,
            workflow,
            deps,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value, Response<Body>) {
        self.send_raw(method, path, body.map(|b| b.to_string()), headers)
            .await
    }

    async fn send_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (u16, Value, Response<Body>) {
        let mut headers = headers.to_vec();
        if !headers.iter().any(|(k, _)| *k == "x-ferry-identity") {
            headers.push(("x-ferry-identity", ADMIN));
        }
        let response = handle(&self.deps, event(FIXTURE, method, path, body, &headers)).await;
        let status = response.status().as_u16();
        let parsed = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        (status, parsed, response)
    }

    /// shop with dev (released) and staging.
    async fn seeded() -> Self {
        let h = Self::new().await;
        let spec = shop_spec();
        assert_eq!(h.send("PUT", "/apps/shop", None, &[]).await.0, 201);
        for env in ["dev", "staging"] {
            assert_eq!(
                h.send(
                    "PUT",
                    &format!("/apps/shop/environments/{env}"),
                    Some(json!({"spec": spec})),
                    &[]
                )
                .await
                .0,
                201
            );
        }
        let image = format!("repo/shop@sha256:{}", "c".repeat(64));
        let (status, _, _) = h
            .send(
                "POST",
                "/apps/shop/environments/dev/releases",
                Some(json!({"image": image})),
                &[],
            )
            .await;
        assert_eq!(status, 200);
        h
    }
}

fn shop_spec() -> Value {
    json!({"app": "shop", "services": [{"name": "web", "image": "repo/web", "port": 8080, "cpu": 256, "memory": 512}]})
}

fn promotion_body() -> Value {
    json!({"app": "shop", "source_env": "dev", "target_env": "staging", "strategy": "BlueGreen"})
}

fn assert_problem(response: &Response<Body>, body: &Value, status: u16, field: &str) {
    assert_eq!(response.status().as_u16(), status, "{body}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&field),
        "expected an error on {field}: {body}"
    );
}

#[tokio::test]
async fn post_promotions_starts_the_workflow_named_by_the_idempotency_key() {
    let h = Harness::seeded().await;
    let (status, body, response) = h
        .send(
            "POST",
            "/promotions",
            Some(promotion_body()),
            &[("idempotency-key", "release-42")],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(response.headers()["location"], "/promotions/release-42");
    assert_eq!(body["status"], "Pending");
    assert_eq!(
        body["requested_by"], ADMIN,
        "the local identity header named the caller"
    );
    let started = h.workflow.started();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].0.as_str(), "release-42");
    assert_eq!(started[0].1["target_env"], "staging");

    // A retry with the same key answers with the same promotion and starts nothing new.
    let (status, replay, _) = h
        .send(
            "POST",
            "/promotions",
            Some(promotion_body()),
            &[("idempotency-key", "release-42")],
        )
        .await;
    assert_eq!((status, &replay["id"]), (200, &json!("release-42")));
    assert_eq!(h.workflow.started().len(), 1);

    let (status, fetched, _) = h.send("GET", "/promotions/release-42", None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["execution_arn"], body["execution_arn"]);
}

#[tokio::test]
async fn a_second_promotion_to_a_busy_environment_is_409() {
    let h = Harness::seeded().await;
    assert_eq!(
        h.send("POST", "/promotions", Some(promotion_body()), &[])
            .await
            .0,
        202
    );
    let (status, body, response) = h
        .send("POST", "/promotions", Some(promotion_body()), &[])
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(body["detail"].as_str().unwrap().contains("in progress"));
}

#[tokio::test]
async fn bad_promotion_requests_are_400_naming_the_field_and_write_nothing() {
    let h = Harness::seeded().await;
    let cases = [
        (
            json!({"app": "nope", "source_env": "dev", "target_env": "staging"}),
            "app",
        ),
        (
            json!({"app": "shop", "source_env": "dev", "target_env": "qa"}),
            "target_env",
        ),
        (
            json!({"app": "shop", "source_env": "qa", "target_env": "staging"}),
            "source_env",
        ),
        (
            json!({"app": "shop", "source_env": "dev", "target_env": "dev"}),
            "target_env",
        ),
        (
            json!({"app": "shop", "source_env": "dev", "target_env": "staging", "strategy": "Yolo"}),
            "strategy",
        ),
    ];
    for (request, field) in cases {
        let (_, body, response) = h.send("POST", "/promotions", Some(request), &[]).await;
        assert_problem(&response, &body, 400, field);
    }
    let (_, body, response) = h
        .send_raw(
            "POST",
            "/promotions",
            Some("{\"app\": \"shop\",".into()),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "body");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    let huge = json!({"app": "shop", "pad": "x".repeat(MAX_BODY_BYTES)}).to_string();
    let (_, body, response) = h.send_raw("POST", "/promotions", Some(huge), &[]).await;
    assert_problem(&response, &body, 400, "body");
    let (_, body, response) = h
        .send(
            "POST",
            "/promotions",
            Some(promotion_body()),
            &[("idempotency-key", "has space")],
        )
        .await;
    assert_problem(&response, &body, 400, "Idempotency-Key");

    assert!(h.workflow.started().is_empty());
    let staging = h
        .store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(staging.active_promotion.is_none(), "no lock was taken");
    assert!(h
        .store
        .list_promotions(&staging.app, &staging.name, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn when_the_workflow_cannot_start_the_lock_is_released() {
    let h = Harness::seeded().await;
    h.workflow.set_unavailable(true);
    let (status, body, _) = h
        .send(
            "POST",
            "/promotions",
            Some(promotion_body()),
            &[("idempotency-key", "p1")],
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let failed = h
        .store
        .get_promotion(&PromotionId::parse("id", "p1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, ferry_core::model::PromotionStatus::Failed);
    h.workflow.set_unavailable(false);
    assert_eq!(
        h.send("POST", "/promotions", Some(promotion_body()), &[])
            .await
            .0,
        202
    );
}

#[tokio::test]
async fn environment_specs_report_every_error_with_its_path() {
    let h = Harness::seeded().await;
    let mut spec = shop_spec();
    spec["services"][0]["cpu"] = json!(300);
    spec["services"][0]["environment"] = json!({"DB_PASSWORD": "hunter2"});
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/qa",
            Some(json!({"spec": shop_spec()})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.environments.qa.profile");
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/dev",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.services[0].cpu");
    assert_problem(
        &response,
        &body,
        400,
        "spec.services[0].environment.DB_PASSWORD",
    );
    let mut spec = shop_spec();
    spec["services"][0]["port"] = json!("80");
    spec["cache"] =
        json!({"engine": "memcached", "version": "1.6", "node_type": "cache.t4g.micro"});
    spec["colour"] = json!("red");
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/dev",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.services[0].port");
    assert_problem(&response, &body, 400, "spec.cache.engine");
    assert_problem(&response, &body, 400, "spec.colour");
    let mut other = shop_spec();
    other["app"] = json!("other");
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/dev",
            Some(json!({"spec": other})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.app");
}

#[tokio::test]
async fn a_prod_override_that_turns_off_encryption_needs_a_waiver() {
    let h = Harness::seeded().await;
    let mut spec = shop_spec();
    spec["database"] = json!({"engine": "postgres", "version": "17.6", "instance_class": "db.t4g.micro", "storage_gb": 20});
    spec["environments"] = json!({"prod": {"database": {"encrypted": false}}});
    let (status, body, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/prod",
            Some(json!({"spec": spec.clone()})),
            &[],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("rds_storage_encrypted"),
        "{body}"
    );
    spec["environments"]["prod"]["waivers"] = json!([{"rule": "rds_storage_encrypted", "reason": "public open data only, reviewed by security"}]);
    let (status, body, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/prod",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn environment_updates_are_optimistic() {
    let h = Harness::seeded().await;
    let spec = shop_spec();
    let (status, _, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/staging",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_eq!(status, 409, "replacing needs If-Match");
    let (status, _, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/staging",
            Some(json!({"spec": spec})),
            &[("if-match", "7")],
        )
        .await;
    assert_eq!(status, 412, "stale version");
    let (status, body, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/staging",
            Some(json!({"spec": spec})),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!((status, &body["version"]), (200, &json!(2)));
}

#[tokio::test]
async fn post_template_returns_the_policy_checked_template() {
    let h = Harness::seeded().await;
    let (status, body, _) = h
        .send(
            "POST",
            "/apps/shop/environments/staging/template",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["template"]["Metadata"]["Ferry"]["Profile"], "staging");
    assert_eq!(body["summary"]["policy"]["rules_checked"], 13);
    let (status, _, _) = h
        .send("POST", "/apps/shop/environments/qa/template", None, &[])
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn unknown_routes_and_promotions_are_404_problems() {
    let h = Harness::new().await;
    let (status, body, _) = h.send("GET", "/promotions/nope", None, &[]).await;
    assert_eq!((status, body["status"].as_u64()), (404, Some(404)));
    assert_eq!(h.send("DELETE", "/apps/shop", None, &[]).await.0, 404);
}

#[tokio::test]
async fn the_requester_comes_from_the_authorizer_not_the_body() {
    let h = Harness::seeded().await;
    let mut jwt: Value = serde_json::from_str(JWT_FIXTURE).unwrap();
    jwt["requestContext"]["authorizer"]["jwt"]["claims"] =
        json!({"sub": "user-123", "email": "ana@example.com"});
    let request = event(
        &jwt.to_string(),
        "POST",
        "/promotions",
        Some(promotion_body().to_string()),
        &[],
    );
    let response = handle(&h.deps, request).await;
    let Body::Text(text) = response.body() else {
        panic!("text body")
    };
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["requested_by"], "ana@example.com", "{body}");
}

/// Sends a request as `who` (a JWT-authenticated caller), or anonymously.
async fn send_as(
    h: &Harness,
    who: Option<&str>,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut fixture: Value = serde_json::from_str(JWT_FIXTURE).unwrap();
    match who {
        Some(who) => {
            fixture["requestContext"]["authorizer"]["jwt"]["claims"] = json!({"email": who})
        }
        None => fixture["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer")
            .map(|_| ())
            .unwrap_or(()),
    }
    let response = handle(
        &h.deps,
        event(
            &fixture.to_string(),
            method,
            path,
            Some(body.to_string()),
            &[],
        ),
    )
    .await;
    let Body::Text(text) = response.body() else {
        panic!("text body")
    };
    (
        response.status().as_u16(),
        serde_json::from_str(text).unwrap(),
    )
}

/// A request as API Gateway passes it with `authorizer` in its request context (a JWT's
/// claims, or the IAM caller).
async fn send_authorized(
    h: &Harness,
    authorizer: Value,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut fixture: Value = serde_json::from_str(JWT_FIXTURE).unwrap();
    fixture["requestContext"]["authorizer"] = authorizer;
    let response = handle(
        &h.deps,
        event(
            &fixture.to_string(),
            method,
            path,
            Some(body.to_string()),
            &[],
        ),
    )
    .await;
    let Body::Text(text) = response.body() else {
        panic!("text body")
    };
    (
        response.status().as_u16(),
        serde_json::from_str(text).unwrap(),
    )
}

/// API Gateway's IAM authorizer context for a session of role Releasers.
fn releasers_session(session: &str, source_identity: Option<&str>) -> Value {
    let mut iam = json!({
        "accessKey": "ASIAEXAMPLE",
        "accountId": "123456789012",
        "callerId": format!("AROAEXAMPLE:{session}"),
        "principalOrgId": null,
        "userArn": format!("arn:aws:sts::123456789012:assumed-role/Releasers/{session}"),
        "userId": format!("AROAEXAMPLE:{session}"),
    });
    if let Some(source) = source_identity {
        iam["sourceIdentity"] = json!(source);
    }
    json!({"iam": iam})
}

/// Runs the AwaitApproval step for the promotion the workflow started first.
async fn wait_for_approval(h: &Harness) {
    let id = h.workflow.started()[0].0.clone();
    let (stacks, metrics) = (
        ferry_testkit::InMemoryStacks::new(),
        ferry_testkit::InMemoryMetrics::new(),
    );
    let steps = ferry_core::promotion::Steps {
        environments: h.store.as_ref(),
        promotions: h.store.as_ref(),
        alerts: h.store.as_ref(),
        stacks: &stacks,
        metrics: &metrics,
        faults: None,
        policy: Default::default(),
        outbox: None,
        now: chrono::Utc::now,
    };
    let wait = ferry_core::promotion::StepInput {
        action: ferry_core::promotion::Action::AwaitApproval,
        promotion_id: id,
        cause: None,
        task_token: Some("token-1".into()),
        step: None,
        stack: None,
    };
    steps.run(&wait).await.unwrap();
}

/// shop with dev (released) and prod, and a promotion to prod by ana, waiting for approval.
async fn awaiting_prod_approval() -> Harness {
    let h = Harness::seeded().await;
    assert_eq!(
        h.send(
            "PUT",
            "/apps/shop/environments/prod",
            Some(json!({"spec": shop_spec()})),
            &[]
        )
        .await
        .0,
        201
    );
    let body = json!({"app": "shop", "source_env": "dev", "target_env": "prod"});
    let (status, _) = send_as(&h, Some("ana@example.com"), "POST", "/promotions", body).await;
    assert_eq!(status, 202);
    let id = h.workflow.started()[0].0.clone();
    let (stacks, metrics) = (
        ferry_testkit::InMemoryStacks::new(),
        ferry_testkit::InMemoryMetrics::new(),
    );
    let steps = ferry_core::promotion::Steps {
        environments: h.store.as_ref(),
        promotions: h.store.as_ref(),
        alerts: h.store.as_ref(),
        stacks: &stacks,
        metrics: &metrics,
        faults: None,
        policy: Default::default(),
        outbox: None,
        now: chrono::Utc::now,
    };
    let wait = ferry_core::promotion::StepInput {
        action: ferry_core::promotion::Action::AwaitApproval,
        promotion_id: id,
        cause: None,
        task_token: Some("token-1".into()),
        step: None,
        stack: None,
    };
    steps.run(&wait).await.unwrap();
    h
}

#[tokio::test]
async fn the_requester_may_not_approve_their_own_prod_promotion() {
    let h = awaiting_prod_approval().await;
    let id = h.workflow.started()[0].0.to_string();
    let (status, body) = send_as(
        &h,
        Some("ana@example.com"),
        "POST",
        &format!("/promotions/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = send_as(
        &h,
        None,
        "POST",
        &format!("/promotions/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, 401, "anonymous callers cannot decide");
    assert!(h.workflow.completed().is_empty());

    let (status, body) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &format!("/promotions/{id}/approve"),
        json!({"comment": "looks good"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approvals"][0]["decided_by"], "bo@example.com");
    assert_eq!(body["approvals"][0]["decision"], "Approved");
    assert!(
        body.get("approval_token").is_none(),
        "the task token is never shown"
    );
    assert_eq!(
        h.workflow.completed(),
        [(
            "token-1".to_owned(),
            true,
            json!({"decision": "Approved", "decided_by": "bo@example.com", "comment": "looks good",
                   "approvers": ["bo@example.com"]})
        )]
    );

    // Decided once: a second decision is a conflict.
    let (status, _) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &format!("/promotions/{id}/reject"),
        json!({"comment": "too late"}),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_rejection_needs_a_comment_and_fails_the_waiting_task() {
    let h = awaiting_prod_approval().await;
    let id = h.workflow.started()[0].0.to_string();
    let (status, body) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &format!("/promotions/{id}/reject"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("comment"))
    );
    let (status, _) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &format!("/promotions/{id}/reject"),
        json!({"comment": "not during the sale"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!h.workflow.completed()[0].1, "a rejection fails the task");
    let (status, _) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        "/promotions/nope/approve",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
}

/// An app's own policy rules: rules that do not parse are refused naming `policy.rules`
/// with cfn-guard's message, and a spec whose template breaks one is refused naming it.
#[tokio::test]
async fn an_apps_policy_rules_are_checked_when_its_spec_is_stored() {
    let h = Harness::seeded().await;
    let mut spec = shop_spec();
    spec["policy"] = json!({"rules": "rule broken {\n  Resources.*[ Type == \n}"});
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/dev",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.policy.rules");
    assert!(
        body.to_string().contains("cfn-guard rejects these rules"),
        "{body}"
    );

    // A new environment, so that nothing but the policy stands in the way.
    let mut spec = shop_spec();
    spec["environments"] = json!({"demo": {"profile": "dev"}});
    spec["policy"] = json!({"rules": "rule one_task_each {\n  Resources.*[ Type == 'AWS::ECS::Service' ].Properties.DesiredCount == 2\n}"});
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/demo",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "spec");
    assert!(body.to_string().contains("one_task_each"), "{body}");
}

#[test]
fn config_names_account_rules_that_do_not_parse() {
    let env = |rules: &'static str| {
        ferry_lambda::Env::from_fn(move |name| match name {
            "FERRY_TABLE_NAME" => Some("t".into()),
            "FERRY_STATE_MACHINE_ARN" => {
                Some("arn:aws:states:us-east-1:123456789012:stateMachine:p".into())
            }
            "FERRY_POLICY_RULES" => Some(rules.into()),
            _ => None,
        })
    };
    let err = api::config::Config::load(&env("rule broken {")).unwrap_err();
    assert_eq!(err.variable, "FERRY_POLICY_RULES");
    assert!(
        err.problem.starts_with("cfn-guard rejects these rules:"),
        "{err}"
    );
    let config = api::config::Config::load(&env("rule tagged {\n  Resources exists\n}")).unwrap();
    assert_eq!(
        config.account_rules.map(|r| r.rule_names()),
        Some(vec!["tagged".to_owned()])
    );
}

#[test]
fn config_names_the_missing_variable() {
    let env =
        ferry_lambda::Env::from_fn(|name| (name == "FERRY_TABLE_NAME").then(|| "t".to_owned()));
    let err = api::config::Config::load(&env).unwrap_err();
    assert_eq!(err.variable, "FERRY_STATE_MACHINE_ARN");
}

#[tokio::test]
async fn roles_gate_every_route_viewer_deployer_approver_admin() {
    let h = awaiting_prod_approval().await;
    let id = h.workflow.started()[0].0.to_string();
    let promote = json!({"app": "shop", "source_env": "dev", "target_env": "staging"});
    // A viewer reads, and nothing more.
    assert_eq!(
        send_as(
            &h,
            Some("vi@example.com"),
            "GET",
            &format!("/promotions/{id}"),
            json!(null)
        )
        .await
        .0,
        200
    );
    let (status, body) = send_as(
        &h,
        Some("vi@example.com"),
        "POST",
        "/promotions",
        promote.clone(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "vi@example.com is a viewer; POST /promotions needs deployer"
    );
    // A deployer starts promotions but cannot approve.
    let (status, body) = send_as(
        &h,
        Some("ana@example.com"),
        "POST",
        &format!("/promotions/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        format!("ana@example.com is a deployer; POST /promotions/{id}/approve needs approver")
    );
    // Nobody below admin edits environments or the access policy.
    let (status, _) = send_as(
        &h,
        Some("bo@example.com"),
        "PUT",
        "/access",
        json!({"principals": {"bo@example.com": "admin"}}),
    )
    .await;
    assert_eq!(status, 403);
    // Strangers have no role at all; anonymous callers are not authenticated.
    let (status, body) = send_as(
        &h,
        Some("eve@example.com"),
        "GET",
        &format!("/promotions/{id}"),
        json!(null),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        format!("eve@example.com has no role in Ferry; GET /promotions/{id} needs viewer")
    );
    assert_eq!(
        send_as(&h, None, "GET", &format!("/promotions/{id}"), json!(null))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn admins_edit_the_access_policy_and_bad_entries_are_named() {
    let h = Harness::new().await;
    let (status, body, _) = h
        .send(
            "PUT",
            "/access",
            Some(json!({"principals": {"cy@example.com": "owner"}, "groups": {"ops": "approver"}})),
            &[],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["field"], "principals.cy@example.com",
        "{body}"
    );
    // Nothing was stored: ana keeps her role.
    let (_, stored, _) = h.send("GET", "/access", None, &[]).await;
    assert_eq!(stored["principals"]["ana@example.com"], "deployer");
    let (status, _, _) = h
        .send(
            "PUT",
            "/access",
            Some(json!({"groups": {"ops": "approver"}})),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let (_, stored, _) = h.send("GET", "/access", None, &[]).await;
    assert_eq!(
        stored,
        json!({"principals": {}, "groups": {"ops": "approver"}})
    );
}

#[tokio::test]
async fn identity_headers_are_ignored_unless_local_identity_is_on() {
    let mut h = Harness::new().await;
    h.deps.local_identity = false;
    let (status, _, _) = h.send("GET", "/access", None, &[]).await;
    assert_eq!(
        status, 401,
        "x-ferry-identity is not trusted by a deployed Ferry"
    );
    // And a JWT caller cannot override themselves with the header even locally.
    h.deps.local_identity = true;
    let mut jwt: Value = serde_json::from_str(JWT_FIXTURE).unwrap();
    jwt["requestContext"]["authorizer"]["jwt"]["claims"] = json!({"email": "vi@example.com"});
    let request = event(
        &jwt.to_string(),
        "GET",
        "/access",
        None,
        &[("x-ferry-identity", ADMIN)],
    );
    assert_eq!(handle(&h.deps, request).await.status().as_u16(), 403);
}

#[test]
fn local_identity_is_refused_inside_aws_lambda() {
    let env = ferry_lambda::Env::from_fn(|name| match name {
        "FERRY_TABLE_NAME" => Some("t".into()),
        "FERRY_STATE_MACHINE_ARN" => {
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:p".into())
        }
        "FERRY_LOCAL_IDENTITY" => Some("true".into()),
        "AWS_LAMBDA_LOG_GROUP_NAME" => Some("/aws/lambda/ferry-api".into()),
        _ => None,
    });
    let err = api::config::Config::load(&env).unwrap_err();
    assert_eq!(err.variable, "FERRY_LOCAL_IDENTITY");
}

#[tokio::test]
async fn the_promotion_history_of_an_app_is_listed_newest_first() {
    let h = awaiting_prod_approval().await;
    let (status, body, _) = h.send("GET", "/apps/shop/promotions", None, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["promotions"].as_array().unwrap().len(), 1);
    assert_eq!(body["promotions"][0]["target_env"], "prod");
    assert!(body["promotions"][0].get("approval_token").is_none());
    assert_eq!(
        h.send("GET", "/apps/nope/promotions", None, &[]).await.0,
        404
    );
}

/// `GET /apps/{app}/cost`: the latest weekly report per environment and the app's total;
/// an environment the cost-analyzer has not priced yet says so instead of counting zero.
#[tokio::test]
async fn the_cost_of_an_app_is_its_environments_latest_reports() {
    let h = Harness::new().await;
    ferry_testkit::seed_shop(h.store.as_ref()).await.unwrap();
    let (status, body, _) = h.send("GET", "/apps/shop/cost", None, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["monthly_usd"], 0.0);
    assert!(body["environments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["priced_at"].is_null()));

    let catalog = ferry_core::cost::Catalog::bundled("us-east-1").unwrap();
    let figures = ferry_core::cost::report::cost_reports(
        h.store.as_ref(),
        &catalog,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (status, body, _) = h.send("GET", "/apps/shop/cost", None, &[]).await;
    assert_eq!(status, 200, "{body}");
    let sum: f64 = figures.iter().map(|f| f.monthly_usd).sum();
    assert_eq!(body["monthly_usd"], ferry_core::cost::round_cents(sum));
    let dev = body["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == "dev")
        .unwrap();
    // The arithmetic is in functions/cost-analyzer/tests/handler.rs.
    assert_eq!(dev["monthly_usd"], 101.11);
    assert!(dev["estimate"]["resources"].as_array().unwrap().len() > 10);
    assert_eq!(h.send("GET", "/apps/nope/cost", None, &[]).await.0, 404);
}

/// `GET /apps/{app}/environments/{env}/health`: open alarms become one incident whose
/// probable root cause is the database the services depend on; then `GET
/// /apps/{app}/health` lists every environment.
#[tokio::test]
async fn health_correlates_open_alarms_into_an_incident_with_its_root_cause() {
    use ferry_core::model::AlertEvent;
    let h = Harness::new().await;
    ferry_testkit::seed_shop(h.store.as_ref()).await.unwrap();
    let (status, body, _) = h
        .send("GET", "/apps/shop/environments/dev/health", None, &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    let at = |minute: i64| chrono::Utc::now() - chrono::Duration::minutes(30 - minute);
    for (minute, alarm) in [(0, "rds-cpu"), (2, "web-p99-latency"), (3, "alb-5xx-rate")] {
        let name = format!("ferry/shop/dev/{alarm}");
        h.store
            .record_alert(&AlertEvent {
                event_id: format!("e-{alarm}"),
                alarm_name: name,
                app: Some(AppName::parse("a", "shop").unwrap()),
                env: Some(EnvName::parse("e", "dev").unwrap()),
                state: "ALARM".into(),
                previous_state: Some("OK".into()),
                reason: "threshold crossed".into(),
                metric: None,
                changed_at: at(minute),
            })
            .await
            .unwrap();
    }
    let (status, body, _) = h
        .send("GET", "/apps/shop/environments/dev/health", None, &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["alarms"].as_array().unwrap().len(), 3);
    let cause = &body["incident"]["root_cause"];
    assert_eq!(cause["component"], "database", "{body}");
    assert!(
        cause["reasons"][0]
            .as_str()
            .unwrap()
            .contains("service:web"),
        "{cause}"
    );
    assert!(
        cause["reasons"][1]
            .as_str()
            .unwrap()
            .starts_with("it fired first"),
        "{cause}"
    );
    let (status, body, _) = h.send("GET", "/apps/shop/health", None, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["environments"].as_array().unwrap().len() >= 2);
    assert_eq!(
        h.send("GET", "/apps/shop/environments/nope/health", None, &[])
            .await
            .0,
        404
    );
}

/// Silences through the API: a bad one is refused naming each field, nothing stored; a
/// good one is listed until it ends.
#[tokio::test]
async fn silences_are_checked_by_field_and_listed_while_active() {
    let h = Harness::new().await;
    ferry_testkit::seed_shop(h.store.as_ref()).await.unwrap();
    let path = "/apps/shop/environments/dev/silences";
    let now = chrono::Utc::now();
    let bad = json!({"matchers": ["service=~(web"], "starts_at": now.to_rfc3339(),
        "ends_at": (now - chrono::Duration::hours(1)).to_rfc3339(), "comment": ""});
    let (status, body, _) = h.send("POST", path, Some(bad), &[]).await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["matchers[0].value", "comment", "ends_at"],
        "{body}"
    );
    assert!(
        body["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("is not after starts_at"),
        "{body}"
    );
    let (_, listed, _) = h.send("GET", path, None, &[]).await;
    assert!(
        listed["silences"].as_array().unwrap().is_empty(),
        "nothing stored: {listed}"
    );

    let good = json!({"matchers": ["service=worker", "severity!=critical"],
        "ends_at": (now + chrono::Duration::hours(2)).to_rfc3339(), "comment": "worker migration"});
    let (status, body, _) = h.send("POST", path, Some(good), &[]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["matchers"][0]["name"], "service");
    let (status, listed, _) = h.send("GET", path, None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(listed["silences"].as_array().unwrap().len(), 1);
    assert_eq!(listed["silences"][0]["comment"], "worker migration");
}

#[tokio::test]
async fn two_environments_never_share_a_stack() {
    let h = Harness::seeded().await;
    let mut spec = shop_spec();
    spec["environments"] = json!({"eu-prod": {"profile": "prod"}});
    assert_eq!(h.send("PUT", "/apps/shop-eu", None, &[]).await.0, 201);
    let mut shop_eu = spec.clone();
    shop_eu["app"] = json!("shop-eu");
    let (status, body, _) = h
        .send(
            "PUT",
            "/apps/shop-eu/environments/prod",
            Some(json!({"spec": shop_eu})),
            &[],
        )
        .await;
    assert_eq!(
        (status, &body["stack_name"]),
        (201, &json!("ferry-shop-eu-prod"))
    );
    // shop/eu-prod's default stack name is the same: refused, naming the owner, and
    // nothing is written.
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/eu-prod",
            Some(json!({"spec": spec})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 409, "stack_name");
    assert!(
        body["detail"].as_str().unwrap().contains("shop-eu/prod"),
        "{body}"
    );
    let eu_prod = EnvName::parse("env", "eu-prod").unwrap();
    let shop = AppName::parse("app", "shop").unwrap();
    assert_eq!(
        h.store.get_environment(&shop, &eu_prod).await.unwrap(),
        None
    );
    // With a stack of its own it is created.
    let (status, _, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/eu-prod",
            Some(json!({"spec": spec, "stack_name": "ferry-shop-eu-prod-2"})),
            &[],
        )
        .await;
    assert_eq!(status, 201);
    // An update that leaves stack_name out keeps the stack it has.
    let (status, body, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/eu-prod",
            Some(json!({"spec": spec})),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(
        (status, &body["stack_name"]),
        (200, &json!("ferry-shop-eu-prod-2"))
    );
}

#[tokio::test]
async fn a_stack_name_outside_ferrys_prefix_is_refused() {
    let h = Harness::seeded().await;
    let (_, body, response) = h
        .send(
            "PUT",
            "/apps/shop/environments/qa",
            Some(json!({"spec": shop_spec(), "stack_name": "payments-prod"})),
            &[],
        )
        .await;
    assert_problem(&response, &body, 400, "stack_name");
    assert!(
        body["detail"].as_str().unwrap().contains("ferry-"),
        "{body}"
    );
}

/// Re-assuming the same role under another session name is the same person: the role's
/// sessions may not approve what one of them requested, while a session carrying another
/// source identity, or a JWT caller, may.
#[tokio::test]
async fn the_requester_may_not_approve_from_another_session_of_the_same_role() {
    let h = Harness::seeded().await;
    let policy = ferry_core::access::AccessPolicy::parse(&json!({
        "principals": {"bo@example.com": "approver"},
        "groups": {"arn:aws:iam::123456789012:role/Releasers": "approver"}
    }))
    .unwrap();
    h.store.put_access_policy(&policy).await.unwrap();
    let (status, _, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/prod",
            Some(json!({"spec": shop_spec()})),
            &[],
        )
        .await;
    assert_eq!(status, 201);
    let body = json!({"app": "shop", "source_env": "dev", "target_env": "prod"});
    let (status, started) = send_authorized(
        &h,
        releasers_session("ana-1", None),
        "POST",
        "/promotions",
        body,
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(
        started["requested_by"], "arn:aws:sts::123456789012:assumed-role/Releasers/ana-1",
        "shown as the session"
    );
    wait_for_approval(&h).await;
    let id = started["id"].as_str().unwrap();
    let approve = format!("/promotions/{id}/approve");
    let (status, refused) = send_authorized(
        &h,
        releasers_session("ana-2", None),
        "POST",
        &approve,
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::123456789012:role/Releasers"),
        "{refused}"
    );
    assert!(h.workflow.completed().is_empty());
    // The role alone is the principal without a source identity, so a session that
    // carries one is someone else.
    let (status, approved) = send_authorized(
        &h,
        releasers_session("bo-1", Some("bo@example.com")),
        "POST",
        &approve,
        json!({"comment": "checked"}),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved["approvals"][0]["principal"],
        "arn:aws:iam::123456789012:role/Releasers#bo@example.com"
    );
    assert_eq!(approved["decision"]["resumed"], true);
}

/// A JWT caller is their subject: a changed email is the same person.
#[tokio::test]
async fn a_jwt_caller_is_compared_by_subject() {
    let h = Harness::seeded().await;
    let policy =
        ferry_core::access::AccessPolicy::parse(&json!({"groups": {"releasers": "approver"}}))
            .unwrap();
    h.store.put_access_policy(&policy).await.unwrap();
    let jwt = |email: &str, sub: &str| json!({"jwt": {"claims": {"email": email, "sub": sub, "cognito:groups": "[releasers]"}, "scopes": []}});
    let (status, _, _) = h
        .send(
            "PUT",
            "/apps/shop/environments/prod",
            Some(json!({"spec": shop_spec()})),
            &[],
        )
        .await;
    assert_eq!(status, 201);
    let body = json!({"app": "shop", "source_env": "dev", "target_env": "prod"});
    let (status, started) = send_authorized(
        &h,
        jwt("ana@example.com", "sub-ana"),
        "POST",
        "/promotions",
        body,
    )
    .await;
    assert_eq!(status, 202, "{started}");
    wait_for_approval(&h).await;
    let approve = format!("/promotions/{}/approve", started["id"].as_str().unwrap());
    let (status, body) = send_authorized(
        &h,
        jwt("ana.b@example.com", "sub-ana"),
        "POST",
        &approve,
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = send_authorized(
        &h,
        jwt("bo@example.com", "sub-bo"),
        "POST",
        &approve,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approvals"][0]["decided_by"], "bo@example.com");
    assert_eq!(body["approvals"][0]["principal"], "sub-bo");
}

#[tokio::test]
async fn a_decision_step_functions_did_not_get_goes_through_when_sent_again() {
    let h = awaiting_prod_approval().await;
    let id = h.workflow.started()[0].0.to_string();
    h.workflow.fail_next_completions(1);
    let approve = format!("/promotions/{id}/approve");
    let (status, body) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &approve,
        json!({"comment": "ok"}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["type"], "https://ferry.dev/problems/unavailable");
    let (status, body) = send_as(
        &h,
        Some("bo@example.com"),
        "POST",
        &approve,
        json!({"comment": "ok"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.workflow.completed().len(), 1);
    assert_eq!(body["approvals"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn releases_are_not_recorded_on_an_approval_gated_environment() {
    let h = Harness::seeded().await;
    let image = format!("repo/shop@sha256:{}", "d".repeat(64));
    let (status, body, response) = h
        .send(
            "POST",
            "/apps/shop/environments/staging/releases",
            Some(json!({"image": image})),
            &[],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("promotion.approval: risk"), "{detail}");
    assert!(detail.contains("ferry promote shop"), "{detail}");
    let staging = h
        .store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(staging.deployed_release.is_none(), "nothing recorded");
}

#[tokio::test]
async fn unlock_is_for_admins_with_a_reason_and_a_lock_no_execution_holds() {
    let h = Harness::seeded().await;
    let (status, started, _) = h
        .send("POST", "/promotions", Some(promotion_body()), &[])
        .await;
    assert_eq!(status, 202);
    let path = "/apps/shop/environments/staging/unlock";
    let reason = json!({"reason": "the status-change event was lost"});
    let (status, _, _) = h
        .send(
            "POST",
            path,
            Some(reason.clone()),
            &[("x-ferry-identity", "ana@example.com")],
        )
        .await;
    assert_eq!(status, 403, "a deployer may not");
    for body in [json!({}), json!({"reason": " "})] {
        let (_, problem, response) = h.send("POST", path, Some(body), &[]).await;
        assert_problem(&response, &problem, 400, "reason");
    }
    let (status, _, _) = h
        .send(
            "POST",
            "/apps/shop/environments/qa/unlock",
            Some(reason.clone()),
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (status, problem, _) = h
        .send(
            "POST",
            "/apps/shop/environments/dev/unlock",
            Some(reason.clone()),
            &[],
        )
        .await;
    assert_eq!(status, 409, "dev is not locked: {problem}");
    // The execution still runs: stopping it is the way.
    let (status, problem, _) = h.send("POST", path, Some(reason.clone()), &[]).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("stop-execution"));

    let arn = started["execution_arn"].as_str().unwrap();
    h.workflow.set_status(
        arn,
        ferry_core::ports::ExecutionStatus::Ended("ABORTED".into()),
    );
    let (status, unlocked, _) = h.send("POST", path, Some(reason), &[]).await;
    assert_eq!(status, 200, "{unlocked}");
    assert_eq!(unlocked["unlock"]["by"], ADMIN);
    assert!(unlocked["environment"].get("active_promotion").is_none());
    let (_, record, _) = h
        .send(
            "GET",
            &format!("/promotions/{}", started["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(record["status"], "Failed");
    assert_eq!(
        record["unlocked"]["reason"],
        "the status-change event was lost"
    );
    assert!(record["unlocked"]["at"].is_string());
}

/// A change needs its why; `allow_replace` names resources; a sent spec is checked like
/// a PUT's (at If-Match). Each bad request is a 400 naming its field, and nothing is
/// saved, locked or started.
#[tokio::test]
async fn bad_change_requests_are_400_naming_the_field_and_write_nothing() {
    let h = Harness::seeded().await;
    let path = "/apps/shop/environments/staging/changes";
    let mut bad_spec = shop_spec();
    bad_spec["services"][0]["cpu"] = json!(300);
    let cases = [
        (json!({}), "reason"),
        (json!({"reason": "   "}), "reason"),
        (json!({"reason": 7}), "reason"),
        (json!({"reason": "x".repeat(501)}), "reason"),
        (
            json!({"reason": "why", "allow_replace": "Database"}),
            "allow_replace",
        ),
        (
            json!({"reason": "why", "allow_replace": ["Data base"]}),
            "allow_replace[0]",
        ),
        (json!({"reason": "why", "colour": "green"}), "colour"),
    ];
    for (request, field) in cases {
        let (_, body, response) = h.send("POST", path, Some(request), &[]).await;
        assert_problem(&response, &body, 400, field);
    }
    let (_, body, response) = h
        .send(
            "POST",
            path,
            Some(json!({"reason": "why", "spec": bad_spec})),
            &[("if-match", "1")],
        )
        .await;
    assert_problem(&response, &body, 400, "spec.services[0].cpu");
    assert!(h.workflow.started().is_empty());
    let staging = h
        .store
        .get_environment(
            &AppName::parse("a", "shop").unwrap(),
            &EnvName::parse("e", "staging").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(staging.active_promotion.is_none(), "no lock was taken");
    assert_eq!(
        staging.spec.services[0].cpu, 256,
        "the stored spec is untouched"
    );
}

/// A good change starts the pipeline as a `change` with its reason.
#[tokio::test]
async fn a_change_starts_the_pipeline_with_its_reason() {
    let h = Harness::seeded().await;
    let (status, body, _) = h
        .send(
            "POST",
            "/apps/shop/environments/staging/changes",
            Some(json!({"reason": "more memory", "allow_replace": ["Database"]})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["kind"], "change");
    assert_eq!(body["reason"], "more memory");
    assert_eq!(body["source_env"], "staging");
    assert_eq!(body["allow_replace"], json!(["Database"]));
    assert_eq!(h.workflow.started().len(), 1);
}

/// Release config becomes container environment variables: keys must be names ECS can
/// set, values scalars.
#[tokio::test]
async fn release_config_must_be_environment_variables() {
    let h = Harness::seeded().await;
    let image = format!("repo/shop@sha256:{}", "d".repeat(64));
    for (config, field) in [
        (json!({"1BAD": "x"}), "config.1BAD"),
        (json!({"HAS-DASH": "x"}), "config.HAS-DASH"),
        (json!({"AWS_REGION": "x"}), "config.AWS_REGION"),
        (json!({"NESTED": {"a": 1}}), "config.NESTED"),
    ] {
        let (_, body, response) = h
            .send(
                "POST",
                "/apps/shop/environments/dev/releases",
                Some(json!({"image": image, "config": config})),
                &[],
            )
            .await;
        assert_problem(&response, &body, 400, field);
    }
}
