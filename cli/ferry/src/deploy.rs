//! `ferry deploy`: the template through a change set, with what changes shown first and
//! the stack followed to the end.

use anyhow::{bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use ferry_aws::{CloudFormationStacks, TemplateBucket};
use ferry_core::infra::deploy::{deploy, Outcome, Polling, Progress};
use ferry_core::infra::spec::AppSpec;
use ferry_core::names::EnvName;
use ferry_core::ports::DeployedStacks;
use serde_json::Value;
use std::time::Duration;

/// Where and how to deploy: the stack, its parameters, and what CloudFormation needs on
/// a real account (the service role, a bucket for templates over 51,200 bytes).
pub struct Target<'a> {
    pub parameters: &'a [String],
    pub stack: Option<&'a str>,
    pub role_arn: Option<&'a str>,
    pub artifacts_bucket: Option<&'a str>,
}

pub async fn run(
    spec: &AppSpec,
    env: &str,
    target: Target<'_>,
    poll_seconds: u64,
    render: fn(&AppSpec, &str) -> Result<Value>,
) -> Result<()> {
    let template = render(spec, env)?;
    let mut pairs = Vec::new();
    for pair in target.parameters {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--parameter: '{pair}' is not KEY=VALUE")
        };
        pairs.push((key.to_owned(), value.to_owned()));
    }
    let name = EnvName::parse("--env", env).map_err(|e| anyhow::anyhow!("{e}"))?;
    let stack = target.stack.map_or_else(
        || ferry_core::model::Environment::default_stack_name(&spec.app, &name),
        str::to_owned,
    );
    if let Some(role) = target.role_arn {
        if !role.starts_with("arn:") || !role.contains(":role/") {
            bail!("--role-arn: '{role}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
        }
    }
    let sdk = ferry_aws::sdk_config().await;
    let api = CloudFormationStacks::from_sdk(&sdk)
        .with_service_role(target.role_arn.map(str::to_owned))
        .with_template_bucket(
            target
                .artifacts_bucket
                .map(|bucket| TemplateBucket::from_sdk(&sdk, bucket)),
        );
    // Bootstrapping only: a stack a promotion has moved is changed through the pipeline.
    let deployed = api
        .deployed_template(&stack)
        .await
        .map_err(|e| anyhow::anyhow!("{stack}: {e}"))?;
    if let Err(why) =
        ferry_core::infra::deploy::bootstrap_only(&stack, deployed.as_ref(), &template)
    {
        bail!("{why}");
    }
    let change_set = format!("ferry-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"));
    let polling = Polling {
        interval: Duration::from_secs(poll_seconds.max(1)),
        timeout: Duration::from_secs(3600),
    };
    let outcome = deploy(
        &api,
        &stack,
        &template.to_string(),
        &pairs,
        &change_set,
        polling,
        &mut print_progress,
    )
    .await;
    match outcome {
        Ok(Outcome::NoChanges) => println!("{stack}: already up to date; nothing deployed"),
        Ok(Outcome::Deployed { status, changes }) => {
            println!("{stack}: {status} ({} resource changes)", changes.len())
        }
        Err(error) => bail!("{stack}: {error}"),
    }
    Ok(())
}

fn print_progress(progress: Progress) {
    match progress {
        Progress::ChangeSetCreating { name, create } => {
            eprintln!(
                "creating change set {name} ({})",
                if create { "new stack" } else { "update" }
            )
        }
        Progress::Waiting {
            what,
            status,
            elapsed,
        } => eprintln!("  waiting for {what}: {status} ({}s)", elapsed.as_secs()),
        Progress::Changes(changes) => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header([
                "action",
                "resource",
                "type",
                "replacement",
            ]);
            for c in &changes {
                table.add_row([
                    c.action.as_str(),
                    c.logical_id.as_str(),
                    c.resource_type.as_str(),
                    c.replacement.as_str(),
                ]);
            }
            let replaced = changes.iter().filter(|c| c.replacement == "True").count();
            println!("{table}");
            println!(
                "{} changes, {replaced} replacing a resource; executing",
                changes.len()
            );
        }
        Progress::Event(e) => eprintln!(
            "  {:<40} {:<45} {}{}",
            e.logical_id,
            e.resource_type,
            e.status,
            e.reason.map(|r| format!(": {r}")).unwrap_or_default()
        ),
    }
}
