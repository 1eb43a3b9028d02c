//! What every Ferry function shares: JSON logs, configuration read once at cold start
//! (failing fast with the variable's name), and stable error names for Step Functions.

use ferry_core::error::ErrorName;
use lambda_runtime::Diagnostic;
use std::fmt;

/// JSON logs, one object a line, as CloudWatch Logs Insights expects. `RUST_LOG` sets
/// the level (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .init();
}

/// A missing or invalid environment variable. Its message starts with the variable's
/// name, so a failed cold start says exactly what to fix.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

/// Reads configuration from a source of variables (the process environment in Lambda, a
/// map in tests).
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn from_fn(lookup: F) -> Self {
        Env { lookup }
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        match (self.lookup)(name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            Some(_) => Err(ConfigError {
                variable: name.into(),
                problem: "is set but empty".into(),
            }),
            None => Err(ConfigError {
                variable: name.into(),
                problem: "is not set".into(),
            }),
        }
    }

    /// An optional variable parsed as `T`, or `default` when unset.
    pub fn parsed_or<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match (self.lookup)(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError {
                variable: name.into(),
                problem: format!("'{raw}' is not valid: {e}"),
            }),
        }
    }

    /// A switch for local runs only (local identity, fault injection). It is refused at
    /// cold start inside AWS Lambda, which always sets `AWS_LAMBDA_INITIALIZATION_TYPE`
    /// and `AWS_LAMBDA_LOG_GROUP_NAME` (`cargo lambda watch` sets neither), so a deployed
    /// Ferry cannot run with it whatever its environment says.
    pub fn local_only_switch(&self, name: &str) -> Result<bool, ConfigError> {
        let on: bool = self.parsed_or(name, false)?;
        let in_lambda = [
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            "AWS_LAMBDA_LOG_GROUP_NAME",
        ]
        .iter()
        .find(|v| (self.lookup)(v).is_some());
        match (on, in_lambda) {
            (true, Some(marker)) => Err(ConfigError {
                variable: name.into(),
                problem: format!(
                    "is for local runs only and cannot be on in AWS Lambda ({marker} is set)"
                ),
            }),
            _ => Ok(on),
        }
    }

    /// The bundled pricing catalog for the region in `name`, loaded at cold start so a
    /// region without prices fails the deploy, not a report.
    pub fn pricing_catalog(&self, name: &str) -> Result<ferry_core::cost::Catalog, ConfigError> {
        let region = self.required(name)?;
        ferry_core::cost::Catalog::bundled(&region).map_err(|e| ConfigError {
            variable: name.into(),
            problem: e.to_string(),
        })
    }

    /// The account's policy rules: cfn-guard rules text in `name`, if set, parsed at cold
    /// start so rules that do not parse stop the function naming the variable, rather
    /// than failing every template later.
    pub fn policy_rules(
        &self,
        name: &str,
    ) -> Result<Option<ferry_core::infra::policy::PolicyRules>, ConfigError> {
        match (self.lookup)(name) {
            Some(text) if !text.trim().is_empty() => {
                ferry_core::infra::policy::PolicyRules::parse(name, &text)
                    .map(Some)
                    .map_err(|e| ConfigError {
                        variable: name.into(),
                        problem: e.message,
                    })
            }
            _ => Ok(None),
        }
    }

    /// A required ARN of the given service and resource type, e.g. `states` / `stateMachine`.
    pub fn arn(&self, name: &str, service: &str, resource: &str) -> Result<String, ConfigError> {
        let value = self.required(name)?;
        let parts: Vec<&str> = value.splitn(7, ':').collect();
        let ok = parts.len() >= 6
            && parts[0] == "arn"
            && parts[2] == service
            && parts[5].starts_with(resource);
        if ok {
            Ok(value)
        } else {
            Err(ConfigError {
                variable: name.into(),
                problem: format!("'{value}' is not an ARN of the form arn:aws:{service}:REGION:ACCOUNT:{resource}:NAME"),
            })
        }
    }
}

/// A function error with a stable name. Lambda reports the name as `errorType`, and the
/// state machine's `Retry` and `Catch` blocks match on it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionError {
    pub name: ErrorName,
    pub message: String,
}

impl FunctionError {
    pub fn new(name: ErrorName, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }

