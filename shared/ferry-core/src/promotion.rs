//! Promotions: creating one (with the target environment's lock), and the steps the
//! promotion state machine runs. Each step records what it did on the promotion, so the
//! record in DynamoDB is the timeline, whatever happens to the execution.

use crate::deploy::{ChangeSets, DeployError, Polling, ResourceChange, StackApiError};
use crate::model::{Environment, Promotion, PromotionStatus, StepOutcome, StepRecord};
use crate::names::{AppName, Colour, EnvName, PromotionId, Strategy};
use crate::ports::{Completion, MetricQuery, Metrics, MetricsError, Store, StoreError};
use crate::rollout::{Candidate, Rollout, TrafficStep};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A `POST /promotions` body after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionRequest {
    pub app: AppName,
    pub source_env: EnvName,
    pub target_env: EnvName,
    pub strategy: Strategy,
}

fn string_field<'a>(
    body: &'a Value,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<&'a str> {
    match body.get(field) {
        None | Some(Value::Null) => {
            errors.push(field, "is required");
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            errors.push(field, format!("must be a string, not {other}"));
            None
        }
    }
}

impl PromotionRequest {
    /// Validates a request body, reporting every bad field at once.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !body.is_object() {
            errors.push("body", "must be a JSON object");
            return Err(errors);
        }
        let app = string_field(body, "app", &mut errors)
            .and_then(|v| errors.take(AppName::parse("app", v)));
        let source = string_field(body, "source_env", &mut errors)
            .and_then(|v| errors.take(EnvName::parse("source_env", v)));
        let target = string_field(body, "target_env", &mut errors)
            .and_then(|v| errors.take(EnvName::parse("target_env", v)));
        let strategy = match body.get("strategy") {
            None | Some(Value::Null) => Some(Strategy::BlueGreen),
            Some(Value::String(s)) => errors.take(Strategy::parse("strategy", s)),
            Some(other) => {
                errors.push("strategy", format!("must be a string, not {other}"));
                None
            }
        };
        if let (Some(s), Some(t)) = (&source, &target) {
            if s == t {
                errors.push("target_env", format!("must differ from source_env ('{s}')"));
            }
        }
        let known = ["app", "source_env", "target_env", "strategy"];
        for key in body.as_object().into_iter().flat_map(|o| o.keys()) {
            if !known.contains(&key.as_str()) {
                errors.push(
                    key.clone(),
                    format!("is not a known field; use {}", known.join(", ")),
                );
            }
        }
        match (app, source, target, strategy) {
            (Some(app), Some(source_env), Some(target_env), Some(strategy))
                if errors.is_empty() =>
            {
                Ok(Self {
                    app,
                    source_env,
                    target_env,
                    strategy,
                })
            }
            _ => Err(errors),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CreateError {
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("{env} already has promotion {holder} in progress")]
    Busy { env: String, holder: String },
    /// The idempotency key was used before for a different request.
    #[error("promotion {0} exists with different parameters; use a new idempotency key")]
    KeyReused(String),
    #[error(transparent)]
    Store(StoreError),
}

/// The outcome of creating a promotion: new, or the one an earlier identical request made.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub promotion: Promotion,
    pub replayed: bool,
}

/// Checks the request against what is stored, then stores the promotion and takes the
/// target's lock in one atomic write. A replay with the same id and parameters returns
/// the stored promotion, so clients can retry safely.
pub async fn create(
    store: &dyn Store,
    request: PromotionRequest,
    id: PromotionId,
    requested_by: String,
    now: DateTime<Utc>,
) -> Result<Created, CreateError> {
    if let Some(existing) = store.get_promotion(&id).await.map_err(CreateError::Store)? {
        let same = existing.app == request.app
            && existing.source_env == request.source_env
            && existing.target_env == request.target_env
            && existing.strategy == request.strategy;
        return if same {
            Ok(Created {
                promotion: existing,
                replayed: true,
            })
        } else {
            Err(CreateError::KeyReused(id.to_string()))
        };
    }
    let mut errors = ValidationErrors::default();
    if store
        .get_app(&request.app)
        .await
        .map_err(CreateError::Store)?
        .is_none()
    {
        errors.push("app", format!("'{}' is not a known app", request.app));
        return Err(CreateError::Invalid(errors));
    }
    let source = store
        .get_environment(&request.app, &request.source_env)
        .await
        .map_err(CreateError::Store)?;
    let target = store
        .get_environment(&request.app, &request.target_env)
        .await
        .map_err(CreateError::Store)?;
    if target.is_none() {
        errors.push(
            "target_env",
            format!(
                "'{}' is not an environment of {}",
                request.target_env, request.app
            ),
        );
    }
    let release = match source {
        None => {
            errors.push(
                "source_env",
                format!(
                    "'{}' is not an environment of {}",
                    request.source_env, request.app
                ),
            );
            None
        }
        Some(env) => match env.deployed_release {
            Some(release) => Some(release),
            None => {
                errors.push(
                    "source_env",
                    format!(
                        "'{}' has no deployed release to promote",
                        request.source_env
                    ),
                );
                None
            }
        },
    };
    let plan = match &target {
        Some(target) => crate::rollout::plan(request.strategy, &target.spec.promotion)
            .unwrap_or_else(|problem| {
                errors.push("strategy", problem);
                vec![]
            }),
        None => vec![],
    };
    errors.into_result().map_err(CreateError::Invalid)?;

    let promotion = Promotion {
        id,
        app: request.app,
        source_env: request.source_env,
        target_env: request.target_env,
        strategy: request.strategy,
        status: PromotionStatus::Pending,
        requested_by,
        release,
        plan,
        execution_arn: None,
        created_at: now,
        updated_at: now,
        steps: vec![],
        approvals: vec![],
        approval_token: None,
    };
    match store.create_promotion(&promotion).await {
        Ok(()) => Ok(Created {
            promotion,
            replayed: false,
        }),
        Err(StoreError::Locked { env, holder }) => Err(CreateError::Busy { env, holder }),
        Err(other) => Err(CreateError::Store(other)),
    }
}

