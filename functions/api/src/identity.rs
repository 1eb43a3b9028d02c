//! Who is asking, and whether their role allows the route.

use crate::handler::{header, Deps};
use crate::problem::Problem;
use ferry_core::access::{groups_claim, Identity, Role};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The caller as API Gateway's authorizer established it: JWT claims (email or subject,
/// and groups), or the IAM principal. Headers are never trusted for this, except in the
/// local-identity mode, and then only when there is no authorizer at all.
pub fn identify(request: &Request, local_identity: bool) -> Identity {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = request.request_context_ref() {
        if let Some(authorizer) = &ctx.authorizer {
            if let Some(jwt) = &authorizer.jwt {
                let claims = &jwt.claims;
                let groups = ["cognito:groups", "groups"]
                    .iter()
                    .find_map(|k| claims.get(*k))
                    .map(|g| groups_claim(g))
                    .unwrap_or_default();
                let who = Identity::jwt(
                    claims.get("email").map(String::as_str),
                    claims.get("sub").map(String::as_str),
                    groups,
                );
                if !who.is_anonymous() {
                    return who;
                }
            }
            if let Some(iam) = &authorizer.iam {
                if let Some(arn) = &iam.user_arn {
                    // API Gateway passes what the IAM authorizer knows of the session; a
                    // `sourceIdentity`, where there is one, tells apart people who share
                    // a role. (HTTP APIs do not pass it today: the role alone is then
                    // the principal.)
                    let source = iam.other.get("sourceIdentity").and_then(|v| v.as_str());
                    return Identity::iam(arn, source);
                }
            }
            return Identity::anonymous();
        }
    }
    match header(request, "x-ferry-identity").filter(|_| local_identity) {
        Some(principal) if !principal.trim().is_empty() => Identity::named(
            principal.trim(),
            header(request, "x-ferry-groups")
                .map(groups_claim)
                .unwrap_or_default(),
        ),
        _ => Identity::anonymous(),
    }
}

/// 401 for anonymous callers, 403 naming the role needed for everyone else below it.
pub async fn authorize(
    deps: &Deps,
    who: &Identity,
    needed: Role,
    method: &str,
    path: &str,
) -> Result<(), Problem> {
    if who.is_anonymous() {
        return Err(Problem::unauthorized(format!(
            "{method} {path} needs an authenticated caller with the {needed} role"
        )));
    }
    let policy = deps
        .store
        .access_policy()
        .await
        .map_err(Problem::unavailable)?;
    match policy.role_of(who, &deps.admins) {
        Some(role) if role >= needed => Ok(()),
        Some(role) => Err(Problem::forbidden(format!(
            "{} is a {role}; {method} {path} needs {needed}",
            who.name()
        ))),
        None => Err(Problem::forbidden(format!(
            "{} has no role in Ferry; {method} {path} needs {needed}",
            who.name()
        ))),
    }
}
