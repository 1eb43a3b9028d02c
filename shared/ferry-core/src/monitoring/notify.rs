//! Notifications: what a Slack message (Block Kit) and an email say, and delivery with
//! retries and backoff through a record per dedup key, so a retry never sends twice and a
//! crash never loses one (delivered at least once, and recorded).

use super::noise::Notification;
use crate::ports::{Store, StoreError};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeliveryError {
    /// Worth another attempt: a 5xx, a 429, a timeout.
    #[error("{channel}: {reason} (will retry)")]
    Retryable { channel: String, reason: String },
    /// Not: the webhook is gone, the topic does not exist.
    #[error("{channel}: {reason}")]
    Permanent { channel: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A place notifications go: a Slack webhook, an SNS topic for email.
#[async_trait]
pub trait Channel: Send + Sync {
    /// A stable name, part of the delivery record's key (`slack`, `email`).
    fn name(&self) -> &str;
    async fn send(
        &self,
        notification: &Notification,
        dashboard_url: &str,
    ) -> Result<(), DeliveryError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered { attempts: u32 },
    AlreadySent,
}

/// Retries: `attempts` in all, waiting `first_wait` and doubling after each failure.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub first_wait: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 4,
            first_wait: Duration::from_millis(500),
        }
    }
}

pub async fn deliver(
    store: &dyn Store,
    channel: &dyn Channel,
    notification: &Notification,
    dashboard_url: &str,
    backoff: Backoff,
) -> Result<Outcome, DeliveryError> {
    let now = chrono::Utc::now();
    let record = store
        .begin_delivery(&notification.dedup_key, channel.name(), now)
        .await?;
    if record.sent {
        return Ok(Outcome::AlreadySent);
    }
    let mut wait = backoff.first_wait;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match channel.send(notification, dashboard_url).await {
            Ok(()) => {
                store
                    .finish_delivery(
                        &notification.dedup_key,
                        channel.name(),
                        attempt,
                        chrono::Utc::now(),
                    )
                    .await?;
                return Ok(Outcome::Delivered { attempts: attempt });
            }
            Err(DeliveryError::Retryable { .. }) if attempt < backoff.attempts => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            // Still pending in the store: the next run sends it again.
            Err(e) => return Err(e),
        }
    }
}

/// The incident's title: what is wrong, where.
pub fn title(n: &Notification) -> String {
    let env = format!(
        "{}/{}",
        n.group.get("app").map_or("?", String::as_str),
        n.group.get("env").map_or("?", String::as_str)
    );
    match (n.firing.len(), n.resolved.len(), n.flapping.len()) {
        (0, 0, f) if f > 0 => format!("{env}: {f} alert(s) flapping"),
        (0, r, _) => format!("{env}: resolved ({r})"),
        (f, _, _) => format!("{env}: {f} alert(s) firing"),
    }
}

/// The CloudWatch console link of an environment's dashboard, which the template names
/// after the environment's stack.
pub fn dashboard_url(region: &str, stack_name: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{stack_name}")
}

