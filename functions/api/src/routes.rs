//! One function per route: parse the input into domain types, call the engine, shape
//! the answer. Every failure is a [`Problem`].

use crate::handler::Deps;
use crate::problem::Problem;
use chrono::Utc;
use ferry_core::infra::spec::AppSpec;
use ferry_core::model::{
    App, Environment, PromotionStatus, Release, ReportKind, StepOutcome, StepRecord,
};
use ferry_core::names::{AppName, Colour, EnvName, ImageRef, PromotionId};
use ferry_core::ports::{Completion, StoreError};
use ferry_core::promotion::{self, CreateError, PromotionRequest};
use ferry_core::{FieldError, ValidationErrors};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{json, Value};

type RouteResult = Result<Response<Body>, Problem>;

/// A promotion as callers see it: the approval's task token stays inside Ferry.
fn public(mut promotion: ferry_core::model::Promotion) -> ferry_core::model::Promotion {
    promotion.approval_token = None;
    promotion
}

fn respond(status: u16, value: &impl Serialize, location: Option<String>) -> RouteResult {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(location) = location {
        builder = builder.header("location", location);
    }
    let body = serde_json::to_string(value).map_err(Problem::unavailable)?;
    builder.body(Body::Text(body)).map_err(Problem::unavailable)
}

fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::NotFound(what) => Problem::not_found(format!("{what} was not found")),
        StoreError::AlreadyExists(what) => Problem::conflict(format!("{what} already exists")),
        StoreError::VersionConflict { .. } => Problem::precondition_failed(error.to_string()),
        StoreError::Locked { .. } => Problem::conflict(error.to_string()),
        StoreError::StackTaken { .. } => {
            let message = format!("{error}; give this environment another stack_name");
            Problem {
                errors: vec![ferry_core::FieldError::new("stack_name", message.clone())],
                ..Problem::conflict(format!("stack_name: {message}"))
            }
        }
        other => Problem::unavailable(other),
    }
}

fn path_names(app: &str, env: Option<&str>) -> Result<(AppName, Option<EnvName>), Problem> {
    let mut errors = ValidationErrors::default();
    let app = errors.take(AppName::parse("app", app));
    let env = env.and_then(|e| errors.take(EnvName::parse("env", e)));
    errors.into_result().map_err(Problem::validation)?;
    Ok((app.expect("no errors means parsed"), env))
}

pub async fn create_promotion(
    deps: &Deps,
    body: &Value,
    key: Option<String>,
    requester: String,
) -> RouteResult {
    let request = PromotionRequest::parse(body).map_err(Problem::validation)?;
    let id = match key {
        Some(key) => PromotionId::parse("Idempotency-Key", &key)
            .map_err(|e| Problem::validation(e.into()))?,
        None => PromotionId::generate(),
    };
    let created = promotion::create(deps.store.as_ref(), request, id, requester, Utc::now())
        .await
        .map_err(|e| match e {
            CreateError::Invalid(errors) => Problem::validation(errors),
            CreateError::Busy { .. } | CreateError::KeyReused(_) => {
                Problem::conflict(e.to_string())
            }
            CreateError::Store(store) => store_problem(store),
        })?;
    let mut promotion = created.promotion;
    let location = Some(format!("/promotions/{}", promotion.id));
    if created.replayed && promotion.execution_arn.is_some() {
        return respond(200, &public(promotion), location);
    }
    // The target environment may shorten (or lengthen) the configured approval timeout.
    let approval_timeout_seconds = deps
        .store
        .get_environment(&promotion.app, &promotion.target_env)
        .await
        .map_err(store_problem)?
        .and_then(|env| env.spec.promotion.approval_timeout_seconds)
        .unwrap_or(deps.approval_timeout_seconds);
    let input = json!({
        "promotion_id": promotion.id, "app": promotion.app,
        "source_env": promotion.source_env, "target_env": promotion.target_env,
        "strategy": promotion.strategy, "plan": promotion.plan,
        "approval_timeout_seconds": approval_timeout_seconds,
    });
    match deps.workflow.start_promotion(&promotion.id, &input).await {
        Ok(arn) => {
            deps.store
                .set_execution_arn(&promotion.id, &arn)
                .await
                .map_err(store_problem)?;
            promotion.execution_arn = Some(arn);
            respond(202, &public(promotion), location)
        }
        Err(error) => {
            // Nothing runs this promotion: end it and free the environment, so the
            // caller's retry (same key or not) is not refused as a conflict.
            let now = Utc::now();
            let step = StepRecord {
                name: "Start".into(),
                outcome: StepOutcome::Failed,
                started_at: now,
                finished_at: now,
                detail: json!({"error": error.to_string()}),
            };
            let _ = deps
                .store
                .record_step(&promotion.id, &step, PromotionStatus::Failed)
                .await;
            let _ = deps
                .store
                .complete_promotion(
                    &promotion,
                    Completion {
                        status: PromotionStatus::Failed,
                        environment: None,
                    },
                )
                .await;
            Err(Problem::unavailable(error))
        }
    }
}

