//! `ferry`: plan an environment offline with the same engines the functions use, and
//! drive a deployed Ferry (apps, environments, releases, promotions).

mod client;
mod output;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use client::FerryApi;
use ferry_core::model::{Environment, EnvironmentSpec};
use ferry_core::names::{AppName, Colour, EnvName};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ferry",
    version,
    about = "Environments, promotions and monitoring for AWS apps"
)]
struct Cli {
    /// The deployed Ferry's api function (name or ARN). Calls go through Lambda Invoke,
    /// signed with your AWS credentials; AWS_ENDPOINT_URL points them at a local AWS.
    #[arg(
        long,
        env = "FERRY_API_FUNCTION",
        global = true,
        default_value = "ferry-api"
    )]
    api_function: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a spec, generate its template and price it. Offline: no AWS calls.
    Plan {
        #[arg(long)]
        spec: PathBuf,
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Print the generated CloudFormation template instead of the cost table.
        #[arg(long)]
        template: bool,
    },
    /// Create an app.
    App { name: String },
    /// Create or replace an environment's spec.
    Env {
        app: String,
        env: String,
        #[arg(long)]
        spec: PathBuf,
        /// Replace an existing environment at this version.
        #[arg(long)]
        version: Option<u64>,
    },
    /// Record the release an environment runs (what CI deployed).
    Release {
        app: String,
        env: String,
        #[arg(long)]
        image: String,
        /// KEY=VALUE settings that go with the release.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Start a promotion, and optionally wait for it and print its timeline.
    Promote {
        app: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "BlueGreen")]
        strategy: String,
        /// Idempotency key: a retry with the same key returns the same promotion.
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        wait: bool,
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    /// Show a promotion's timeline.
    Status { id: String },
}

fn read_spec(path: &PathBuf) -> Result<EnvironmentSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    EnvironmentSpec::parse("spec", &value)
        .map_err(|errors| anyhow::anyhow!("{}: {errors}", path.display()))
}

fn plan(spec: &PathBuf, app: &str, env: &str, region: &str, template: bool) -> Result<()> {
    let spec = read_spec(spec)?;
    let app = AppName::parse("--app", app).map_err(|e| anyhow::anyhow!("{e}"))?;
    let env_name = EnvName::parse("--env", env).map_err(|e| anyhow::anyhow!("{e}"))?;
    let environment = Environment {
        stack_name: Environment::default_stack_name(&app, &env_name),
        app,
        name: env_name,
        spec,
        deployed_release: None,
        live_colour: Colour::Blue,
        active_promotion: None,
        version: 0,
        updated_at: chrono::Utc::now(),
    };
    let generated = ferry_core::template::generate(&environment, None, Colour::Blue);
    if template {
        println!("{}", serde_json::to_string_pretty(&generated)?);
        return Ok(());
    }
    let catalog =
        ferry_core::cost::Catalog::bundled(region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    output::print_estimate(&ferry_core::cost::estimate(&generated, &catalog));
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Plan {
        spec,
        app,
        env,
        region,
        template,
    } = &cli.command
    {
        return plan(spec, app, env, region, *template);
    }
    let api = FerryApi::connect(&cli.api_function).await;
    match cli.command {
        Command::Plan { .. } => unreachable!("handled above"),
        Command::App { name } => output::print_json(
            &api.call("PUT", &format!("/apps/{name}"), None, None)
                .await?,
        ),
        Command::Env {
            app,
            env,
            spec,
            version,
        } => {
            let spec = read_spec(&spec)?;
            let if_match = version.map(|v| v.to_string());
            let body = json!({"spec": spec});
            let stored = api
                .call(
                    "PUT",
                    &format!("/apps/{app}/environments/{env}"),
                    Some(&body),
                    if_match.as_deref().map(|v| ("if-match", v)),
                )
                .await?;
            println!("{app}/{env} stored at version {}", stored["version"]);
        }
        Command::Release {
            app,
            env,
            image,
            config,
        } => {
            let mut settings = serde_json::Map::new();
            for pair in config {
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--config: '{pair}' is not KEY=VALUE")
                };
                settings.insert(key.to_owned(), json!(value));
            }
            let body = json!({"image": image, "config": settings});
            api.call(
                "POST",
                &format!("/apps/{app}/environments/{env}/releases"),
                Some(&body),
                None,
            )
            .await?;
            println!("{app}/{env} now runs {image}");
        }
        Command::Promote {
            app,
            from,
            to,
            strategy,
            key,
            wait,
            timeout_secs,
        } => {
            let body =
                json!({"app": app, "source_env": from, "target_env": to, "strategy": strategy});
            let started = api
                .call(
                    "POST",
                    "/promotions",
                    Some(&body),
                    key.as_deref().map(|k| ("idempotency-key", k)),
                )
                .await?;
            let id = started["id"]
                .as_str()
                .context("the answer has no promotion id")?
                .to_owned();
            println!(
                "promotion {id}: {app} {from} -> {to} ({strategy}), execution {}",
                started["execution_arn"].as_str().unwrap_or("-")
            );
            if wait {
                let record = api
                    .wait_for_end(&id, Duration::from_secs(timeout_secs))
                    .await?;
                output::print_timeline(&record);
                if record["status"] != "Succeeded" {
                    bail!("promotion {id} ended {}", record["status"]);
                }
            }
        }
        Command::Status { id } => output::print_timeline(
            &api.call("GET", &format!("/promotions/{id}"), None, None)
                .await?,
        ),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the whole chain, outermost first.
            eprintln!("ferry: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
