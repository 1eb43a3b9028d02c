//! The deploy engine on CloudFormation's documented sequences, played by a scripted
//! CloudFormation: a create that completes, and an update that fails and rolls back.
//! (The same engine runs against moto's CloudFormation in tests/e2e/tests/deploy.rs.)

use async_trait::async_trait;
use ferry_core::infra::deploy::{
    deploy, ChangeSetState, ChangeSets, DeployError, Outcome, Polling, Progress, ResourceChange,
    StackApiError, StackDetails, StackEvent,
};
use std::sync::Mutex;
use std::time::Duration;

/// A CloudFormation that walks a stack through the statuses it is given, one per poll,
/// adding each status's events as it goes.
struct Scripted {
    statuses: Mutex<Vec<(Option<&'static str>, Vec<StackEvent>)>>,
    events: Mutex<Vec<StackEvent>>,
    executed: Mutex<bool>,
}

fn event(id: &str, logical: &str, status: &str, reason: Option<&str>) -> StackEvent {
    StackEvent {
        id: id.into(),
        logical_id: logical.into(),
        resource_type: "AWS::ECS::Service".into(),
        status: status.into(),
        reason: reason.map(Into::into),
    }
}

impl Scripted {
    fn new(
        before: Option<&'static str>,
        after_execute: Vec<(&'static str, Vec<StackEvent>)>,
    ) -> Self {
        let mut statuses = vec![(before, vec![])];
        statuses.extend(after_execute.into_iter().map(|(s, e)| (Some(s), e)));
        Scripted {
            statuses: Mutex::new(statuses),
            events: Mutex::new(vec![event("old", "Web", "CREATE_FAILED", Some("long ago"))]),
            executed: Mutex::new(false),
        }
    }
}

#[async_trait]
impl ChangeSets for Scripted {
    async fn current_template(&self, _: &str) -> Result<Option<String>, StackApiError> {
        Ok(None)
    }

    async fn cancel_update(&self, _: &str) -> Result<(), StackApiError> {
        Err(StackApiError::Refused("not scripted".into()))
    }

    async fn stack_details(&self, _: &str) -> Result<Option<StackDetails>, StackApiError> {
        Ok(None)
    }

    async fn stack_status(&self, _: &str) -> Result<Option<String>, StackApiError> {
        let mut statuses = self.statuses.lock().unwrap();
        let (status, events) = if *self.executed.lock().unwrap() && statuses.len() > 1 {
            statuses.remove(0)
        } else {
            statuses[0].clone()
        };
        if *self.executed.lock().unwrap() && statuses.is_empty() {
            statuses.push((status, vec![]));
        }
        self.events
            .lock()
            .unwrap()
            .splice(0..0, events.into_iter().rev());
        Ok(status.map(str::to_owned))
    }
    async fn create_change_set(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &[(String, String)],
        _: bool,
    ) -> Result<Option<String>, StackApiError> {
        Ok(Some("cs-1".into()))
    }
    async fn change_set_state(&self, _: &str) -> Result<ChangeSetState, StackApiError> {
        Ok(ChangeSetState::Ready(vec![ResourceChange {
            action: "Modify".into(),
            logical_id: "Web".into(),
            resource_type: "AWS::ECS::Service".into(),
            replacement: "False".into(),
        }]))
    }
    async fn execute_change_set(&self, _: &str) -> Result<(), StackApiError> {
        *self.executed.lock().unwrap() = true;
        self.statuses.lock().unwrap().remove(0);
        Ok(())
    }
    async fn delete_change_set(&self, _: &str) -> Result<(), StackApiError> {
        Ok(())
    }
    async fn stack_events(&self, _: &str) -> Result<Vec<StackEvent>, StackApiError> {
        Ok(self.events.lock().unwrap().clone())
    }
}

const FAST: Polling = Polling {
    interval: Duration::from_millis(1),
    timeout: Duration::from_secs(5),
};

#[tokio::test]
async fn a_failed_update_reports_the_failing_resource_and_confirms_the_rollback() {
    let api = Scripted::new(
        Some("UPDATE_COMPLETE"),
        vec![
            (
                "UPDATE_IN_PROGRESS",
                vec![event("e1", "Web", "UPDATE_IN_PROGRESS", None)],
            ),
            (
                "UPDATE_ROLLBACK_IN_PROGRESS",
                vec![event(
                    "e2",
                    "Web",
                    "UPDATE_FAILED",
                    Some("Invalid request provided: CPU 300"),
                )],
            ),
            (
                "UPDATE_ROLLBACK_COMPLETE",
                vec![event("e3", "Web", "UPDATE_COMPLETE", None)],
            ),
        ],
    );
    let mut seen = Vec::new();
    let result = deploy(&api, "ferry-shop-prod", "{}", &[], "cs", FAST, &mut |p| {
        seen.push(p)
    })
    .await;
    match result {
        Err(DeployError::RolledBack { status, failures }) => {
            assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
            // Only this deploy's failures, not the one from long ago.
            assert_eq!(
                failures,
                [event(
                    "e2",
                    "Web",
                    "UPDATE_FAILED",
                    Some("Invalid request provided: CPU 300")
                )]
            );
        }
        other => panic!("{other:?}"),
    }
    let events: Vec<String> = seen
        .iter()
        .filter_map(|p| match p {
            Progress::Event(e) => Some(e.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        ["e1", "e2", "e3"],
        "each new event is shown once, in order"
    );
    assert!(seen
        .iter()
        .any(|p| matches!(p, Progress::Changes(c) if c.len() == 1)));
}

#[tokio::test]
async fn a_create_that_completes_is_deployed() {
    let api = Scripted::new(
        None,
        vec![
            ("CREATE_IN_PROGRESS", vec![]),
            (
                "CREATE_COMPLETE",
                vec![event("e1", "Web", "CREATE_COMPLETE", None)],
            ),
        ],
    );
    let result = deploy(&api, "s", "{}", &[], "cs", FAST, &mut |_| {})
        .await
        .unwrap();
    assert!(matches!(result, Outcome::Deployed { status, .. } if status == "CREATE_COMPLETE"));
}

#[tokio::test]
async fn a_busy_stack_is_left_alone() {
    let api = Scripted::new(Some("UPDATE_IN_PROGRESS"), vec![]);
    let result = deploy(&api, "s", "{}", &[], "cs", FAST, &mut |_| {}).await;
    assert!(
        matches!(result, Err(DeployError::Busy { status, .. }) if status == "UPDATE_IN_PROGRESS")
    );
}
