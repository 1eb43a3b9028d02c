//! Calls the api function the way API Gateway does (an HTTP API v2 event), over Lambda
//! Invoke. The SDK signs the call, so no separate API credentials are needed.

use anyhow::{bail, Context, Result};
use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct FerryApi {
    lambda: aws_sdk_lambda::Client,
    function: String,
    identity: Option<String>,
}

/// How a promotion can end.
const ENDED: [&str; 4] = ["Succeeded", "RolledBack", "Rejected", "Failed"];

impl FerryApi {
    pub async fn connect(function: &str, identity: Option<String>) -> FerryApi {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        FerryApi {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            function: function.to_owned(),
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
        let mut headers = json!({"content-type": "application/json", "user-agent": "ferry-cli"});
        if let Some((name, value)) = header {
            headers[name] = json!(value);
        }
        if let Some(identity) = &self.identity {
            headers["x-ferry-identity"] = json!(identity);
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
            if ENDED.contains(&record["status"].as_str().unwrap_or("")) {
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
            if ENDED.contains(&status) {
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

fn uuid_like() -> String {
    format!("cli-{}", std::process::id())
}
