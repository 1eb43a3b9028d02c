//! The harness for end-to-end tests: clients for the local AWS that `scripts/local_aws.py
//! up` started, and helpers to call the real functions the way AWS would.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The principal `scripts/local_aws.py` makes admin (FERRY_ADMINS) for local runs.
pub const LOCAL_ADMIN: &str = "admin@ferry.local";

/// What `scripts/local_aws.py up` exported (see `.local/run/env.sh`).
pub struct Local {
    /// The local stand-in for Slack's incoming webhook: GET /posts lists what it received.
    pub slack_url: String,
    pub router_url: String,
    pub stack: String,
    pub table: String,
    pub state_machine_arn: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    http: reqwest::Client,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with `make test` or `scripts/e2e`, which start the local AWS first")
    })
}

impl Local {
    pub async fn connect() -> Local {
        // AWS_ENDPOINT_URL (moto) and dummy credentials come from the same env file.
        var("AWS_ENDPOINT_URL");
        let sdk = ferry_aws::sdk_config().await;
        Local {
            slack_url: var("FERRY_SLACK_URL"),
            router_url: var("FERRY_ROUTER_URL"),
            stack: var("FERRY_LOCAL_STACK"),
            table: var("FERRY_TABLE_NAME"),
            state_machine_arn: var("FERRY_STATE_MACHINE_ARN"),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sfn: aws_sdk_sfn::Client::new(&sdk),
            cloudformation: aws_sdk_cloudformation::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            http: ferry_aws::http::http_client_builder()
                .timeout(Duration::from_secs(600))
                .build()
                .expect("http client"),
        }
    }

