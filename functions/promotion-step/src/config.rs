use ferry_core::promotion::StepPolicy;
use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    pub policy: StepPolicy,
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
        Ok(Self {
            table_name: env.required("FERRY_TABLE_NAME")?,
            policy: StepPolicy {
                approval_threshold: threshold,
            },
        })
    }
}
