//! Deploying a template through a CloudFormation change set: create it, show what it
//! changes (and what it replaces), execute it, follow the stack to the end, and on
//! failure say which resources failed and confirm the rollback.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Add, Modify, Remove (or Import, Dynamic).
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// True, False or Conditional, as CloudFormation says; empty for adds and removes.
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetState {
    Pending,
    Ready(Vec<ResourceChange>),
    /// Nothing differs from what is deployed.
    Empty,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StackApiError {
    #[error("CloudFormation is unavailable: {0}")]
    Unavailable(String),
    #[error("CloudFormation refused: {0}")]
    Refused(String),
}

/// A deployed stack's parameter values and outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackDetails {
    pub status: String,
    pub parameters: std::collections::BTreeMap<String, String>,
    pub outputs: std::collections::BTreeMap<String, String>,
}

/// What deploying needs from CloudFormation.
#[async_trait]
pub trait ChangeSets: Send + Sync {
    /// The stack's status, or `None` when there is no such stack.
    async fn stack_status(&self, stack: &str) -> Result<Option<String>, StackApiError>;
    /// Parameters and outputs, or `None` when there is no such stack.
    async fn stack_details(&self, stack: &str) -> Result<Option<StackDetails>, StackApiError>;
    async fn create_change_set(
        &self,
        stack: &str,
        name: &str,
        template: &str,
        parameters: &[(String, String)],
        create: bool,
    ) -> Result<Option<String>, StackApiError>;
    async fn change_set_state(&self, change_set: &str) -> Result<ChangeSetState, StackApiError>;
    async fn execute_change_set(&self, change_set: &str) -> Result<(), StackApiError>;
    async fn delete_change_set(&self, change_set: &str) -> Result<(), StackApiError>;
    /// The stack's events, newest first.
    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, StackApiError>;
    /// Cancels the stack's update in progress (`CancelUpdateStack`): CloudFormation rolls
    /// it back to where it was. Only an `UPDATE_IN_PROGRESS` stack can be cancelled.
    async fn cancel_update(&self, stack: &str) -> Result<(), StackApiError>;
    /// The template the stack runs, as CloudFormation holds it (`GetTemplate`, the
    /// original text); `None` when there is no such stack.
    async fn current_template(&self, stack: &str) -> Result<Option<String>, StackApiError>;
}

/// Whether a stack status is a change under way (`REVIEW_IN_PROGRESS`, a stack created
/// by a change set not yet executed, is not).
pub fn is_in_progress(status: &str) -> bool {
    in_progress(status)
}

