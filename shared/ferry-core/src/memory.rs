//! An in-memory [`Store`] with the same conditional semantics as the DynamoDB adapter,
//! for engine and handler tests and for the CLI's offline planning.

use crate::infra::deploy::{
    ChangeSetState, ResourceChange, StackApiError, StackDetails, StackEvent,
};
use crate::model::{
    AlertEvent, AlertState, App, Approval, Environment, Promotion, Report, ReportKind, StepRecord,
};
use crate::names::{AppName, EnvName, PromotionId};
use crate::ports::{Completion, MetricQuery, Metrics, MetricsError, Store, StoreError};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct Tables {
    apps: BTreeMap<AppName, App>,
    environments: BTreeMap<(AppName, EnvName), Environment>,
    promotions: BTreeMap<PromotionId, Promotion>,
    reports: Vec<Report>,
    alert_events: BTreeSet<String>,
    alert_states: BTreeMap<String, AlertState>,
    faults: BTreeMap<String, String>,
    access: crate::access::AccessPolicy,
    deliveries: BTreeMap<(String, String), crate::model::Delivery>,
    states: BTreeMap<String, (serde_json::Value, u64)>,
}

#[derive(Default)]
pub struct InMemoryStore {
    tables: Mutex<Tables>,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied write behind (every
        // write below is applied after all its checks), so a poisoned lock is still valid.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn env_key(env: &Environment) -> (AppName, EnvName) {
    (env.app.clone(), env.name.clone())
}

fn env_label(app: &AppName, env: &EnvName) -> String {
    format!("environment {app}/{env}")
}

#[async_trait]
impl Store for InMemoryStore {
    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.apps.contains_key(&app.name) {
            return Err(StoreError::AlreadyExists(format!("app {}", app.name)));
        }
        t.apps.insert(app.name.clone(), app.clone());
        Ok(())
    }

    async fn get_app(&self, name: &AppName) -> Result<Option<App>, StoreError> {
        Ok(self.lock().apps.get(name).cloned())
    }

    async fn put_environment(
        &self,
        environment: &Environment,
        expected_version: Option<u64>,
    ) -> Result<Environment, StoreError> {
        let mut t = self.lock();
        let key = env_key(environment);
        let label = env_label(&environment.app, &environment.name);
        match (t.environments.get(&key), expected_version) {
            (Some(_), None) => return Err(StoreError::AlreadyExists(label)),
            (None, Some(expected)) => {
                return Err(StoreError::VersionConflict {
                    what: label,
                    expected,
                })
            }
            (Some(stored), Some(expected)) if stored.version != expected => {
                return Err(StoreError::VersionConflict {
                    what: label,
                    expected,
                })
            }
            _ => {}
        }
        if let Some(owner) = t
            .environments
            .values()
            .find(|e| e.stack_name == environment.stack_name && env_key(e) != key)
        {
            return Err(StoreError::StackTaken {
                stack: environment.stack_name.clone(),
                owner: format!("{}/{}", owner.app, owner.name),
            });
        }
        let mut stored = environment.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        t.environments.insert(key, stored.clone());
        Ok(stored)
    }