    /// An event that does not have the expected shape. Not retried.
    pub fn bad_event(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::InvalidEvent, message.to_string())
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for FunctionError {}

/// The EMF document that counts one fault of `function` (`Ferry/Health`, `Faults`), which
/// the `<function>-faults` alarm of `infra/ferry.json` watches; `None` for a signal.
pub fn fault_metric(
    name: ErrorName,
    function: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<serde_json::Value> {
    name.is_fault().then(|| {
        emf(
            "Ferry/Health",
            "Faults",
            "Count",
            1.0,
            &[("FunctionName", function)],
            at,
        )
    })
}

impl From<FunctionError> for Diagnostic {
    /// Every function error passes through here on its way to Lambda, so this is where it
    /// is logged with its name and, when it is a fault, counted.
    fn from(error: FunctionError) -> Diagnostic {
        tracing::error!(error_name = %error.name, error = %error.message, "function error");
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
        if let Some(metric) = fault_metric(error.name, &function, chrono::Utc::now()) {
            println!("{metric}");
        }
        Diagnostic {
            error_type: error.name.as_str().to_owned(),
            error_message: error.message,
        }
    }
}

impl From<ferry_core::promotion::StepError> for FunctionError {
    fn from(error: ferry_core::promotion::StepError) -> Self {
        FunctionError::new(error.name(), error.to_string())
    }
}

impl From<ferry_core::job::JobError> for FunctionError {
    fn from(error: ferry_core::job::JobError) -> Self {
        FunctionError::new(error.name(), error.to_string())
    }
}

/// Scheduled functions are invoked by EventBridge (rules or Scheduler) with a
/// "Scheduled Event"; anything else reaching them is a wiring mistake worth failing on.
pub fn expect_schedule<T: serde::Serialize + serde::de::DeserializeOwned>(
    event: &aws_lambda_events::eventbridge::EventBridgeEvent<T>,
) -> Result<(), FunctionError> {
    if event.detail_type == "Scheduled Event" {
        Ok(())
    } else {
        Err(FunctionError::bad_event(format!(
            "detail-type: expected 'Scheduled Event', got '{}'",
            event.detail_type
        )))
    }
}

/// One CloudWatch Embedded Metric Format document: printed as its own log line, Lambda's
/// log pipeline turns it into a metric, with no PutMetricData call and no extra IAM.
pub fn emf(
    namespace: &str,
    metric: &str,
    unit: &str,
    value: f64,
    dimensions: &[(&str, &str)],
    timestamp: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let mut document = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [names],
                "Metrics": [{"Name": metric, "Unit": unit}],
            }],
        },
        metric: value,
    });
    for (name, value) in dimensions {
        document[*name] = serde_json::Value::String((*value).to_owned());
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::from_fn(move |name| map.get(name).cloned())
    }

    #[test]
    fn missing_and_empty_variables_are_named() {
        let e = env(&[("EMPTY", " ")]);
        assert_eq!(
            e.required("FERRY_TABLE_NAME").unwrap_err().to_string(),
            "FERRY_TABLE_NAME: is not set"
        );
        assert_eq!(
            e.required("EMPTY").unwrap_err().to_string(),
            "EMPTY: is set but empty"
        );
    }

    #[test]
    fn local_only_switches_are_refused_inside_lambda() {
        assert!(env(&[("FERRY_LOCAL_IDENTITY", "true")])
            .local_only_switch("FERRY_LOCAL_IDENTITY")
            .unwrap());
        assert!(!env(&[]).local_only_switch("FERRY_LOCAL_IDENTITY").unwrap());
        let deployed = env(&[
            ("FERRY_LOCAL_IDENTITY", "true"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ]);
        let err = deployed
            .local_only_switch("FERRY_LOCAL_IDENTITY")
            .unwrap_err();
        assert_eq!(err.to_string(), "FERRY_LOCAL_IDENTITY: is for local runs only and cannot be on in AWS Lambda (AWS_LAMBDA_INITIALIZATION_TYPE is set)");
        let off_in_lambda = env(&[("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/api")]);
        assert!(!off_in_lambda
            .local_only_switch("FERRY_LOCAL_IDENTITY")
            .unwrap());
    }

    #[test]
    fn arns_are_checked_for_service_and_resource() {
        let e = env(&[
            (
                "GOOD",
                "arn:aws:states:us-east-1:123456789012:stateMachine:ferry-promotion",
            ),
            ("BAD", "arn:aws:lambda:us-east-1:123456789012:function:x"),
        ]);
        assert!(e.arn("GOOD", "states", "stateMachine").is_ok());
        let err = e.arn("BAD", "states", "stateMachine").unwrap_err();
        assert_eq!(err.variable, "BAD");
    }

    #[test]
    fn parsed_values_name_the_variable_when_invalid() {
        let e = env(&[("N", "sixty")]);
        assert_eq!(e.parsed_or("UNSET", 60u8).unwrap(), 60);
        assert!(e
            .parsed_or::<u8>("N", 60)
            .unwrap_err()
            .to_string()
            .starts_with("N: 'sixty' is not valid"));
    }

    #[test]
    fn faults_are_counted_in_emf_and_signals_are_not() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let metric =
            fault_metric(ErrorName::RollbackIncomplete, "ferry-promotion-step", at).unwrap();
        assert_eq!(
            metric["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Ferry/Health"
        );
        assert_eq!(
            metric["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "Faults"
        );
        assert_eq!(metric["Faults"], 1.0);
        assert_eq!(metric["FunctionName"], "ferry-promotion-step");
        assert_eq!(metric["_aws"]["Timestamp"], 1_700_000_000_000i64);
        for signal in [
            ErrorName::CanaryFailed,
            ErrorName::PolicyViolation,
            ErrorName::TransientError,
            ErrorName::AlarmFired,
        ] {
            assert_eq!(fault_metric(signal, "f", at), None, "{signal}");
        }
    }

    #[test]
    fn function_errors_keep_their_name_as_error_type() {
        let d: Diagnostic = FunctionError::new(ErrorName::TransientError, "throttled").into();
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("TransientError", "throttled")
        );
    }
}
