use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The region dashboard links point at.
    pub region: String,
    /// The SSM SecureString parameter holding the Slack incoming webhook URL, if Slack is on.
    pub slack_webhook_parameter: Option<String>,
    /// The SNS topic email subscribers follow, if email is on.
    pub alert_topic_arn: Option<String>,
    /// The promotion pipeline: an alarm fails the Watch task of a promotion in its watch
    /// window.
    pub state_machine_arn: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let optional = |name: &str| env.required(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            table_name: env.required("FERRY_TABLE_NAME")?,
            region: optional("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            slack_webhook_parameter: optional("FERRY_SLACK_WEBHOOK_PARAMETER"),
            alert_topic_arn: optional("FERRY_ALERT_TOPIC_ARN"),
            state_machine_arn: env.arn("FERRY_STATE_MACHINE_ARN", "states", "stateMachine")?,
        })
    }
}
