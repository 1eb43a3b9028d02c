//! Ferry's own bill: the usage model that turns how much Ferry does (environments,
//! promotions a month, alert evaluations a minute) into the monthly quantities of each
//! resource of its own template, `infra/ferry.json`, which the catalog then prices like any
//! other template.
//!
//! Resources are found by what they are, not by their logical ids, so a template that
//! grows (dead-letter queues, alarms, log groups for the state machine or the API) is
//! priced without changes here: Ferry's functions by their names (`${AWS::StackName}-api`
//! and so on), each function's log group through its `LoggingConfig`, the state machine's
//! through its `LoggingConfiguration`, the API's access log through its stage, schedules
//! through the rules that target each function, the artifacts bucket through the
//! promotion-step's `FERRY_ARTIFACTS_BUCKET`.
//!
//! Every figure is in [`Figures`], with where it comes from; `docs/ferry-bill.md` lists
//! them. The ones read from the code are counts (state transitions, metrics per
//! evaluation, item sizes measured from the engines); durations and traffic that only a
//! deployment can tell are estimates, and a usage file's `ferry:` section overrides any.

use super::usage::{ResourceUsage, Usage};
use super::HOURS_PER_MONTH;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Minutes in the catalog's month (730 hours).
pub const MINUTES_PER_MONTH: f64 = HOURS_PER_MONTH * 60.0;
/// CloudWatch Logs and Lambda bill GB as 1,024^3 bytes.
const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// A bad value for one of the model's inputs, named by its flag or key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct LoadError {
    pub key: String,
    pub problem: String,
}

fn bad(key: &str, problem: String) -> LoadError {
    LoadError {
        key: key.to_owned(),
        problem,
    }
}

/// How many environments Ferry manages: a whole number, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentCount(u32);

