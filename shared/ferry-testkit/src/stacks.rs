//! An in-memory CloudFormation: deployed templates and change sets.

use async_trait::async_trait;
use ferry_core::infra::deploy::{
    ChangeSetState, ResourceChange, StackApiError, StackDetails, StackEvent,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// In-memory CloudFormation: stacks with their templates, parameters and outputs, and
/// change sets that apply at once. Outputs are named after the template's, with the
/// stack and output name as the value, since nothing resolves intrinsics here.
#[derive(Default)]
pub struct InMemoryStacks {
    stacks: Mutex<BTreeMap<String, StackState>>,
    change_sets: Mutex<BTreeMap<String, PendingChange>>,
    /// Change sets whose execution fails (and rolls back), by how many are left.
    failing_executions: std::sync::atomic::AtomicUsize,
    /// Stacks whose update was cancelled, in order.
    cancelled: Mutex<Vec<String>>,
    /// Executions leave the stack `UPDATE_IN_PROGRESS` (the change made) until a test
    /// settles it with `set_status`, as CloudFormation takes its time.
    slow: std::sync::atomic::AtomicBool,
}

#[derive(Clone)]
struct StackState {
    template: serde_json::Value,
    parameters: BTreeMap<String, String>,
    status: String,
}

struct PendingChange {
    stack: String,
    template: serde_json::Value,
    parameters: BTreeMap<String, String>,
}

impl InMemoryStacks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn deploy(&self, stack_name: &str, template: serde_json::Value) {
        self.stacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                stack_name.to_owned(),
                StackState {
                    template,
                    parameters: BTreeMap::new(),
                    status: "CREATE_COMPLETE".into(),
                },
            );
    }

    pub fn template(&self, stack_name: &str) -> Option<serde_json::Value> {
        self.stacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(stack_name)
            .map(|s| s.template.clone())
    }

    /// Sets a stack's status, as a change under way (`UPDATE_IN_PROGRESS`) or its
    /// rollback would; the stack stays so until set again.
    pub fn set_status(&self, stack_name: &str, status: &str) {
        if let Some(state) = self
            .stacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(stack_name)
        {
            state.status = status.to_owned();
        }
    }

    /// The stacks whose update was cancelled, in order.
    pub fn cancelled(&self) -> Vec<String> {
        self.cancelled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// From now on executions stay `UPDATE_IN_PROGRESS` until [`Self::set_status`]
    /// settles them (`slow`), or complete at once (the default).
    pub fn set_slow(&self, slow: bool) {
        self.slow.store(slow, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `count` executions fail and roll back, as a bad update would.
    pub fn fail_next_executions(&self, count: usize) {
        self.failing_executions
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl ferry_core::ports::DeployedStacks for InMemoryStacks {
    async fn deployed_template(
        &self,
        stack_name: &str,
    ) -> Result<Option<serde_json::Value>, ferry_core::ports::StacksError> {
        Ok(self.template(stack_name))
    }

    /// CloudFormation's naming, `<stack>-<LogicalId>`, for every resource deployed.
    async fn physical_ids(
        &self,
        stack_name: &str,
    ) -> Result<BTreeMap<String, String>, ferry_core::ports::StacksError> {
        Ok(self
            .template(stack_name)
            .and_then(|t| t["Resources"].as_object().cloned())
            .into_iter()
            .flatten()
            .map(|(id, _)| (id.clone(), format!("{stack_name}-{id}")))
            .collect())
    }
}

#[async_trait]
impl ferry_core::infra::deploy::ChangeSets for InMemoryStacks {
    async fn current_template(&self, stack: &str) -> Result<Option<String>, StackApiError> {
        Ok(self.template(stack).map(|t| t.to_string()))
    }

    async fn stack_status(&self, stack: &str) -> Result<Option<String>, StackApiError> {
        Ok(self
            .stacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(stack)
            .map(|s| s.status.clone()))
    }

    async fn stack_details(&self, stack: &str) -> Result<Option<StackDetails>, StackApiError> {
        let stacks = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
        Ok(stacks.get(stack).map(|s| StackDetails {
            status: s.status.clone(),
            parameters: s.parameters.clone(),
            outputs: s.template["Outputs"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, _)| (name.clone(), format!("{stack}/{name}")))
                .collect(),
        }))
    }

    async fn create_change_set(
        &self,
        stack: &str,
        name: &str,
        template: &str,
        parameters: &[(String, String)],
        _create: bool,
    ) -> Result<Option<String>, StackApiError> {
        let template = serde_json::from_str(template)
            .map_err(|e| StackApiError::Refused(format!("template is not JSON: {e}")))?;
        let id = format!("{stack}/{name}");
        self.change_sets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                id.clone(),
                PendingChange {
                    stack: stack.to_owned(),
                    template,
                    parameters: parameters.iter().cloned().collect(),
                },
            );
        Ok(Some(id))
    }

    async fn change_set_state(&self, change_set: &str) -> Result<ChangeSetState, StackApiError> {
        let sets = self.change_sets.lock().unwrap_or_else(|p| p.into_inner());
        let pending = sets
            .get(change_set)
            .ok_or_else(|| StackApiError::Refused(format!("no change set {change_set}")))?;
        let stacks = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
        let before = stacks.get(&pending.stack).map(|s| &s.template);
        let removed = before
            .and_then(|t| t["Resources"].as_object())
            .into_iter()
            .flatten()
            .filter(|(id, _)| pending.template["Resources"].get(id.as_str()).is_none())
            .map(|(id, resource)| ResourceChange {
                action: "Remove".into(),
                logical_id: id.clone(),
                resource_type: resource["Type"].as_str().unwrap_or("").into(),
                replacement: String::new(),
            });
        let changes: Vec<ResourceChange> = pending.template["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(id, resource)| {
                let old = before.and_then(|t| t["Resources"].get(id));
                let action = match old {
                    None => "Add",
                    Some(old) if old != resource => "Modify",
                    Some(_) => return None,
                };
                Some(ResourceChange {
                    action: action.into(),
                    logical_id: id.clone(),
                    resource_type: resource["Type"].as_str().unwrap_or("").into(),
                    replacement: if action == "Modify" {
                        "False".into()
                    } else {
                        String::new()
                    },
                })
            })
            .chain(removed)
            .collect();
        Ok(if changes.is_empty() {
            ChangeSetState::Empty
        } else {
            ChangeSetState::Ready(changes)
        })
    }

    async fn execute_change_set(&self, change_set: &str) -> Result<(), StackApiError> {
        let pending = self
            .change_sets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(change_set)
            .ok_or_else(|| StackApiError::Refused(format!("no change set {change_set}")))?;
        let mut stacks = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
        let failing = self
            .failing_executions
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok();
        match stacks.get_mut(&pending.stack) {
            Some(state) if failing => state.status = "UPDATE_ROLLBACK_COMPLETE".into(),
            Some(state) => {
                state.template = pending.template;
                state.parameters.extend(pending.parameters);
                state.status = if self.slow.load(std::sync::atomic::Ordering::SeqCst) {
                    "UPDATE_IN_PROGRESS".into()
                } else {
                    "UPDATE_COMPLETE".into()
                };
            }
            None => {
                stacks.insert(
                    pending.stack,
                    StackState {
                        template: pending.template,
                        parameters: pending.parameters,
                        status: "CREATE_COMPLETE".into(),
                    },
                );
            }
        }
        Ok(())
    }

    async fn delete_change_set(&self, change_set: &str) -> Result<(), StackApiError> {
        self.change_sets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(change_set);
        Ok(())
    }

    async fn stack_events(&self, _stack: &str) -> Result<Vec<StackEvent>, StackApiError> {
        Ok(vec![])
    }

    /// As CloudFormation: only an update in progress can be cancelled; it then rolls
    /// back (here, at once, unless the stack was told to stay busy).
    async fn cancel_update(&self, stack: &str) -> Result<(), StackApiError> {
        let mut stacks = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
        let state = stacks
            .get_mut(stack)
            .ok_or_else(|| StackApiError::Refused(format!("Stack {stack} does not exist")))?;
        if state.status != "UPDATE_IN_PROGRESS" {
            return Err(StackApiError::Refused(format!(
                "CancelUpdateStack cannot be called from current stack status {}",
                state.status
            )));
        }
        self.cancelled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(stack.to_owned());
        state.status = "UPDATE_ROLLBACK_IN_PROGRESS".into();
        Ok(())
    }
}

/// In-memory live state: what each resource's service would say, by physical id. A
/// resource nobody set reads as NOT_CHECKED, so a test states every state it relies on.
#[derive(Default)]
pub struct InMemoryLive {
    resources: Mutex<BTreeMap<String, ferry_core::ports::LiveRead>>,
}

impl InMemoryLive {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&self, physical_id: &str, state: ferry_core::ports::LiveRead) {
        self.resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(physical_id.to_owned(), state);
    }
}

#[async_trait]
impl ferry_core::ports::LiveResources for InMemoryLive {
    async fn read(
        &self,
        _resource_type: &str,
        physical_id: &str,
    ) -> Result<ferry_core::ports::LiveRead, ferry_core::ports::StacksError> {
        Ok(self
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(physical_id)
            .cloned()
            .unwrap_or_else(|| {
                ferry_core::ports::LiveRead::NotChecked(format!("{physical_id}: no state set"))
            }))
    }
}
