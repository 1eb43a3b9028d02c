//! Promotions: creating one (with the target environment's lock), and the steps the
//! promotion state machine runs. Each step records what it did on the promotion, so the
//! record in DynamoDB is the timeline, whatever happens to the execution.

use crate::model::{Environment, Promotion, PromotionStatus, StepOutcome, StepRecord};
use crate::names::{AppName, EnvName, PromotionId, Strategy};
use crate::ports::{Completion, Store, StoreError};
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Validate,
    AssessRisk,
    AwaitApproval,
    Deploy,
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
            Action::Finalise => "Finalise",
            Action::Rollback => "Rollback",
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
    /// Storage throttled or timed out: the state machine retries these.
    #[error("{0}")]
    TransientError(String),
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
            StepError::InternalError(_) => "InternalError",
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

/// Settings the steps read from the function's config.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPolicy {
    /// At or above this risk score, any environment needs an approval.
    pub approval_threshold: u8,
}

impl Default for StepPolicy {
    fn default() -> Self {
        Self {
            approval_threshold: 60,
        }
    }
}

pub struct Steps<'a> {
    pub store: &'a dyn Store,
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
        let result = match input.action {
            Action::Validate => self.validate(&promotion).await,
            Action::AssessRisk => self.assess_risk(&promotion, started_at).await,
            Action::AwaitApproval => {
                self.await_approval(&promotion, input.task_token.as_deref())
                    .await
            }
            Action::Deploy => self.deploy(&promotion).await,
            Action::Finalise => self.finalise(&promotion).await,
            Action::Rollback => self.rollback(&promotion, input.cause.clone()).await,
        };
        let (outcome, detail) = match &result {
            Ok(detail) => (StepOutcome::Succeeded, detail.clone()),
            Err(error) => (
                StepOutcome::Failed,
                json!({"error": error.name(), "message": error.to_string()}),
            ),
        };
        let status = match (input.action, &result) {
            // A stray execution (a replay, a second start) must not rewrite how a
            // promotion ended; its steps are still recorded for the audit trail.
            _ if promotion.status.is_terminal() => promotion.status,
            (Action::Finalise, Ok(_)) => PromotionStatus::Succeeded,
            (Action::AwaitApproval, Ok(_)) => PromotionStatus::AwaitingApproval,
            (Action::Rollback, Ok(_)) if was_rejected(&promotion, input.cause.as_ref()) => {
                PromotionStatus::Rejected
            }
            (Action::Rollback, Ok(_)) => PromotionStatus::RolledBack,
            (Action::Rollback, Err(_)) => PromotionStatus::Failed,
            _ => PromotionStatus::Running,
        };
        let step = StepRecord {
            name: input.action.step_name().to_owned(),
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
        Ok(json!({
            "release": release.image.as_str(),
            "target_live_colour": target.live_colour,
            "target_version": target.version,
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
        let risk = assess(&RiskInputs {
            target_env: &target.name,
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

    async fn deploy(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let (_, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        let release = promotion
            .release
            .as_ref()
            .ok_or_else(|| StepError::ValidationFailed("no release".into()))?;
        let idle = target.live_colour.other();
        Ok(json!({
            "colour": idle,
            "image": release.image.as_str(),
            "stack_name": target.stack_name,
            "traffic": {"live": target.live_colour, "weights": {target.live_colour.to_string(): 100, idle.to_string(): 0}},
        }))
    }

    async fn finalise(&self, promotion: &Promotion) -> Result<Value, StepError> {
        let (_, target) = self.environments(promotion).await?;
        Self::check_lock(promotion, &target)?;
        let new_live = target.live_colour.other();
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
            "lock": "released",
        }))
    }

    /// Puts the target back as it was and releases the lock. Never leaves the lock held:
    /// if another promotion holds it, this one has nothing to release.
    async fn rollback(
        &self,
        promotion: &Promotion,
        cause: Option<Value>,
    ) -> Result<Value, StepError> {
        let released = match self
            .store
            .complete_promotion(
                promotion,
                Completion {
                    status: PromotionStatus::RolledBack,
                    environment: None,
                },
            )
            .await
        {
            Ok(()) => true,
            Err(StoreError::LockNotHeld { .. }) => false,
            Err(other) => return Err(other.into()),
        };
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
            "lock": if released { "released" } else { "not held" },
        }))
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
