//! Environments as a platform team manages them: created or replaced from the app's spec
//! (optimistically, at the version read), and told which release CI deployed.

use crate::infra::spec::{AppSpec, EnvironmentSpec};
use crate::infra::template;
use crate::model::{Environment, Release, STACK_PREFIX};
use crate::names::{AppName, Colour, EnvName, ImageRef};
use crate::ports::{Environments, StoreError};
use crate::validation::{FieldError, ValidationErrors};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// `PUT /apps/{app}/environments/{env}`'s body, validated: the app's spec resolved for
/// this environment, and the stack to deploy to when it is not the default.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentRequest {
    pub spec: EnvironmentSpec,
    /// `None`: an existing environment keeps its stack, a new one gets the default name.
    pub stack_name: Option<String>,
    /// The version the caller read (`If-Match`), which a replace must still find;
    /// `None` creates.
    pub expected_version: Option<u64>,
}

impl EnvironmentRequest {
    /// Every problem is named by its field (`spec.<path>` for the spec's own, `If-Match`
    /// for the version).
    pub fn parse(
        app: &AppName,
        env: &EnvName,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let expected_version = match if_match.map(str::parse::<u64>) {
            None => None,
            Some(Ok(version)) => Some(version),
            Some(Err(_)) => {
                errors.push("If-Match", "must be the environment's version number");
                None
            }
        };
        match body.as_object() {
            Some(fields) => {
                for key in fields
                    .keys()
                    .filter(|k| !["spec", "stack_name"].contains(&k.as_str()))
                {
                    errors.push(key.clone(), "is not a known field; use spec, stack_name");
                }
            }
            None => errors.push("body", "must be a JSON object"),
        }
        let under_spec = |field: String| {
            if field == "spec" {
                field
            } else {
                format!("spec.{field}")
            }
        };
        let spec = match body.get("spec") {
            Some(document) => match AppSpec::from_document(document.clone()) {
                Ok(parsed) if &parsed.app != app => {
                    errors.push(
                        "spec.app",
                        format!(
                            "'{}' does not match the app in the path ('{app}')",
                            parsed.app
                        ),
                    );
                    None
                }
                Ok(parsed) => match parsed.environment(env.as_str()) {
                    Ok(resolved) => Some(resolved),
                    Err(e) => {
                        errors.0.extend(
                            e.0.into_iter()
                                .map(|f| FieldError::new(under_spec(f.field), f.message)),
                        );
                        None
                    }
                },
                Err(e) => {
                    errors.0.extend(
                        e.0.into_iter()
                            .map(|f| FieldError::new(under_spec(f.field), f.message)),
                    );
                    None
                }
            },
            None => {
                errors.push("spec", "is required: the app spec (see `ferry schema`)");
                None
            }
        };
        let stack_name = match body.get("stack_name") {
            None => Some(None),
            Some(Value::String(s)) if valid_stack_name(s) => Some(Some(s.clone())),
            Some(other) => {
                errors.push("stack_name", format!("{other} is not a valid stack name; use up to 128 letters, digits and dashes, starting with '{STACK_PREFIX}' (Ferry's roles may change only {STACK_PREFIX}* stacks)"));
                None
            }
        };
        errors.into_result()?;
        Ok(EnvironmentRequest {
            spec: spec.expect("no errors means parsed"),
            stack_name: stack_name.expect("no errors means parsed"),
            expected_version,
        })
    }
}

