//! Silences, as the API sets and lists them: alerts matching every matcher are not
//! notified until the silence ends. Kept per environment, versioned, expired ones
//! dropped as new ones arrive.

use crate::names::{AppName, EnvName};
use crate::ports::{EngineState, Environments, StoreError};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub use super::Silence;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SilenceError {
    #[error("environment {0} was not found")]
    NotFound(String),
    #[error(transparent)]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds a silence from a request body (`{"matchers": [...], "ends_at": ..., ...}`) to the
/// environment's, written over the version read: a concurrent change is a conflict.
pub async fn create(
    store: &(impl Environments + EngineState + ?Sized),
    app: &AppName,
    env: &EnvName,
    body: &Value,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Silence, SilenceError> {
    if store.get_environment(app, env).await?.is_none() {
        return Err(SilenceError::NotFound(format!("{app}/{env}")));
    }
    let id = format!("silence-{}", now.timestamp_millis());
    let silence =
        super::silence_from_request(&id, body, created_by, now).map_err(SilenceError::Invalid)?;
    let mut kept = store.silences(app, env).await?;
    kept.value.retain(|s| s.ends_at > now);
    kept.value.push(silence.clone());
    store
        .save_silences(app, env, &kept.value, kept.version)
        .await?;
    Ok(silence)
}

/// The environment's silences not yet over.
pub async fn active(
    store: &dyn EngineState,
    app: &AppName,
    env: &EnvName,
    now: DateTime<Utc>,
) -> Result<Vec<Silence>, StoreError> {
    let mut silences = store.silences(app, env).await?.value;
    silences.retain(|s| s.ends_at > now);
    Ok(silences)
}
