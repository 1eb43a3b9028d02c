//! An in-memory store with the same conditional semantics as the DynamoDB adapter, for
//! engine and handler tests.

use async_trait::async_trait;
use ferry_core::model::{
    AlertEvent, AlertState, App, Approval, Environment, Promotion, Report, ReportKind, StepRecord,
};
use ferry_core::names::{AppName, EnvName, PromotionId};
use ferry_core::ports::{
    AccessPolicies, Alerts, Completion, DeliveryLedger, Documents, Environments, Faults,
    Promotions, Reports, StoreError,
};
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
    /// How many more times a fault fires; absent: always.
    fault_times: BTreeMap<String, u32>,
    access: ferry_core::access::AccessPolicy,
    deliveries: BTreeMap<(String, String), ferry_core::model::Delivery>,
    states: BTreeMap<String, (String, u64)>,
    pinned_templates:
        BTreeMap<(PromotionId, ferry_core::model::TemplateRole), ferry_core::model::PinnedTemplate>,
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
impl Environments for InMemoryStore {
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
}

#[async_trait]
impl Promotions for InMemoryStore {
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
        status: ferry_core::model::PromotionStatus,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        promotion.steps.push(step.clone());
        // An ended promotion keeps how it ended.
        if !promotion.status.is_terminal() {
            promotion.status = status;
            promotion.updated_at = step.finished_at;
        }
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

    async fn set_watch_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        let mut t = self.lock();
        let promotion = t
            .promotions
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        promotion.watch_token = Some(token.to_owned());
        Ok(())
    }

    async fn record_decision(&self, approval: &Approval, token: &str) -> Result<(), StoreError> {
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
        promotion.approvals.push(approval.clone());
        Ok(())
    }

    async fn clear_approval_token(&self, id: &PromotionId, token: &str) -> Result<(), StoreError> {
        let mut t = self.lock();
        if let Some(promotion) = t.promotions.get_mut(id) {
            if promotion.approval_token.as_deref() == Some(token) {
                promotion.approval_token = None;
            }
        }
        Ok(())
    }

    async fn unlock(
        &self,
        app: &AppName,
        env: &EnvName,
        holder: &PromotionId,
        record: Option<(
            &ferry_core::model::Unlock,
            ferry_core::model::PromotionStatus,
        )>,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        let label = env_label(app, env);
        let key = (app.clone(), env.clone());
        let environment = t
            .environments
            .get(&key)
            .ok_or(StoreError::NotFound(label.clone()))?;
        if environment.active_promotion.as_ref() != Some(holder) {
            return Err(StoreError::LockNotHeld {
                env: label,
                promotion: holder.to_string(),
            });
        }
        if record.is_some() && !t.promotions.contains_key(holder) {
            return Err(StoreError::NotFound(format!("promotion {holder}")));
        }
        let environment = t.environments.get_mut(&key).expect("checked above");
        environment.active_promotion = None;
        environment.version += 1;
        if let Some((unlock, status)) = record {
            let promotion = t.promotions.get_mut(holder).expect("checked above");
            promotion.unlocked = Some(unlock.clone());
            promotion.status = status;
            promotion.updated_at = unlock.at;
        }
        Ok(())
    }

    async fn pin_template(
        &self,
        id: &PromotionId,
        role: ferry_core::model::TemplateRole,
        template: &ferry_core::model::PinnedTemplate,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        match t.pinned_templates.get(&(id.clone(), role)) {
            Some(pinned) if pinned.sha256 == template.sha256 => Ok(()),
            Some(_) => Err(StoreError::AlreadyExists(format!(
                "a different template pinned for promotion {id}"
            ))),
            None => {
                t.pinned_templates
                    .insert((id.clone(), role), template.clone());
                Ok(())
            }
        }
    }

    async fn pinned_template(
        &self,
        id: &PromotionId,
        role: ferry_core::model::TemplateRole,
    ) -> Result<Option<ferry_core::model::PinnedTemplate>, StoreError> {
        Ok(self
            .lock()
            .pinned_templates
            .get(&(id.clone(), role))
            .cloned())
    }
}

#[async_trait]
impl Reports for InMemoryStore {
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
}

#[async_trait]
impl Alerts for InMemoryStore {
    async fn record_alert(&self, event: &AlertEvent) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if !t.alert_events.insert(event.event_id.clone()) {
            return Ok(false);
        }
        let previous = t.alert_states.get(&event.alarm_name).cloned();
        t.alert_states.insert(
            event.alarm_name.clone(),
            ferry_core::monitoring::alerts::next_state(previous.as_ref(), event),
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
}

#[async_trait]
impl DeliveryLedger for InMemoryStore {
    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<ferry_core::model::Delivery, StoreError> {
        Ok(self
            .lock()
            .deliveries
            .entry((dedup_key.to_owned(), channel.to_owned()))
            .or_insert_with(|| ferry_core::model::Delivery {
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
}

#[async_trait]
impl AccessPolicies for InMemoryStore {
    async fn access_policy(&self) -> Result<ferry_core::access::AccessPolicy, StoreError> {
        Ok(self.lock().access.clone())
    }

    async fn put_access_policy(
        &self,
        policy: &ferry_core::access::AccessPolicy,
    ) -> Result<(), StoreError> {
        self.lock().access = policy.clone();
        Ok(())
    }
}

#[async_trait]
impl Faults for InMemoryStore {
    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut tables = self.lock();
        match tables.fault_times.get_mut(key) {
            Some(0) => Ok(None),
            Some(left) => {
                *left -= 1;
                Ok(tables.faults.get(key).cloned())
            }
            None => Ok(tables.faults.get(key).cloned()),
        }
    }
}

#[async_trait]
impl Documents for InMemoryStore {
    async fn load_document(&self, key: &str) -> Result<Option<(String, u64)>, StoreError> {
        Ok(self.lock().states.get(key).cloned())
    }

    async fn save_document(&self, key: &str, json: &str, expected: u64) -> Result<u64, StoreError> {
        let mut tables = self.lock();
        let current = tables.states.get(key).map_or(0, |(_, v)| *v);
        if current != expected {
            return Err(StoreError::VersionConflict {
                what: format!("state {key}"),
                expected,
            });
        }
        let version = current + 1;
        tables
            .states
            .insert(key.to_owned(), (json.to_owned(), version));
        Ok(version)
    }
}

impl InMemoryStore {
    /// Makes the promotion step `key` (`<app>/<env>/<action>`) fail with `error`.
    pub fn inject_fault(&self, key: &str, error: &str) {
        self.lock().faults.insert(key.to_owned(), error.to_owned());
    }

    /// [`InMemoryStore::inject_fault`] for the next `times` runs of the step only, as the
    /// DynamoDB store's `remaining`.
    pub fn inject_fault_times(&self, key: &str, error: &str, times: u32) {
        let mut tables = self.lock();
        tables.faults.insert(key.to_owned(), error.to_owned());
        tables.fault_times.insert(key.to_owned(), times);
    }
}