    /// Invokes a function by its deployed name through the router: the same path and the
    /// same answer (200, `X-Amz-Function-Error` on failure) Step Functions gets.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Result<Invocation> {
        let url = format!(
            "{}/2015-03-31/functions/{}-{}/invocations",
            self.router_url, self.stack, function
        );
        let response = self.http.post(url).json(payload).send().await?;
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let status = response.status().as_u16();
        let body: Value = response
            .json()
            .await
            .context("function answer is not JSON")?;
        Ok(Invocation {
            status,
            function_error,
            body,
        })
    }

    /// Every post the local Slack webhook has received, oldest first.
    pub async fn slack_posts(&self) -> Result<Vec<Value>> {
        let posts = self
            .http
            .get(format!("{}/posts", self.slack_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(posts)
    }

    /// Gives the e2e groups their roles (every test sends the same policy, so running
    /// them concurrently is harmless).
    pub async fn grant_roles(&self) -> Result<()> {
        let policy = json!({"groups": {"e2e-deployers": "deployer", "e2e-approvers": "approver",
                                       RELEASERS_ROLE: "approver"}});
        let r = self.api("PUT", "/access", Some(&policy), &[]).await?;
        anyhow::ensure!(r.status == 200, "PUT /access: {r:?}");
        Ok(())
    }

    /// Sends an API Gateway HTTP API (v2) event to the api function, as the local admin.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<ApiResponse> {
        self.api_as(None, method, path, body, headers).await
    }

    /// The same, with `authorizer` as API Gateway's request context carries it (a JWT's
    /// claims, or the IAM caller: see [`iam_session`]).
    pub async fn api_authorized(
        &self,
        authorizer: Value,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse> {
        let mut event = apigw_v2_event(method, path, body.map(Value::to_string), &[]);
        event["requestContext"]["authorizer"] = authorizer;
        self.api_event(event).await
    }

    /// The same, as the JWT-authenticated caller `who` (None: no authorizer).
    pub async fn api_as(
        &self,
        who: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<ApiResponse> {
        let mut event = apigw_v2_event(method, path, body.map(Value::to_string), headers);
        match who {
            // As API Gateway's JWT authorizer passes a Cognito user in the e2e groups.
            Some(who) => {
                event["requestContext"]["authorizer"] = json!({"jwt": {"claims": {
                    "email": who, "cognito:groups": "[e2e-deployers e2e-approvers]"}, "scopes": []}})
            }
            // No authorizer: the local-identity mode names the caller, as the CLI does.
            None => {
                if event["headers"].get("x-ferry-identity").is_none() {
                    event["headers"]["x-ferry-identity"] = json!(LOCAL_ADMIN);
                }
            }
        }
        self.api_event(event).await
    }

    async fn api_event(&self, event: Value) -> Result<ApiResponse> {
        let invocation = self.invoke("api", &event).await?;
        if invocation.function_error.is_some() {
            bail!("api function failed: {}", invocation.body);
        }
        let status = invocation.body["statusCode"]
            .as_u64()
            .context("no statusCode")? as u16;
        let content_type = invocation.body["headers"]["content-type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let body = serde_json::from_str(invocation.body["body"].as_str().unwrap_or("null"))
            .unwrap_or(Value::Null);
        Ok(ApiResponse {
            status,
            content_type,
            body,
        })
    }

    /// An ACM certificate on the local AWS, for the HTTPS listeners of generated stacks
    /// (`scripts/local_aws.py up` requests it).
    pub async fn certificate(&self) -> Result<String> {
        Ok(var("FERRY_CERTIFICATE_ARN"))
    }

    /// A query-protocol call to a service the e2e crate has no SDK client for, signed
    /// with SigV4 as the local admin (the local AWS checks signatures and policies).
    pub async fn query_call(&self, service: &str, body: &str) -> Result<String> {
        self.signed_call(service, "application/x-www-form-urlencoded", None, body)
            .await
    }

    /// The same for a JSON-protocol service: `target` is its `X-Amz-Target`.
    pub async fn json_call(&self, service: &str, target: &str, body: &Value) -> Result<Value> {
        let text = self
            .signed_call(
                service,
                "application/x-amz-json-1.1",
                Some(target),
                &body.to_string(),
            )
            .await?;
        Ok(serde_json::from_str(&text)?)
    }

    async fn signed_call(
        &self,
        service: &str,
        content_type: &str,
        target: Option<&str>,
        body: &str,
    ) -> Result<String> {
        use aws_credential_types::provider::ProvideCredentials;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let sdk = ferry_aws::sdk_config().await;
        let credentials = sdk
            .credentials_provider()
            .context("no credentials")?
            .provide_credentials()
            .await?;
        let identity: aws_smithy_runtime_api::client::identity::Identity = credentials.into();
        let url = var("AWS_ENDPOINT_URL");
        let mut headers = vec![("content-type", content_type)];
        if let Some(target) = target {
            headers.push(("x-amz-target", target));
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = self.http.post(&url);
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        let response = request.body(body.to_owned()).send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{service}: {status} {text}");
        Ok(text)
    }

    /// An S3 client on the local AWS, as the admin (the bucket goes in the path).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let sdk = ferry_aws::sdk_config().await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        )
    }

    /// The SDK configuration of one function's role: the credentials `scripts/local_aws.py`
    /// got from sts:AssumeRole and gave that function.
    pub async fn as_function(&self, binary: &str) -> Result<aws_config::SdkConfig> {
        let roles: Value =
            serde_json::from_str(&std::fs::read_to_string(var("FERRY_LOCAL_ROLES"))?)?;
        let role = &roles[binary];
        let credentials = aws_credential_types::Credentials::new(
            role["AWS_ACCESS_KEY_ID"].as_str().context("no key")?,
            role["AWS_SECRET_ACCESS_KEY"]
                .as_str()
                .context("no secret")?,
            role["AWS_SESSION_TOKEN"].as_str().map(str::to_owned),
            None,
            "local-role",
        );
        Ok(ferry_aws::sdk_defaults()
            .credentials_provider(credentials)
            .load()
            .await)
    }

    pub async fn wait_for_execution(
        &self,
        execution_arn: &str,
        timeout: Duration,
    ) -> Result<String> {
        let start = Instant::now();
        loop {
            let status = self
                .sfn
                .describe_execution()
                .execution_arn(execution_arn)
                .send()
                .await?
                .status;
            if status.as_str() != "RUNNING" {
                return Ok(status.as_str().to_owned());
            }
            if start.elapsed() > timeout {
                bail!("execution {execution_arn} still RUNNING after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The states an execution entered, in order, from its event history.
    pub async fn states_entered(&self, execution_arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(execution_arn)
            .await?
            .iter()
            .filter_map(|e| e.state_entered_event_details().map(|d| d.name().to_owned()))
            .collect())
    }

    pub async fn history(
        &self,
        execution_arn: &str,
    ) -> Result<Vec<aws_sdk_sfn::types::HistoryEvent>> {
        let mut events = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .sfn
                .get_execution_history()
                .execution_arn(execution_arn)
                .set_next_token(token)
                .send()
                .await?;
            events.extend(page.events);
            token = page.next_token;
            if token.is_none() {
                return Ok(events);
            }
        }
    }

    /// A raw item, as stored: the test reads DynamoDB itself rather than trusting the API.
    pub async fn item(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>>
    {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
            .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    /// Who holds an environment's lock, as stored.
    pub async fn lock_holder(&self, app: &str, env: &str) -> Result<Option<String>> {
        let item = self
            .item(&format!("APP#{app}"), &format!("ENV#{env}"))
            .await?
            .context("no such environment")?;
        Ok(item
            .get("active_promotion")
            .and_then(|v| v.as_s().ok())
            .cloned())
    }

    /// Makes the local Ferry fail at `key` with `error` (fault injection, local runs
    /// only): `<app>/<env>/<action>` for a promotion step, `promotions/<id>/complete_approval`
    /// for the api's Step Functions call. `None` removes the fault.
    pub async fn fault(&self, key: &str, error: Option<&str>) -> Result<()> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let pk = AttributeValue::S(format!("FAULT#{key}"));
        let sk = AttributeValue::S("#FAULT".into());
        match error {
            Some(error) => {
                self.dynamodb
                    .put_item()
                    .table_name(&self.table)
                    .item("PK", pk)
                    .item("SK", sk)
                    .item("error", AttributeValue::S(error.into()))
                    .send()
                    .await?;
            }
            None => {
                self.dynamodb
                    .delete_item()
                    .table_name(&self.table)
                    .key("PK", pk)
                    .key("SK", sk)
                    .send()
                    .await?;
            }
        }
        Ok(())
    }

    /// [`Local::fault`] that fires `times` times only (the store's `remaining`), then lets
    /// the step through: a transient failure the state machine's retry gets past.
    pub async fn fault_times(&self, key: &str, error: &str, times: u32) -> Result<()> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .item("PK", AttributeValue::S(format!("FAULT#{key}")))
            .item("SK", AttributeValue::S("#FAULT".into()))
            .item("error", AttributeValue::S(error.into()))
            .item("remaining", AttributeValue::N(times.to_string()))
            .send()
            .await?;
        Ok(())
    }

    /// Polls `GET /promotions/{id}` until its status is `status` (two minutes at most).
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let record = self
                .api("GET", &format!("/promotions/{id}"), None, &[])
                .await?
                .body;
            if record["status"] == status {
                return Ok(record);
            }
            if Instant::now() > deadline {
                bail!("promotion {id} never reached {status}: {record}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// What EventBridge sends promotion-step when an execution ends outside its steps:
    /// the aws_lambda_events-shaped fixture of the handler tests, for this execution.
    /// moto's EventBridge does not deliver Step Functions' status changes to Lambda, so
    /// the e2e tests send it themselves (docs/local-aws.md).
    pub async fn execution_status_change(&self, execution_arn: &str) -> Result<Invocation> {
        let described = self
            .sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await?;
        let mut event: Value = serde_json::from_str(include_str!(
            "../../../functions/promotion-step/tests/fixtures/eventbridge-execution-aborted.json"
        ))?;
        let stopped = described
            .stop_date()
            .map(|d| d.to_millis())
            .transpose()?
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        event["time"] = json!(chrono::DateTime::from_timestamp_millis(stopped)
            .context("stop date")?
            .to_rfc3339());
        event["resources"] = json!([execution_arn]);
        event["detail"]["executionArn"] = json!(execution_arn);
        event["detail"]["stateMachineArn"] = json!(self.state_machine_arn);
        event["detail"]["name"] = json!(described.name());
        event["detail"]["status"] = json!(described.status().as_str());
        event["detail"]["startDate"] = json!(described.start_date().to_millis()?);
        event["detail"]["stopDate"] = json!(stopped);
        self.invoke("promotion-step", &event).await
    }

    pub async fn items_under(
        &self,
        pk: &str,
    ) -> Result<Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>>
    {
        let output = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.into()),
            )
            .send()
            .await?;
        Ok(output.items.unwrap_or_default())
    }
}

pub struct Invocation {
    pub status: u16,
    pub function_error: Option<String>,
    pub body: Value,
}

#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

/// An API Gateway v2 event built on the aws_lambda_events fixture the handler tests use.
pub fn apigw_v2_event(
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../functions/api/tests/fixtures/apigw-v2-request.json"
    ))
    .expect("fixture");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["headers"]["content-type"] = json!("application/json");
    for (name, value) in headers {
        event["headers"][*name] = json!(value);
    }
    if let Some(body) = body {
        event["headers"]["content-length"] = json!(body.len().to_string());
        event["body"] = json!(body);
    }
    event
}

/// The IAM role whose sessions the e2e tests use as IAM callers (an approver, and so a
/// deployer, in [`Local::grant_roles`]'s policy).
pub const RELEASERS_ROLE: &str = "arn:aws:iam::123456789012:role/e2e-releasers";

/// API Gateway's IAM authorizer context for session `session` of [`RELEASERS_ROLE`].
pub fn iam_session(session: &str) -> Value {
    json!({"iam": {
        "accessKey": "ASIAE2EEXAMPLE",
        "accountId": "123456789012",
        "callerId": format!("AROAE2EEXAMPLE:{session}"),
        "principalOrgId": null,
        "userArn": format!("arn:aws:sts::123456789012:assumed-role/e2e-releasers/{session}"),
        "userId": format!("AROAE2EEXAMPLE:{session}"),
    }})
}

/// API Gateway's JWT authorizer context for a user in the e2e groups.
pub fn jwt(email: &str) -> Value {
    json!({"jwt": {"claims": {"email": email, "sub": format!("sub-{email}"),
                              "cognito:groups": "[e2e-deployers e2e-approvers]"}, "scopes": []}})
}

/// A unique app name per test, so tests share the local AWS without sharing state.
pub fn unique_app(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

pub fn release_image(tag: &str) -> String {
    let hex: String = tag
        .bytes()
        .map(|b| format!("{:02x}", b))
        .collect::<String>()
        .chars()
        .cycle()
        .take(64)
        .collect();
    format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:{hex}")
}

/// Creates an app with `dev` (released) and `staging`, through the API, and deploys
/// staging's stack on the local CloudFormation so promotions have something to shift.
pub async fn seed_app(local: &Local, app: &str) -> Result<()> {
    // Healthy, equal colours: what a good release looks like to the judge.
    seed_with_traffic(local, app, fast_promotions(), 0.2)
        .await
        .map(|_| ())
}

/// Promotion settings for tests: a one-second blue/green bake and watch window, and the
/// judge sampling per second over the last two minutes (what [`put_target_metrics`]
/// writes).
pub fn fast_promotions() -> Value {
    json!({"blue_green_bake_seconds": 1, "watch_window_seconds": 1,
           "analysis": {"period_seconds": 1, "window_seconds": 120}})
}

/// The spec the e2e apps use.
pub fn app_spec(app: &str, promotion: &Value) -> Value {
    json!({
        "app": app,
        "services": [{"name": "web", "image": "public.ecr.aws/nginx/nginx", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2}],
        "database": {"engine": "postgres", "version": "17.6", "instance_class": "db.t4g.micro", "storage_gb": 20},
        "promotion": promotion,
    })
}

/// Creates `app` and each of `envs` from `spec` through the API.
pub async fn create_environments(
    local: &Local,
    app: &str,
    spec: &Value,
    envs: &[&str],
) -> Result<()> {
    let created = local.api("PUT", &format!("/apps/{app}"), None, &[]).await?;
    anyhow::ensure!(created.status == 201, "PUT app: {created:?}");
    for env in envs {
        let r = local
            .api(
                "PUT",
                &format!("/apps/{app}/environments/{env}"),
                Some(&json!({"spec": spec})),
                &[],
            )
            .await?;
        anyhow::ensure!(r.status == 201, "PUT {env}: {r:?}");
    }
    Ok(())
}

/// [`seed_app`] with `promotion` settings in the spec (bakes, analysis windows), and no
/// metrics yet: the caller puts what its case needs.
pub async fn seed_app_with(local: &Local, app: &str, promotion: Value) -> Result<()> {
    let spec = app_spec(app, &promotion);
    create_environments(local, app, &spec, &["dev", "staging"]).await?;
    let release = json!({"image": release_image(app), "config": {"FEATURE_CHECKOUT_V2": "on"}});
    let r = local
        .api(
            "POST",
            &format!("/apps/{app}/environments/dev/releases"),
            Some(&release),
            &[],
        )
        .await?;
    anyhow::ensure!(r.status == 200, "POST release: {r:?}");
    deploy_stack(local, &spec, "staging").await
}

/// Deploys `env`'s stack as `ferry deploy` would: steady, all traffic on blue.
pub async fn deploy_stack(local: &Local, spec: &Value, env: &str) -> Result<()> {
    deploy_stack_running(local, spec, env, None).await
}

/// [`deploy_stack`] with `release` on blue (the spec's images when `None`).
pub async fn deploy_stack_running(
    local: &Local,
    spec: &Value,
    env: &str,
    release: Option<&ferry_core::model::Release>,
) -> Result<()> {
    let spec = ferry_core::infra::spec::AppSpec::parse(&spec.to_string())
        .map_err(|e| anyhow::anyhow!("spec: {e}"))?;
    let environment = spec
        .new_environment(env)
        .map_err(|e| anyhow::anyhow!("environment: {e}"))?;
    let (template, _) = ferry_core::infra::template::render(
        &environment,
        release,
        ferry_core::names::Colour::Blue,
    )?;
    let sdk = ferry_aws::sdk_config().await;
    // As `ferry deploy --role-arn --artifacts-bucket` does with the Ferry stack's outputs.
    let stacks = ferry_aws::CloudFormationStacks::from_sdk(&sdk)
        .with_service_role(Some(var("FERRY_STACK_ROLE_ARN")))
        .with_template_bucket(Some(ferry_aws::TemplateBucket::from_sdk(
            &sdk,
            var("FERRY_ARTIFACTS_BUCKET"),
        )));
    let parameters = vec![("CertificateArn".to_owned(), local.certificate().await?)];
    ferry_core::infra::deploy::deploy(
        &stacks,
        &environment.stack_name,
        &template.to_string(),
        &parameters,
        "ferry-seed",
        ferry_core::infra::deploy::Polling {
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
        },
        &mut |_| {},
    )
    .await?;
    Ok(())
}

/// The listener's forward weights as moto's ELBv2 API reports them, in target-group
/// order (blue, green). A raw query-protocol call: the e2e crate has no ELBv2 client.
pub async fn listener_weights(local: &Local, stack: &str) -> Result<Vec<u64>> {
    let outputs = local
        .cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await?;
    let listener = outputs.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("HttpsListenerArn"))
        .and_then(|o| o.output_value())
        .context("no HttpsListenerArn output")?
        .to_owned();
    let xml = local
        .query_call(
            "elasticloadbalancing",
            &format!(
                "Action=DescribeListeners&Version=2015-12-01&ListenerArns.member.1={}",
                listener.replace(':', "%3A").replace('/', "%2F")
            ),
        )
        .await?;
    let mut weights: Vec<(String, u64)> = Vec::new();
    for member in xml.split("<TargetGroupArn>").skip(1) {
        let arn = member
            .split("</TargetGroupArn>")
            .next()
            .unwrap_or("")
            .to_owned();
        let weight = member
            .split("<Weight>")
            .nth(1)
            .and_then(|w| w.split("</Weight>").next())
            .and_then(|w| w.trim().parse().ok());
        if let Some(weight) = weight {
            if !weights.iter().any(|(a, _)| *a == arn) {
                weights.push((arn, weight));
            }
        }
    }
    // Blue's target group is created first in the template; order by ARN name.
    weights.sort_by_key(|(arn, _)| !arn.to_ascii_lowercase().contains("blue"));
    Ok(weights.into_iter().map(|(_, w)| w).collect())
}

/// The end of one promotion: how the execution ended, its ARN, and the record
/// `GET /promotions/{id}` returns.
pub struct Ended {
    pub status: String,
    pub execution: String,
    pub states: Vec<String>,
    pub record: Value,
}

/// Starts promoting `app` from dev to staging with `strategy`: its id and execution ARN.
pub async fn start_promotion_to_staging(
    local: &Local,
    app: &str,
    strategy: &str,
) -> Result<(String, String)> {
    let body =
        json!({"app": app, "source_env": "dev", "target_env": "staging", "strategy": strategy});
    let started = local.api("POST", "/promotions", Some(&body), &[]).await?;
    anyhow::ensure!(started.status == 202, "POST /promotions: {started:?}");
    let id = started.body["id"].as_str().context("no id")?.to_owned();
    let execution = started.body["execution_arn"]
        .as_str()
        .context("no execution")?
        .to_owned();
    Ok((id, execution))
}

/// Promotes `app` from dev to staging with `strategy` and waits for the end.
pub async fn promote_to_staging(local: &Local, app: &str, strategy: &str) -> Result<Ended> {
    let (id, execution) = start_promotion_to_staging(local, app, strategy).await?;
    ended(local, &id, execution).await
}

/// Waits for a promotion's execution to end: how, the states it entered, its record.
pub async fn ended(local: &Local, id: &str, execution: String) -> Result<Ended> {
    let status = local
        .wait_for_execution(&execution, Duration::from_secs(600))
        .await?;
    let states = local.states_entered(&execution).await?;
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await?
        .body;
    Ok(Ended {
        status,
        execution,
        states,
        record,
    })
}

/// [`seed_app_with`], then two minutes of traffic on each colour of staging: blue at
/// 0.2 s, green at `green_latency`.
pub async fn seed_with_traffic(
    local: &Local,
    app: &str,
    promotion: Value,
    green_latency: f64,
) -> Result<String> {
    seed_app_with(local, app, promotion).await?;
    let stack = format!("ferry-{app}-staging");
    put_target_metrics(local, &stack, "blue", 0.2, 120).await?;
    put_target_metrics(local, &stack, "green", green_latency, 120).await?;
    Ok(stack)
}

/// The step of a promotion record named `name`.
pub fn step<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name}: {record}"))
}

/// Puts per-second samples into moto's CloudWatch for one colour's target group, over
/// the last `seconds`: latency around `latency` seconds, 100 requests, no 5xx.
pub async fn put_target_metrics(
    local: &Local,
    stack: &str,
    colour: &str,
    latency: f64,
    seconds: i64,
) -> Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let outputs = local
        .cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await?;
    let output = |key: &str| {
        outputs.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .map(str::to_owned)
            .with_context(|| format!("no output {key}"))
    };
    let title = if colour == "blue" { "Blue" } else { "Green" };
    let lb = output("LoadBalancerFullName")?;
    // Every service's target group of that colour (`<Service><Colour>TargetGroupFullName`).
    let suffix = format!("{title}TargetGroupFullName");
    let groups: Vec<String> = outputs.stacks()[0]
        .outputs()
        .iter()
        .filter(|o| o.output_key().is_some_and(|k| k.ends_with(&suffix)))
        .filter_map(|o| o.output_value().map(str::to_owned))
        .collect();
    anyhow::ensure!(!groups.is_empty(), "{stack} has no {suffix} output");
    let now = chrono::Utc::now().timestamp();
    let mut data = Vec::new();
    for group in &groups {
        let dims = vec![
            Dimension::builder()
                .name("TargetGroup")
                .value(group)
                .build(),
            Dimension::builder().name("LoadBalancer").value(&lb).build(),
        ];
        for i in 0..seconds {
            let at = aws_smithy_types::DateTime::from_secs(now - seconds + i);
            let wobble = 1.0 + 0.1 * ((i * 7919 % 21) as f64 - 10.0) / 10.0;
            for (name, value) in [
                ("TargetResponseTime", latency * wobble),
                ("RequestCount", 100.0),
                ("HTTPCode_Target_5XX_Count", 0.0),
                ("HealthyHostCount", 2.0),
            ] {
                data.push(
                    MetricDatum::builder()
                        .metric_name(name)
                        .set_dimensions(Some(dims.clone()))
                        .timestamp(at)
                        .value(value)
                        .build(),
                );
            }
        }
    }
    for chunk in data.chunks(500) {
        local
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/ApplicationELB")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await?;
    }
    Ok(())
}