pub async fn get_promotion(deps: &Deps, id: &str) -> RouteResult {
    let id = PromotionId::parse("id", id).map_err(|e| Problem::validation(e.into()))?;
    match deps.store.get_promotion(&id).await.map_err(store_problem)? {
        Some(promotion) => respond(200, &public(promotion), None),
        None => Err(Problem::not_found(format!("promotion {id} was not found"))),
    }
}

pub async fn put_app(deps: &Deps, app: &str) -> RouteResult {
    let (name, _) = path_names(app, None)?;
    let app = App {
        name,
        created_at: Utc::now(),
    };
    match deps.store.create_app(&app).await {
        Ok(()) => respond(201, &app, Some(format!("/apps/{}", app.name))),
        // PUT is idempotent: the app is there, as asked.
        Err(StoreError::AlreadyExists(_)) => respond(200, &json!({"name": app.name}), None),
        Err(other) => Err(store_problem(other)),
    }
}

pub async fn put_environment(
    deps: &Deps,
    app: &str,
    env: &str,
    body: &Value,
    if_match: Option<String>,
) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
    let mut errors = ValidationErrors::default();
    if let Some(obj) = body.as_object() {
        for key in obj
            .keys()
            .filter(|k| !["spec", "stack_name"].contains(&k.as_str()))
        {
            errors.push(key.clone(), "is not a known field; use spec, stack_name");
        }
    } else {
        errors.push("body", "must be a JSON object");
    }
    let spec = match body.get("spec") {
        Some(document) => match AppSpec::from_document(document.clone()) {
            Ok(parsed) if parsed.app != app => {
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
                            .map(|f| FieldError::new(format!("spec.{}", f.field), f.message)),
                    );
                    None
                }
            },
            Err(e) => {
                errors.0.extend(e.0.into_iter().map(|f| {
                    FieldError::new(
                        if f.field == "spec" {
                            f.field
                        } else {
                            format!("spec.{}", f.field)
                        },
                        f.message,
                    )
                }));
                None
            }
        },
        None => {
            errors.push("spec", "is required: the app spec (see `ferry schema`)");
            None
        }
    };
    // Absent: an existing environment keeps its stack, a new one gets the default name.
    let stack_name = match body.get("stack_name") {
        None => Some(None),
        Some(Value::String(s)) if valid_stack_name(s) => Some(Some(s.clone())),
        Some(other) => {
            errors.push("stack_name", format!("{other} is not a valid stack name; use up to 128 letters, digits and dashes, starting with 'ferry-' (Ferry's roles may change only ferry-* stacks)"));
            None
        }
    };
    let expected = match if_match.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(version)) => Some(version),
        Some(Err(_)) => {
            errors.push("If-Match", "must be the environment's version number");
            None
        }
    };
    errors.into_result().map_err(Problem::validation)?;
    let (spec, stack_name) = (spec.expect("validated"), stack_name.expect("validated"));
    if deps
        .store
        .get_app(&app)
        .await
        .map_err(store_problem)?
        .is_none()
    {
        return Err(Problem::not_found(format!(
            "app {app} was not found; create it with PUT /apps/{app}"
        )));
    }
    let existing = deps
        .store
        .get_environment(&app, &env)
        .await
        .map_err(store_problem)?;
    let next = match (&existing, expected) {
        (Some(current), Some(_)) => Environment {
            spec,
            stack_name: stack_name.unwrap_or_else(|| current.stack_name.clone()),
            updated_at: Utc::now(),
            ..current.clone()
        },
        (Some(current), None) => {
            return Err(Problem::conflict(format!(
                "environment {app}/{env} exists at version {}; send If-Match: {} to replace it",
                current.version, current.version
            )))
        }
        (None, _) => Environment {
            app: app.clone(),
            name: env.clone(),
            spec,
            stack_name: stack_name.unwrap_or_else(|| Environment::default_stack_name(&app, &env)),
            deployed_release: None,
            live_colour: Colour::Blue,
            active_promotion: None,
            version: 0,
            updated_at: Utc::now(),
        },
    };
    // A spec whose template breaks a policy rule it does not waive is refused here, not
    // at deploy time.
    if let Err(error) =
        ferry_core::infra::template::render(&next, next.deployed_release.as_ref(), next.live_colour)
    {
        return Err(Problem::invalid("spec", error.to_string()));
    }
    let stored = deps
        .store
        .put_environment(&next, expected)
        .await
        .map_err(store_problem)?;
    let status = if existing.is_some() { 200 } else { 201 };
    respond(
        status,
        &stored,
        Some(format!("/apps/{app}/environments/{env}")),
    )
}

