use ferry_core::promotion::StepPolicy;
use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The account's own policy rules (FERRY_POLICY_RULES, cfn-guard rules text), checked
    /// with Ferry's on every template; installed by `main` before the first event.
    pub account_rules: Option<ferry_core::infra::policy::PolicyRules>,
    pub policy: StepPolicy,
    /// CloudFormation's service role for environment stacks, passed with every change set.
    pub stack_role_arn: String,
    /// Where templates over CloudFormation's 51,200-byte inline limit are uploaded.
    pub artifacts_bucket: String,
    /// Honour faults a local run injects; refused at cold start inside AWS Lambda.
    pub fault_injection: bool,
    /// The SSM SecureString parameter holding the Slack webhook URL, if Slack is on:
    /// approval requests and failed rollbacks go there.
    pub slack_webhook_parameter: Option<String>,
    /// The SNS topic email subscribers follow, if email is on.
    pub alert_topic_arn: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let threshold: u8 = env.parsed_or("FERRY_APPROVAL_THRESHOLD", 60)?;
        if threshold > 100 {
            return Err(ConfigError {
                variable: "FERRY_APPROVAL_THRESHOLD".into(),
                problem: format!("{threshold} is above 100, the highest risk score"),
            });
        }
        let defaults = StepPolicy::default();
        let optional = |name: &str| env.required(name).ok().filter(|v| !v.is_empty());
        let poll_seconds: f64 = env.parsed_or("FERRY_STACK_POLL_SECONDS", 2.0)?;
        if !(0.0..=60.0).contains(&poll_seconds) {
            return Err(ConfigError {
                variable: "FERRY_STACK_POLL_SECONDS".into(),
                problem: format!("{poll_seconds} is outside 0 to 60 seconds"),
            });
        }
        // The state machine's first wait before looking at a stack it changed (doubling
        // up to a minute); a local run's moto applies change sets at once.
        let first_wait: u64 = env.parsed_or(
            "FERRY_STACK_WAIT_SECONDS",
            defaults.stack_wait.first_seconds,
        )?;
        if !(1..=defaults.stack_wait.max_seconds).contains(&first_wait) {
            return Err(ConfigError {
                variable: "FERRY_STACK_WAIT_SECONDS".into(),
                problem: format!(
                    "{first_wait} is outside 1 to {} seconds",
                    defaults.stack_wait.max_seconds
                ),
            });
        }
        Ok(Self {
            table_name: env.required("FERRY_TABLE_NAME")?,
            account_rules: env.policy_rules("FERRY_POLICY_RULES")?,
            stack_role_arn: env.arn("FERRY_STACK_ROLE_ARN", "iam", "role/")?,
            artifacts_bucket: env.required("FERRY_ARTIFACTS_BUCKET")?,
            policy: StepPolicy {
                approval_threshold: threshold,
                polling: ferry_core::infra::deploy::Polling {
                    interval: std::time::Duration::from_secs_f64(poll_seconds),
                    ..defaults.polling
                },
                stack_wait: ferry_core::promotion::StackWait {
                    first_seconds: first_wait,
                    ..defaults.stack_wait
                },
                ..defaults
            },
            fault_injection: env.local_only_switch("FERRY_FAULT_INJECTION")?,
            slack_webhook_parameter: optional("FERRY_SLACK_WEBHOOK_PARAMETER"),
            alert_topic_arn: optional("FERRY_ALERT_TOPIC_ARN"),
        })
    }
}
