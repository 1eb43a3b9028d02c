//! `ferry cost` and `ferry cost diff`: price a spec's environment or any CloudFormation
//! template offline, with a usage file, and compare two of them.

use crate::output;
use anyhow::{bail, Result};
use ferry_core::cost::advice::AdviceContext;
use ferry_core::cost::{self, bill, diff, Catalog, CostEstimate, Usage};
use ferry_core::infra::document::Document;
use ferry_core::infra::profile::ProfileName;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CostOutput {
    Table,
    Json,
}

/// How to price: region, catalog file, usage file. Shared by `cost`, `cost diff`, `plan`.
#[derive(clap::Args, Clone)]
pub struct Pricing {
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// A usage file (YAML) for traffic, log and transfer volumes; without one, the
    /// environment profile's documented defaults.
    #[arg(long)]
    pub usage: Option<PathBuf>,
    /// A catalog written by `ferry pricing refresh` instead of the bundled one.
    #[arg(long)]
    pub catalog: Option<PathBuf>,
}

/// How much Ferry does, for pricing Ferry's own template (`infra/ferry.json`). Values are
/// read as text and checked here, so a bad one is refused in one line naming its flag.
#[derive(clap::Args, Clone, Default)]
pub struct FerryLoadArgs {
    /// Ferry's own template: how many environments Ferry manages (default: the usage
    /// file's `ferry.environments`, else 10).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub environments: Option<String>,
    /// Ferry's own template: promotions a month across all environments (default: 8 per
    /// environment).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub promotions_per_month: Option<String>,
    /// Ferry's own template: scheduled alert evaluations a minute, at most 1 (default: the
    /// template's AlertEvaluationSchedule).
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    pub evaluations_per_minute: Option<String>,
}

impl FerryLoadArgs {
    fn given(&self) -> Option<&'static str> {
        [
            (self.environments.is_some(), "--environments"),
            (
                self.promotions_per_month.is_some(),
                "--promotions-per-month",
            ),
            (
                self.evaluations_per_minute.is_some(),
                "--evaluations-per-minute",
            ),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    fn load(&self, template: &Value, usage: &Usage) -> Result<bill::Load> {
        let environments = self
            .environments
            .as_deref()
            .map(|t| bill::EnvironmentCount::parse("--environments", t))
            .transpose()?
            .map(|n| f64::from(n.get()));
        let promotions = self
            .promotions_per_month
            .as_deref()
            .map(|t| bill::PromotionsPerMonth::parse("--promotions-per-month", t))
            .transpose()?
            .map(bill::PromotionsPerMonth::get);
        let evaluations = self
            .evaluations_per_minute
            .as_deref()
            .map(|t| bill::EvaluationsPerMinute::parse("--evaluations-per-minute", t))
            .transpose()?
            .map(bill::EvaluationsPerMinute::get);
        Ok(bill::load_for(
            template,
            environments,
            promotions,
            evaluations,
            usage.ferry.as_ref(),
        ))
    }
}

impl Pricing {
    fn catalog(&self) -> Result<Catalog> {
        let result = match &self.catalog {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("--catalog: {}: {e}", path.display()))?;
                Catalog::from_json(&text, &self.region)
                    .map_err(|e| anyhow::anyhow!("--catalog: {}: {e}", path.display()))
            }
            None => Catalog::bundled(&self.region).map_err(anyhow::Error::from),
        };
        result.map_err(|e| anyhow::anyhow!("--region: {e}"))
    }

    fn usage(&self, profile: ProfileName) -> Result<Usage> {
        let Some(path) = &self.usage else {
            return Ok(Usage::profile_defaults(profile));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--usage: {}: cannot read: {e}", path.display()))?;
        Usage::parse(&text, &path.display().to_string(), profile).map_err(anyhow::Error::from)
    }

    /// The usage file for a template, warning about logical ids the template lacks.
    fn usage_for(&self, template: &Value, profile: ProfileName) -> Result<Usage> {
        let usage = self.usage(profile)?;
        for id in usage.unmatched_resources(template) {
            eprintln!(
                "ferry: warning: {}: resources.{id}: the template has no resource '{id}'; its values are not used",
                usage.origin
            );
        }
        Ok(usage)
    }

    /// Prices a template, with advice for its profile.
    pub fn analyse(&self, template: &Value) -> Result<CostEstimate> {
        let profile = cost::template_profile(template);
        let catalog = self.catalog()?;
        let usage = self.usage_for(template, profile.unwrap_or(ProfileName::Prod))?;
        // A plain template's profile comes from the usage file (`profile:`), else prod.
        let context = AdviceContext {
            profile: Some(profile.unwrap_or(usage.profile)),
            ..AdviceContext::default()
        };
        Ok(cost::analyse(template, &catalog, &usage, &context))
    }
}

