//! Routing: method and path to a route, body size and JSON checks, and who is asking.

use crate::problem::Problem;
use crate::routes;
use ferry_core::ports::{Store, Workflow};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use std::sync::Arc;

pub struct Deps {
    pub store: Arc<dyn Store>,
    pub workflow: Arc<dyn Workflow>,
    pub approval_timeout_seconds: u64,
}

/// Bodies above this are refused before parsing; no Ferry request needs more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn handle(deps: &Deps, request: Request) -> Response<Body> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let result = match (method.as_str(), segments.as_slice()) {
        ("POST", ["promotions"]) => match json_body(&request) {
            Ok(body) => {
                routes::create_promotion(
                    deps,
                    &body,
                    idempotency_key(&request),
                    requester(&request),
                )
                .await
            }
            Err(problem) => Err(problem),
        },
        ("GET", ["promotions", id]) => routes::get_promotion(deps, id).await,
        ("POST", ["promotions", id, verb @ ("approve" | "reject")]) => match json_body(&request) {
            Ok(body) => routes::decide(deps, id, verb, &body, &requester(&request)).await,
            Err(problem) => Err(problem),
        },
        ("PUT", ["apps", app]) => routes::put_app(deps, app).await,
        ("PUT", ["apps", app, "environments", env]) => match json_body(&request) {
            Ok(body) => routes::put_environment(deps, app, env, &body, if_match(&request)).await,
            Err(problem) => Err(problem),
        },
        ("GET", ["apps", app, "environments", env]) => {
            routes::get_environment(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "template"]) => {
            routes::generate_template(deps, app, env).await
        }
        ("POST", ["apps", app, "environments", env, "releases"]) => match json_body(&request) {
            Ok(body) => routes::record_release(deps, app, env, &body).await,
            Err(problem) => Err(problem),
        },
        _ => Err(Problem::not_found(format!("no route for {method} {path}"))),
    };
    result.unwrap_or_else(Problem::into_response)
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

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn idempotency_key(request: &Request) -> Option<String> {
    header(request, "idempotency-key").map(str::to_owned)
}

fn if_match(request: &Request) -> Option<String> {
    header(request, "if-match").map(|v| v.trim_matches('"').to_owned())
}

/// Who is asking, as API Gateway's authorizer established it. Never a header the
/// caller sets: the approval rules later depend on this being true.
fn requester(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| {
                let claims = a.jwt.as_ref().map(|j| &j.claims);
                let from_jwt = claims
                    .and_then(|c| c.get("email").or_else(|| c.get("sub")))
                    .cloned();
                from_jwt.or_else(|| a.iam.as_ref().and_then(|i| i.user_arn.clone()))
            })
            .unwrap_or_else(|| "anonymous".to_owned()),
        _ => "anonymous".to_owned(),
    }
}
