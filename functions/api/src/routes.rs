//! One function per route: parse the input into domain types, call the engine, shape
//! the answer. Every failure is a [`Problem`].

use crate::handler::Deps;
use crate::problem::store_problem;
use crate::problem::Problem;
use chrono::Utc;
use ferry_core::infra::environments::{self, EnvironmentRequest, ReleaseRequest};
use ferry_core::model::{App, Environment, ReportKind};
use ferry_core::names::{AppName, EnvName, PromotionId};
use ferry_core::ports::StoreError;
use ferry_core::promotion::{self, PromotionRequest};
use ferry_core::ValidationErrors;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{json, Value};

type RouteResult = Result<Response<Body>, Problem>;

/// A promotion as callers see it: the task tokens stay inside Ferry.
fn public(mut promotion: ferry_core::model::Promotion) -> ferry_core::model::Promotion {
    promotion.approval_token = None;
    promotion.watch_token = None;
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
    requester: ferry_core::model::Actor,
) -> RouteResult {
    let request = PromotionRequest::parse(body).map_err(Problem::validation)?;
    let id = match key {
        Some(key) => PromotionId::parse("Idempotency-Key", &key)
            .map_err(|e| Problem::validation(e.into()))?,
        None => PromotionId::generate(),
    };
    let started = promotion::start(
        deps.store.as_ref(),
        deps.workflow.as_ref(),
        request,
        id,
        requester,
        deps.approval_timeout_seconds,
        Utc::now(),
    )
    .await?;
    let location = Some(format!("/promotions/{}", started.promotion.id));
    let status = if started.replayed { 200 } else { 202 };
    respond(status, &public(started.promotion), location)
}

/// `POST /apps/{app}/environments/{env}/changes`: the environment's spec (the one sent,
/// saved first at `If-Match`, or the one stored) deployed on its own, through the
/// promotion pipeline: locked, previewed, risk-scored, approved where the environment
/// says so, watched, and rolled back on failure.
pub async fn create_change(
    deps: &Deps,
    app: &str,
    env: &str,
    body: &Value,
    if_match: Option<String>,
    key: Option<String>,
    requester: ferry_core::model::Actor,
) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
    let request =
        PromotionRequest::change(app.clone(), env.clone(), body).map_err(Problem::validation)?;
    let id = match key {
        Some(key) => PromotionId::parse("Idempotency-Key", &key)
            .map_err(|e| Problem::validation(e.into()))?,
        None => PromotionId::generate(),
    };
    if let Some(spec) = body.get("spec") {
        let current = deps.store.get_environment(&app, &env).await?;
        // A spec saved under a running promotion would not be what this change deploys.
        if let Some(holder) = current.as_ref().and_then(|e| e.active_promotion.as_ref()) {
            return Err(promotion::StartError::Create(promotion::CreateError::Busy {
                env: format!("{app}/{env}"),
                holder: holder.to_string(),
            })
            .into());
        }
        let saved =
            EnvironmentRequest::parse(&app, &env, &json!({"spec": spec}), if_match.as_deref())
                .map_err(Problem::validation)?;
        environments::upsert(deps.store.as_ref(), &app, &env, saved, Utc::now()).await?;
    }
    let started = promotion::start(
        deps.store.as_ref(),
        deps.workflow.as_ref(),
        request,
        id,
        requester,
        deps.approval_timeout_seconds,
        Utc::now(),
    )
    .await?;
    let location = Some(format!("/promotions/{}", started.promotion.id));
    let status = if started.replayed { 200 } else { 202 };
    respond(status, &public(started.promotion), location)
}

