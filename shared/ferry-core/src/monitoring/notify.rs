//! Notifications: what a Slack message (Block Kit) and an email say, and delivery with
//! retries and backoff through a record per dedup key, so a retry never sends twice and a
//! crash never loses one (delivered at least once, and recorded).

use super::noise::Notification;
use crate::ports::{DeliveryLedger, StoreError};
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

/// One notification as every channel renders it: an incident's, an approval request,
/// a failed rollback.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Stable for one notification: a retry carries the same key, so it never goes out
    /// twice on a channel.
    pub dedup_key: String,
    /// Slack's payload (Block Kit `blocks`, and `text` for previews and fallbacks).
    pub slack: Value,
    pub email_subject: String,
    pub email_body: String,
}

impl Message {
    /// An incident notification as its Slack message and email.
    pub fn incident(n: &Notification, dashboard_url: &str) -> Message {
        let (email_subject, email_body) = email(n, dashboard_url);
        Message {
            dedup_key: n.dedup_key.clone(),
            slack: slack_message(n, dashboard_url),
            email_subject,
            email_body,
        }
    }
}

/// A place notifications go: a Slack webhook, an SNS topic for email.
#[async_trait]
pub trait Channel: Send + Sync {
    /// A stable name, part of the delivery record's key (`slack`, `email`).
    fn name(&self) -> &str;
    /// Sends a rendered message.
    async fn send_message(&self, message: &Message) -> Result<(), DeliveryError>;
    /// Sends an incident notification: rendered as [`Message::incident`] unless the
    /// channel keeps the notification itself.
    async fn send(
        &self,
        notification: &Notification,
        dashboard_url: &str,
    ) -> Result<(), DeliveryError> {
        self.send_message(&Message::incident(notification, dashboard_url))
            .await
    }
}

/// A channel that could not be set up (its webhook URL unreadable, say): every send
/// fails with the reason, so each notification's record says why it did not go out,
/// rather than the function failing to start or the channel silently missing.
pub struct Unconfigured {
    pub name: String,
    pub reason: String,
}

#[async_trait]
impl Channel for Unconfigured {
    fn name(&self) -> &str {
        &self.name
    }
    async fn send_message(&self, _: &Message) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent {
            channel: self.name.clone(),
            reason: self.reason.clone(),
        })
    }
}

/// Where a job's notifications go, and the ledger that keeps each from going out twice.
#[derive(Clone, Copy)]
pub struct Outbox<'a> {
    pub channels: &'a [&'a dyn Channel],
    pub ledger: &'a dyn DeliveryLedger,
}

impl Outbox<'_> {
    /// Delivers `message` on every channel: at least once each, never twice. One
    /// channel failing does not stop the others; each outcome is reported.
    pub async fn send(&self, message: &Message) -> Vec<Value> {
        let mut outcomes = Vec::new();
        for channel in self.channels {
            let outcome = deliver_message(self.ledger, *channel, message, Backoff::default()).await;
            outcomes.push(json!({
                "channel": channel.name(),
                "outcome": match outcome { Ok(o) => format!("{o:?}"), Err(e) => e.to_string() },
            }));
        }
        outcomes
    }
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

/// Delivers an incident notification on one channel (see [`deliver_message`]).
pub async fn deliver(
    store: &(impl DeliveryLedger + ?Sized),
    channel: &dyn Channel,
    notification: &Notification,
    dashboard_url: &str,
    backoff: Backoff,
) -> Result<Outcome, DeliveryError> {
    deliver_with(store, channel, &notification.dedup_key, backoff, || {
        channel.send(notification, dashboard_url)
    })
    .await
}

/// Delivers a message on one channel, retrying with backoff, recorded in the ledger
/// under its dedup key: sent at least once, and never again once sent.
pub async fn deliver_message(
    store: &(impl DeliveryLedger + ?Sized),
    channel: &dyn Channel,
    message: &Message,
    backoff: Backoff,
) -> Result<Outcome, DeliveryError> {
    deliver_with(store, channel, &message.dedup_key, backoff, || {
        channel.send_message(message)
    })
    .await
}

async fn deliver_with<'s, F, Fut>(
    store: &(impl DeliveryLedger + ?Sized),
    channel: &dyn Channel,
    dedup_key: &str,
    backoff: Backoff,
    send: F,
) -> Result<Outcome, DeliveryError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), DeliveryError>> + 's,
{
    let now = chrono::Utc::now();
    let record = store.begin_delivery(dedup_key, channel.name(), now).await?;
    if record.sent {
        return Ok(Outcome::AlreadySent);
    }
    let mut wait = backoff.first_wait;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match send().await {
            Ok(()) => {
                store
                    .finish_delivery(dedup_key, channel.name(), attempt, chrono::Utc::now())
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
                // What the alert says of itself (a drift's expected and actual values).
                let summary = if a.summary.is_empty() {
                    String::new()
                } else {
                    format!(": {}", a.summary)
                };
                format!(
                    "• *{}* {} (since {}){summary}",
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