/// The input the state machine passes to every promotion step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepInput {
    pub action: Action,
    pub promotion_id: PromotionId,
    /// For `rollback`: the error the state machine caught.
    #[serde(default)]
    pub cause: Option<Value>,
    /// For `await_approval`: the task token an approver's decision completes.
    #[serde(default)]
    pub task_token: Option<String>,
    /// For `shift` and `analyse`: the index into the promotion's traffic plan.
    #[serde(default)]
    pub step: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Validate,
    AssessRisk,
    AwaitApproval,
    Deploy,
    Shift,
    Analyse,
    Finalise,
    Rollback,
}

impl Action {
    fn step_name(self) -> &'static str {
        match self {
            Action::Validate => "Validate",
            Action::AssessRisk => "AssessRisk",
            Action::AwaitApproval => "AwaitApproval",
            Action::Deploy => "Deploy",
            Action::Shift => "Shift",
            Action::Analyse => "Analyse",
            Action::Finalise => "Finalise",
            Action::Rollback => "Rollback",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Action::Validate => "validate",
            Action::AssessRisk => "assess_risk",
            Action::AwaitApproval => "await_approval",
            Action::Deploy => "deploy",
            Action::Shift => "shift",
            Action::Analyse => "analyse",
            Action::Finalise => "finalise",
            Action::Rollback => "rollback",
        }
    }
}

/// Step failures. The name of each variant is the `errorType` the function reports, and
/// what the state machine's `Retry` and `Catch` blocks match: keep them stable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StepError {
    #[error("promotion {0} was not found")]
    PromotionNotFound(String),
    /// The promotion cannot go ahead; not worth retrying.
    #[error("{0}")]
    ValidationFailed(String),
    /// Another writer took the lock or changed the environment under us.
    #[error("{0}")]
    LockLost(String),
    /// Storage or an AWS API throttled or timed out: the state machine retries these.
    #[error("{0}")]
    TransientError(String),
    /// A change set on the environment's stack failed (CloudFormation rolled it back).
    #[error("{0}")]
    DeployFailed(String),
    /// An environment alarm was in ALARM during the bake.
    #[error("{message}")]
    AlarmFired { message: String, detail: Value },
    /// The canary judge failed the new colour.
    #[error("{message}")]
    CanaryFailed { message: String, detail: Value },
    /// The new colour was not healthy in its own target group before taking traffic.
    #[error("{message}")]
    SmokeFailed { message: String, detail: Value },
    /// Traffic could not be put back on the old colour; the lock is released regardless.
    #[error("{0}")]
    RollbackIncomplete(String),
    /// A local run asked this step to fail (fault injection).
    #[error("{0}")]
    FaultInjected(String),
    #[error("{0}")]
    InternalError(String),
}

impl StepError {
    pub fn name(&self) -> &'static str {
        match self {
            StepError::PromotionNotFound(_) => "PromotionNotFound",
            StepError::ValidationFailed(_) => "ValidationFailed",
            StepError::LockLost(_) => "LockLost",
            StepError::TransientError(_) => "TransientError",
            StepError::DeployFailed(_) => "DeployFailed",
            StepError::AlarmFired { .. } => "AlarmFired",
            StepError::CanaryFailed { .. } => "CanaryFailed",
            StepError::SmokeFailed { .. } => "SmokeFailed",
            StepError::RollbackIncomplete(_) => "RollbackIncomplete",
            StepError::FaultInjected(_) => "FaultInjected",
            StepError::InternalError(_) => "InternalError",
        }
    }

    /// What a failed analysis found, kept on the step record.
    fn detail(&self) -> Option<&Value> {
        match self {
            StepError::AlarmFired { detail, .. }
            | StepError::CanaryFailed { detail, .. }
            | StepError::SmokeFailed { detail, .. } => Some(detail),
            _ => None,
        }
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => StepError::TransientError(error.to_string()),
            StoreError::LockNotHeld { .. }
            | StoreError::Locked { .. }
            | StoreError::VersionConflict { .. } => StepError::LockLost(error.to_string()),
            _ => StepError::InternalError(error.to_string()),
        }
    }
}

impl From<MetricsError> for StepError {
    fn from(error: MetricsError) -> Self {
        match error {
            MetricsError::Unavailable(_) => StepError::TransientError(error.to_string()),
            MetricsError::Refused(_) => StepError::InternalError(error.to_string()),
        }
    }
}

impl From<DeployError> for StepError {
    fn from(error: DeployError) -> Self {
        match error {
            DeployError::Busy { .. } | DeployError::Api(StackApiError::Unavailable(_)) => {
                StepError::TransientError(error.to_string())
            }
            _ => StepError::DeployFailed(error.to_string()),
        }
    }
}