/// CloudFormation's stack name rules, and Ferry's prefix: the functions' roles and the
/// environment stacks' service role are scoped to `ferry-*` stacks, so on AWS any other
/// name would be refused at the first change set.
fn valid_stack_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(ferry_core::model::STACK_PREFIX)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub async fn get_environment(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
    match deps
        .store
        .get_environment(&app, &env)
        .await
        .map_err(store_problem)?
    {
        Some(environment) => respond(200, &environment, None),
        None => Err(Problem::not_found(format!(
            "environment {app}/{env} was not found"
        ))),
    }
}

/// Records what a CI pipeline deployed to an environment (usually dev), which is what a
/// promotion from that environment then ships.
pub async fn record_release(deps: &Deps, app: &str, env: &str, body: &Value) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
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
        Some(Value::Object(config)) => Some(config.clone()),
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
    errors.into_result().map_err(Problem::validation)?;
    let current = deps
        .store
        .get_environment(&app, &env)
        .await
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found(format!("environment {app}/{env} was not found")))?;
    if let Some(holder) = &current.active_promotion {
        return Err(Problem::conflict(format!(
            "promotion {holder} is in progress on {app}/{env}; record the release after it ends"
        )));
    }
    let release = Release {
        image: image.expect("validated"),
        config: config.expect("validated"),
        recorded_at: Utc::now(),
    };
    let next = Environment {
        deployed_release: Some(release),
        updated_at: Utc::now(),
        ..current.clone()
    };
    let stored = deps
        .store
        .put_environment(&next, Some(current.version))
        .await
        .map_err(store_problem)?;
    respond(200, &stored, None)
}

/// Generates (and stores) the environment's template, policy checked, and returns it.
pub async fn generate_template(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let task = ferry_core::infra::generate::TemplateTask {
        app,
        env: env.expect("env was given"),
        promotion_id: None,
    };
    match ferry_core::infra::generate::generate_template(
        deps.store.as_ref(),
        &task,
        None,
        Utc::now(),
    )
    .await
    {
        Ok(generated) => respond(
            200,
            &json!({"summary": generated.summary, "template": generated.template}),
            None,
        ),
        Err(ferry_core::job::JobError::NotFound(what)) => Err(Problem::not_found(what)),
        Err(error @ ferry_core::job::JobError::Policy(_)) => {
            Err(Problem::invalid("spec", error.to_string()))
        }
        Err(ferry_core::job::JobError::Store(error)) => Err(store_problem(error)),
        Err(other) => Err(Problem::unavailable(other)),
    }
}