/// How every scenario must end: the promotion in `status` (a terminal one), the
/// environment's lock free, and all traffic on `colour`, its live colour: the one that
/// passed its checks (the new one after a promotion, the old one after a rollback).
pub async fn assert_settled(
    local: &Local,
    app: &str,
    env: &str,
    id: &str,
    status: &str,
    colour: &str,
) -> Result<Value> {
    let record = local
        .api("GET", &format!("/promotions/{id}"), None, &[])
        .await?
        .body;
    anyhow::ensure!(
        record["status"] == status,
        "{id} ended {}: {record}",
        record["status"]
    );
    anyhow::ensure!(
        local.lock_holder(app, env).await?.is_none(),
        "{app}/{env} is still locked"
    );
    let item = local
        .item(&format!("APP#{app}"), &format!("ENV#{env}"))
        .await?
        .context("no environment")?;
    let live = item["live_colour"]
        .as_s()
        .map_err(|_| anyhow::anyhow!("no colour"))?;
    anyhow::ensure!(
        live == colour,
        "{app}/{env} is live on {live}, not {colour}"
    );
    let weights = listener_weights(local, &format!("ferry-{app}-{env}")).await?;
    let all_on = if colour == "blue" { [100, 0] } else { [0, 100] };
    anyhow::ensure!(
        weights == all_on,
        "{app}/{env}: traffic {weights:?}, not all on {colour}"
    );
    Ok(record)
}

