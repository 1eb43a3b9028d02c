//! Talks to Ferry's API two ways. Against a deployed Ferry, over HTTPS to its API
//! Gateway HTTP API, signed with SigV4 from your AWS credentials: API Gateway's IAM
//! authorizer tells the api function who you are. Locally (no API Gateway), by invoking
//! the api function with the HTTP API v2 event API Gateway would send; the caller is then
//! named by `--as`, which only a local Ferry's local-identity mode accepts.

use anyhow::{bail, Context, Result};
use aws_sdk_lambda::primitives::Blob;
use ferry_core::model::PromotionStatus;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct FerryApi {
    transport: Transport,
    identity: Option<String>,
}

enum Transport {
    Invoke {
        lambda: aws_sdk_lambda::Client,
        function: String,
    },
    Https {
        http: reqwest::Client,
        base_url: String,
        sdk: Box<aws_config::SdkConfig>,
    },
}

/// Whether a promotion record has ended, by the core's own status type: a status this
/// CLI does not know (a newer Ferry) is treated as not ended, and the wait's bound holds.
fn has_ended(record: &Value) -> bool {
    serde_json::from_value::<PromotionStatus>(record["status"].clone())
        .is_ok_and(PromotionStatus::is_terminal)
}

impl FerryApi {
    /// `api_url` (the HTTP API's URL) picks signed HTTPS; without it, Lambda Invoke of
    /// `function`.
    pub async fn connect(
        function: &str,
        api_url: Option<&str>,
        identity: Option<String>,
    ) -> FerryApi {
        let sdk = ferry_aws::sdk_config().await;
        let transport = match api_url {
            Some(url) => Transport::Https {
                http: ferry_aws::http::http_client_builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("an HTTP client"),
                base_url: url.trim_end_matches('/').to_owned(),
                sdk: Box::new(sdk),
            },
            None => Transport::Invoke {
                lambda: aws_sdk_lambda::Client::new(&sdk),
                function: function.to_owned(),
            },
        };
        FerryApi {
            transport,
            identity,
        }
    }

    /// Sends one request; a 4xx/5xx answer becomes an error carrying the problem's detail
    /// and each field error.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        header: Option<(&str, &str)>,
    ) -> Result<Value> {
        let body_text = body.map(Value::to_string);
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some((name, value)) = header {
            headers.push((name, value.to_owned()));
        }
        if let Some(identity) = &self.identity {
            headers.push(("x-ferry-identity", identity.clone()));
        }
        let (status, answer) = match &self.transport {
            Transport::Invoke { lambda, function } => {
                invoke(lambda, function, method, path, body_text, &headers).await?
            }
            Transport::Https {
                http,
                base_url,
                sdk,
            } => https(http, sdk, base_url, method, path, body_text, &headers).await?,
        };
        if status >= 400 {
            let fields: Vec<String> = answer["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["field"].as_str().unwrap_or("?"),
                        e["message"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            let detail = if fields.is_empty() {
                answer["detail"].as_str().unwrap_or("").to_owned()
            } else {
                fields.join("; ")
            };
            bail!(
                "{method} {path}: {status} {}: {detail}",
                answer["title"].as_str().unwrap_or("error")
            );
        }
        Ok(answer)
    }

    pub async fn wait_for_end(&self, id: &str, timeout: Duration) -> Result<Value> {
        let start = Instant::now();
        loop {
            let record = self
                .call("GET", &format!("/promotions/{id}"), None, None)
                .await?;
            if has_ended(&record) {
                return Ok(record);
            }
            if start.elapsed() > timeout {
                bail!(
                    "promotion {id} is still {} after {}s",
                    record["status"],
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl FerryApi {
    /// Follows a promotion until it ends, handing each new step to `show` as it lands
    /// and saying once when it waits for a decision.
    pub async fn watch(&self, id: &str, timeout: Duration, show: fn(&Value)) -> Result<Value> {
        let start = Instant::now();
        let (mut shown, mut said_waiting) = (0, false);
        loop {
            let record = self
                .call("GET", &format!("/promotions/{id}"), None, None)
                .await?;
            let steps = record["steps"].as_array().cloned().unwrap_or_default();
            for step in steps.iter().skip(shown) {
                show(step);
            }
            shown = steps.len();
            let status = record["status"].as_str().unwrap_or("");
            if status == "AwaitingApproval" && !said_waiting {
                println!("  ... waiting for a decision: ferry approve {id} (or ferry reject {id} --comment WHY)");
            }
            said_waiting = status == "AwaitingApproval";
            if has_ended(&record) {
                println!("promotion {id}: {status}");
                return Ok(record);
            }
            if start.elapsed() > timeout {
                bail!(
                    "promotion {id} is still {status} after {}s",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// One request as an API Gateway v2 event, through Lambda Invoke.
async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, String)],
) -> Result<(u64, Value)> {
    let mut header_map = json!({"user-agent": "ferry-cli"});
    for (name, value) in headers {
        header_map[*name] = json!(value);
    }
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": header_map,
        "requestContext": {
            "accountId": "anonymous", "apiId": "ferry-cli", "domainName": "lambda-invoke", "domainPrefix": "lambda-invoke",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "ferry-cli"},
            "requestId": uuid_like(), "routeKey": "$default", "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    });
    let output = lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .with_context(|| format!("invoking {function}"))?;
    let payload: Value = serde_json::from_slice(
        output
            .payload
            .as_ref()
            .map(|b| b.as_ref())
            .unwrap_or(b"null"),
    )
    .context("the api function's answer is not JSON")?;
    if let Some(kind) = output.function_error {
        bail!(
            "the api function failed ({kind}): {}",
            payload["errorMessage"].as_str().unwrap_or("no message")
        );
    }
    let status = payload["statusCode"].as_u64().unwrap_or(0);
    let answer =
        serde_json::from_str(payload["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    Ok((status, answer))
}

/// One request over HTTPS to the HTTP API, signed with SigV4 for `execute-api`.
async fn https(
    http: &reqwest::Client,
    sdk: &aws_config::SdkConfig,
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, String)],
) -> Result<(u64, Value)> {
    use aws_credential_types::provider::ProvideCredentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let url = format!("{base_url}{path}");
    let credentials = sdk
        .credentials_provider()
        .context("no AWS credentials to sign the request with")?
        .provide_credentials()
        .await
        .context("loading AWS credentials")?;
    let identity: aws_smithy_runtime_api::client::identity::Identity = credentials.into();
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .context("no AWS region: set AWS_REGION to the region Ferry is deployed in")?;
    let body = body.unwrap_or_default();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("execute-api")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .context("signing parameters")?
        .into();
    let signable = SignableRequest::new(
        method,
        &url,
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .context("an unsignable request")?;
    let (instructions, _) = sign(signable, &params)
        .context("signing the request")?
        .into_parts();
    let mut request = http.request(
        reqwest::Method::from_bytes(method.as_bytes()).context("the HTTP method")?,
        &url,
    );
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    let response = request
        .body(body)
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = u64::from(response.status().as_u16());
    let answer = response.json().await.unwrap_or(Value::Null);
    Ok((status, answer))
}

fn uuid_like() -> String {
    format!("cli-{}", std::process::id())
}