    async fn get_environment(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Environment>, StoreError> {
        Ok(self
            .lock()
            .environments
            .get(&(app.clone(), env.clone()))
            .cloned())
    }

    async fn list_environments(
        &self,
        app: Option<&AppName>,
    ) -> Result<Vec<Environment>, StoreError> {
        Ok(self
            .lock()
            .environments
            .values()
            .filter(|e| app.is_none_or(|a| &e.app == a))
            .cloned()
            .collect())
    }

    async fn create_promotion(&self, promotion: &Promotion) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.promotions.contains_key(&promotion.id) {
            return Err(StoreError::AlreadyExists(format!(
                "promotion {}",
                promotion.id
            )));
        }
        let key = (promotion.app.clone(), promotion.target_env.clone());
        let label = env_label(&promotion.app, &promotion.target_env);
        let env = t
            .environments
            .get_mut(&key)
            .ok_or(StoreError::NotFound(label.clone()))?;
        if let Some(holder) = &env.active_promotion {
            return Err(StoreError::Locked {
                env: label,
                holder: holder.to_string(),
            });
        }
        // Taking the lock is a write like any other: it bumps the version, so a concurrent
        // spec update that read the unlocked environment cannot clear the lock.
        env.active_promotion = Some(promotion.id.clone());
        env.version += 1;
        let mut stored = promotion.clone();
        stored.steps.clear();
        stored.approvals.clear();
        t.promotions.insert(promotion.id.clone(), stored);
        Ok(())
    }

    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        Ok(self.lock().promotions.get(id).cloned())
    }

    async fn list_promotions(
        &self,
        app: &AppName,
        target_env: &EnvName,
        limit: usize,
    ) -> Result<Vec<Promotion>, StoreError> {
        let t = self.lock();
        let mut found: Vec<Promotion> = t
            .promotions
            .values()
            .filter(|p| &p.app == app && &p.target_env == target_env)
            .cloned()
            .collect();
        found.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        found.truncate(limit);
        Ok(found)
    }

    async fn record_step(
        &self,
        id: &PromotionId,
        step: &StepRecord,
        status: crate::model::PromotionStatus,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        promotion.steps.push(step.clone());
        promotion.status = status;
        promotion.updated_at = step.finished_at;
        Ok(())
    }

    async fn set_execution_arn(&self, id: &PromotionId, arn: &str) -> Result<(), StoreError> {
        let mut t = self.lock();
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        promotion.execution_arn = Some(arn.to_owned());
        Ok(())
    }

    async fn complete_promotion(
        &self,
        promotion: &Promotion,
        completion: Completion,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let key = (promotion.app.clone(), promotion.target_env.clone());
        let label = env_label(&promotion.app, &promotion.target_env);
        let env = t
            .environments
            .get(&key)
            .ok_or(StoreError::NotFound(label.clone()))?;
        if env.active_promotion.as_ref() != Some(&promotion.id) {
            return Err(StoreError::LockNotHeld {
                env: label,
                promotion: promotion.id.to_string(),
            });
        }
        if let Some(next) = &completion.environment {
            if next.version != env.version {
                return Err(StoreError::VersionConflict {
                    what: label,
                    expected: next.version,
                });
            }
        }
        let now = chrono::Utc::now();
        let env = t.environments.get_mut(&key).expect("checked above");
        if let Some(next) = completion.environment {
            *env = Environment {
                version: next.version,
                ..next
            };
        }
        env.active_promotion = None;
        env.version += 1;
        if let Some(stored) = t.promotions.get_mut(&promotion.id) {
            stored.status = completion.status;
            stored.updated_at = now;
        }
        Ok(())
    }

    async fn set_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        let mut t = self.lock();
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        promotion.approval_token = Some(token.to_owned());
        Ok(())
    }

    async fn decide_approval(&self, approval: &Approval, token: &str) -> Result<(), StoreError> {
        let mut t = self.lock();
        let id = &approval.promotion_id;
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        if promotion.approval_token.as_deref() != Some(token) {
            return Err(StoreError::VersionConflict {
                what: format!("the approval of promotion {id}"),
                expected: 0,
            });
        }
        promotion.approval_token = None;
        promotion.approvals.push(approval.clone());
        Ok(())
    }

    async fn put_report(&self, report: &Report) -> Result<(), StoreError> {
        self.lock().reports.push(report.clone());
        Ok(())
    }

    async fn latest_report(
        &self,
        app: &AppName,
        env: &EnvName,
        kind: ReportKind,
    ) -> Result<Option<Report>, StoreError> {
        Ok(self
            .lock()
            .reports
            .iter()
            .filter(|r| &r.app == app && &r.env == env && r.kind == kind)
            .max_by_key(|r| r.created_at)
            .cloned())
    }

    async fn record_alert(&self, event: &AlertEvent) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if !t.alert_events.insert(event.event_id.clone()) {
            return Ok(false);
        }
        let previous = t.alert_states.get(&event.alarm_name).cloned();
        t.alert_states.insert(
            event.alarm_name.clone(),
            crate::monitoring::alerts::next_state(previous.as_ref(), event),
        );
        Ok(true)
    }

    async fn get_alert_state(&self, alarm_name: &str) -> Result<Option<AlertState>, StoreError> {
        Ok(self.lock().alert_states.get(alarm_name).cloned())
    }

    async fn open_alerts(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Vec<AlertState>, StoreError> {
        Ok(self
            .lock()
            .alert_states
            .values()
            .filter(|a| {
                a.state == "ALARM" && a.app.as_ref() == Some(app) && a.env.as_ref() == Some(env)
            })
            .cloned()
            .collect())
    }

    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().faults.get(key).cloned())
    }

    async fn load_state(&self, key: &str) -> Result<Option<(serde_json::Value, u64)>, StoreError> {
        Ok(self.lock().states.get(key).cloned())
    }

    async fn save_state(
        &self,
        key: &str,
        state: &serde_json::Value,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut tables = self.lock();
        let current = tables.states.get(key).map(|(_, v)| *v);
        if current != expected_version {
            return Err(StoreError::VersionConflict {
                what: format!("state {key}"),
                expected: expected_version.unwrap_or(0),
            });
        }
        let version = current.unwrap_or(0) + 1;
        tables
            .states
            .insert(key.to_owned(), (state.clone(), version));
        Ok(version)
    }

    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::model::Delivery, StoreError> {
        Ok(self
            .lock()
            .deliveries
            .entry((dedup_key.to_owned(), channel.to_owned()))
            .or_insert_with(|| crate::model::Delivery {
                dedup_key: dedup_key.to_owned(),
                channel: channel.to_owned(),
                sent: false,
                attempts: 0,
                created_at: at,
                sent_at: None,
            })
            .clone())
    }

    async fn finish_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        attempts: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let delivery = tables
            .deliveries
            .get_mut(&(dedup_key.to_owned(), channel.to_owned()))
            .ok_or_else(|| StoreError::NotFound(format!("delivery {dedup_key} on {channel}")))?;
        delivery.sent = true;
        delivery.attempts += attempts;
        delivery.sent_at = Some(at);
        Ok(())
    }

    async fn access_policy(&self) -> Result<crate::access::AccessPolicy, StoreError> {
        Ok(self.lock().access.clone())
    }

    async fn put_access_policy(
        &self,
        policy: &crate::access::AccessPolicy,
    ) -> Result<(), StoreError> {
        self.lock().access = policy.clone();
        Ok(())
    }
}