pub async fn get_promotion(deps: &Deps, id: &str) -> RouteResult {
    let id = PromotionId::parse("id", id).map_err(|e| Problem::validation(e.into()))?;
    match deps.store.get_promotion(&id).await? {
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
    let request = EnvironmentRequest::parse(&app, &env, body, if_match.as_deref())
        .map_err(Problem::validation)?;
    let upserted =
        environments::upsert(deps.store.as_ref(), &app, &env, request, Utc::now()).await?;
    respond(
        if upserted.created { 201 } else { 200 },
        &upserted.environment,
        Some(format!("/apps/{app}/environments/{env}")),
    )
}

pub async fn get_environment(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
    match deps.store.get_environment(&app, &env).await? {
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
    let request = ReleaseRequest::parse(body).map_err(Problem::validation)?;
    let stored =
        environments::record_release(deps.store.as_ref(), &app, &env, request, Utc::now()).await?;
    respond(200, &stored, None)
}

/// `POST /apps/{app}/environments/{env}/unlock`, body `{"reason": "..."}`: the last
/// resort, releasing a lock no execution will release, with who, why and when recorded
/// on the promotion that held it.
pub async fn unlock(
    deps: &Deps,
    app: &str,
    env: &str,
    body: &Value,
    by: ferry_core::model::Actor,
) -> RouteResult {
    use ferry_core::promotion::unlock::{self, UnlockError, UnlockRequest};
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("env was given");
    let request = UnlockRequest::parse(body).map_err(Problem::validation)?;
    match unlock::unlock(
        deps.store.as_ref(),
        deps.workflow.as_ref(),
        &app,
        &env,
        request,
        &by,
        Utc::now(),
    )
    .await
    {
        Ok(unlocked) => respond(200, &unlocked, None),
        Err(error @ UnlockError::NotFound(_)) => Err(Problem::not_found(error.to_string())),
        Err(error @ (UnlockError::NotLocked(_) | UnlockError::StillRunning { .. })) => {
            Err(Problem::conflict(error.to_string()))
        }
        Err(UnlockError::Store(error)) => Err(store_problem(error)),
        Err(error @ UnlockError::Workflow(_)) => Err(Problem::unavailable(error)),
    }
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
    decided_by: ferry_core::model::Actor,
) -> RouteResult {
    use ferry_core::model::Decision;
    use ferry_core::promotion::DecideError;
    let id = PromotionId::parse("id", id).map_err(|e| Problem::validation(e.into()))?;
    let comment = promotion::decision_comment(body).map_err(|e| Problem::validation(e.into()))?;
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
        &decided_by,
        &comment,
        Utc::now(),
    )
    .await
    {
        Ok(decided) => {
            let mut answer =
                serde_json::to_value(public(decided.promotion)).map_err(Problem::unavailable)?;
            answer["decision"] = json!({
                "approvals": decided.approvals,
                "needed": decided.needed,
                "resumed": decided.resumed,
            });
            respond(200, &answer, None)
        }
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
    if deps.store.get_app(&app).await?.is_none() {
        return Err(Problem::not_found(format!("app {app} was not found")));
    }
    let environments = deps.store.list_environments(Some(&app)).await?;
    Ok((app, environments))
}

/// `GET /apps/{app}/promotions`: the app's promotions into every environment, newest
/// first (50 per environment).
pub async fn list_promotions(deps: &Deps, app: &str) -> RouteResult {
    let (app, environments_of_app) = app_environments(deps, app).await?;
    let mut promotions = Vec::new();
    for env in environments_of_app {
        promotions.extend(deps.store.list_promotions(&app, &env.name, 50).await?);
    }
    promotions.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let promotions: Vec<_> = promotions.into_iter().map(public).collect();
    respond(200, &json!({"app": app, "promotions": promotions}), None)
}

/// `GET /apps/{app}/cost`: each environment's latest cost report (written weekly by
/// cost-analyzer) and the app's total. An environment not yet priced is listed as such.
pub async fn app_cost(deps: &Deps, app: &str) -> RouteResult {
    use ferry_core::cost::app::app_cost;
    let (app, _) = path_names(app, None)?;
    let cost = app_cost(deps.store.as_ref(), &app).await?;
    respond(200, &cost, None)
}

async fn health_of(deps: &Deps, env: &Environment) -> Result<Value, Problem> {
    ferry_core::monitoring::health::environment_health(deps.store.as_ref(), env, Utc::now())
        .await
        .map_err(store_problem)
}

/// `GET /apps/{app}/environments/{env}/health`: open alarms as an incident with its
/// probable root cause, the last promotion, drift and cost.
pub async fn environment_health(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let environment = environment_named(deps, app, env).await?;
    respond(200, &health_of(deps, &environment).await?, None)
}

async fn environment_named(deps: &Deps, app: &str, env: &str) -> Result<Environment, Problem> {
    let (app, env) = path_names(app, Some(env))?;
    let env = env.expect("named");
    deps.store
        .get_environment(&app, &env)
        .await?
        .ok_or_else(|| Problem::not_found(format!("environment {app}/{env} was not found")))
}

/// `POST /apps/{app}/environments/{env}/drift-checks`: checks now (template and live
/// state), stores the report and returns it.
pub async fn check_drift(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let environment = environment_named(deps, app, env).await?;
    let report = ferry_core::infra::drift::record(
        deps.store.as_ref(),
        &environment,
        deps.stacks.as_ref(),
        deps.live.as_ref(),
        Utc::now(),
    )
    .await
    .map_err(|e| match e {
        ferry_core::job::JobError::Store(error) => store_problem(error),
        other => Problem::unavailable(other),
    })?;
    respond(
        201,
        &json!({"app": environment.app, "env": environment.name, "drifted_resources": report.drifted(), "report": report}),
        None,
    )
}

/// `GET /apps/{app}/environments/{env}/drift`: the latest drift report.
pub async fn latest_drift(deps: &Deps, app: &str, env: &str) -> RouteResult {
    let environment = environment_named(deps, app, env).await?;
    let report = deps
        .store
        .latest_report(&environment.app, &environment.name, ReportKind::Drift)
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no drift check has run for {}/{} yet",
                environment.app, environment.name
            ))
        })?;
    respond(200, &report, None)
}

