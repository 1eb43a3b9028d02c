//! Calls the api function the way API Gateway does (an HTTP API v2 event), over Lambda
//! Invoke. The SDK signs the call, so no separate API credentials are needed.

use anyhow::{bail, Context, Result};
use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct FerryApi {
    lambda: aws_sdk_lambda::Client,
    function: String,
}

impl FerryApi {
    pub async fn connect(function: &str) -> FerryApi {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        FerryApi {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            function: function.to_owned(),
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
        let mut headers = json!({"content-type": "application/json", "user-agent": "ferry-cli"});
        if let Some((name, value)) = header {
            headers[name] = json!(value);
        }
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous", "apiId": "ferry-cli", "domainName": "lambda-invoke", "domainPrefix": "lambda-invoke",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "ferry-cli"},
                "requestId": uuid_like(), "routeKey": "$default", "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0
            },
            "body": body_text,
            "isBase64Encoded": false
        });
        let output = self
            .lambda
            .invoke()
            .function_name(&self.function)
            .payload(Blob::new(event.to_string()))
            .send()
            .await
            .with_context(|| format!("invoking {}", self.function))?;
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
        let answer: Value =
            serde_json::from_str(payload["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
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
            if matches!(
                record["status"].as_str(),
                Some("Succeeded" | "RolledBack" | "Failed")
            ) {
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

fn uuid_like() -> String {
    format!("cli-{}", std::process::id())
}