/// A spec's environment (with `env`) or a plain template, ready to price.
pub fn template_of(input: &Path, env: Option<&str>) -> Result<Value> {
    template_from(read_input(input)?, input, env)
}

/// The input read and told apart (template or spec) once.
fn read_input(input: &Path) -> Result<Document> {
    Document::classify(crate::read_document(&input.to_path_buf())?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))
}

/// The same, from the input already read.
fn template_from(document: Document, input: &Path, env: Option<&str>) -> Result<Value> {
    match (document, env) {
        (Document::Template(template), None) => {
            cost::check_template(&template)
                .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
            Ok(template)
        }
        (Document::Template(_), Some(_)) => bail!(
            "--env: {} is a CloudFormation template, not a Ferry spec; drop --env",
            input.display()
        ),
        (Document::Spec(spec), Some(env)) => crate::rendered(&crate::spec_from(spec, input)?, env),
        (Document::Spec(_), None) => bail!(
            "--env: is required to price one environment of the spec {}",
            input.display()
        ),
    }
}

pub fn cost(
    input: &Path,
    env: Option<&str>,
    pricing: &Pricing,
    load: &FerryLoadArgs,
    format: CostOutput,
) -> Result<()> {
    let document = read_input(input)?;
    let ferry_flag = load.given();
    let template = match (document, env) {
        (Document::Spec(spec), None) => {
            if let Some(flag) = ferry_flag {
                bail!(
                    "{flag}: prices Ferry's own template (infra/ferry.json); {} is an app spec",
                    input.display()
                );
            }
            return app_cost(spec, input, pricing, format);
        }
        (document, env) => template_from(document, input, env)?,
    };
    if bill::is_ferry_template(&template) {
        return ferry_cost(&template, pricing, load, format);
    }
    if let Some(flag) = ferry_flag {
        bail!(
            "{flag}: prices Ferry's own template (infra/ferry.json); {} is not it",
            input.display()
        );
    }
    let estimate = pricing.analyse(&template)?;
    match format {
        CostOutput::Table => output::print_estimate(&estimate),
        CostOutput::Json => output::print_json(&serde_json::to_value(&estimate)?),
    }
    Ok(())
}

/// Ferry's own template, priced with its usage model: the table (or JSON) of the estimate,
/// with the assumptions it rests on and the usage-based part on its own.
fn ferry_cost(
    template: &Value,
    pricing: &Pricing,
    load: &FerryLoadArgs,
    format: CostOutput,
) -> Result<()> {
    let catalog = pricing.catalog()?;
    let mut usage = pricing.usage_for(template, ProfileName::Prod)?;
    let load = load.load(template, &usage)?;
    let assumptions = bill::apply(template, &load, &mut usage);
    let context = AdviceContext {
        profile: Some(usage.profile),
        ..AdviceContext::default()
    };
    let estimate = cost::analyse(template, &catalog, &usage, &context);
    match format {
        CostOutput::Table => output::print_ferry_bill(&estimate, &assumptions),
        CostOutput::Json => {
            let mut value = serde_json::to_value(&estimate)?;
            value["usage_based_usd"] = estimate.usage_based_usd().into();
            value["ferry"] = serde_json::to_value(&assumptions)?;
            output::print_json(&value);
        }
    }
    Ok(())
}

