use ferry_core::cost::report::FerrySchedules;
use ferry_core::cost::{bill, Catalog};
use ferry_lambda::{ConfigError, Env};

/// Ferry's own template, compiled in: the cost report prices it beside the apps' (its
/// code locations differ once packaged, which the bill does not read).
pub const FERRY_TEMPLATE: &str = include_str!("../../../infra/ferry.json");

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// Loaded at cold start, so a region without prices fails the deploy, not a report.
    pub catalog: Catalog,
    /// The deployed schedules of Ferry's jobs (the stack's parameters); unset ones are the
    /// template's defaults.
    pub schedules: FerrySchedules,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let table_name = env.required("FERRY_TABLE_NAME")?;
        let catalog = env.pricing_catalog("FERRY_PRICING_REGION")?;
        let runs = |name: &str| -> Result<Option<f64>, ConfigError> {
            let expression: String = env.parsed_or(name, String::new())?;
            if expression.trim().is_empty() {
                return Ok(None);
            }
            bill::runs_per_month(&expression)
                .map(Some)
                .ok_or_else(|| ConfigError {
                    variable: name.into(),
                    problem: format!(
                        "'{expression}' is not a schedule the bill can count: use rate(...), or a cron at a fixed time daily or on one weekday"
                    ),
                })
        };
        let evaluations = runs("FERRY_ALERT_EVALUATION_SCHEDULE")?;
        if evaluations.is_some_and(|runs| runs > bill::MINUTES_PER_MONTH) {
            return Err(ConfigError {
                variable: "FERRY_ALERT_EVALUATION_SCHEDULE".into(),
                problem: "runs more than once a minute, which EventBridge does not".into(),
            });
        }
        let schedules = FerrySchedules {
            evaluations_per_minute: evaluations.map(|runs| runs / bill::MINUTES_PER_MONTH),
            drift_checks_per_month: runs("FERRY_DRIFT_CHECK_SCHEDULE")?,
            cost_reports_per_month: runs("FERRY_COST_REPORT_SCHEDULE")?,
        };
        Ok(Self {
            table_name,
            catalog,
            schedules,
        })
    }
}