/// The live drift of an environment's latest check (none before its first).
async fn latest_live_drift(
    deps: &Deps,
    env: &Environment,
) -> Result<Vec<ferry_core::infra::live_drift::LiveDrift>, Problem> {
    Ok(deps
        .store
        .latest_report(&env.app, &env.name, ReportKind::Drift)
        .await?
        .and_then(|r| serde_json::from_value::<ferry_core::infra::drift::DriftReport>(r.body).ok())
        .map(|r| r.live)
        .unwrap_or_default())
}

/// `GET /apps/{app}/environments/{from}/compare/{to}`: the two environments' templates
/// and latest live drift, each difference named by what explains it.
pub async fn compare_environments(deps: &Deps, app: &str, from: &str, to: &str) -> RouteResult {
    let from = environment_named(deps, app, from).await?;
    let to = environment_named(deps, app, to).await?;
    let comparison = ferry_core::infra::compare::compare(
        &from,
        &to,
        latest_live_drift(deps, &from).await?,
        latest_live_drift(deps, &to).await?,
    );
    respond(200, &comparison, None)
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
            .await?;
    respond(
        200,
        &json!({"app": app, "env": env, "silences": active}),
        None,
    )
}

/// `GET /access`: who has which role.
pub async fn get_access(deps: &Deps) -> RouteResult {
    let policy = deps.store.access_policy().await?;
    respond(200, &policy, None)
}

/// `PUT /access`: replaces the access policy; every bad entry is named and nothing is
/// stored unless all are good.
pub async fn put_access(deps: &Deps, body: &Value) -> RouteResult {
    let policy = ferry_core::access::AccessPolicy::parse(body).map_err(Problem::validation)?;
    deps.store.put_access_policy(&policy).await?;
    respond(200, &policy, None)
}