/// An alarm of the environment's (its name under `ferry/<app>/<env>/`) on the ALB's 5xx
/// count, at one or more in a minute, for tests to set off by hand.
pub async fn put_alarm(local: &Local, alarm: &str) {
    local
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(alarm)
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_ELB_5XX_Count")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .send()
        .await
        .unwrap();
}

/// What CloudFormation holds for `stack`: the template it last deployed.
pub async fn deployed_template(local: &Local, stack: &str) -> Value {
    let body = local
        .cloudformation
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .template_body
        .expect("a template");
    serde_json::from_str(&body).unwrap()
}

/// The alert-evaluator's EventBridge schedule fixture, fired at `at`.
pub fn schedule(at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../functions/alert-evaluator/tests/fixtures/eventbridge-schedule.json"
    ))
    .unwrap();
    event["id"] = json!(uuid::Uuid::new_v4().to_string());
    event["time"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    event
}

/// This app's Slack posts: the sink is shared by every test on the local AWS.
pub async fn posts_for(local: &Local, app: &str) -> Vec<Value> {
    local
        .slack_posts()
        .await
        .unwrap()
        .into_iter()
        .filter(|post| post.to_string().contains(app))
        .collect()
}

/// CloudWatch's "Alarm State Change" for one of the environment's own alarms, as
/// EventBridge delivers it (the fixture, renamed and re-timed).
pub fn alarm_change(
    alarm: &str,
    state: &str,
    previous: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../functions/alert-evaluator/tests/fixtures/eventbridge-alarm-state-change.json"
    ))
    .unwrap();
    event["id"] = json!(uuid::Uuid::new_v4().to_string());
    event["time"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    event["detail"]["alarmName"] = json!(alarm);
    event["detail"]["state"]["value"] = json!(state);
    event["detail"]["state"]["timestamp"] =
        json!(at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
    event["detail"]["previousState"]["value"] = json!(previous);
    event
}

/// Properties moto's CloudFormation does not apply, so a freshly deployed stack on moto
/// differs from its template there and only there (docs/local-aws.md): every security
/// group keeps the default allow-all egress rule (neither `SecurityGroupEgress` nor
/// `AWS::EC2::SecurityGroupEgress` is applied), and a DB instance is created without
/// deletion protection. The engine tests cover Ferry's comparison of both.
pub const MOTO_UNAPPLIED: [&str; 2] = ["SecurityGroupEgress", "DeletionProtection"];

/// A drift report's live drift, without NOT_CHECKED lines and without what moto's
/// CloudFormation leaves unapplied ([`MOTO_UNAPPLIED`]).
pub fn live_drift(report: &Value) -> Vec<Value> {
    report["live"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| {
            d["kind"] != "NOT_CHECKED"
                && !MOTO_UNAPPLIED
                    .iter()
                    .any(|p| d["property"].as_str().unwrap_or_default().starts_with(p))
        })
        .cloned()
        .collect()
}