/// Settings the steps read from the function's config.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPolicy {
    /// At or above this risk score, any environment needs an approval.
    pub approval_threshold: u8,
    /// How the steps follow a change set on the environment's stack.
    pub polling: Polling,
    /// Honour faults a local run injects; never on in a deployed Ferry.
    pub fault_injection: bool,
}

impl Default for StepPolicy {
    fn default() -> Self {
        Self {
            approval_threshold: 60,
            polling: Polling {
                interval: std::time::Duration::from_secs(5),
                // Under the function's 15-minute limit, with room to record the failure.
                timeout: std::time::Duration::from_secs(13 * 60),
            },
            fault_injection: false,
        }
    }
}

pub struct Steps<'a> {
    pub store: &'a dyn Store,
    pub stacks: &'a dyn ChangeSets,
    pub metrics: &'a dyn Metrics,
    pub policy: StepPolicy,
    pub now: fn() -> DateTime<Utc>,
}

impl Steps<'_> {
    /// Runs one step and records it on the promotion, successful or not.
    pub async fn run(&self, input: &StepInput) -> Result<Value, StepError> {
        let started_at = (self.now)();
        let promotion = self
            .store
            .get_promotion(&input.promotion_id)
            .await?
            .ok_or_else(|| StepError::PromotionNotFound(input.promotion_id.to_string()))?;
        let result = match self.injected_fault(&promotion, input.action).await? {
            Some(fault) => Err(fault),
            None => self.dispatch(&promotion, input, started_at).await,
        };
        let (outcome, detail) = match &result {
            Ok(detail) => (StepOutcome::Succeeded, detail.clone()),
            Err(error) => {
                let mut detail = json!({"error": error.name(), "message": error.to_string()});
                if let Some(found) = error.detail() {
                    detail["analysis"] = found.clone();
                }
                (StepOutcome::Failed, detail)
            }
        };
        let awaiting = (Action::AwaitApproval, true);
        let status = match (input.action, result.is_ok()) {
            // A stray execution (a replay, a second start) must not rewrite how a
            // promotion ended; its steps are still recorded for the audit trail.
            _ if promotion.status.is_terminal() => promotion.status,
            (Action::Finalise, true) => PromotionStatus::Succeeded,
            a if a == awaiting => PromotionStatus::AwaitingApproval,
            (Action::Rollback, true) if was_rejected(&promotion, input.cause.as_ref()) => {
                PromotionStatus::Rejected
            }
            (Action::Rollback, true) => PromotionStatus::RolledBack,
            (Action::Rollback, false) => PromotionStatus::Failed,
            _ => PromotionStatus::Running,
        };
        let name = match input.step {
            Some(i) if matches!(input.action, Action::Shift | Action::Analyse) => {
                format!("{} {}", input.action.step_name(), i + 1)
            }
            _ => input.action.step_name().to_owned(),
        };
        let step = StepRecord {
            name,
            outcome,
            started_at,
            finished_at: (self.now)(),
            detail,
        };
        // A transient failure will be retried and recorded then; recording it now too
        // would only add noise to the timeline.
        if !matches!(result, Err(StepError::TransientError(_))) {
            self.store.record_step(&promotion.id, &step, status).await?;
        }
        result
    }

    async fn dispatch(
        &self,
        promotion: &Promotion,
        input: &StepInput,
        started_at: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let step = || {
            input.step.ok_or_else(|| {
                StepError::ValidationFailed(format!("{} needs a step index", input.action.key()))
            })
        };
        match input.action {
            Action::Validate => self.validate(promotion).await,
            Action::AssessRisk => self.assess_risk(promotion, started_at).await,
            Action::AwaitApproval => {
                self.await_approval(promotion, input.task_token.as_deref())
                    .await
            }
            Action::Deploy => self.deploy(promotion).await,
            Action::Shift => self.shift(promotion, step()?).await,
            Action::Analyse => self.analyse(promotion, step()?, started_at).await,
            Action::Finalise => self.finalise(promotion).await,
            Action::Rollback => self.rollback(promotion, input.cause.clone()).await,
        }
    }

    /// Fault injection for local runs: `<app>/<env>/<action>` in the store names the
    /// error this step fails with. Rollback is never failed this way: it is what a
    /// fault must lead to.
    async fn injected_fault(
        &self,
        promotion: &Promotion,
        action: Action,
    ) -> Result<Option<StepError>, StepError> {
        if !self.policy.fault_injection || action == Action::Rollback {
            return Ok(None);
        }
        let key = format!(
            "{}/{}/{}",
            promotion.app,
            promotion.target_env,
            action.key()
        );
        let fault = self.store.injected_fault(&key).await?;
        Ok(fault.map(|name| {
            let message = format!("fault injected at {key}");
            match name.as_str() {
                "TransientError" => StepError::TransientError(message),
                "DeployFailed" => StepError::DeployFailed(message),
                _ => StepError::FaultInjected(message),
            }
        }))
    }

    async fn environments(
        &self,
        promotion: &Promotion,
    ) -> Result<(Environment, Environment), StepError> {
        let source = self
            .store
            .get_environment(&promotion.app, &promotion.source_env)
            .await?;
        let target = self
            .store
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        match (source, target) {
            (Some(s), Some(t)) => Ok((s, t)),
            (None, _) => Err(StepError::ValidationFailed(format!(
                "source environment {} no longer exists",
                promotion.source_env
            ))),
            (_, None) => Err(StepError::ValidationFailed(format!(
                "target environment {} no longer exists",
                promotion.target_env
            ))),
        }
    }

    async fn locked_target(&self, promotion: &Promotion) -> Result<Environment, StepError> {
        let (_, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        Ok(target)
    }

    fn check_lock(promotion: &Promotion, target: &Environment) -> Result<(), StepError> {
        if target.active_promotion.as_ref() == Some(&promotion.id) {
            Ok(())
        } else {
            Err(StepError::LockLost(format!(
                "promotion {} does not hold the lock on {}/{} (holder: {})",
                promotion.id,
                promotion.app,
                promotion.target_env,
                target
                    .active_promotion
                    .as_ref()
                    .map_or("none", |p| p.as_str())
            )))
        }
    }

    async fn validate(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let (_source, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        let release = promotion.release.as_ref().ok_or_else(|| {
            StepError::ValidationFailed(format!(
                "{} had no deployed release when the promotion was created",
                promotion.source_env
            ))
        })?;
        if promotion.status.is_terminal() {
            return Err(StepError::ValidationFailed(format!(
                "promotion {} has already ended",
                promotion.id
            )));
        }
        if self
            .stacks
            .stack_status(&target.stack_name)
            .await
            .map_err(stack_error)?
            .is_none()
        {
            return Err(StepError::ValidationFailed(format!(
                "{} has no stack {} to promote into; run `ferry deploy` for it first",
                target.name, target.stack_name
            )));
        }
        Ok(json!({
            "release": release.image.as_str(),
            "target_live_colour": target.live_colour,
            "target_version": target.version,
            "stack": target.stack_name,
            "plan": promotion.plan,
            "lock": "held",
        }))
    }

    async fn assess_risk(
        &self,
        promotion: &Promotion,
        now: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let (source, target) = self.environments(promotion).await?;
        let history = self
            .store
            .list_promotions(&promotion.app, &promotion.target_env, 20)
            .await?;
        let past: Vec<&Promotion> = history
            .iter()
            .filter(|p| p.id != promotion.id && p.status.is_terminal())
            .collect();
        let changes = self.preview_deploy(promotion, &target).await?;
        let new_colour = crate::template::colour_title(target.live_colour.other());
        let release_resource = |c: &ResourceChange| {
            c.logical_id.contains(new_colour)
                && ["TaskDefinition", "Service", "ScalableTarget", "CpuScaling"]
                    .iter()
                    .any(|kind| c.logical_id.ends_with(kind))
        };
        let replacements = changes
            .iter()
            .filter(|c| matches!(c.replacement.as_str(), "True" | "Conditional"))
            .filter(|c| c.resource_type != "AWS::ECS::TaskDefinition")
            .count();
        let infra_changes = changes.iter().filter(|c| !release_resource(c)).count();
        let open_alerts = self
            .store
            .open_alerts(&promotion.app, &promotion.target_env)
            .await?
            .len();
        let risk = assess(&RiskInputs {
            target_env: &target.name,
            replacements,
            infra_changes,
            open_alerts,
            config_changes: config_diff_size(promotion, &target),
            spec_changes: usize::from(source.spec != target.spec),
            recent_promotions: past.len(),
            recent_failures: past
                .iter()
                .filter(|p| p.status != PromotionStatus::Succeeded)
                .count(),
            hours_since_last_failure: past
                .iter()
                .filter(|p| p.status != PromotionStatus::Succeeded)
                .map(|p| (now - p.updated_at).num_minutes() as f64 / 60.0)
                .reduce(f64::min),
            now,
        });
        let requires_approval =
            target.name.as_str() == "prod" || risk.score >= self.policy.approval_threshold;
        Ok(json!({
            "score": risk.score,
            "factors": risk.factors,
            "change_set": {"changes": changes.len(), "replacements": replacements, "beyond_the_new_colour": infra_changes},
            "requires_approval": requires_approval,
            "approval_threshold": self.policy.approval_threshold,
        }))
    }

    /// Parks the promotion until an approver decides (or the state machine's timeout
    /// fires): the task token is what `POST /promotions/{id}/approve` completes.
    async fn await_approval(
        &self,
        promotion: &Promotion,
        token: Option<&str>,
    ) -> Result<Value, StepError> {
        let token = token.ok_or_else(|| {
            StepError::ValidationFailed("await_approval needs the task token".into())
        })?;
        self.store.set_approval_token(&promotion.id, token).await?;
        Ok(
            json!({"awaiting": "approval", "target_env": promotion.target_env, "requested_by": promotion.requested_by}),
        )
    }

    /// Puts the target's stack in `rollout` through a change set, and waits for it:
    /// CloudFormation returns only once the ECS services are stable.
    async fn apply(
        &self,
        promotion: &Promotion,
        target: &Environment,
        rollout: &Rollout<'_>,
        label: &str,
    ) -> Result<Value, StepError> {
        let (template, parameters) = self.stack_change(target, rollout).await?;
        let change_set = self.change_set_name(promotion, label);
        // A failed change set comes back as a DeployError naming the failed resources, so
        // progress needs no handling here.
        let outcome = crate::deploy::deploy(
            self.stacks,
            &target.stack_name,
            &template.to_string(),
            &parameters,
            &change_set,
            self.policy.polling,
            &mut |_| {},
        )
        .await?;
        let (status, changes) = match outcome {
            crate::deploy::Outcome::Deployed { status, changes } => (status, changes.len()),
            crate::deploy::Outcome::NoChanges => ("unchanged".into(), 0),
        };
        let weights: serde_json::Map<String, Value> = [Colour::Blue, Colour::Green]
            .into_iter()
            .map(|c| (c.to_string(), json!(rollout.weight(c))))
            .collect();
        Ok(
            json!({"change_set": change_set, "changes": changes, "stack_status": status, "weights": weights}),
        )
    }

    /// The template for `rollout`, policy-checked, and the stack's current parameter
    /// values (the certificate) to deploy it with.
    async fn stack_change(
        &self,
        target: &Environment,
        rollout: &Rollout<'_>,
    ) -> Result<(Value, Vec<(String, String)>), StepError> {
        let details = self
            .stacks
            .stack_details(&target.stack_name)
            .await
            .map_err(stack_error)?
            .ok_or_else(|| {
                StepError::ValidationFailed(format!("stack {} does not exist", target.stack_name))
            })?;
        let (template, _) = crate::template::render_rollout(target, rollout)
            .map_err(|e| StepError::ValidationFailed(e.to_string()))?;
        let parameters: Vec<(String, String)> = template["Parameters"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, _)| {
                details
                    .parameters
                    .get(name)
                    .map(|value| (name.clone(), value.clone()))
            })
            .collect();
        Ok((template, parameters))
    }

    /// Unique per attempt: a retried step must not collide with its first change set.
    fn change_set_name(&self, promotion: &Promotion, label: &str) -> String {
        format!(
            "ferry-{label}-{}-{}",
            promotion
                .id
                .as_str()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(40)
                .collect::<String>(),
            (self.now)().timestamp_millis()
        )
    }

    /// What the Deploy step's change set would change, for the risk score.
    async fn preview_deploy(
        &self,
        promotion: &Promotion,
        target: &Environment,
    ) -> Result<Vec<ResourceChange>, StepError> {
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate {
                release: Self::candidate(promotion)?,
                weight: 0,
            }),
        };
        let (template, parameters) = self.stack_change(target, &rollout).await?;
        Ok(crate::deploy::preview(
            self.stacks,
            &target.stack_name,
            &template.to_string(),
            &parameters,
            &self.change_set_name(promotion, "preview"),
            self.policy.polling,
        )
        .await?)
    }

    fn candidate(promotion: &Promotion) -> Result<&crate::model::Release, StepError> {
        promotion
            .release
            .as_ref()
            .ok_or_else(|| StepError::ValidationFailed("no release".into()))
    }

    /// The new release on the idle colour, running but with no traffic.
    async fn deploy(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let release = Self::candidate(promotion)?;
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate { release, weight: 0 }),
        };
        let mut detail = self.apply(promotion, &target, &rollout, "deploy").await?;
        detail["colour"] = json!(target.live_colour.other());
        detail["image"] = json!(release.image.as_str());
        detail["next_step"] = json!(0);
        detail["steps"] = json!(promotion.plan.len());
        Ok(detail)
    }

    fn plan_step(promotion: &Promotion, index: usize) -> Result<TrafficStep, StepError> {
        promotion.plan.get(index).copied().ok_or_else(|| {
            StepError::ValidationFailed(format!(
                "step {index} is beyond the plan's {} steps",
                promotion.plan.len()
            ))
        })
    }

    /// Sets the listener weights for plan step `index`.
    async fn shift(&self, promotion: &Promotion, index: usize) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let step = Self::plan_step(promotion, index)?;
        let rollout = Rollout {
            live: target.live_colour,
            live_release: target.deployed_release.as_ref(),
            candidate: Some(Candidate {
                release: Self::candidate(promotion)?,
                weight: step.weight,
            }),
        };
        let mut detail = self.apply(promotion, &target, &rollout, "shift").await?;
        detail["step"] = json!(index);
        detail["weight"] = json!(step.weight);
        detail["bake_seconds"] = json!(step.bake_seconds);
        Ok(detail)
    }

    /// After the bake: alarms first, then a smoke check (weight 0) or the canary judge
    /// (a split). At 100% there is no old-colour traffic to compare, so alarms decide.
    async fn analyse(
        &self,
        promotion: &Promotion,
        index: usize,
        now: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let step = Self::plan_step(promotion, index)?;
        let prefix = format!("ferry/{}/{}/", promotion.app, promotion.target_env);
        let firing = self.metrics.alarms_firing(&prefix).await?;
        if !firing.is_empty() {
            return Err(StepError::AlarmFired {
                message: format!("in ALARM during the bake: {}", firing.join(", ")),
                detail: json!({"alarms": firing}),
            });
        }
        let outputs = self
            .stacks
            .stack_details(&target.stack_name)
            .await
            .map_err(stack_error)?
            .map(|d| d.outputs)
            .unwrap_or_default();
        let analysis = Analysis {
            metrics: self.metrics,
            settings: &target.spec.promotion.analysis,
            outputs: &outputs,
            services: target
                .spec
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect(),
            old: target.live_colour,
            new: target.live_colour.other(),
        };
        let settings = &target.spec.promotion.analysis;
        let window = chrono::Duration::seconds(
            settings
                .window_seconds
                .unwrap_or(step.bake_seconds)
                .max(u64::from(settings.period_seconds)) as i64,
        );
        let last = index + 1 == promotion.plan.len();
        let mut detail = json!({"step": index, "weight": step.weight, "alarms": "none in ALARM",
                                "next_step": index + 1, "done": last, "marginal": false});
        match step.weight {
            0 => {
                let health = analysis.smoke(now - window, now).await?;
                detail["smoke"] = health;
            }
            100 => {
                detail["judge"] = json!("skipped: all traffic is on the new colour, no baseline");
            }
            _ => {
                let verdict = analysis.judge(now - window, now).await?;
                let summary = serde_json::to_value(&verdict).unwrap_or(Value::Null);
                match verdict.outcome {
                    crate::canary::Outcome::Fail => {
                        return Err(StepError::CanaryFailed {
                            message: format!("canary failed: {}", verdict.reason),
                            detail: summary,
                        })
                    }
                    crate::canary::Outcome::Marginal => detail["marginal"] = json!(true),
                    crate::canary::Outcome::Pass => {}
                }
                detail["judge"] = summary;
            }
        }
        Ok(detail)
    }

    async fn finalise(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let new_live = target.live_colour.other();
        // All traffic on the new colour, the old one scaled to zero.
        let rollout = Rollout::steady(new_live, promotion.release.as_ref());
        let applied = self.apply(promotion, &target, &rollout, "finalise").await?;
        let updated = Environment {
            deployed_release: promotion.release.clone(),
            live_colour: new_live,
            updated_at: (self.now)(),
            ..target.clone()
        };
        self.store
            .complete_promotion(
                promotion,
                Completion {
                    status: PromotionStatus::Succeeded,
                    environment: Some(updated),
                },
            )
            .await?;
        Ok(json!({
            "live_colour": new_live,
            "previous_colour": target.live_colour,
            "release": promotion.release.as_ref().map(|r| r.image.as_str()),
            "weights": applied["weights"],
            "stack_status": applied["stack_status"],
            "lock": "released",
        }))
    }

    /// Puts the target back as it was and releases the lock. Never leaves the lock held:
    /// if another promotion holds it, this one has nothing to release and must not touch
    /// the stack either.
    async fn rollback(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
    ) -> Result<Value, StepError> {
        let target = self
            .store
            .get_environment(&promotion.app, &promotion.target_env)
            .await?;
        let holds_lock = target
            .as_ref()
            .is_some_and(|t| t.active_promotion.as_ref() == Some(&promotion.id));
        let touched_stack = promotion.steps.iter().any(|s| s.name == "Deploy");
        let mut restore_error = None;
        let mut traffic = json!("untouched: the promotion never deployed");
        if let (Some(target), true, true) = (&target, holds_lock, touched_stack) {
            let rollout = Rollout::steady(target.live_colour, target.deployed_release.as_ref());
            match self.apply(promotion, target, &rollout, "rollback").await {
                Ok(applied) => {
                    traffic = json!({"live": target.live_colour, "weights": applied["weights"], "new_colour": "scaled to 0"})
                }
                Err(error) => {
                    traffic = json!(format!("not restored: {error}"));
                    restore_error = Some(error);
                }
            }
        }
        let status = if restore_error.is_some() {
            PromotionStatus::Failed
        } else {
            PromotionStatus::RolledBack
        };
        let released = match self
            .store
            .complete_promotion(
                promotion,
                Completion {
                    status,
                    environment: None,
                },
            )
            .await
        {
            Ok(()) => true,
            Err(StoreError::LockNotHeld { .. }) => false,
            Err(other) => return Err(other.into()),
        };
        if let Some(error) = restore_error {
            return Err(StepError::RollbackIncomplete(format!(
                "traffic could not be put back on the old colour ({error}); the lock is {}",
                if released { "released" } else { "not held" }
            )));
        }
        let reason = if cause
            .as_ref()
            .is_some_and(|c| c["Error"] == "States.Timeout")
            && promotion.status == PromotionStatus::AwaitingApproval
        {
            "Rejected (timeout): no decision before the approval timeout".to_owned()
        } else {
            describe_cause(cause.as_ref())
        };
        Ok(json!({
            "reason": reason,
            "traffic": traffic,
            "lock": if released { "released" } else { "not held" },
        }))
    }
}