impl InMemoryStore {
    /// Makes the promotion step `key` (`<app>/<env>/<action>`) fail with `error`.
    pub fn inject_fault(&self, key: &str, error: &str) {
        self.lock().faults.insert(key.to_owned(), error.to_owned());
    }
}

/// An in-memory [`Workflow`](crate::ports::Workflow): remembers the executions it was
/// asked to start (by name, as Step Functions does) and can be switched off to exercise
/// the callers' failure paths.
#[derive(Default)]
pub struct InMemoryWorkflow {
    started: Mutex<Vec<(PromotionId, serde_json::Value)>>,
    completed: Mutex<Vec<(String, bool, serde_json::Value)>>,
    unavailable: std::sync::atomic::AtomicBool,
}

impl InMemoryWorkflow {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable
            .store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    /// Approvals completed: (task token, approved, output).
    pub fn completed(&self) -> Vec<(String, bool, serde_json::Value)> {
        self.completed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn started(&self) -> Vec<(PromotionId, serde_json::Value)> {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl crate::ports::Workflow for InMemoryWorkflow {
    async fn complete_approval(
        &self,
        token: &str,
        approved: bool,
        output: &serde_json::Value,
    ) -> Result<(), crate::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        self.completed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((token.to_owned(), approved, output.clone()));
        Ok(())
    }

    async fn start_promotion(
        &self,
        id: &PromotionId,
        input: &serde_json::Value,
    ) -> Result<String, crate::ports::WorkflowError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::ports::WorkflowError::Unavailable(
                "switched off".into(),
            ));
        }
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        // Same name: the same execution, as with Step Functions.
        if !started.iter().any(|(started_id, _)| started_id == id) {
            started.push((id.clone(), input.clone()));
        }
        Ok(format!(
            "arn:aws:states:local:000000000000:execution:promotion:{id}"
        ))
    }
}

/// In-memory CloudFormation: stacks with their templates, parameters and outputs, and
/// change sets that apply at once. Outputs are named after the template's, with the
/// stack and output name as the value, since nothing resolves intrinsics here.
#[derive(Default)]
pub struct InMemoryStacks {
    stacks: Mutex<BTreeMap<String, StackState>>,
    change_sets: Mutex<BTreeMap<String, PendingChange>>,
    /// Change sets whose execution fails (and rolls back), by how many are left.
    failing_executions: std::sync::atomic::AtomicUsize,
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

