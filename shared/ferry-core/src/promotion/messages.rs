//! What a promotion tells people, on the notification channels (Slack, email): an
//! approval it waits for, and a rollback that gave up.

use crate::model::{Environment, Promotion, StepOutcome};
use crate::monitoring::notify::Message;
use serde_json::{json, Value};

/// The detail of the latest successful step named `name` (or whose name starts with it).
fn latest<'a>(promotion: &'a Promotion, name: &str) -> Option<&'a Value> {
    promotion
        .steps
        .iter()
        .rev()
        .find(|s| s.outcome == StepOutcome::Succeeded && s.name.starts_with(name))
        .map(|s| &s.detail)
}

/// A promotion waits for approvers: who asked for what, why it waits (its risk score and
/// each factor, or a marginal canary's judgement), how many approvals it needs, and the
/// exact commands that decide it.
pub fn approval_request(promotion: &Promotion, target: &Environment, wait: &str) -> Message {
    let env = format!("{}/{}", promotion.app, promotion.target_env);
    let judgement = promotion
        .steps
        .last()
        .filter(|s| s.name.starts_with("Analyse") && s.detail["marginal"] == true)
        .map(|s| &s.detail);
    let needed = target.spec.promotion.approvers.max(1);
    let title = match judgement {
        Some(_) => format!(
            "{env}: promotion {} has a marginal canary and waits for a judgement",
            promotion.id
        ),
        None => format!("{env}: promotion {} waits for approval", promotion.id),
    };
    let release = promotion.release.as_ref().map_or("-", |r| r.image.as_str());
    let summary = format!(
        "{} asks to promote {} from {} to {} ({}): release {release}. Needs {needed} approval{} \
         from someone other than the requester (approval policy: {}).",
        promotion.requested_by,
        promotion.app,
        promotion.source_env,
        promotion.target_env,
        promotion.strategy,
        if needed == 1 { "" } else { "s" },
        target.spec.approval_policy(),
    );
    let mut why: Vec<String> = Vec::new();
    match judgement {
        Some(detail) => why.push(format!(
            "canary judge: {} (score {}); see `ferry status {}` for each metric",
            detail["judge"]["outcome"].as_str().unwrap_or("Marginal"),
            detail["judge"]["score"],
            promotion.id
        )),
        None => {
            if let Some(risk) = latest(promotion, "AssessRisk") {
                why.push(format!(
                    "risk score {} (approval threshold {})",
                    risk["score"], risk["approval_threshold"]
                ));
                for factor in risk["factors"].as_array().into_iter().flatten() {
                    why.push(format!(
                        "+{} {}: {}",
                        factor["points"],
                        factor["factor"].as_str().unwrap_or("?"),
                        factor["why"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    let approve = format!(
        "ferry approve {} --comment \"what you checked\"",
        promotion.id
    );
    let reject = format!("ferry reject {} --comment \"why not\"", promotion.id);
    let bullets = why
        .iter()
        .map(|w| format!("• {w}"))
        .collect::<Vec<_>>()
        .join("\n");
    let slack = json!({
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*Why it waits*\n{bullets}")}},
            {"type": "section", "text": {"type": "mrkdwn",
                "text": format!("*Approve*\n```{approve}```\n*Reject*\n```{reject}```")}},
        ],
    });
    let mut body = format!("{title}\n\n{summary}\n\nWhy it waits:\n");
    for w in &why {
        body.push_str(&format!("  - {w}\n"));
    }
    body.push_str(&format!("\nApprove:\n  {approve}\nReject:\n  {reject}\n"));
    Message {
        dedup_key: format!("approval/{}/{wait}", promotion.id),
        slack,
        email_subject: format!("[Ferry] {title}"),
        email_body: body,
    }
}

/// A rollback gave up: traffic may not be on the live colour, and the environment needs
/// a person.
pub fn rollback_failed(promotion: &Promotion, stack: Option<&str>, reason: &str) -> Message {
    let env = format!("{}/{}", promotion.app, promotion.target_env);
    let title = format!("{env}: the rollback of promotion {} failed", promotion.id);
    let stack = stack.unwrap_or("(unknown)");
    let what = format!(
        "Traffic may not be back on the live colour. The promotion has ended Failed and the \
         environment's lock is released. Check the listener weights of stack {stack}, then \
         promote again (or redeploy with `ferry deploy`). Reason: {reason}"
    );
    let slack = json!({
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": what}},
            {"type": "context", "elements": [{"type": "mrkdwn",
                "text": format!("`ferry status {}` shows its timeline", promotion.id)}]},
        ],
    });
    Message {
        dedup_key: format!("rollback-failed/{}", promotion.id),
        slack,
        email_subject: format!("[Ferry] {title}"),
        email_body: format!(
            "{title}\n\n{what}\n\n`ferry status {}` shows its timeline.\n",
            promotion.id
        ),
    }
}