/// `POST /promotions/{id}/approve` and `/reject`, body `{"comment": "..."}`.
pub async fn decide(
    deps: &Deps,
    id: &str,
    verb: &str,
    body: &Value,
    decided_by: &str,
) -> RouteResult {
    use ferry_core::model::Decision;
    use ferry_core::promotion::DecideError;
    let id = PromotionId::parse("id", id).map_err(|e| Problem::validation(e.into()))?;
    let comment = match body.get("comment") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(c)) if c.len() <= 1000 => c.clone(),
        Some(Value::String(_)) => {
            return Err(Problem::invalid(
                "comment",
                "is longer than 1000 characters",
            ))
        }
        Some(other) => {
            return Err(Problem::invalid(
                "comment",
                format!("must be a string, not {other}"),
            ))
        }
    };
    let decision = if verb == "approve" {
        Decision::Approved
    } else {
        Decision::Rejected
    };
    match promotion::decide(
        deps.store.as_ref(),
        deps.workflow.as_ref(),
        &id,
        decision,
        decided_by,
        &comment,
        Utc::now(),
    )
    .await
    {
        Ok(promotion) => respond(200, &public(promotion), None),
        Err(DecideError::NotFound(what)) => Err(Problem::not_found(format!(
            "promotion {what} was not found"
        ))),
        Err(error @ (DecideError::NotAwaiting(_) | DecideError::AlreadyDecided(_))) => {
            Err(Problem::conflict(error.to_string()))
        }
        Err(DecideError::Forbidden(detail)) => Err(Problem::forbidden(detail)),
        Err(DecideError::Invalid(errors)) => Err(Problem::validation(errors)),
        Err(DecideError::Store(error)) => Err(store_problem(error)),
        Err(error @ DecideError::Workflow(_)) => Err(Problem::unavailable(error)),
    }
}

/// An app named in a path and its environments; 404 when there is no such app.
async fn app_environments(deps: &Deps, app: &str) -> Result<(AppName, Vec<Environment>), Problem> {
    let (app, _) = path_names(app, None)?;
    if deps
        .store
        .get_app(&app)
        .await
        .map_err(store_problem)?
        .is_none()
    {
        return Err(Problem::not_found(format!("app {app} was not found")));
    }
    let environments = deps
        .store
        .list_environments(Some(&app))
        .await
        .map_err(store_problem)?;
    Ok((app, environments))
}

/// `GET /apps/{app}/promotions`: the app's promotions into every environment, newest
/// first (50 per environment).
pub async fn list_promotions(deps: &Deps, app: &str) -> RouteResult {
    let (app, environments_of_app) = app_environments(deps, app).await?;
    let mut promotions = Vec::new();
    for env in environments_of_app {
        promotions.extend(
            deps.store
                .list_promotions(&app, &env.name, 50)
                .await
                .map_err(store_problem)?,
        );
    }
    promotions.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let promotions: Vec<_> = promotions.into_iter().map(public).collect();
    respond(200, &json!({"app": app, "promotions": promotions}), None)
}

/// `GET /apps/{app}/cost`: each environment's latest cost report (written weekly by
/// cost-analyzer) and the app's total. An environment not yet priced is listed as such.
pub async fn app_cost(deps: &Deps, app: &str) -> RouteResult {
    let (app, environments_of_app) = app_environments(deps, app).await?;
    let mut environments = Vec::new();
    let mut total = 0.0;
    for env in environments_of_app {
        let report = deps
            .store
            .latest_report(&app, &env.name, ReportKind::Cost)
            .await
            .map_err(store_problem)?;
        match report {
            Some(report) => {
                total += report.body["monthly_usd"].as_f64().unwrap_or(0.0);
                environments.push(json!({
                    "env": env.name, "priced_at": report.created_at,
                    "monthly_usd": report.body["monthly_usd"],
                    "budget_usd_month": env.spec.budget_usd_month,
                    "estimate": report.body,
                }));
            }
            None => {
                environments.push(json!({"env": env.name, "priced_at": null, "monthly_usd": null}))
            }
        }
    }
    let total = ferry_core::cost::round_cents(total);
    respond(
        200,
        &json!({"app": app, "monthly_usd": total, "environments": environments}),
        None,
    )
}