/// A spec without `--env`: every environment's total and the app's, each with what it
/// could not price (`--env` shows one environment's resources and advice).
fn app_cost(document: Value, input: &Path, pricing: &Pricing, format: CostOutput) -> Result<()> {
    let spec = crate::spec_from(document, input)?;
    let mut environments = Vec::new();
    for env in spec.environment_names() {
        let estimate = pricing.analyse(&crate::rendered(&spec, &env)?)?;
        environments.push(output::EnvironmentCost { env, estimate });
    }
    let total = cost::round_cents(environments.iter().map(|e| e.estimate.monthly_usd).sum());
    match format {
        CostOutput::Table => output::print_app_cost(&spec.app.to_string(), &environments, total),
        CostOutput::Json => output::print_json(&serde_json::json!({
            "app": spec.app.to_string(),
            "region": pricing.region,
            "monthly_usd": total,
            "environments": environments
                .iter()
                .map(|e| serde_json::json!({"env": e.env, "estimate": e.estimate}))
                .collect::<Vec<_>>(),
        })),
    }
    Ok(())
}

/// `ferry cost diff`: two templates or specs, or one spec's two environments.
pub fn cost_diff(
    before: &Path,
    after: Option<&Path>,
    env: Option<&str>,
    against: Option<&str>,
    pricing: &Pricing,
    format: CostOutput,
) -> Result<()> {
    let (before_label, before_template, after_label, after_template) = match (after, against) {
        (Some(after), None) => {
            // `--env` picks the environment of whichever input is a spec.
            let (before_input, after_input) = (read_input(before)?, read_input(after)?);
            let env_of = |d: &Document| env.filter(|_| !d.is_template());
            (
                before.display().to_string(),
                template_from(before_input.clone(), before, env_of(&before_input))?,
                after.display().to_string(),
                template_from(after_input.clone(), after, env_of(&after_input))?,
            )
        }
        (None, Some(against)) => {
            let Some(env) = env else {
                bail!(
                    "--env: is required with --against (the environment to compare with {against})"
                );
            };
            (
                against.to_owned(),
                template_of(before, Some(against))?,
                env.to_owned(),
                template_of(before, Some(env))?,
            )
        }
        (Some(_), Some(_)) => {
            bail!("--against: compares two environments of one spec; give one input with it")
        }
        (None, None) => {
            bail!("cost diff: give two inputs (BEFORE AFTER), or one spec with --env and --against")
        }
    };
    let changes = diff::diff(
        &pricing.analyse(&before_template)?,
        &before_label,
        &pricing.analyse(&after_template)?,
        &after_label,
    );
    match format {
        CostOutput::Table => output::print_cost_diff(&changes),
        CostOutput::Json => output::print_json(&serde_json::to_value(&changes)?),
    }
    Ok(())
}

/// `ferry plan`: the environment's estimate, and with `--deployed` what the change adds.
pub fn plan(spec: &Path, env: &str, deployed: Option<&Path>, pricing: &Pricing) -> Result<()> {
    let template = template_of(spec, Some(env))?;
    let estimate = pricing.analyse(&template)?;
    output::print_estimate(&estimate);
    if let Some(deployed) = deployed {
        let before = pricing.analyse(&template_of(deployed, None)?)?;
        let changes = diff::diff(&before, &deployed.display().to_string(), &estimate, env);
        println!("{}", changes.summary());
        for change in &changes.changes {
            println!(
                "  {} ({}): {:+.2}",
                change.logical_id, change.resource_type, change.delta_usd
            );
        }
    }
    Ok(())
}

/// `ferry pricing refresh`: the catalog rebuilt from the AWS Price List API.
pub async fn refresh(regions: &[String], catalog: Option<&Path>, out: &Path) -> Result<()> {
    let current = match catalog {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--catalog: {}: {e}", path.display()))?,
        None => Catalog::bundled_text().to_owned(),
    };
    let regions = if regions.is_empty() {
        Catalog::bundled_regions()
    } else {
        regions.to_vec()
    };
    let sdk = ferry_aws::sdk_config().await;
    let api = ferry_aws::PricingApi::from_sdk(&sdk);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (text, counts) = cost::refresh::refresh_catalog(&api, &current, &regions, &today)
        .await
        .map_err(|e| anyhow::anyhow!("pricing refresh: {e}"))?;
    std::fs::write(out, text).map_err(|e| anyhow::anyhow!("--out: {}: {e}", out.display()))?;
    for (region, count) in counts {
        println!("{region}: {count} prices from the Price List API");
    }
    println!(
        "wrote {}; use it with `ferry cost --catalog {}`",
        out.display(),
        out.display()
    );
    Ok(())
}