/// CloudFormation's stack name rules, and Ferry's prefix: the functions' roles and the
/// environment stacks' service role are scoped to `ferry-*` stacks, so on AWS any other
/// name would be refused at the first change set.
fn valid_stack_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(STACK_PREFIX)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UpsertError {
    #[error("app {0} was not found; create it with PUT /apps/{0}")]
    AppNotFound(AppName),
    /// The environment exists and the request did not say which version it replaces.
    #[error("environment {app}/{env} exists at version {version}; send If-Match: {version} to replace it")]
    Exists {
        app: AppName,
        env: EnvName,
        version: u64,
    },
    /// The spec's template breaks a policy rule it does not waive, or a stack limit: refused
    /// here, not at deploy time.
    #[error("{0}")]
    Template(template::RenderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored environment, and whether it was created.
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted {
    pub environment: Environment,
    pub created: bool,
}

/// Creates the environment (`expected_version` `None`) or replaces it at the version the
/// caller read, keeping its release, live colour, lock and (unless named) stack.
pub async fn upsert(
    store: &dyn Environments,
    app: &AppName,
    env: &EnvName,
    request: EnvironmentRequest,
    now: DateTime<Utc>,
) -> Result<Upserted, UpsertError> {
    let expected_version = request.expected_version;
    if store.get_app(app).await?.is_none() {
        return Err(UpsertError::AppNotFound(app.clone()));
    }
    let existing = store.get_environment(app, env).await?;
    let next = match (&existing, expected_version) {
        (Some(current), Some(_)) => Environment {
            spec: request.spec,
            stack_name: request
                .stack_name
                .unwrap_or_else(|| current.stack_name.clone()),
            updated_at: now,
            ..current.clone()
        },
        (Some(current), None) => {
            return Err(UpsertError::Exists {
                app: app.clone(),
                env: env.clone(),
                version: current.version,
            })
        }
        (None, _) => Environment {
            app: app.clone(),
            name: env.clone(),
            spec: request.spec,
            stack_name: request
                .stack_name
                .unwrap_or_else(|| Environment::default_stack_name(app, env)),
            deployed_release: None,
            live_colour: Colour::Blue,
            active_promotion: None,
            version: 0,
            updated_at: now,
            deployed_spec: None,
        },
    };
    template::render(&next, next.deployed_release.as_ref(), next.live_colour)
        .map_err(UpsertError::Template)?;
    let environment = store.put_environment(&next, expected_version).await?;
    Ok(Upserted {
        environment,
        created: existing.is_none(),
    })
}

/// What CI deployed to an environment (usually dev): `{"image": "repo@sha256:...",
/// "config": {...}}`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRequest {
    pub image: ImageRef,
    pub config: serde_json::Map<String, Value>,
}

impl ReleaseRequest {
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let image = match body.get("image") {
            Some(Value::String(image)) => errors.take(ImageRef::parse("image", image)),
            Some(other) => {
                errors.push("image", format!("must be a string, not {other}"));
                None
            }
            None => {
                errors.push("image", "is required");
                None
            }
        };
        let config = match body.get("config") {
            None => Some(serde_json::Map::new()),
            Some(Value::Object(config)) => {
                // Config reaches the containers as environment variables (see the template's
                // task definitions), so each key must be a name ECS can set.
                for (key, value) in config {
                    let field = format!("config.{key}");
                    let valid_name = key
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid_name {
                        errors.push(
                            field.clone(),
                            "must be an environment variable name: letters, digits and _, not starting with a digit",
                        );
                    } else if key.starts_with("AWS_") || key.starts_with("ECS_") {
                        errors.push(
                            field.clone(),
                            "is reserved: AWS_ and ECS_ variables are set by the platform",
                        );
                    }
                    if value.is_object() || value.is_array() {
                        errors.push(
                            field,
                            format!("must be a string, number, boolean or null, not {value}"),
                        );
                    }
                }
                Some(config.clone())
            }
            Some(other) => {
                errors.push(
                    "config",
                    format!("must be an object of settings, not {other}"),
                );
                None
            }
        };
        for key in body.as_object().into_iter().flat_map(|o| o.keys()) {
            if !["image", "config"].contains(&key.as_str()) {
                errors.push(key.clone(), "is not a known field; use image, config");
            }
        }
        errors.into_result()?;
        Ok(ReleaseRequest {
            image: image.expect("no errors means parsed"),
            config: config.expect("no errors means parsed"),
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReleaseError {
    #[error("environment {0} was not found")]
    NotFound(String),
    /// A promotion into the environment is running; its result would overwrite this.
    #[error("promotion {holder} is in progress on {env}; record the release after it ends")]
    Busy { env: String, holder: String },
    /// The environment's releases need an approval, which a recorded release would skip:
    /// they reach it by promotion.
    #[error("{env} is approval-gated (promotion.approval: {policy}); releases reach it by promotion, not recorded directly: ferry promote {app} --from <env> --to {name}")]
    Gated {
        env: String,
        app: String,
        name: String,
        policy: crate::promotion::rollout::ApprovalPolicy,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the release an environment now runs, which a promotion from it then ships.
pub async fn record_release(
    store: &dyn Environments,
    app: &AppName,
    env: &EnvName,
    request: ReleaseRequest,
    now: DateTime<Utc>,
) -> Result<Environment, ReleaseError> {
    let current = store
        .get_environment(app, env)
        .await?
        .ok_or_else(|| ReleaseError::NotFound(format!("{app}/{env}")))?;
    // A release recorded here would never have been approved: only ungated environments
    // (dev, where CI deploys) take them.
    let policy = current.spec.approval_policy();
    if policy != crate::promotion::rollout::ApprovalPolicy::Never {
        return Err(ReleaseError::Gated {
            env: format!("{app}/{env}"),
            app: app.to_string(),
            name: env.to_string(),
            policy,
        });
    }
    if let Some(holder) = &current.active_promotion {
        return Err(ReleaseError::Busy {
            env: format!("{app}/{env}"),
            holder: holder.to_string(),
        });
    }
    let next = Environment {
        deployed_release: Some(Release {
            image: request.image,
            config: request.config,
            recorded_at: now,
        }),
        updated_at: now,
        ..current.clone()
    };
    Ok(store.put_environment(&next, Some(current.version)).await?)
}
