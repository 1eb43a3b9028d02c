//! `ferry`: plan an environment offline with the same engines the functions use, and
//! drive a deployed Ferry (apps, environments, releases, promotions).

mod alerts;
mod client;
mod cost;
mod deploy;
mod output;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use client::FerryApi;
use ferry_core::infra::spec::{parse_document, AppSpec};
use ferry_core::names::Colour;
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
    /// A deployed Ferry's HTTP API URL: calls then go over HTTPS, signed with SigV4, and
    /// API Gateway's IAM authorizer identifies you. Without it, Lambda Invoke (local runs).
    #[arg(long, env = "FERRY_API_URL", global = true)]
    api_url: Option<String>,
    /// Who you are to a local Ferry (its local-identity mode). A deployed Ferry ignores
    /// this and takes your identity from API Gateway's authorizer.
    #[arg(long = "as", env = "FERRY_IDENTITY", global = true)]
    identity: Option<String>,
    /// Your account's own policy rules: a cfn-guard rules file, checked with Ferry's rules
    /// (and the spec's `policy.rules`) on every template rendered here (validate,
    /// template, plan, cost, deploy). A deployed Ferry takes its own from
    /// FERRY_POLICY_RULES.
    #[arg(
        long = "rules",
        value_name = "FILE",
        env = "FERRY_POLICY_RULES_FILE",
        global = true
    )]
    rules: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the JSON Schema of the spec file.
    Schema,
    /// Check a spec (YAML or JSON): schema, sizes, secrets, overrides, and the policy
    /// rules on every environment's template.
    Validate { spec: PathBuf },
    /// Print an environment's CloudFormation template.
    Template {
        spec: PathBuf,
        #[arg(long)]
        env: String,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Price an environment's template per month, with savings advice. Offline.
    Plan {
        spec: PathBuf,
        #[arg(long)]
        env: String,
        /// The deployed template (e.g. from `aws cloudformation get-template`): the plan
        /// then says what the change adds or saves a month.
        #[arg(long)]
        deployed: Option<PathBuf>,
        #[command(flatten)]
        pricing: cost::Pricing,
    },
    /// Price a Ferry spec's environment, or any CloudFormation template (JSON or YAML),
    /// per month, with every cost component and savings advice. Offline.
    #[command(args_conflicts_with_subcommands = true)]
    Cost {
        #[command(subcommand)]
        diff: Option<CostCommand>,
        /// A Ferry spec (every environment and the app total, or one environment with
        /// --env) or a CloudFormation template.
        input: Option<PathBuf>,
        #[arg(long)]
        env: Option<String>,
        #[command(flatten)]
        pricing: cost::Pricing,
        // Boxed: the flags of Ferry's own bill would make every command as large.
        #[command(flatten)]
        load: Box<cost::FerryLoadArgs>,
        #[arg(long, value_enum, default_value = "table")]
        output: cost::CostOutput,
    },
    /// Deploy an environment's template through a CloudFormation change set.
    Deploy {
        spec: PathBuf,
        #[arg(long)]
        env: String,
        /// Stack parameters, e.g. CertificateArn=arn:aws:acm:...
        #[arg(long = "parameter", value_name = "KEY=VALUE")]
        parameters: Vec<String>,
        /// The stack to deploy to (default ferry-<app>-<env>).
        #[arg(long)]
        stack: Option<String>,
        #[arg(long, default_value_t = 5)]
        poll_seconds: u64,
        /// CloudFormation's service role for the stack (the Ferry stack's
        /// EnvironmentStackRoleArn output): the change set runs with its rights, not yours.
        #[arg(long, env = "FERRY_STACK_ROLE_ARN")]
        role_arn: Option<String>,
        /// Where a template over CloudFormation's 51,200-byte inline limit is uploaded
        /// (the Ferry stack's ArtifactsBucketName output).
        #[arg(long, env = "FERRY_ARTIFACTS_BUCKET")]
        artifacts_bucket: Option<String>,
    },
    /// Create an app.
    App { name: String },
    /// Create or replace an environment from a spec file.
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
    /// Deploy an environment's infrastructure change on its own, through the promotion
    /// pipeline (locked, previewed, risk-scored, approved where required, watched, rolled
    /// back on failure); the live colour and the release stay as they are.
    Apply {
        app: String,
        env: String,
        /// Save this spec first (at --version), then deploy it; without it, the stored spec.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// The environment's version the spec replaces (GET the environment to read it).
        #[arg(long, requires = "spec")]
        version: Option<u64>,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
        /// A data store the change may replace or delete (Database, Cache, AccessLogBucket).
        #[arg(long = "allow-replace", value_name = "RESOURCE")]
        allow_replace: Vec<String>,
        /// Follow it live: each step as it lands, approvals as they are needed.
        #[arg(long)]
        watch: bool,
        #[arg(long, default_value_t = 3600)]
        timeout_secs: u64,
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
        /// Wait for the end, then print the timeline.
        #[arg(long)]
        wait: bool,
        /// Follow the promotion live: each step as it lands, approvals as they are needed.
        #[arg(long, conflicts_with = "wait")]
        watch: bool,
        #[arg(long, default_value_t = 3600)]
        timeout_secs: u64,
    },
    /// An app's health, environment by environment (open alarms and their probable root
    /// cause, the last promotion, drift, cost), or a promotion's timeline; `--json` for the
    /// whole record.
    Status {
        /// An app name, or a promotion id.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Check an environment for drift now: its stack against the template Ferry generates,
    /// and each resource (services, task definitions, security groups, target groups,
    /// database, alarms, log groups) against its actual state. `--latest` shows the last
    /// check instead of running one.
    ///
    /// `ferry drift compare APP FROM TO` compares two environments instead: every
    /// difference between their templates, named by what explains it (release, profile,
    /// the spec's values for one of them, or nothing), and each one's live drift.
    Drift {
        /// `APP ENV`, or `compare APP FROM TO`.
        #[arg(num_args = 2..=4, value_name = "APP ENV | compare APP FROM TO")]
        args: Vec<String>,
        #[arg(long)]
        latest: bool,
        #[arg(long)]
        json: bool,
    },
    /// Approve a promotion waiting for a decision.
    Approve {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Reject a promotion waiting for a decision; say why.
    Reject {
        id: String,
        #[arg(long)]
        comment: String,
    },
    /// Release an environment's lock by hand (admin): the last resort, for a lock no
    /// execution will release. Refused while the holder's execution runs (stop it, and
    /// Ferry rolls back and frees the lock). Does not touch the stack.
    Unlock {
        app: String,
        env: String,
        /// Why, for the record (kept on the promotion that held the lock).
        #[arg(long)]
        reason: String,
    },
    /// An app's promotion history, newest first.
    Promotions { app: String },
    /// Show who has which role, or replace the access policy from a JSON file
    /// (`{"principals": {"ana@example.com": "deployer"}, "groups": {"ops": "approver"}}`).
    Access {
        #[arg(long)]
        set: Option<PathBuf>,
    },
    /// Alerts: the anomaly detector, offline.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// The pricing catalog.
    Pricing {
        #[command(subcommand)]
        command: PricingCommand,
    },
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Run the streaming anomaly detector over a `timestamp,value` CSV: one score in
    /// [0, 1] per row.
    Backtest {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "summary")]
        output: alerts::BacktestOutput,
    },
}

