//! Routing: who is asking and may they, method and path to a route, body checks.

use crate::identity::{authorize, identify};
use crate::problem::Problem;
use crate::routes;
use ferry_core::access::Role;
use ferry_core::ports::{DeployedStacks, LiveResources, Store, Workflow};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use std::sync::Arc;

pub struct Deps {
    pub store: Arc<dyn Store>,
    pub workflow: Arc<dyn Workflow>,
    /// Drift checks on demand read the stack and each resource's actual state.
    pub stacks: Arc<dyn DeployedStacks>,
    pub live: Arc<dyn LiveResources>,
    pub approval_timeout_seconds: u64,
    /// Principals that are always admin (Ferry's own deployment names them).
    pub admins: Vec<String>,
    /// Local runs only: trust `x-ferry-identity` when API Gateway established no caller.
    pub local_identity: bool,
}

/// Bodies above this are refused before parsing; no Ferry request needs more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn handle(deps: &Deps, request: Request) -> Response<Body> {
    route(deps, &request)
        .await
        .unwrap_or_else(Problem::into_response)
}

async fn route(deps: &Deps, request: &Request) -> Result<Response<Body>, Problem> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let who = identify(request, deps.local_identity);
    let may = |role: Role| authorize(deps, &who, role, &method, &path);
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["promotions"]) => {
            may(Role::Deployer).await?;
            let body = json_body(request)?;
            routes::create_promotion(deps, &body, idempotency_key(request), who.actor()).await
        }
        ("GET", ["promotions", id]) => {
            may(Role::Viewer).await?;
            routes::get_promotion(deps, id).await
        }
        ("POST", ["promotions", id, verb @ ("approve" | "reject")]) => {
            may(Role::Approver).await?;
            let body = json_body(request)?;
            routes::decide(deps, id, verb, &body, who.actor()).await
        }
        ("GET", ["apps", app, "promotions"]) => {
            may(Role::Viewer).await?;
            routes::list_promotions(deps, app).await
        }
        ("GET", ["apps", app, "environments", env, "health"]) => {
            may(Role::Viewer).await?;
            routes::environment_health(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "silences"]) => {
            may(Role::Deployer).await?;
            let body = json_body(request)?;
            routes::create_silence(deps, app, env, &body, who.name()).await
        }
        ("GET", ["apps", app, "environments", env, "silences"]) => {
            may(Role::Viewer).await?;
            routes::list_silences(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "drift-checks"]) => {
            may(Role::Deployer).await?;
            routes::check_drift(deps, app, env).await
        }
        ("GET", ["apps", app, "environments", from, "compare", to]) => {
            may(Role::Viewer).await?;
            routes::compare_environments(deps, app, from, to).await
        }
        ("GET", ["apps", app, "environments", env, "drift"]) => {
            may(Role::Viewer).await?;
            routes::latest_drift(deps, app, env).await
        }
        ("GET", ["apps", app, "health"]) => {
            may(Role::Viewer).await?;
            routes::app_health(deps, app).await
        }
        ("GET", ["apps", app, "cost"]) => {
            may(Role::Viewer).await?;
            routes::app_cost(deps, app).await
        }
        ("PUT", ["apps", app]) => {
            may(Role::Admin).await?;
            routes::put_app(deps, app).await
        }
        ("PUT", ["apps", app, "environments", env]) => {
            may(Role::Admin).await?;
            let body = json_body(request)?;
            routes::put_environment(deps, app, env, &body, if_match(request)).await
        }
        ("POST", ["apps", app, "environments", env, "changes"]) => {
            may(Role::Deployer).await?;
            let body = json_body(request)?;
            // Sending a spec saves it, which is an admin's to do (as PUT is).
            if body.get("spec").is_some() {
                may(Role::Admin).await?;
            }
            let key = idempotency_key(request);
            routes::create_change(deps, app, env, &body, if_match(request), key, who.actor()).await
        }
        ("GET", ["apps", app, "environments", env]) => {
            may(Role::Viewer).await?;
            routes::get_environment(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "template"]) => {
            may(Role::Viewer).await?;
            routes::generate_template(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "unlock"]) => {
            may(Role::Admin).await?;
            let body = json_body(request)?;
            routes::unlock(deps, app, env, &body, who.actor()).await
        }
        ("POST", ["apps", app, "environments", env, "releases"]) => {
            may(Role::Deployer).await?;
            let body = json_body(request)?;
            routes::record_release(deps, app, env, &body).await
        }
        ("GET", ["access"]) => {
            may(Role::Admin).await?;
            routes::get_access(deps).await
        }
        ("PUT", ["access"]) => {
            may(Role::Admin).await?;
            let body = json_body(request)?;
            routes::put_access(deps, &body).await
        }
        _ => Err(Problem::not_found(format!("no route for {method} {path}"))),
    }
}

fn json_body(request: &Request) -> Result<Value, Problem> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::invalid(
            "body",
            format!("is {} bytes; the limit is {MAX_BODY_BYTES}", bytes.len()),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| Problem::invalid("body", format!("is not valid JSON: {e}")))
}

pub(crate) fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn idempotency_key(request: &Request) -> Option<String> {
    header(request, "idempotency-key").map(str::to_owned)
}

fn if_match(request: &Request) -> Option<String> {
    header(request, "if-match").map(|v| v.trim_matches('"').to_owned())
}