impl EnvironmentCount {
    /// `key` names the flag or usage-file key in the error.
    pub fn parse(key: &str, text: &str) -> Result<Self, LoadError> {
        let problem = || format!("must be a whole number of 1 or more, got {text}");
        let n: u32 = text.trim().parse().map_err(|_| bad(key, problem()))?;
        if n == 0 {
            return Err(bad(key, problem()));
        }
        Ok(EnvironmentCount(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Promotions a month, across all environments: zero or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PromotionsPerMonth(f64);

impl PromotionsPerMonth {
    pub fn parse(key: &str, text: &str) -> Result<Self, LoadError> {
        let problem = || format!("must be a number of 0 or more, got {text}");
        let n: f64 = text.trim().parse().map_err(|_| bad(key, problem()))?;
        if !n.is_finite() || n < 0.0 {
            return Err(bad(key, problem()));
        }
        Ok(PromotionsPerMonth(n))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// Scheduled alert evaluations a minute: more than none, and at most one, since an
/// EventBridge schedule runs at most once a minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvaluationsPerMinute(f64);

impl EvaluationsPerMinute {
    pub fn parse(key: &str, text: &str) -> Result<Self, LoadError> {
        let problem = || {
            format!("must be more than 0 and at most 1 (an EventBridge schedule runs at most once a minute), got {text}")
        };
        let n: f64 = text.trim().parse().map_err(|_| bad(key, problem()))?;
        if !n.is_finite() || n <= 0.0 || n > 1.0 {
            return Err(bad(key, problem()));
        }
        Ok(EvaluationsPerMinute(n))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// Runs a month of an EventBridge schedule expression: `rate(N minute|minutes|hour|hours|
/// day|days)`, or a `cron(...)` at a fixed minute and hour, daily or on one weekday.
/// `None` for anything else, which the caller must then be told about.
pub fn runs_per_month(expression: &str) -> Option<f64> {
    let expression = expression.trim();
    if let Some(rate) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let (n, unit) = rate.trim().split_once(' ')?;
        let n: f64 = n.parse().ok().filter(|n: &f64| *n > 0.0)?;
        let minutes = match unit.trim() {
            "minute" | "minutes" => n,
            "hour" | "hours" => n * 60.0,
            "day" | "days" => n * 1_440.0,
            _ => return None,
        };
        return Some(MINUTES_PER_MONTH / minutes);
    }
    let cron = expression
        .strip_prefix("cron(")
        .and_then(|c| c.strip_suffix(')'))?;
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, day_of_month, month, day_of_week, ..] = fields[..] else {
        return None;
    };
    let fixed = |f: &str| f.parse::<u32>().is_ok();
    if !fixed(minute) || !fixed(hour) || !["*", "?"].contains(&month) {
        return None;
    }
    let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    match (day_of_month, day_of_week) {
        ("*" | "?", "*" | "?") => Some(HOURS_PER_MONTH / 24.0),
        ("?", day) if days.contains(&day) || (1..=7).any(|d| d.to_string() == day) => {
            Some(HOURS_PER_MONTH / 168.0)
        }
        _ => None,
    }
}

/// The per-unit figures of the model. Counts read from the code say where; `(estimate)`
/// marks what only a deployment can measure. A usage file's `ferry.figures` overrides any.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Figures {
    /// GetMetricData metrics one environment's scheduled evaluation requests: one per rule
    /// target (`monitoring::evaluate::targets`). The examples with a database measure 7
    /// (`small-web.yaml`, without one, 2); the cost-analyzer counts each environment's own.
    pub metrics_per_evaluation: f64,
    /// Read units of one environment's evaluation besides its alert states: strongly
    /// consistent GetItems (1 unit up to 4 KB) of the anomaly models, the noise pipeline
    /// (1.8 KB measured) and the silences (3), and its share of listing the environments
    /// through GSI1 (eventually consistent, 0.5 a 4 KB; an environment item is 1.5-2 KB: 0.25).
    pub evaluation_read_units: f64,
    /// Write units of one environment's evaluation: the noise pipeline's state is saved
    /// every run (1.8 KB measured: 2 units).
    pub evaluation_write_units: f64,
    /// (estimate) One scheduled evaluation's fixed time: start, list the environments.
    pub evaluation_base_ms: f64,
    /// (estimate) Its time per environment: a DescribeStackResources, a GetMetricData and
    /// about ten DynamoDB calls, one after another.
    pub evaluation_ms_per_environment: f64,
    /// (estimate) CloudWatch alarm state changes a month per environment; the rule sends the
    /// evaluator every alarm's changes, and each is one invocation.
    pub alarm_changes_per_environment: f64,
    /// (estimate) One alarm change's time: a GetItem and a two-item transaction.
    pub alarm_change_ms: f64,
    /// Read and write units of one alarm change: a strongly consistent GetItem of its state,
    /// then one transaction writing the event and the state (two small items, 2 units each).
    pub alarm_change_read_units: f64,
    pub alarm_change_write_units: f64,
    /// (estimate) One drift run's fixed time, and its time per environment (GetTemplate,
    /// DescribeStackResources, about 30 live reads one after another, compare, PutItem).
    pub drift_base_ms: f64,
    pub drift_ms_per_environment: f64,
    /// Write units of a drift report (4-8 KB measured on the local AWS) per environment and run, and
    /// read units of listing the environments (0.25 each).
    pub drift_write_units_per_environment: f64,
    pub drift_read_units_per_environment: f64,
    /// (estimate) One cost run's fixed time, and its time per environment
    /// (DescribeStackResources, 14 days of GetMetricData, pricing, PutItem).
    pub cost_base_ms: f64,
    pub cost_ms_per_environment: f64,
    /// Write units of a cost report per environment (13-15 KB measured: 15 units), and read
    /// units (listing 0.25, the budget alert's state 1).
    pub cost_write_units_per_environment: f64,
    pub cost_read_units_per_environment: f64,
    /// (estimate) GetMetricData metrics the weekly rightsizing reads per environment (CPU
    /// and memory of the live services, the database's and the cache's CPU).
    pub rightsizing_metrics_per_environment: f64,
    /// State transitions of one promotion: a `Canary10Percent5Minutes` promotion to prod
    /// enters 29 states when each stack operation settles by its first look
    /// (docs/architecture.md; the e2e canary test asserts 28, without the approval, from
    /// the history).
    pub transitions_per_promotion: f64,
    /// promotion-step invocations of that promotion: Validate, AssessRisk, AwaitApproval,
    /// Deploy, Shift twice, Analyse twice, Watch, Finalise, and a look at each of the four
    /// stack operations.
    pub promotion_step_invocations: f64,
    /// (estimate) Seconds those invocations run in all: each of Deploy, the Shifts and
    /// Finalise waits for CloudFormation to work out its change set (about 5 s); the
    /// state machine, not the function, waits for the stack; the others take a fraction
    /// of a second.
    pub promotion_step_seconds: f64,
    /// (estimate) The GenerateTemplate step's time (template-generator: render, check the
    /// policy, price against the last template, store the report).
    pub template_generator_ms: f64,
    /// Read and write units of one promotion (estimate from the store's calls): the
    /// promotion and the lock in one transaction, a transaction per step (the step and the
    /// promotion's status, transactions costing twice), the ~27 KB template report, the
    /// final transaction; reads of the promotion and environment in each step.
    pub promotion_read_units: f64,
    pub promotion_write_units: f64,
    /// GetMetricData metrics the canary judge requests per promotion: TargetResponseTime
    /// (p50, p99), 5XX and RequestCount for each colour, at the one split step.
    pub analysis_metrics_per_promotion: f64,
    /// (estimate) Seconds a promotion is watched (`ferry promote --watch`), which polls
    /// `GET /promotions/{id}` every 500 ms (cli/ferry/src/client.rs): 2 requests a second.
    pub watch_seconds_per_promotion: f64,
    /// (estimate) Other API requests a month per environment: status, health, cost, specs.
    pub api_requests_per_environment: f64,
    /// (estimate) An API request's time, and its read units (the access policy's GetItem
    /// and one small query).
    pub api_ms: f64,
    pub api_read_units_per_request: f64,
    /// (estimate) Log bytes one invocation writes: Lambda's JSON platform records (start,
    /// report) and the handler's one or two lines.
    pub log_bytes_per_invocation: f64,
    /// Bytes of one EMF document (`EstimatedMonthlyCost{app,env}`), about 400 measured.
    pub emf_bytes: f64,
    /// Log bytes per state transition in the state machine's log group at level ALL
    /// (levels ERROR and FATAL log failures only: 0 here). ALL logs every history event
    /// (Step Functions Developer Guide, "Log levels"): a Lambda task state five (entered,
    /// scheduled, started, succeeded, exited), a callback task six (and submitted), a
    /// choice, wait or succeed state two, the execution two: 103 events over the 29 states
    /// a canary promotion to prod enters (`state-machines/promotion.asl.json`: 13 Lambda
    /// tasks, the approval, 14 choice and wait states and Promoted).
    /// (estimate) ~320 bytes an event without execution data (its type, ids, timestamp and
    /// the execution's ARN): 103 x 320 / 29 = 1,137.
    pub state_machine_log_bytes_per_transition: f64,
    /// (estimate) Bytes of one API access log line: the stage's `Format` (eleven fields)
    /// filled with an assumed-role caller ARN and a promotion's path comes to ~330.
    pub access_log_bytes_per_request: f64,
    /// (estimate) Table storage per environment in steady state: its item, 90 days of
    /// hourly drift reports, 13 weekly cost reports (90-day TTL), its pipeline state and 30
    /// days of alarm history.
    pub table_kb_per_environment: f64,
    /// (estimate) Table storage a month of promotions leaves: each promotion's record and
    /// steps (~15 KB, kept a year here) and its template report (~27 KB, 90 days).
    pub table_kb_per_promotion: f64,
    /// (estimate) Notifications a month per environment (an SNS topic's publishes and
    /// emails, when the template has one).
    pub notifications_per_environment: f64,
    /// (estimate) Messages a month in the dead-letter queues (failed asynchronous
    /// invocations): each is sent, received and deleted (3 requests).
    pub dead_letters_per_month: f64,
    /// (estimate) Share of promotions whose environment template is over CloudFormation's
    /// 51,200-byte TemplateBody limit, and so goes to CloudFormation through the artifacts
    /// bucket. The model prices every promotion as one to prod, and a prod template passes
    /// the limit at three services (two-services.yaml's, the largest example's, is 45,843
    /// bytes; the e2e test's three services make 53 KB): half the apps that big is the
    /// estimate. The cost-analyzer measures it from the environments it prices.
    pub template_upload_share: f64,
    /// Change sets one promotion creates, each uploading its template when it is over the
    /// limit and CloudFormation reading it back once: AssessRisk's preview, Deploy, a
    /// Shift per plan step (two for `Canary10Percent5Minutes`) and Finalise
    /// (`promotion.rs`; a rollback adds one).
    pub change_sets_per_promotion: f64,
    /// Distinct templates those change sets store: the key is the template's SHA-256, and
    /// the preview's template is Deploy's (the new colour at weight 0), so one of the five
    /// uploads overwrites another.
    pub templates_per_promotion: f64,
    /// (estimate) Bytes of a template that is uploaded: just over the limit, as the e2e
    /// test's three-service prod (53 KB); the cost-analyzer measures them.
    pub uploaded_template_bytes: f64,
}

impl Default for Figures {
    fn default() -> Self {
        Figures {
            metrics_per_evaluation: 7.0,
            evaluation_read_units: 3.25,
            evaluation_write_units: 2.0,
            evaluation_base_ms: 150.0,
            evaluation_ms_per_environment: 250.0,
            alarm_changes_per_environment: 20.0,
            alarm_change_ms: 50.0,
            alarm_change_read_units: 1.0,
            alarm_change_write_units: 4.0,
            drift_base_ms: 150.0,
            drift_ms_per_environment: 1_000.0,
            drift_write_units_per_environment: 8.0,
            drift_read_units_per_environment: 0.25,
            cost_base_ms: 300.0,
            cost_ms_per_environment: 300.0,
            cost_write_units_per_environment: 15.0,
            cost_read_units_per_environment: 1.25,
            rightsizing_metrics_per_environment: 4.0,
            transitions_per_promotion: 29.0,
            promotion_step_invocations: 14.0,
            promotion_step_seconds: 25.0,
            template_generator_ms: 500.0,
            promotion_read_units: 40.0,
            promotion_write_units: 130.0,
            analysis_metrics_per_promotion: 8.0,
            watch_seconds_per_promotion: 600.0,
            api_requests_per_environment: 100.0,
            api_ms: 50.0,
            api_read_units_per_request: 2.0,
            log_bytes_per_invocation: 1_500.0,
            emf_bytes: 400.0,
            state_machine_log_bytes_per_transition: 1_137.0,
            access_log_bytes_per_request: 330.0,
            table_kb_per_environment: 14_000.0,
            table_kb_per_promotion: 260.0,
            notifications_per_environment: 5.0,
            dead_letters_per_month: 0.0,
            template_upload_share: 0.5,
            change_sets_per_promotion: 5.0,
            templates_per_promotion: 4.0,
            uploaded_template_bytes: 55_000.0,
        }
    }
}

impl Figures {
    fn check(&self) -> Result<(), LoadError> {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        for (name, v) in value.as_object().into_iter().flatten() {
            let n = v.as_f64().unwrap_or(f64::NAN);
            if !n.is_finite() || n < 0.0 {
                return Err(bad(
                    &format!("figures.{name}"),
                    format!("must be a number of 0 or more, got {v}"),
                ));
            }
        }
        if self.template_upload_share > 1.0 {
            return Err(bad(
                "figures.template_upload_share",
                format!(
                    "is a share of promotions: at most 1, got {}",
                    self.template_upload_share
                ),
            ));
        }
        Ok(())
    }
}

/// A usage file's `ferry:` section: the load, and any figure to override.
///
/// ```yaml
/// version: 1
/// ferry:
///   environments: 50
///   promotions_per_month: 400
///   evaluations_per_minute: 1
///   figures: {evaluation_ms_per_environment: 120}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FerrySection {
    pub environments: Option<f64>,
    pub promotions_per_month: Option<f64>,
    pub evaluations_per_minute: Option<f64>,
    pub drift_checks_per_month: Option<f64>,
    pub cost_reports_per_month: Option<f64>,
    #[serde(default)]
    pub figures: Figures,
}

impl FerrySection {
    /// The same rules as the command-line flags; `LoadError::key` is relative to `ferry.`.
    pub fn check(&self) -> Result<(), LoadError> {
        if let Some(n) = self.environments {
            EnvironmentCount::parse("environments", &n.to_string())?;
        }
        if let Some(n) = self.promotions_per_month {
            PromotionsPerMonth::parse("promotions_per_month", &n.to_string())?;
        }
        if let Some(n) = self.evaluations_per_minute {
            EvaluationsPerMinute::parse("evaluations_per_minute", &n.to_string())?;
        }
        for (key, n) in [
            ("drift_checks_per_month", self.drift_checks_per_month),
            ("cost_reports_per_month", self.cost_reports_per_month),
        ] {
            if let Some(n) = n {
                PromotionsPerMonth::parse(key, &n.to_string())?;
            }
        }
        self.figures.check()
    }
}

/// How much Ferry does: what the model needs beyond the template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub environments: f64,
    pub promotions_per_month: f64,
    pub evaluations_per_minute: f64,
    /// Runs a month of the drift and cost schedules; `None`: the template's schedules.
    pub drift_checks_per_month: Option<f64>,
    pub cost_reports_per_month: Option<f64>,
    pub figures: Figures,
}

/// Promotions a month assumed per environment when none is given: two a week (estimate).
pub const DEFAULT_PROMOTIONS_PER_ENVIRONMENT: f64 = 8.0;
/// Environments assumed when none is given.
pub const DEFAULT_ENVIRONMENTS: u32 = 10;

impl Load {
    /// `environments` with the defaults for the rest: 8 promotions a month per environment
    /// and the template's evaluation schedule (`None`: once a minute).
    pub fn for_environments(environments: f64, evaluations_per_minute: Option<f64>) -> Load {
        Load {
            environments,
            promotions_per_month: environments * DEFAULT_PROMOTIONS_PER_ENVIRONMENT,
            evaluations_per_minute: evaluations_per_minute.unwrap_or(1.0),
            drift_checks_per_month: None,
            cost_reports_per_month: None,
            figures: Figures::default(),
        }
    }
}

/// The load to price: each value from the first that has it of the flags (already
/// validated), the usage file's `ferry:` section, and the defaults (10 environments, 8
/// promotions a month each, the template's evaluation schedule).
pub fn load_for(
    template: &Value,
    environments: Option<f64>,
    promotions_per_month: Option<f64>,
    evaluations_per_minute: Option<f64>,
    section: Option<&FerrySection>,
) -> Load {
    let environments = environments
        .or_else(|| section.and_then(|s| s.environments))
        .unwrap_or(f64::from(DEFAULT_ENVIRONMENTS));
    let evaluations = evaluations_per_minute
        .or_else(|| section.and_then(|s| s.evaluations_per_minute))
        .or_else(|| template_evaluations_per_minute(template));
    let mut load = Load::for_environments(environments, evaluations);
    if let Some(p) = promotions_per_month.or_else(|| section.and_then(|s| s.promotions_per_month)) {
        load.promotions_per_month = p;
    }
    if let Some(section) = section {
        load.drift_checks_per_month = section.drift_checks_per_month;
        load.cost_reports_per_month = section.cost_reports_per_month;
        load.figures = section.figures;
    }
    load
}

/// The alert-evaluator's schedule in the template, as evaluations a minute.
pub fn template_evaluations_per_minute(template: &Value) -> Option<f64> {
    let (id, _) = resources(template)
        .iter()
        .find(|(_, r)| function_of(r) == Some(Function::AlertEvaluator))?;
    let (_, runs) = scheduled_runs(template, id)?;
    runs.is_finite().then(|| runs / MINUTES_PER_MONTH)
}

/// Ferry's functions, by the binary each runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Function {
    Api,
    PromotionStep,
    TemplateGenerator,
    CostAnalyzer,
    DriftChecker,
    AlertEvaluator,
}

const FUNCTIONS: [(&str, Function); 6] = [
    ("api", Function::Api),
    ("promotion-step", Function::PromotionStep),
    ("template-generator", Function::TemplateGenerator),
    ("cost-analyzer", Function::CostAnalyzer),
    ("drift-checker", Function::DriftChecker),
    ("alert-evaluator", Function::AlertEvaluator),
];

/// Which of Ferry's functions a resource is: by `FunctionName` (`${AWS::StackName}-<bin>`),
/// else by the code's path (`.../lambda/<bin>/bootstrap.zip`, before packaging).
fn function_of(resource: &Value) -> Option<Function> {
    if resource["Type"] != "AWS::Lambda::Function" {
        return None;
    }
    let props = &resource["Properties"];
    let name = props["FunctionName"]["Fn::Sub"]
        .as_str()
        .or_else(|| props["FunctionName"].as_str())
        .unwrap_or_default();
    let code = props["Code"].as_str().unwrap_or_default();
    FUNCTIONS.iter().find_map(|(binary, function)| {
        (name.ends_with(&format!("-{binary}")) || code.contains(&format!("/lambda/{binary}/")))
            .then_some(*function)
    })
}

/// Whether a template is Ferry's own: it has the functions that make Ferry Ferry.
pub fn is_ferry_template(template: &Value) -> bool {
    let found: Vec<Function> = resources(template)
        .values()
        .filter_map(function_of)
        .collect();
    found.contains(&Function::AlertEvaluator) && found.contains(&Function::PromotionStep)
}

/// The template's resources; a document without them (refused before pricing) has none.
fn resources(template: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template["Resources"]
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The logical id a `{"Ref": X}` or `{"Fn::GetAtt": [X, ...]}` points at.
fn target_id(value: &Value) -> Option<&str> {
    value["Ref"]
        .as_str()
        .or_else(|| value["Fn::GetAtt"][0].as_str())
        .or_else(|| {
            value["Fn::GetAtt"]
                .as_str()
                .and_then(|s| s.split('.').next())
        })
}

/// A parameter's default, when `value` is a `Ref` to one.
fn resolved<'a>(template: &'a Value, value: &'a Value) -> &'a Value {
    match value["Ref"].as_str() {
        Some(name) if template["Parameters"][name].get("Default").is_some() => {
            &template["Parameters"][name]["Default"]
        }
        _ => value,
    }
}

/// Days the artifacts bucket keeps an uploaded template: the expiry of the enabled
/// lifecycle rule covering `templates/` (a parameter's default standing in for a Ref).
fn template_retention_days(template: &Value, bucket: &Value) -> Option<f64> {
    bucket["LifecycleConfiguration"]["Rules"]
        .as_array()?
        .iter()
        .filter(|r| r["Status"] == "Enabled")
        .filter(|r| {
            let prefix = r["Prefix"].as_str().unwrap_or_default();
            "templates/".starts_with(prefix)
        })
        .filter_map(|r| super::number(resolved(template, &r["ExpirationInDays"])))
        .reduce(f64::min)
}

/// What one scheduled function's schedule says, as runs a month.
fn scheduled_runs(template: &Value, function_id: &str) -> Option<(String, f64)> {
    resources(template).values().find_map(|rule| {
        if rule["Type"] != "AWS::Events::Rule" {
            return None;
        }
        let props = &rule["Properties"];
        let targets_it = props["Targets"]
            .as_array()?
            .iter()
            .any(|t| target_id(&t["Arn"]) == Some(function_id));
        let expression = resolved(template, &props["ScheduleExpression"]).as_str()?;
        targets_it.then(|| {
            (
                expression.to_owned(),
                runs_per_month(expression).unwrap_or(f64::NAN),
            )
        })
    })
}

/// The assumptions behind a Ferry bill, as printed beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumptions {
    pub environments: f64,
    pub promotions_per_month: f64,
    pub evaluations_per_minute: f64,
    pub evaluations_per_month: f64,
    pub drift_checks_per_month: f64,
    pub cost_reports_per_month: f64,
    pub figures: Figures,
    /// Each modelled resource's quantities, by logical id.
    pub resources: BTreeMap<String, ResourceUsage>,
    /// What the model could not do, or what its figures imply that the template cannot
    /// carry (a run longer than its function's timeout).
    pub warnings: Vec<String>,
}

/// Fills `usage` with the model's quantities for every resource of Ferry's template it
/// recognises, and says what it assumed.
pub fn apply(template: &Value, load: &Load, usage: &mut Usage) -> Assumptions {
    let all = resources(template);
    let f = &load.figures;
    let n = load.environments;
    let p = load.promotions_per_month;
    let mut warnings = Vec::new();
    let mut modelled: BTreeMap<String, ResourceUsage> = BTreeMap::new();

    let functions: Vec<(String, Function)> = all
        .iter()
        .filter_map(|(id, r)| function_of(r).map(|f| (id.clone(), f)))
        .collect();
    let id_of = |wanted: Function| {
        functions
            .iter()
            .find(|(_, f)| *f == wanted)
            .map(|(id, _)| id.as_str())
    };
    let schedule = |wanted: Function,
                    given: Option<f64>,
                    what: &str,
                    fallback: f64,
                    warnings: &mut Vec<String>| {
        if let Some(runs) = given {
            return runs;
        }
        match id_of(wanted).and_then(|id| scheduled_runs(template, id)) {
            Some((_, runs)) if runs.is_finite() => runs,
            Some((expression, _)) => {
                warnings.push(format!("{what}: cannot count the runs of '{expression}'; assumed {fallback:.2} a month"));
                fallback
            }
            None => fallback,
        }
    };
    let evaluations = load.evaluations_per_minute * MINUTES_PER_MONTH;
    let drift_runs = schedule(
        Function::DriftChecker,
        load.drift_checks_per_month,
        "drift checks",
        HOURS_PER_MONTH,
        &mut warnings,
    );
    let cost_runs = schedule(
        Function::CostAnalyzer,
        load.cost_reports_per_month,
        "cost reports",
        HOURS_PER_MONTH / 168.0,
        &mut warnings,
    );
    let watch_requests = 2.0 * f.watch_seconds_per_promotion;
    // POST /promotions and the approval, and the watch's polls.
    let api_requests = p * (2.0 + watch_requests) + n * f.api_requests_per_environment;
    let alarm_changes = n * f.alarm_changes_per_environment;

    // Each function: invocations, average duration, CloudWatch API use, custom metrics,
    // and log bytes.
    let mut log_bytes: BTreeMap<String, f64> = BTreeMap::new();
    for (id, function) in &functions {
        // Lambda's default timeout is 3 s; a parameter's default stands in for a Ref.
        let timeout_ms = super::number(resolved(template, &all[id]["Properties"]["Timeout"]))
            .unwrap_or(3.0)
            * 1_000.0;
        let mut u = ResourceUsage::default();
        let (invocations, total_ms, extra_log) = match function {
            Function::AlertEvaluator => {
                let run_ms = f.evaluation_base_ms + n * f.evaluation_ms_per_environment;
                if run_ms > timeout_ms {
                    warnings.push(format!(
                        "{id}: one evaluation of {n} environments is estimated at {:.1} s, over its {:.0} s Timeout: evaluations would fail before covering every environment",
                        run_ms / 1_000.0,
                        timeout_ms / 1_000.0
                    ));
                }
                u.metrics_requested = Some(evaluations * n * f.metrics_per_evaluation);
                (
                    evaluations + alarm_changes,
                    evaluations * run_ms + alarm_changes * f.alarm_change_ms,
                    0.0,
                )
            }
            Function::DriftChecker => {
                let run_ms = f.drift_base_ms + n * f.drift_ms_per_environment;
                if run_ms > timeout_ms {
                    warnings.push(format!(
                        "{id}: one drift run over {n} environments is estimated at {:.1} s, over its {:.0} s Timeout",
                        run_ms / 1_000.0,
                        timeout_ms / 1_000.0
                    ));
                }
                (drift_runs, drift_runs * run_ms, 0.0)
            }
            Function::CostAnalyzer => {
                let run_ms = f.cost_base_ms + n * f.cost_ms_per_environment;
                if run_ms > timeout_ms {
                    warnings.push(format!(
                        "{id}: one cost run over {n} environments is estimated at {:.1} s, over its {:.0} s Timeout",
                        run_ms / 1_000.0,
                        timeout_ms / 1_000.0
                    ));
                }
                u.metrics_requested = Some(cost_runs * n * f.rightsizing_metrics_per_environment);
                // One EstimatedMonthlyCost{app,env} per environment and Ferry's own
                // FerryMonthlyCost, each sent once a run: CloudWatch bills a custom metric
                // by the hours it is sent in, so one hour a run.
                u.custom_metrics = Some(cost_runs * (n + 1.0) / HOURS_PER_MONTH);
                (
                    cost_runs,
                    cost_runs * run_ms,
                    cost_runs * (n + 1.0) * f.emf_bytes,
                )
            }
            Function::Api => (api_requests, api_requests * f.api_ms, 0.0),
            Function::PromotionStep => {
                u.metrics_requested = Some(p * f.analysis_metrics_per_promotion);
                (
                    p * f.promotion_step_invocations,
                    p * f.promotion_step_seconds * 1_000.0,
                    0.0,
                )
            }
            Function::TemplateGenerator => (p, p * f.template_generator_ms, 0.0),
        };
        u.requests = Some(invocations);
        u.duration_ms = Some(if invocations > 0.0 {
            total_ms / invocations
        } else {
            0.0
        });
        log_bytes.insert(
            id.clone(),
            invocations * f.log_bytes_per_invocation + extra_log,
        );
        modelled.insert(id.clone(), u);
    }
    for (id, resource) in all {
        let kind = resource["Type"].as_str().unwrap_or_default();
        if kind == "AWS::Lambda::Function" && function_of(resource).is_none() {
            warnings.push(format!(
                "{id}: not one of Ferry's functions; its invocations are not modelled (set resources.{id}.requests and duration_ms)"
            ));
        }
    }

    // The table: every job's reads and writes, and its steady-state size.
    let reads = evaluations * n * (f.evaluation_read_units + f.metrics_per_evaluation)
        + alarm_changes * f.alarm_change_read_units
        + drift_runs * n * f.drift_read_units_per_environment
        + cost_runs * n * f.cost_read_units_per_environment
        + p * f.promotion_read_units
        + api_requests * f.api_read_units_per_request;
    let writes = evaluations * n * f.evaluation_write_units
        + alarm_changes * f.alarm_change_write_units
        + drift_runs * n * f.drift_write_units_per_environment
        + cost_runs * n * f.cost_write_units_per_environment
        + p * f.promotion_write_units;
    let stored_gb =
        (n * f.table_kb_per_environment + p * f.table_kb_per_promotion) * 1_024.0 / BYTES_PER_GB;
    let tables: Vec<&String> = all
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .map(|(id, _)| id)
        .collect();
    match tables.as_slice() {
        [table] => {
            modelled.insert(
                (*table).clone(),
                ResourceUsage {
                    read_units: Some(reads),
                    write_units: Some(writes),
                    gb_stored: Some(stored_gb),
                    ..ResourceUsage::default()
                },
            );
        }
        [] => {}
        more => warnings.push(format!(
            "{} tables: Ferry keeps its state in one; their traffic is not modelled",
            more.len()
        )),
    }

    // The bucket the promotion-step uploads large templates to, as its configuration names it.
    let artifacts = id_of(Function::PromotionStep).and_then(|step| {
        target_id(&all[step]["Properties"]["Environment"]["Variables"]["FERRY_ARTIFACTS_BUCKET"])
    });
    let transitions = p * f.transitions_per_promotion;
    for (id, resource) in all {
        let props = &resource["Properties"];
        match resource["Type"].as_str().unwrap_or_default() {
            "AWS::StepFunctions::StateMachine" => {
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        transitions: Some(transitions),
                        ..ResourceUsage::default()
                    },
                );
                let level = props["LoggingConfiguration"]["Level"]
                    .as_str()
                    .unwrap_or("OFF");
                let bytes = if level == "ALL" {
                    transitions * f.state_machine_log_bytes_per_transition
                } else {
                    0.0
                };
                for destination in props["LoggingConfiguration"]["Destinations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(group) =
                        target_id(&destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
                    {
                        *log_bytes.entry(group.to_owned()).or_default() += bytes;
                    }
                }
            }
            "AWS::ApiGatewayV2::Api" => {
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        requests: Some(api_requests),
                        ..ResourceUsage::default()
                    },
                );
            }
            "AWS::ApiGatewayV2::Stage" => {
                if let Some(group) = target_id(&props["AccessLogSettings"]["DestinationArn"]) {
                    *log_bytes.entry(group.to_owned()).or_default() +=
                        api_requests * f.access_log_bytes_per_request;
                }
            }
            "AWS::SQS::Queue" => {
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        requests: Some(3.0 * f.dead_letters_per_month),
                        ..ResourceUsage::default()
                    },
                );
            }
            "AWS::S3::Bucket" if Some(id.as_str()) == artifacts => {
                // Each promotion over the limit uploads a template per change set and
                // CloudFormation reads it once; the distinct ones stay until the lifecycle
                // rule on their prefix expires them.
                let uploading = p * f.template_upload_share;
                let written_gb = uploading * f.templates_per_promotion * f.uploaded_template_bytes
                    / BYTES_PER_GB;
                let days = template_retention_days(template, props).unwrap_or_else(|| {
                    warnings.push(format!(
                        "{id}: no lifecycle rule expires templates/; a year of templates is assumed"
                    ));
                    365.0
                });
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        gb_ingested: Some(written_gb),
                        gb_stored: Some(written_gb * days / 30.0),
                        put_requests: Some(uploading * f.change_sets_per_promotion),
                        get_requests: Some(uploading * f.change_sets_per_promotion),
                        ..ResourceUsage::default()
                    },
                );
            }
            "AWS::S3::Bucket" => {
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        gb_ingested: Some(0.0),
                        put_requests: Some(0.0),
                        get_requests: Some(0.0),
                        ..ResourceUsage::default()
                    },
                );
                warnings.push(format!(
                    "{id}: not the bucket the promotion-step uploads templates to; its use is taken as none (set resources.{id}.gb_ingested, put_requests and get_requests)"
                ));
            }
            "AWS::SNS::Topic" => {
                let notifications = n * f.notifications_per_environment;
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        requests: Some(notifications),
                        emails: Some(notifications),
                        ..ResourceUsage::default()
                    },
                );
            }
            _ => {}
        }
    }

    // Log groups take their writers' bytes: a function's through its LoggingConfig, else
    // by its default name /aws/lambda/<function name>.
    let function_names: BTreeMap<String, String> = functions
        .iter()
        .filter_map(|(id, _)| {
            let name = all[id]["Properties"]["FunctionName"]["Fn::Sub"].as_str()?;
            Some((format!("/aws/lambda/{name}"), id.clone()))
        })
        .collect();
    let mut group_bytes: BTreeMap<String, f64> = BTreeMap::new();
    for (id, _) in &functions {
        let group = target_id(&all[id]["Properties"]["LoggingConfig"]["LogGroup"])
            .map(str::to_owned)
            .or_else(|| {
                all.iter()
                    .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
                    .find(|(_, r)| {
                        r["Properties"]["LogGroupName"]["Fn::Sub"]
                            .as_str()
                            .and_then(|name| function_names.get(name))
                            == Some(id)
                    })
                    .map(|(group, _)| group.clone())
            });
        let bytes = log_bytes.remove(id).unwrap_or(0.0);
        match group {
            Some(group) => *group_bytes.entry(group).or_default() += bytes,
            None => warnings.push(format!(
                "{id}: no log group of its own in the template; Lambda creates one, unpriced here"
            )),
        }
    }
    for (group, bytes) in log_bytes {
        *group_bytes.entry(group).or_default() += bytes;
    }
    for (id, resource) in all {
        if resource["Type"] != "AWS::Logs::LogGroup" {
            continue;
        }
        match group_bytes.get(id) {
            Some(bytes) => {
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        gb_ingested: Some(bytes / BYTES_PER_GB),
                        ..ResourceUsage::default()
                    },
                );
            }
            None => {
                // Not written by anything the model knows: nothing is guessed for it
                // (a profile's app-log default would be a guess of another kind).
                modelled.insert(
                    id.clone(),
                    ResourceUsage {
                        gb_ingested: Some(0.0),
                        ..ResourceUsage::default()
                    },
                );
                warnings.push(format!(
                    "{id}: no writer the model knows; its ingestion is taken as 0 (set resources.{id}.gb_ingested)"
                ));
            }
        }
    }

    for (id, u) in &modelled {
        usage.set_modelled(id, *u);
    }
    let per_minute = load.evaluations_per_minute;
    usage.origin = format!(
        "Ferry's usage model ({} environments, {} promotions a month, {} alert evaluation{} a minute){}",
        trim(n),
        trim(p),
        trim(per_minute),
        if per_minute == 1.0 { "" } else { "s" },
        if usage.origin.contains("profile defaults") {
            String::new()
        } else {
            format!(" and {}", usage.origin)
        }
    );
    Assumptions {
        environments: n,
        promotions_per_month: p,
        evaluations_per_minute: load.evaluations_per_minute,
        evaluations_per_month: evaluations,
        drift_checks_per_month: drift_runs,
        cost_reports_per_month: cost_runs,
        figures: *f,
        resources: modelled,
        warnings,
    }
}