#[derive(Subcommand)]
enum PricingCommand {
    /// Rebuild the catalog from the AWS Price List API (needs AWS credentials allowed
    /// pricing:GetProducts). Prices the API does not list (Spot, Savings Plans rates) keep
    /// their current entries. Use the result with `ferry cost --catalog FILE`.
    Refresh {
        /// Regions to refresh (default: every region the catalog has).
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        /// The catalog to start from (default: the bundled one).
        #[arg(long)]
        catalog: Option<PathBuf>,
        #[arg(long, default_value = "pricing.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum CostCommand {
    /// What a change does to the monthly cost: BEFORE and AFTER (templates, or specs with
    /// --env), or one spec's --env compared with its --against environment.
    Diff {
        before: PathBuf,
        after: Option<PathBuf>,
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        against: Option<String>,
        #[command(flatten)]
        pricing: cost::Pricing,
        #[arg(long, value_enum, default_value = "table")]
        output: cost::CostOutput,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Yaml,
}

pub(crate) fn read_document(path: &PathBuf) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    parse_document(&text).map_err(|errors| anyhow::anyhow!("{}: {errors}", path.display()))
}

pub(crate) fn read_spec(path: &PathBuf) -> Result<AppSpec> {
    spec_from(read_document(path)?, path)
}

/// A spec from a document already read from `path`.
pub(crate) fn spec_from(document: Value, path: &std::path::Path) -> Result<AppSpec> {
    AppSpec::from_document(document)
        .map_err(|errors| anyhow::anyhow!("{}: {errors}", path.display()))
}

/// The template with the policy rules applied; waived rules are reported on stderr.
pub(crate) fn rendered(spec: &AppSpec, env: &str) -> Result<Value> {
    let environment = spec
        .new_environment(env)
        .map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let (template, report) = ferry_core::infra::template::render(&environment, None, Colour::Blue)
        .map_err(|e| anyhow::anyhow!("environment {env}: {e}"))?;
    for (violation, reason) in &report.waived {
        eprintln!(
            "ferry: {env}: policy rule {} waived: {reason}",
            violation.rule
        );
    }
    Ok(template)
}

fn offline(command: &Command) -> Option<Result<()>> {
    Some(match command {
        Command::Schema => {
            println!("{}", ferry_core::infra::spec::SCHEMA.trim_end());
            Ok(())
        }
        Command::Validate { spec } => read_spec(spec).and_then(|parsed| {
            let names = parsed.environment_names();
            for env in &names {
                rendered(&parsed, env)?;
            }
            println!(
                "{}: valid; environments {} pass the policy rules",
                spec.display(),
                names.join(", ")
            );
            Ok(())
        }),
        Command::Template { spec, env, format } => read_spec(spec).and_then(|parsed| {
            let template = rendered(&parsed, env)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&template)?),
                Format::Yaml => print!(
                    "{}",
                    serde_saphyr::to_string(&template).context("rendering YAML")?
                ),
            }
            Ok(())
        }),
        Command::Plan {
            spec,
            env,
            deployed,
            pricing,
        } => cost::plan(spec, env, deployed.as_deref(), pricing),
        Command::Cost {
            diff:
                Some(CostCommand::Diff {
                    before,
                    after,
                    env,
                    against,
                    pricing,
                    output,
                }),
            ..
        } => cost::cost_diff(
            before,
            after.as_deref(),
            env.as_deref(),
            against.as_deref(),
            pricing,
            *output,
        ),
        Command::Cost {
            input: Some(input),
            env,
            pricing,
            load,
            output,
            ..
        } => cost::cost(input, env.as_deref(), pricing, load, *output),
        Command::Alerts {
            command: AlertsCommand::Backtest { file, output },
        } => alerts::backtest(file, *output),
        Command::Cost { .. } => Err(anyhow::anyhow!(
            "cost: give a spec (with --env) or a CloudFormation template, or `cost diff`"
        )),
        _ => return None,
    })
}