async fn health_of(deps: &Deps, env: &Environment) -> Result<Value, Problem> {
    let store = deps.store.as_ref();
    let open = store
        .open_alerts(&env.app, &env.name)
        .await
        .map_err(store_problem)?;
    let last = store
        .list_promotions(&env.app, &env.name, 1)
        .await
        .map_err(store_problem)?
        .into_iter()
        .next();
    let drift = store
        .latest_report(&env.app, &env.name, ReportKind::Drift)
        .await
        .map_err(store_problem)?;
    let cost = store
        .latest_report(&env.app, &env.name, ReportKind::Cost)
        .await
        .map_err(store_problem)?;
    Ok(ferry_core::monitoring::health::summarise(
        env,
        &open,
        last.as_ref(),
        drift.as_ref(),
        cost.as_ref(),
        Utc::now(),
    ))
}

/// `GET /apps/{app}/environments/{env}/health`: open alarms as an incident with its
/// probable root cause, the last promotion, drift and cost.
pub async fn environment_health(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("named");
    let environment = deps
        .store
        .get_environment(&app, &env)
        .await
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found(format!("environment {app}/{env} was not found")))?;
    respond(200, &health_of(deps, &environment).await?, None)
}

/// `GET /apps/{app}/health`: every environment's health.
pub async fn app_health(deps: &Deps, app: &str) -> RouteResult {
    let (app, environments_of_app) = app_environments(deps, app).await?;
    let mut environments = Vec::new();
    for env in environments_of_app {
        environments.push(health_of(deps, &env).await?);
    }
    respond(
        200,
        &json!({"app": app, "environments": environments}),
        None,
    )
}

/// `POST /apps/{app}/environments/{env}/silences`: alerts matching every matcher are
/// not notified until `ends_at`. Stored with the environment's other silences (versioned).
pub async fn create_silence(
    deps: &Deps,
    app: &str,
    env: &str,
    body: &Value,
    who: &str,
) -> RouteResult {
    use ferry_core::monitoring::silences::{self, SilenceError};
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("named");
    match silences::create(deps.store.as_ref(), &app, &env, body, who, Utc::now()).await {
        Ok(silence) => respond(201, &silence, None),
        Err(SilenceError::NotFound(what)) => Err(Problem::not_found(format!(
            "environment {what} was not found"
        ))),
        Err(SilenceError::Invalid(errors)) => Err(Problem::validation(errors)),
        Err(SilenceError::Store(error)) => Err(store_problem(error)),
    }
}

/// `GET /apps/{app}/environments/{env}/silences`: the silences not yet over.
pub async fn list_silences(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("named");
    let active =
        ferry_core::monitoring::silences::active(deps.store.as_ref(), &app, &env, Utc::now())
            .await
            .map_err(store_problem)?;
    respond(
        200,
        &json!({"app": app, "env": env, "silences": active}),
        None,
    )
}

/// `GET /access`: who has which role.
pub async fn get_access(deps: &Deps) -> RouteResult {
    let policy = deps.store.access_policy().await.map_err(store_problem)?;
    respond(200, &policy, None)
}

/// `PUT /access`: replaces the access policy; every bad entry is named and nothing is
/// stored unless all are good.
pub async fn put_access(deps: &Deps, body: &Value) -> RouteResult {
    let policy = ferry_core::access::AccessPolicy::parse(body).map_err(Problem::validation)?;
    deps.store
        .put_access_policy(&policy)
        .await
        .map_err(store_problem)?;
    respond(200, &policy, None)
}
