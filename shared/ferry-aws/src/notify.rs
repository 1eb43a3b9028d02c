//! Notification channels: a Slack incoming webhook (Block Kit) and email through an SNS
//! topic. The webhook URL is a secret: it is read from SSM Parameter Store, never from the
//! spec.

use crate::{describe, is_transient};
use async_trait::async_trait;
use ferry_core::monitoring::notify::{Channel, DeliveryError, Message};
use std::time::Duration;

pub struct SlackWebhook {
    http: reqwest::Client,
    url: String,
}

impl SlackWebhook {
    pub fn new(url: impl Into<String>) -> SlackWebhook {
        SlackWebhook {
            http: crate::http::http_client_builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
            url: url.into(),
        }
    }

    /// The webhook URL from an SSM SecureString parameter.
    pub async fn from_parameter(
        ssm: &aws_sdk_ssm::Client,
        name: &str,
    ) -> Result<SlackWebhook, DeliveryError> {
        let output = ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| DeliveryError::Permanent {
                channel: "slack".into(),
                reason: format!(
                    "reading the webhook URL from SSM parameter {name}: {}",
                    describe(&e)
                ),
            })?;
        let url =
            output
                .parameter()
                .and_then(|p| p.value())
                .ok_or_else(|| DeliveryError::Permanent {
                    channel: "slack".into(),
                    reason: format!("SSM parameter {name} has no value"),
                })?;
        Ok(SlackWebhook::new(url))
    }
}

#[async_trait]
impl Channel for SlackWebhook {
    fn name(&self) -> &str {
        "slack"
    }

    async fn send_message(&self, message: &Message) -> Result<(), DeliveryError> {
        let response = self.http.post(&self.url).json(&message.slack).send().await;
        let failure = |reason: String, retry: bool| {
            if retry {
                DeliveryError::Retryable {
                    channel: "slack".into(),
                    reason,
                }
            } else {
                DeliveryError::Permanent {
                    channel: "slack".into(),
                    reason,
                }
            }
        };
        match response {
            Ok(r) if r.status().is_success() => Ok(()),
            // Slack answers 429 when rate limited and 5xx when it is down: both pass.
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                Err(failure(
                    format!("{status} {text}"),
                    status.as_u16() == 429 || status.is_server_error(),
                ))
            }
            // The URL is the webhook's secret: reqwest's error text would carry it into
            // the delivery ledger and the logs, so it is stripped first.
            Err(e) => Err(failure(e.without_url().to_string(), true)),
        }
    }
}

pub struct SnsEmail {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsEmail {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> SnsEmail {
        SnsEmail {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl Channel for SnsEmail {
    fn name(&self) -> &str {
        "email"
    }

    async fn send_message(&self, message: &Message) -> Result<(), DeliveryError> {
        // SNS subjects stop at 100 characters.
        let subject: String = message.email_subject.chars().take(100).collect();
        let body = &message.email_body;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let reason = describe(&e);
                if is_transient(&e) {
                    DeliveryError::Retryable {
                        channel: "email".into(),
                        reason,
                    }
                } else {
                    DeliveryError::Permanent {
                        channel: "email".into(),
                        reason,
                    }
                }
            })
    }
}