fn stack_error(error: StackApiError) -> StepError {
    StepError::from(DeployError::Api(error))
}

/// The comparison of the two colours' target groups over a window.
struct Analysis<'a> {
    metrics: &'a dyn Metrics,
    settings: &'a crate::rollout::AnalysisSettings,
    outputs: &'a std::collections::BTreeMap<String, String>,
    services: Vec<&'a str>,
    old: Colour,
    new: Colour,
}

impl Analysis<'_> {
    fn dimensions(
        &self,
        service: &str,
        colour: Colour,
    ) -> Result<Vec<(String, String)>, StepError> {
        let output = crate::template::target_group_output(service, colour);
        let group = self.outputs.get(&output).ok_or_else(|| {
            StepError::ValidationFailed(format!(
                "the stack has no output {output}; redeploy it with this Ferry"
            ))
        })?;
        let mut dims = vec![("TargetGroup".to_owned(), group.clone())];
        if let Some(lb) = self.outputs.get("LoadBalancerFullName") {
            dims.push(("LoadBalancer".to_owned(), lb.clone()));
        }
        Ok(dims)
    }

    async fn values(
        &self,
        metric: &str,
        stat: &str,
        dimensions: &[(String, String)],
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StepError> {
        let query = MetricQuery {
            namespace: "AWS/ApplicationELB".into(),
            metric: metric.into(),
            dimensions: dimensions.to_vec(),
            stat: stat.into(),
            period_seconds: self.settings.period_seconds,
        };
        Ok(self.metrics.series(&query, window.0, window.1).await?)
    }

    /// One sample per period; a rate divides by the denominator of the same period.
    async fn samples(
        &self,
        metric: &crate::rollout::AnalysisMetric,
        dimensions: &[(String, String)],
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<f64>, StepError> {
        let values = self
            .values(&metric.metric, &metric.stat, dimensions, window)
            .await?;
        let Some(per) = &metric.per else {
            return Ok(values.into_iter().map(|(_, v)| v).collect());
        };
        let totals: std::collections::BTreeMap<DateTime<Utc>, f64> = self
            .values(per, "Sum", dimensions, window)
            .await?
            .into_iter()
            .collect();
        let numerators: std::collections::BTreeMap<DateTime<Utc>, f64> =
            values.into_iter().collect();
        // A period with requests but no errors has a 0 rate, not a missing sample.
        Ok(totals
            .iter()
            .filter(|(_, total)| **total > 0.0)
            .map(|(at, total)| numerators.get(at).copied().unwrap_or(0.0) / total)
            .collect())
    }

    async fn judge(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<crate::canary::Verdict, StepError> {
        let config = self.settings.judge_config();
        let mut results = Vec::new();
        for service in &self.services {
            let control_dims = self.dimensions(service, self.old)?;
            let experiment_dims = self.dimensions(service, self.new)?;
            for metric in &self.settings.metrics {
                let control = self.samples(metric, &control_dims, (start, end)).await?;
                let experiment = self.samples(metric, &experiment_dims, (start, end)).await?;
                let mut judged = metric.judge_config();
                if self.services.len() > 1 {
                    judged.name = format!("{service}/{}", metric.name);
                }
                results.push(crate::canary::classify(
                    &judged,
                    &control,
                    &experiment,
                    &config,
                ));
            }
        }
        Ok(crate::canary::judge(results, &config))
    }

    /// The new colour's targets are registered and healthy in its own target group.
    async fn smoke(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Value, StepError> {
        let mut report = serde_json::Map::new();
        for service in &self.services {
            let dims = self.dimensions(service, self.new)?;
            let healthy = self
                .values("HealthyHostCount", "Minimum", &dims, (start, end))
                .await?;
            let unhealthy = self
                .values("UnHealthyHostCount", "Maximum", &dims, (start, end))
                .await?;
            let last_healthy = healthy.last().map(|(_, v)| *v);
            let last_unhealthy = unhealthy.last().map(|(_, v)| *v).unwrap_or(0.0);
            let entry = json!({"healthy_hosts": last_healthy, "unhealthy_hosts": last_unhealthy});
            report.insert((*service).to_owned(), entry.clone());
            let problem = match last_healthy {
                None => Some("no health data for its target group".to_owned()),
                Some(h) if h < 1.0 => Some("no healthy targets".to_owned()),
                _ if last_unhealthy > 0.0 => Some(format!("{last_unhealthy} unhealthy targets")),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(StepError::SmokeFailed {
                    message: format!("{service} on {}: {problem}", self.new),
                    detail: Value::Object(report),
                });
            }
        }
        Ok(Value::Object(report))
    }
}

/// An approval ended it: a rejection, or no decision before the timeout.
fn was_rejected(promotion: &Promotion, cause: Option<&Value>) -> bool {
    let error = cause.and_then(|c| c["Error"].as_str()).unwrap_or("");
    error == "PromotionRejected"
        || (error == "States.Timeout" && promotion.status == PromotionStatus::AwaitingApproval)
}

/// Step Functions hands a caught error over as `{"Error": ..., "Cause": ...}` where the
/// cause is the function's error JSON as a string.
fn describe_cause(cause: Option<&Value>) -> String {
    let Some(cause) = cause else {
        return "unknown".into();
    };
    let error = cause["Error"].as_str().unwrap_or("unknown");
    let message = cause["Cause"]
        .as_str()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|c| c["errorMessage"].as_str().map(str::to_owned))
        .or_else(|| cause["Cause"].as_str().map(str::to_owned));
    match message {
        Some(message) => format!("{error}: {message}"),
        None => error.to_owned(),
    }
}

fn config_diff_size(promotion: &Promotion, target: &Environment) -> usize {
    let empty = serde_json::Map::new();
    let new = promotion.release.as_ref().map_or(&empty, |r| &r.config);
    let old = target
        .deployed_release
        .as_ref()
        .map_or(&empty, |r| &r.config);
    new.keys()
        .chain(old.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| new.get(*k) != old.get(*k))
        .count()
}

pub struct RiskInputs<'a> {
    pub target_env: &'a EnvName,
    /// Resources the deploy's change set would replace (task definitions aside: they are
    /// replaced by every release).
    pub replacements: usize,
    /// Resources it would modify beyond the new colour's own (infrastructure changes
    /// riding along with the release).
    pub infra_changes: usize,
    pub open_alerts: usize,
    pub config_changes: usize,
    pub spec_changes: usize,
    pub recent_promotions: usize,
    pub recent_failures: usize,
    pub hours_since_last_failure: Option<f64>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub factor: String,
    pub points: u8,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    pub score: u8,
    pub factors: Vec<RiskFactor>,
}

/// An explained risk score from 0 to 100: every point comes from a named factor.
pub fn assess(inputs: &RiskInputs) -> Risk {
    let mut factors = Vec::new();
    let mut add = |factor: &str, points: u8, why: String| {
        if points > 0 {
            factors.push(RiskFactor {
                factor: factor.into(),
                points,
                why,
            });
        }
    };
    let env_points = match inputs.target_env.as_str() {
        "prod" | "production" => 30,
        "staging" => 10,
        _ => 0,
    };
    add(
        "target_environment",
        env_points,
        format!("target is {}", inputs.target_env),
    );
    add(
        "change_set_replacements",
        (inputs.replacements * 10).min(30) as u8,
        format!("the change set replaces {} resources", inputs.replacements),
    );
    add(
        "resources_modified",
        (inputs.infra_changes * 3).min(15) as u8,
        format!(
            "the change set also modifies {} resources beyond the new colour",
            inputs.infra_changes
        ),
    );
    add(
        "open_alerts",
        (inputs.open_alerts * 10).min(20) as u8,
        format!("{} alarms of the target are in ALARM", inputs.open_alerts),
    );
    add(
        "config_diff",
        (inputs.config_changes * 3).min(15) as u8,
        format!("{} config keys change", inputs.config_changes),
    );
    add(
        "spec_diff",
        (inputs.spec_changes * 10) as u8,
        "source and target specs differ".into(),
    );
    if inputs.recent_promotions > 0 {
        let rate = inputs.recent_failures as f64 / inputs.recent_promotions as f64;
        add(
            "recent_failure_rate",
            (rate * 20.0).round() as u8,
            format!(
                "{} of the last {} promotions failed",
                inputs.recent_failures, inputs.recent_promotions
            ),
        );
    }
    if let Some(hours) = inputs.hours_since_last_failure {
        if hours < 24.0 {
            add(
                "recent_failure",
                10,
                format!("last failure {hours:.1} h ago"),
            );
        }
    }
    let weekend = matches!(inputs.now.weekday(), Weekday::Sat | Weekday::Sun);
    add(
        "weekend",
        if weekend { 10 } else { 0 },
        "promotion on a weekend".into(),
    );
    let hour = inputs.now.hour();
    add(
        "time_of_day",
        if !(8..18).contains(&hour) { 5 } else { 0 },
        format!("outside working hours ({hour:02}:00 UTC)"),
    );
    let score = factors
        .iter()
        .map(|f| u32::from(f.points))
        .sum::<u32>()
        .min(100) as u8;
    Risk { score, factors }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecideError {
    #[error("promotion {0} was not found")]
    NotFound(String),
    #[error("promotion {0} is not waiting for an approval")]
    NotAwaiting(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("promotion {0} was decided by someone else first")]
    AlreadyDecided(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("the decision is recorded, but the pipeline could not be told: {0}")]
    Workflow(crate::ports::WorkflowError),
}

/// Approves or rejects a promotion that waits for a decision. Every decision is
/// recorded with who made it and when; the requester may not approve their own prod
/// promotion; a rejection needs a comment.
pub async fn decide(
    store: &dyn Store,
    workflow: &dyn crate::ports::Workflow,
    id: &PromotionId,
    decision: crate::model::Decision,
    decided_by: &str,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<Promotion, DecideError> {
    use crate::model::{Approval, Decision};
    let promotion = store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))?;
    let token = match (&promotion.approval_token, promotion.status) {
        (Some(token), PromotionStatus::AwaitingApproval) => token.clone(),
        _ => return Err(DecideError::NotAwaiting(id.to_string())),
    };
    if decided_by == "anonymous" {
        return Err(DecideError::Forbidden(
            "decisions need an authenticated caller".into(),
        ));
    }
    if decision == Decision::Approved
        && promotion.target_env.as_str() == "prod"
        && decided_by == promotion.requested_by
    {
        return Err(DecideError::Forbidden(format!(
            "{decided_by} requested this prod promotion and may not approve it"
        )));
    }
    if decision == Decision::Rejected && comment.trim().is_empty() {
        return Err(DecideError::Invalid(
            crate::FieldError::new("comment", "is required to reject: say why").into(),
        ));
    }
    let approval = Approval {
        promotion_id: id.clone(),
        decision,
        decided_by: decided_by.to_owned(),
        comment: comment.to_owned(),
        decided_at: now,
    };
    match store.decide_approval(&approval, &token).await {
        Ok(()) => {}
        Err(StoreError::VersionConflict { .. }) => {
            return Err(DecideError::AlreadyDecided(id.to_string()))
        }
        Err(other) => return Err(DecideError::Store(other)),
    }
    let output = json!({"decision": decision, "decided_by": decided_by, "comment": comment});
    workflow
        .complete_approval(&token, decision == Decision::Approved, &output)
        .await
        .map_err(DecideError::Workflow)?;
    store
        .get_promotion(id)
        .await
        .map_err(DecideError::Store)?
        .ok_or_else(|| DecideError::NotFound(id.to_string()))
}