/// The account's rules from `--rules`, installed before any spec is read: they decide
/// which waivers a spec may give.
fn install_account_rules(path: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--rules {}: cannot read", path.display()))?;
    let rules = ferry_core::infra::policy::PolicyRules::parse(
        &format!("--rules {}", path.display()),
        &text,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    ferry_core::infra::policy::install_account_rules(rules)?;
    Ok(())
}

/// The account's rules installed, then the command if it is an offline one.
fn offline_with_rules(cli: &Cli) -> Option<Result<()>> {
    if let Some(path) = &cli.rules {
        if let Err(error) = install_account_rules(path) {
            return Some(Err(error));
        }
    }
    offline(&cli.command)
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Pricing {
        command:
            PricingCommand::Refresh {
                regions,
                catalog,
                out,
            },
    } = &cli.command
    {
        return cost::refresh(regions, catalog.as_deref(), out).await;
    }
    if let Command::Deploy {
        spec,
        env,
        parameters,
        stack,
        poll_seconds,
        role_arn,
        artifacts_bucket,
    } = &cli.command
    {
        return deploy::run(
            &read_spec(spec)?,
            env,
            deploy::Target {
                parameters,
                stack: stack.as_deref(),
                role_arn: role_arn.as_deref(),
                artifacts_bucket: artifacts_bucket.as_deref(),
            },
            *poll_seconds,
            rendered,
        )
        .await;
    }
    let api = FerryApi::connect(
        &cli.api_function,
        cli.api_url.as_deref(),
        cli.identity.clone(),
    )
    .await;
    match cli.command {
        Command::Deploy { .. } | Command::Pricing { .. } => unreachable!("handled above"),
        Command::Schema
        | Command::Validate { .. }
        | Command::Template { .. }
        | Command::Plan { .. }
        | Command::Alerts { .. }
        | Command::Cost { .. } => {
            unreachable!("offline commands return above")
        }
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
            let document = read_document(&spec)?;
            let if_match = version.map(|v| v.to_string());
            let body = json!({"spec": document});
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
            watch,
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
            let timeout = Duration::from_secs(timeout_secs);
            let record = if watch {
                Some(api.watch(&id, timeout, output::print_step).await?)
            } else if wait {
                let record = api.wait_for_end(&id, timeout).await?;
                output::print_timeline(&record);
                Some(record)
            } else {
                None
            };
            if let Some(record) = record.filter(|r| r["status"] != "Succeeded") {
                bail!("promotion {id} ended {}", record["status"]);
            }
        }
        Command::Apply {
            app,
            env,
            spec,
            version,
            reason,
            allow_replace,
            watch,
            timeout_secs,
        } => {
            let mut body = json!({"reason": reason, "allow_replace": allow_replace});
            if let Some(spec) = &spec {
                body["spec"] = read_document(spec)?;
            }
            let if_match = version.map(|v| v.to_string());
            let started = api
                .call(
                    "POST",
                    &format!("/apps/{app}/environments/{env}/changes"),
                    Some(&body),
                    if_match.as_deref().map(|v| ("if-match", v)),
                )
                .await?;
            let id = started["id"]
                .as_str()
                .context("the answer has no change id")?
                .to_owned();
            println!(
                "change {id}: {app}/{env}, execution {}",
                started["execution_arn"].as_str().unwrap_or("-")
            );
            if watch {
                let record = api
                    .watch(&id, Duration::from_secs(timeout_secs), output::print_step)
                    .await?;
                if record["status"] != "Succeeded" {
                    bail!("change {id} ended {}", record["status"]);
                }
            }
        }
        Command::Approve { id, comment } => {
            let record = api
                .call(
                    "POST",
                    &format!("/promotions/{id}/approve"),
                    Some(&json!({"comment": comment})),
                    None,
                )
                .await?;
            let by = record["approvals"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(|a| a["decided_by"].as_str())
                .unwrap_or("you");
            let decision = &record["decision"];
            if decision["resumed"] == false {
                println!(
                    "promotion {id} approved by {by}: {} of {} approvals; it waits for more",
                    decision["approvals"], decision["needed"]
                );
            } else {
                println!("promotion {id} approved by {by}; the pipeline goes on");
            }
        }
        Command::Reject { id, comment } => {
            api.call(
                "POST",
                &format!("/promotions/{id}/reject"),
                Some(&json!({"comment": comment})),
                None,
            )
            .await?;
            println!("promotion {id} rejected; it rolls back");
        }
        Command::Unlock { app, env, reason } => {
            let answer = api
                .call(
                    "POST",
                    &format!("/apps/{app}/environments/{env}/unlock"),
                    Some(&json!({"reason": reason})),
                    None,
                )
                .await?;
            println!(
                "{app}/{env} unlocked: promotion {} ended {}; traffic {}",
                answer["promotion"].as_str().unwrap_or("?"),
                answer["status"].as_str().unwrap_or("as it was"),
                answer["traffic"].as_str().unwrap_or("untouched"),
            );
        }
        Command::Access { set } => {
            let answer = match set {
                Some(path) => {
                    let policy = read_document(&path)?;
                    api.call("PUT", "/access", Some(&policy), None).await?
                }
                None => api.call("GET", "/access", None, None).await?,
            };
            output::print_json(&answer);
        }
        Command::Promotions { app } => output::print_promotions(
            &api.call("GET", &format!("/apps/{app}/promotions"), None, None)
                .await?,
        ),
        Command::Drift { args, latest, json } => {
            let (app, env) = match args.as_slice() {
                [verb, app, from, to] if verb == "compare" => {
                    let path = format!("/apps/{app}/environments/{from}/compare/{to}");
                    let comparison = api.call("GET", &path, None, None).await?;
                    if json {
                        output::print_json(&comparison);
                    } else {
                        output::print_comparison(&comparison);
                    }
                    return Ok(());
                }
                [app, env] => (app, env),
                _ => bail!("drift takes APP ENV, or compare APP FROM TO"),
            };
            let base = format!("/apps/{app}/environments/{env}");
            let record = if latest {
                let stored = api
                    .call("GET", &format!("{base}/drift"), None, None)
                    .await?;
                stored["body"].clone()
            } else {
                let checked = api
                    .call("POST", &format!("{base}/drift-checks"), None, None)
                    .await?;
                checked["report"].clone()
            };
            if json {
                output::print_json(&record);
            } else {
                output::print_drift(&record);
            }
        }
        Command::Status { id, json } => {
            // An app's health when `id` names an app; a promotion's record otherwise.
            match api
                .call("GET", &format!("/apps/{id}/health"), None, None)
                .await
            {
                Ok(health) if json => output::print_json(&health),
                Ok(health) => output::print_health(&health),
                Err(e) if e.to_string().contains(": 404 ") => {
                    let record = api
                        .call("GET", &format!("/promotions/{id}"), None, None)
                        .await?;
                    if json {
                        output::print_json(&record);
                    } else {
                        output::print_timeline(&record);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The offline commands (template, plan, cost, ...) run without an async runtime: its
    // worker threads were a measurable part of a whole `ferry template` process.
    let result = offline_with_rules(&cli).unwrap_or_else(|| {
        tokio::runtime::Runtime::new()
            .context("starting the async runtime")
            .and_then(|runtime| runtime.block_on(run(cli)))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the whole chain, outermost first.
            eprintln!("ferry: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