/// A number as a person writes it: no trailing zeros.
fn trim(n: f64) -> String {
    let text = format!("{n:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_say_what_is_wrong_with_their_values() {
        assert_eq!(
            EnvironmentCount::parse("--environments", "0")
                .unwrap_err()
                .to_string(),
            "--environments: must be a whole number of 1 or more, got 0"
        );
        assert_eq!(
            EnvironmentCount::parse("--environments", "2.5")
                .unwrap_err()
                .to_string(),
            "--environments: must be a whole number of 1 or more, got 2.5"
        );
        assert_eq!(EnvironmentCount::parse("-", "50").unwrap().get(), 50);
        assert!(PromotionsPerMonth::parse("p", "-1").is_err());
        assert_eq!(PromotionsPerMonth::parse("p", "0").unwrap().get(), 0.0);
        assert!(EvaluationsPerMinute::parse("e", "2").is_err());
        assert!(EvaluationsPerMinute::parse("e", "0").is_err());
        assert_eq!(EvaluationsPerMinute::parse("e", "0.2").unwrap().get(), 0.2);
    }

    #[test]
    fn schedules_are_counted_in_runs_a_month() {
        assert_eq!(runs_per_month("rate(1 minute)"), Some(43_800.0));
        assert_eq!(runs_per_month("rate(5 minutes)"), Some(8_760.0));
        assert_eq!(runs_per_month("rate(1 hour)"), Some(730.0));
        assert_eq!(runs_per_month("cron(0 6 ? * MON *)"), Some(730.0 / 168.0));
        assert_eq!(runs_per_month("cron(30 2 * * ? *)"), Some(730.0 / 24.0));
        assert_eq!(runs_per_month("cron(0/5 * * * ? *)"), None);
        assert_eq!(runs_per_month("every tuesday"), None);
    }
}
