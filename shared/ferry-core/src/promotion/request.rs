//! Creating a promotion: the request, validated, and the promotion stored with the target
//! environment's lock taken, or nothing at all.

use crate::model::{Promotion, PromotionStatus};
use crate::names::{AppName, EnvName, PromotionId, Strategy};
use crate::ports::{Environments, Promotions, StoreError};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A `POST /promotions` body after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionRequest {
    pub app: AppName,
    pub source_env: EnvName,
    pub target_env: EnvName,
    pub strategy: Strategy,
    /// Stateful resources (logical ids) the change set may replace or delete; see
    /// [`crate::infra::stateful`].
    pub allow_replace: Vec<String>,
    pub kind: crate::model::PromotionKind,
    /// Why; required of a change.
    pub reason: Option<String>,
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
        let allow_replace = parse_allow_replace(body.get("allow_replace"), &mut errors);
        let reason = parse_reason(body.get("reason"), false, &mut errors);
        let known = [
            "reason",
            "app",
            "source_env",
            "target_env",
            "strategy",
            "allow_replace",
        ];
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
                    allow_replace,
                    kind: crate::model::PromotionKind::Release,
                    reason,
                })
            }
            _ => Err(errors),
        }
    }
}

impl PromotionRequest {
    /// `POST /apps/{app}/environments/{env}/changes`: `{"reason": "...",
    /// "allow_replace"?: [...], "spec"?: {...}}`. The spec, if sent, is saved by the
    /// caller before the change is created (see `infra::environments::upsert`).
    pub fn change(app: AppName, env: EnvName, body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !body.is_object() {
            errors.push("body", "must be a JSON object");
            return Err(errors);
        }
        let allow_replace = parse_allow_replace(body.get("allow_replace"), &mut errors);
        let reason = parse_reason(body.get("reason"), true, &mut errors);
        let known = ["reason", "allow_replace", "spec"];
        for key in body.as_object().into_iter().flat_map(|o| o.keys()) {
            if !known.contains(&key.as_str()) {
                errors.push(
                    key.clone(),
                    format!("is not a known field; use {}", known.join(", ")),
                );
            }
        }
        errors.into_result()?;
        Ok(Self {
            app,
            source_env: env.clone(),
            target_env: env,
            // A change shifts no traffic: it deploys in place and is watched.
            strategy: Strategy::AllAtOnce,
            allow_replace,
            kind: crate::model::PromotionKind::Change,
            reason,
        })
    }
}

/// At most this many characters of why.
const MAX_REASON_CHARS: usize = 500;

fn parse_reason(
    value: Option<&Value>,
    required: bool,
    errors: &mut ValidationErrors,
) -> Option<String> {
    match value {
        None | Some(Value::Null) if required => {
            errors.push("reason", "is required: say why the change is made");
            None
        }
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => {
            errors.push("reason", "must not be blank");
            None
        }
        Some(Value::String(text)) if text.chars().count() > MAX_REASON_CHARS => {
            errors.push(
                "reason",
                format!("must be at most {MAX_REASON_CHARS} characters"),
            );
            None
        }
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        Some(other) => {
            errors.push("reason", format!("must be a string, not {other}"));
            None
        }
    }
}

/// `allow_replace`: absent, or a list of the stateful resources' logical ids.
pub fn parse_allow_replace(value: Option<&Value>, errors: &mut ValidationErrors) -> Vec<String> {
    let items = match value {
        None | Some(Value::Null) => return vec![],
        Some(Value::Array(items)) => items,
        Some(other) => {
            errors.push(
                "allow_replace",
                format!("must be a list of resource names, not {other}"),
            );
            return vec![];
        }
    };
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) => {
                names.push(name.to_owned())
            }
            _ => errors.push(
                format!("allow_replace[{i}]"),
                format!("must be a resource's logical id, such as Database or Cache, not {item}"),
            ),
        }
    }
    names
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
    store: &(impl Environments + Promotions + ?Sized),
    request: PromotionRequest,
    id: PromotionId,
    requested_by: crate::model::Actor,
    now: DateTime<Utc>,
) -> Result<Created, CreateError> {
    if let Some(existing) = store.get_promotion(&id).await.map_err(CreateError::Store)? {
        let same = existing.app == request.app
            && existing.source_env == request.source_env
            && existing.target_env == request.target_env
            && existing.strategy == request.strategy
            && existing.allow_replace == request.allow_replace
            && existing.kind == request.kind;
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
    let change = request.kind == crate::model::PromotionKind::Change;
    let release = match source {
        // A change keeps what the environment runs (none yet: the spec's images).
        Some(env) if change => env.deployed_release,
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
        // No traffic moves: one step that checks the changed live colour right after
        // Deploy; the watch window before Finalise then watches its alarms.
        Some(_) if change => vec![crate::promotion::rollout::TrafficStep {
            weight: 0,
            bake_seconds: 0,
        }],
        Some(target) => crate::promotion::rollout::plan(request.strategy, &target.spec.promotion)
            .unwrap_or_else(|problem| {
                errors.push("strategy", problem);
                vec![]
            }),
        None => vec![],
    };
    errors.into_result().map_err(CreateError::Invalid)?;
    // A change deploys the spec as saved; a release, the spec the stack already runs.
    let pinned = target.map(|target| match target.deployed_spec {
        Some(deployed) if !change => deployed,
        _ => crate::model::PinnedTarget {
            spec_version: target.version,
            spec: target.spec,
        },
    });

    let promotion = Promotion {
        id,
        app: request.app,
        source_env: request.source_env,
        target_env: request.target_env,
        strategy: request.strategy,
        status: PromotionStatus::Pending,
        requested_by: requested_by.name,
        requested_by_principal: requested_by.principal,
        release,
        plan,
        execution_arn: None,
        created_at: now,
        updated_at: now,
        steps: vec![],
        approvals: vec![],
        approval_token: None,
        watch_token: None,
        unlocked: None,
        pinned,
        allow_replace: request.allow_replace,
        kind: request.kind,
        reason: request.reason,
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