fn lines(title: &str, alerts: &[super::noise::AlertLine]) -> Option<Value> {
    (!alerts.is_empty()).then(|| {
        let text = alerts
            .iter()
            .map(|a| {
                let component = a.labels.get("component").map_or("", String::as_str);
                format!(
                    "• *{}* {} (since {})",
                    a.rule,
                    component,
                    a.since.format("%H:%M:%S UTC")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{title}*\n{text}")}})
    })
}

/// Slack Block Kit: the incident title, the environment, the root cause with its reasons,
/// the alerts, and a button to the environment's CloudWatch dashboard.
pub fn slack_message(n: &Notification, dashboard_url: &str) -> Value {
    let mut blocks =
        vec![json!({"type": "header", "text": {"type": "plain_text", "text": title(n)}})];
    let env: Vec<String> = n.group.iter().map(|(k, v)| format!("*{k}:* {v}")).collect();
    blocks
        .push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": env.join("  ")}]}));
    if let Some(cause) = n.incident.as_ref().and_then(|i| i.root_cause()) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Probable root cause: {}*\n{}", cause.component, cause.reasons.join("; "))}}));
    }
    blocks.extend(lines("Firing", &n.firing));
    blocks.extend(lines("Resolved", &n.resolved));
    blocks.extend(lines(
        "Flapping (one notice, not every change)",
        &n.flapping,
    ));
    blocks.push(json!({"type": "actions", "elements": [{"type": "button",
        "text": {"type": "plain_text", "text": "CloudWatch dashboard"}, "url": dashboard_url}]}));
    // `text` is the notification preview and the fallback where blocks do not render.
    json!({"text": title(n), "blocks": blocks})
}

/// An email's subject and plain-text body.
pub fn email(n: &Notification, dashboard_url: &str) -> (String, String) {
    let mut body = format!("{}\n\n", title(n));
    if let Some(cause) = n.incident.as_ref().and_then(|i| i.root_cause()) {
        body.push_str(&format!(
            "Probable root cause: {} ({})\n\n",
            cause.component,
            cause.reasons.join("; ")
        ));
    }
    for (heading, alerts) in [
        ("Firing", &n.firing),
        ("Resolved", &n.resolved),
        ("Flapping", &n.flapping),
    ] {
        if alerts.is_empty() {
            continue;
        }
        body.push_str(&format!("{heading}:\n"));
        for a in alerts.iter() {
            body.push_str(&format!(
                "  - {} {} since {}\n",
                a.rule,
                a.labels.get("component").map_or("", String::as_str),
                a.since
            ));
        }
        body.push('\n');
    }
    body.push_str(&format!("Dashboard: {dashboard_url}\n"));
    (format!("[Ferry] {}", title(n)), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryStore;
    use std::sync::Mutex;

    /// A channel that fails its first `failures` sends with `failure`, and records what
    /// it was asked to send.
    struct Recording {
        failures: Mutex<u32>,
        failure: fn() -> DeliveryError,
        sent: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Channel for Recording {
        fn name(&self) -> &str {
            "recording"
        }
        async fn send(&self, n: &Notification, _: &str) -> Result<(), DeliveryError> {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err((self.failure)());
            }
            self.sent.lock().unwrap().push(n.dedup_key.clone());
            Ok(())
        }
    }

    fn notification() -> Notification {
        Notification {
            dedup_key: "k1".into(),
            group: [
                ("app".to_owned(), "shop".to_owned()),
                ("env".to_owned(), "prod".to_owned()),
            ]
            .into(),
            at: chrono::Utc::now(),
            firing: vec![],
            resolved: vec![],
            flapping: vec![],
            incident: None,
        }
    }

    fn retryable() -> DeliveryError {
        DeliveryError::Retryable {
            channel: "recording".into(),
            reason: "503".into(),
        }
    }

    fn fast() -> Backoff {
        Backoff {
            attempts: 3,
            first_wait: Duration::from_millis(1),
        }
    }

    #[tokio::test]
    async fn retries_then_records_and_a_retry_of_the_same_key_is_not_sent_again() {
        let store = InMemoryStore::new();
        let channel = Recording {
            failures: Mutex::new(2),
            failure: retryable,
            sent: Mutex::new(vec![]),
        };
        let n = notification();
        assert_eq!(
            deliver(&store, &channel, &n, "url", fast()).await.unwrap(),
            Outcome::Delivered { attempts: 3 }
        );
        assert_eq!(
            deliver(&store, &channel, &n, "url", fast()).await.unwrap(),
            Outcome::AlreadySent
        );
        assert_eq!(channel.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_delivery_that_never_finished_is_sent_again_at_least_once() {
        let store = InMemoryStore::new();
        // Every attempt fails: the record stays pending...
        let down = Recording {
            failures: Mutex::new(10),
            failure: retryable,
            sent: Mutex::new(vec![]),
        };
        let n = notification();
        assert!(matches!(
            deliver(&store, &down, &n, "url", fast()).await,
            Err(DeliveryError::Retryable { .. })
        ));
        // ... so the next run delivers it.
        let up = Recording {
            failures: Mutex::new(0),
            failure: retryable,
            sent: Mutex::new(vec![]),
        };
        assert_eq!(
            deliver(&store, &up, &n, "url", fast()).await.unwrap(),
            Outcome::Delivered { attempts: 1 }
        );
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_retried() {
        let store = InMemoryStore::new();
        let gone = Recording {
            failures: Mutex::new(5),
            failure: || DeliveryError::Permanent {
                channel: "recording".into(),
                reason: "404 no_service".into(),
            },
            sent: Mutex::new(vec![]),
        };
        let error = deliver(&store, &gone, &notification(), "url", fast())
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "recording: 404 no_service");
        assert_eq!(*gone.failures.lock().unwrap(), 4, "one attempt only");
    }
}
