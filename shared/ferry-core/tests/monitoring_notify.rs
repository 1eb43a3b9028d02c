//! Notification delivery with the in-memory ledger: retried, sent at least once, never twice.

use async_trait::async_trait;
use ferry_core::monitoring::noise::Notification;
use ferry_core::monitoring::notify::*;
use ferry_testkit::InMemoryStore;
use std::sync::Mutex;
use std::time::Duration;

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
    async fn send_message(&self, m: &Message) -> Result<(), DeliveryError> {
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err((self.failure)());
        }
        self.sent.lock().unwrap().push(m.dedup_key.clone());
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