    /// The next `count` executions fail and roll back, as a bad update would.
    pub fn fail_next_executions(&self, count: usize) {
        self.failing_executions
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl crate::ports::DeployedStacks for InMemoryStacks {
    async fn deployed_template(
        &self,
        stack_name: &str,
    ) -> Result<Option<serde_json::Value>, crate::ports::StacksError> {
        Ok(self.template(stack_name))
    }

    /// CloudFormation's naming, `<stack>-<LogicalId>`, for every resource deployed.
    async fn physical_ids(
        &self,
        stack_name: &str,
    ) -> Result<BTreeMap<String, String>, crate::ports::StacksError> {
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
impl crate::infra::deploy::ChangeSets for InMemoryStacks {
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
                state.status = "UPDATE_COMPLETE".into();
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
}

/// A metric name, its sorted dimensions, a timestamp and a value.
type DataPoint = (
    String,
    Vec<(String, String)>,
    chrono::DateTime<chrono::Utc>,
    f64,
);

/// In-memory CloudWatch: raw data points per metric, the statistics computed per period
/// as CloudWatch does, and alarm states.
#[derive(Default)]
pub struct InMemoryMetrics {
    points: Mutex<Vec<DataPoint>>,
    alarms: Mutex<BTreeMap<String, String>>,
}

impl InMemoryMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(
        &self,
        metric: &str,
        dimensions: &[(&str, &str)],
        at: chrono::DateTime<chrono::Utc>,
        value: f64,
    ) {
        let mut dims: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        dims.sort();
        self.points.lock().unwrap_or_else(|p| p.into_inner()).push((
            metric.to_owned(),
            dims,
            at,
            value,
        ));
    }

    pub fn set_alarm(&self, name: &str, state: &str) {
        self.alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), state.to_owned());
    }
}

/// A CloudWatch statistic over one period's values.
pub fn statistic(stat: &str, values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let sum: f64 = values.iter().sum();
    match stat {
        "Sum" => Some(sum),
        "Average" => Some(sum / values.len() as f64),
        "Minimum" => values.first().copied(),
        "Maximum" => values.last().copied(),
        "SampleCount" => Some(values.len() as f64),
        p => {
            let q: f64 = p.strip_prefix('p')?.parse().ok()?;
            let rank = ((q / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
            values.get(rank - 1).copied()
        }
    }
}

#[async_trait]
impl Metrics for InMemoryMetrics {
    async fn series(
        &self,
        query: &MetricQuery,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, f64)>, MetricsError> {
        let mut dims = query.dimensions.clone();
        dims.sort();
        let period = chrono::Duration::seconds(i64::from(query.period_seconds.max(1)));
        let mut buckets: BTreeMap<chrono::DateTime<chrono::Utc>, Vec<f64>> = BTreeMap::new();
        for (metric, d, at, value) in self.points.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if *metric == query.metric && *d == dims && *at >= start && *at < end {
                let index = (*at - start).num_milliseconds() / period.num_milliseconds();
                buckets
                    .entry(start + period * index as i32)
                    .or_default()
                    .push(*value);
            }
        }
        Ok(buckets
            .into_iter()
            .filter_map(|(at, mut values)| statistic(&query.stat, &mut values).map(|v| (at, v)))
            .collect())
    }

    async fn alarms_firing(&self, prefix: &str) -> Result<Vec<String>, MetricsError> {
        Ok(self
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(name, state)| name.starts_with(prefix) && *state == "ALARM")
            .map(|(name, _)| name.clone())
            .collect())
    }
}

/// A release of the shop image whose digest is `fill` repeated: `release('a')`.
pub fn release(fill: char) -> crate::model::Release {
    crate::model::Release {
        image: crate::names::ImageRef::parse(
            "image",
            &format!("repo/shop@sha256:{}", fill.to_string().repeat(64)),
        )
        .expect("a valid digest"),
        config: serde_json::Map::new(),
        recorded_at: chrono::Utc::now(),
    }
}

/// The spec of the test and demo app: a web service and a postgres database.
pub const SHOP_SPEC: &str = r#"{
  "app": "shop",
  "services": [{"name": "web", "image": "public.ecr.aws/docker/library/nginx:stable", "port": 8080, "cpu": 512, "memory": 1024, "desired_count": 2, "health_check_path": "/health"}],
  "database": {"engine": "postgres", "version": "17.6", "instance_class": "db.t4g.micro", "storage_gb": 20}
}"#;

/// Test and demo data: app `shop` with `dev` (with a release) and `staging` (nothing
/// deployed), both from [`SHOP_SPEC`].
pub async fn seed_shop(store: &dyn Store) -> Result<(), StoreError> {
    use crate::model::Release;
    use crate::names::{Colour, ImageRef};
    let spec = crate::infra::spec::AppSpec::parse(SHOP_SPEC).expect("the shop spec is valid");
    let app = spec.app.clone();
    store
        .create_app(&App {
            name: app.clone(),
            created_at: chrono::Utc::now(),
        })
        .await?;
    for name in ["dev", "staging"] {
        let env = EnvName::parse("env", name).expect("valid");
        let release = (name == "dev").then(|| Release {
            image: ImageRef::parse("image", &format!("repo/shop@sha256:{}", "ab".repeat(32)))
                .expect("valid"),
            config: serde_json::Map::new(),
            recorded_at: chrono::Utc::now(),
        });
        store
            .put_environment(
                &Environment {
                    stack_name: Environment::default_stack_name(&app, &env),
                    app: app.clone(),
                    spec: spec.environment(name).expect("resolves"),
                    name: env,
                    deployed_release: release,
                    live_colour: Colour::Blue,
                    active_promotion: None,
                    version: 0,
                    updated_at: chrono::Utc::now(),
                },
                None,
            )
            .await?;
    }
    Ok(())
}