/// What the deploy reports while it works, for a CLI to print or a function to log.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    ChangeSetCreating {
        name: String,
        create: bool,
    },
    Waiting {
        what: &'static str,
        status: String,
        elapsed: Duration,
    },
    Changes(Vec<ResourceChange>),
    Event(StackEvent),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Deployed {
        status: String,
        changes: Vec<ResourceChange>,
    },
    NoChanges,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeployError {
    #[error("stack {stack} is busy ({status}); wait for it to finish first")]
    Busy { stack: String, status: String },
    #[error("the change set failed: {0}")]
    ChangeSetFailed(String),
    #[error("the deploy failed and CloudFormation rolled the stack back ({status}); failed: {}", describe(.failures))]
    RolledBack {
        status: String,
        failures: Vec<StackEvent>,
    },
    #[error("the deploy failed and the rollback did not complete ({status}); the stack needs attention; failed: {}", describe(.failures))]
    RollbackFailed {
        status: String,
        failures: Vec<StackEvent>,
    },
    #[error("{reason}; nothing was changed: the stack is still {status}")]
    ExecuteRefused { reason: String, status: String },
    #[error("{what} did not finish within {seconds} s (last status {status})")]
    TimedOut {
        what: &'static str,
        seconds: u64,
        status: String,
    },
    #[error(transparent)]
    Api(#[from] StackApiError),
}

fn describe(events: &[StackEvent]) -> String {
    if events.is_empty() {
        return "no resource reported a failure".into();
    }
    events
        .iter()
        .map(|e| {
            format!(
                "{} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How often to poll and for how long, so tests can run it fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(3600),
        }
    }
}

fn in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

pub async fn deploy(
    api: &dyn ChangeSets,
    stack: &str,
    template: &str,
    parameters: &[(String, String)],
    change_set_name: &str,
    polling: Polling,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Outcome, DeployError> {
    let create = creates_stack(api, stack).await?;
    progress(Progress::ChangeSetCreating {
        name: change_set_name.into(),
        create,
    });
    let seen_before: Vec<String> = if create {
        vec![]
    } else {
        api.stack_events(stack)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    let Some((change_set, changes)) = prepare(
        api,
        stack,
        template,
        parameters,
        change_set_name,
        create,
        polling,
        progress,
    )
    .await?
    else {
        return Ok(Outcome::NoChanges);
    };
    progress(Progress::Changes(changes.clone()));
    execute(api, stack, &change_set).await?;

    let started = tokio::time::Instant::now();
    let mut reported: Vec<String> = seen_before.clone();
    loop {
        // Status first, then events: the events that led to a final status are shown too.
        let status = api
            .stack_status(stack)
            .await?
            .unwrap_or_else(|| "DELETE_COMPLETE".into());
        let mut events = api.stack_events(stack).await?;
        events.reverse();
        for event in &events {
            if !reported.contains(&event.id) {
                reported.push(event.id.clone());
                progress(Progress::Event(event.clone()));
            }
        }
        if !in_progress(&status) {
            let failures: Vec<StackEvent> = events
                .into_iter()
                .filter(|e| {
                    e.status.ends_with("_FAILED")
                        && e.logical_id != stack
                        && !seen_before.contains(&e.id)
                })
                .collect();
            return match status.as_str() {
                "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => {
                    Ok(Outcome::Deployed { status, changes })
                }
                "ROLLBACK_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" => {
                    Err(DeployError::RolledBack { status, failures })
                }
                _ => Err(DeployError::RollbackFailed { status, failures }),
            };
        }
        wait(polling, started, "the stack", &status, progress).await?;
    }
}

/// A change set started by [`start`]: executed and left to CloudFormation, which a caller
/// follows with [`check`] instead of waiting here.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    /// Nothing differed from what is deployed; no change set was executed.
    NoChanges,
    Executing {
        change_set: String,
        changes: Vec<ResourceChange>,
        /// The stack's newest event before the execution, so [`check`] reports only the
        /// failures of this change.
        since_event: Option<String>,
    },
}

/// Where a stack stands, as [`check`] sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum StackState {
    /// A change is still under way.
    InProgress(String),
    /// The last change completed (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, ...).
    Settled(String),
}

/// The first half of [`deploy`]: creates the change set, waits only for CloudFormation to
/// work out its changes (seconds, bounded by `polling`), and executes it. Following the
/// stack is [`check`]'s job, so a caller with a short time limit (a Lambda function under a
/// state machine's Wait loop) never waits for the stack itself.
pub async fn start(
    api: &dyn ChangeSets,
    stack: &str,
    template: &str,
    parameters: &[(String, String)],
    change_set_name: &str,
    polling: Polling,
) -> Result<Started, DeployError> {
    let create = creates_stack(api, stack).await?;
    let since_event = if create {
        None
    } else {
        api.stack_events(stack)
            .await?
            .into_iter()
            .next()
            .map(|e| e.id)
    };
    let Some((change_set, changes)) = prepare(
        api,
        stack,
        template,
        parameters,
        change_set_name,
        create,
        polling,
        &mut |_| {},
    )
    .await?
    else {
        return Ok(Started::NoChanges);
    };
    execute(api, stack, &change_set).await?;
    Ok(Started::Executing {
        change_set,
        changes,
        since_event,
    })
}

/// One look at a stack a change set was executed on: still in progress, settled, or
/// failed (with the resources that failed since `since_event`, the stack's newest event
/// before the change; `None`: every failure the stack reports).
pub async fn check(
    api: &dyn ChangeSets,
    stack: &str,
    since_event: Option<&str>,
) -> Result<StackState, DeployError> {
    let status = api
        .stack_status(stack)
        .await?
        .unwrap_or_else(|| "DELETE_COMPLETE".into());
    if in_progress(&status) {
        return Ok(StackState::InProgress(status));
    }
    match status.as_str() {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => {
            Ok(StackState::Settled(status))
        }
        _ => {
            // Newest first: the events of this change are those before `since_event`.
            let failures: Vec<StackEvent> = api
                .stack_events(stack)
                .await?
                .into_iter()
                .take_while(|e| Some(e.id.as_str()) != since_event)
                .filter(|e| e.status.ends_with("_FAILED") && e.logical_id != stack)
                .collect();
            Err(match status.as_str() {
                "ROLLBACK_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" => {
                    DeployError::RolledBack { status, failures }
                }
                _ => DeployError::RollbackFailed { status, failures },
            })
        }
    }
}

/// Whether the next change set creates `stack` (none yet, or one that never got past its
/// first change set) rather than updating it; a stack with a change under way is
/// [`DeployError::Busy`].
async fn creates_stack(api: &dyn ChangeSets, stack: &str) -> Result<bool, DeployError> {
    let status = api.stack_status(stack).await?;
    if let Some(status) = status.as_deref().filter(|s| in_progress(s)) {
        return Err(DeployError::Busy {
            stack: stack.into(),
            status: status.into(),
        });
    }
    Ok(matches!(
        status.as_deref(),
        None | Some("REVIEW_IN_PROGRESS")
    ))
}

/// Executes `change_set`. Refused outright (moto does this for a resource it cannot
/// create), nothing ran and the stack is where it was: the error says so, with the
/// stack's status as proof.
async fn execute(api: &dyn ChangeSets, stack: &str, change_set: &str) -> Result<(), DeployError> {
    if let Err(refused) = api.execute_change_set(change_set).await {
        let status = api
            .stack_status(stack)
            .await?
            .unwrap_or_else(|| "no stack".into());
        return Err(DeployError::ExecuteRefused {
            reason: refused.to_string(),
            status,
        });
    }
    Ok(())
}

/// Creates a change set and waits until CloudFormation has worked out its changes.
/// `None` when nothing would change (the empty change set is deleted).
#[allow(clippy::too_many_arguments)]
async fn prepare(
    api: &dyn ChangeSets,
    stack: &str,
    template: &str,
    parameters: &[(String, String)],
    change_set_name: &str,
    create: bool,
    polling: Polling,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Option<(String, Vec<ResourceChange>)>, DeployError> {
    // `None`: CloudFormation said up front that nothing would change.
    let Some(change_set) = api
        .create_change_set(stack, change_set_name, template, parameters, create)
        .await?
    else {
        return Ok(None);
    };
    let started = tokio::time::Instant::now();
    loop {
        match api.change_set_state(&change_set).await? {
            ChangeSetState::Ready(changes) => return Ok(Some((change_set, changes))),
            ChangeSetState::Empty => {
                api.delete_change_set(&change_set).await?;
                return Ok(None);
            }
            ChangeSetState::Failed(reason) => return Err(DeployError::ChangeSetFailed(reason)),
            ChangeSetState::Pending => {
                wait(
                    polling,
                    started,
                    "the change set",
                    "CREATE_PENDING",
                    progress,
                )
                .await?;
            }
        }
    }
}

/// What deploying `template` would change, without changing anything: the change set
/// is created, read and deleted.
pub async fn preview(
    api: &dyn ChangeSets,
    stack: &str,
    template: &str,
    parameters: &[(String, String)],
    change_set_name: &str,
    polling: Polling,
) -> Result<Vec<ResourceChange>, DeployError> {
    let prepared = prepare(
        api,
        stack,
        template,
        parameters,
        change_set_name,
        false,
        polling,
        &mut |_| {},
    )
    .await?;
    match prepared {
        None => Ok(vec![]),
        Some((change_set, changes)) => {
            api.delete_change_set(&change_set).await?;
            Ok(changes)
        }
    }
}

async fn wait(
    polling: Polling,
    started: tokio::time::Instant,
    what: &'static str,
    status: &str,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<(), DeployError> {
    let elapsed = started.elapsed();
    if elapsed > polling.timeout {
        return Err(DeployError::TimedOut {
            what,
            seconds: polling.timeout.as_secs(),
            status: status.into(),
        });
    }
    progress(Progress::Waiting {
        what,
        status: status.into(),
        elapsed,
    });
    tokio::time::sleep(polling.interval).await;
    Ok(())
}

/// `ferry deploy` bootstraps: it may create an environment's stack, or redeploy one no
/// promotion has touched, but never move traffic or images. `deployed` is the stack's
/// current template (`None`: no stack), `template` what the deploy would send. Refused,
/// with why and what to use instead, when the stack is not Ferry's, when a promotion
/// moved it to the other colour, or when it runs images or traffic weights the deploy
/// would change.
pub fn bootstrap_only(
    stack: &str,
    deployed: Option<&Value>,
    template: &Value,
) -> Result<(), String> {
    let Some(deployed) = deployed else {
        return Ok(());
    };
    let instead = "ferry deploy only creates stacks; change a live environment with `ferry apply APP ENV --reason ...` (POST /apps/{app}/environments/{env}/changes), which holds its lock and keeps its live colour and release";
    let live = |t: &Value| {
        t.pointer("/Metadata/Ferry/LiveColour")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let Some(deployed_live) = live(deployed) else {
        return Err(format!(
            "stack {stack} exists and is not a Ferry environment stack; {instead}"
        ));
    };
    if Some(&deployed_live) != live(template).as_ref() {
        return Err(format!(
            "stack {stack} is live on {deployed_live} after a promotion; {instead}"
        ));
    }
    let pick = |t: &Value, kind: &str, pointer: &str| -> Vec<(String, Value)> {
        t["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, r)| r["Type"] == kind)
            .map(|(id, r)| {
                (
                    id.clone(),
                    r["Properties"]
                        .pointer(pointer)
                        .cloned()
                        .unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let moved = |kind: &str, pointer: &str| {
        let now = pick(deployed, kind, pointer);
        let next = pick(template, kind, pointer);
        now.into_iter()
            .find(|(id, value)| next.iter().any(|(i, v)| i == id && v != value))
            .map(|(id, _)| id)
    };
    if let Some(id) = moved("AWS::ECS::TaskDefinition", "/ContainerDefinitions/0/Image") {
        return Err(format!("stack {stack} runs a promoted release ({id} has an image the spec does not name); {instead}"));
    }
    for (kind, pointer) in [
        ("AWS::ElasticLoadBalancingV2::Listener", "/DefaultActions"),
        ("AWS::ElasticLoadBalancingV2::ListenerRule", "/Actions"),
    ] {
        if let Some(id) = moved(kind, pointer) {
            return Err(format!(
                "stack {stack} has traffic a deploy would move ({id}); {instead}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod bootstrap_tests {
    use super::bootstrap_only;
    use serde_json::json;

    fn stack(live: &str, image: &str, blue_weight: u8) -> serde_json::Value {
        json!({"Metadata": {"Ferry": {"LiveColour": live}}, "Resources": {
            "WebBlueTaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [{"Image": image}]}},
            "HttpsListener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"DefaultActions": [{"Weight": blue_weight}]}}}})
    }

    #[test]
    fn deploy_creates_or_redeploys_untouched_stacks_only() {
        let spec = stack("blue", "nginx", 100);
        assert_eq!(bootstrap_only("s", None, &spec), Ok(()));
        assert_eq!(bootstrap_only("s", Some(&spec), &spec), Ok(()));
        for (deployed, why) in [
            (
                stack("green", "nginx", 0),
                "is live on green after a promotion",
            ),
            (
                stack("blue", "repo@sha256:aa", 100),
                "runs a promoted release",
            ),
            (
                stack("blue", "nginx", 90),
                "has traffic a deploy would move",
            ),
            (json!({"Resources": {}}), "is not a Ferry environment stack"),
        ] {
            let error = bootstrap_only("s", Some(&deployed), &spec).unwrap_err();
            assert!(error.contains(why), "{error}");
            assert!(error.contains("ferry apply"), "{error}");
        }
    }
}
