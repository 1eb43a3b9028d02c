//! Notification channels: Slack posts received by a local HTTP server (the first answer a
//! 503, so the retry shows), email through SNS and the webhook URL from SSM stubbed with
//! aws-smithy-mocks.

use aws_smithy_mocks::{mock, mock_client};
use ferry_aws::{SlackWebhook, SnsEmail};
use ferry_core::monitoring::incident::{Cause, Incident};
use ferry_core::monitoring::noise::{AlertLine, Notification};
use ferry_core::monitoring::notify::{deliver, Backoff, Outcome};
use ferry_testkit::InMemoryStore;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A one-route HTTP server on a random port: answers each request with the next status
/// of `statuses` (200 once they run out) and keeps every body it got.
async fn webhook_server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/services/T000/B000/XXXX",
        listener.local_addr().unwrap()
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (kept, statuses) = (bodies.clone(), Arc::new(Mutex::new(statuses)));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (kept, statuses) = (kept.clone(), statuses.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break body[..length].to_owned();
                        }
                    }
                };
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                let status = {
                    let mut s = statuses.lock().unwrap();
                    if s.is_empty() {
                        200
                    } else {
                        s.remove(0)
                    }
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, bodies)
}

fn notification() -> Notification {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:02:00Z")
        .unwrap()
        .to_utc();
    let labels: ferry_core::monitoring::Labels =
        [("app", "shop"), ("env", "prod"), ("component", "database")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    Notification {
        dedup_key: "0123456789abcdef".into(),
        group: [
            ("app".to_owned(), "shop".to_owned()),
            ("env".to_owned(), "prod".to_owned()),
        ]
        .into(),
        at,
        firing: vec![AlertLine {
            fingerprint: "f1".into(),
            rule: "rds-cpu".into(),
            labels,
            since: at,
            summary: String::new(),
        }],
        resolved: vec![],
        flapping: vec![],
        incident: Some(Incident {
            id: "shop/prod@20261120T100200Z".into(),
            env: Default::default(),
            opened_at: at,
            last_activity: at,
            alerts: Default::default(),
            causes: vec![Cause {
                component: "database".into(),
                score: 11.0,
                reasons: vec![
                    "service:web depend on it and alert too".into(),
                    "it fired first, at 10:02:00".into(),
                ],
            }],
        }),
    }
}

#[tokio::test]
async fn slack_gets_block_kit_once_even_after_a_503_and_a_retry_of_the_same_key() {
    let (url, bodies) = webhook_server(vec![503]).await;
    let store = InMemoryStore::new();
    let slack = SlackWebhook::new(url);
    let fast = Backoff {
        attempts: 3,
        first_wait: Duration::from_millis(10),
    };
    let dashboard = ferry_core::monitoring::notify::dashboard_url("us-east-1", "ferry-shop--prod");
    let n = notification();
    assert_eq!(
        deliver(&store, &slack, &n, &dashboard, fast).await.unwrap(),
        Outcome::Delivered { attempts: 2 }
    );
    assert_eq!(
        deliver(&store, &slack, &n, &dashboard, fast).await.unwrap(),
        Outcome::AlreadySent
    );
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        2,
        "one refused with 503, one delivered; none for the retry"
    );
    let message = &bodies[1];
    assert_eq!(message["text"], "shop/prod: 1 alert(s) firing");
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let text: Vec<String> = blocks
        .iter()
        .map(|b| b["text"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("*Probable root cause: database*")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("*rds-cpu* database (since 10:02:00 UTC)")),
        "{text:?}"
    );
    let button = &blocks.last().unwrap()["elements"][0];
    assert_eq!(button["url"], "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/ferry-shop--prod");
}

#[tokio::test]
async fn a_webhook_that_is_gone_is_not_retried() {
    let (url, bodies) = webhook_server(vec![404, 404, 404]).await;
    let store = InMemoryStore::new();
    let fast = Backoff {
        attempts: 3,
        first_wait: Duration::from_millis(10),
    };
    let error = deliver(&store, &SlackWebhook::new(url), &notification(), "d", fast)
        .await
        .unwrap_err();
    assert!(error.to_string().starts_with("slack: 404"), "{error}");
    assert_eq!(bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn email_goes_through_sns_with_the_title_as_subject() {
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            r.topic_arn() == Some("arn:aws:sns:us-east-1:123456789012:ferry-alerts")
                && r.subject() == Some("[Ferry] shop/prod: 1 alert(s) firing")
                && r.message().is_some_and(|m| {
                    m.contains("Probable root cause: database") && m.contains("Dashboard: https://")
                })
        })
        .then_output(|| {
            aws_sdk_sns::operation::publish::PublishOutput::builder()
                .message_id("m-1")
                .build()
        });
    let email = SnsEmail::new(
        mock_client!(aws_sdk_sns, [&publish]),
        "arn:aws:sns:us-east-1:123456789012:ferry-alerts",
    );
    let store = InMemoryStore::new();
    let outcome = deliver(
        &store,
        &email,
        &notification(),
        "https://dashboard",
        Backoff::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::Delivered { attempts: 1 });
    assert_eq!(publish.num_calls(), 1);
}

#[tokio::test]
async fn the_webhook_url_is_read_from_an_ssm_secure_string() {
    let (url, bodies) = webhook_server(vec![]).await;
    let stored = url.clone();
    let get = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| {
            r.name() == Some("/ferry/slack-webhook") && r.with_decryption() == Some(true)
        })
        .then_output(move || {
            aws_sdk_ssm::operation::get_parameter::GetParameterOutput::builder()
                .parameter(
                    aws_sdk_ssm::types::Parameter::builder()
                        .name("/ferry/slack-webhook")
                        .value(stored.clone())
                        .build(),
                )
                .build()
        });
    let ssm = mock_client!(aws_sdk_ssm, [&get]);
    let slack = SlackWebhook::from_parameter(&ssm, "/ferry/slack-webhook")
        .await
        .unwrap();
    let store = InMemoryStore::new();
    deliver(&store, &slack, &notification(), "d", Backoff::default())
        .await
        .unwrap();
    assert_eq!(bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_is_reported_without_its_secret_url() {
    // A port nothing listens on: the connection is refused, which reqwest reports with
    // the URL in its error text unless it is stripped.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let secret = "T0SECRET/B0SECRET/xoxb-never-logged";
    let slack = SlackWebhook::new(format!("http://127.0.0.1:{port}/services/{secret}"));
    let store = InMemoryStore::new();
    let fast = Backoff {
        attempts: 1,
        first_wait: Duration::from_millis(1),
    };
    let error = deliver(&store, &slack, &notification(), "d", fast)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("slack: "), "{error}");
    assert!(
        !error.contains("B0SECRET"),
        "the webhook URL leaked: {error}"
    );
    assert!(
        !error.contains("127.0.0.1"),
        "the webhook URL leaked: {error}"
    );
}
