use ferry_lambda::{ConfigError, Env};

/// Read once at cold start; a missing or malformed variable stops the function with
/// its name in the error.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The account's own policy rules (FERRY_POLICY_RULES, cfn-guard rules text), checked
    /// with Ferry's on every template; installed by `main` before the first event.
    pub account_rules: Option<ferry_core::infra::policy::PolicyRules>,
    pub state_machine_arn: String,
    /// How long a promotion waits for an approval before it ends Rejected (timeout).
    pub approval_timeout_seconds: u64,
    /// Principals that are always admin, so a new deployment is not locked out.
    pub admins: Vec<String>,
    /// Local runs only (refused inside AWS Lambda): callers may name themselves in
    /// `x-ferry-identity` when no authorizer identified them.
    pub local_identity: bool,
    /// Local runs only (refused inside AWS Lambda): honour faults the end-to-end tests
    /// inject into Step Functions calls (see `faults.rs`).
    pub fault_injection: bool,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("FERRY_TABLE_NAME")?,
            account_rules: env.policy_rules("FERRY_POLICY_RULES")?,
            state_machine_arn: env.arn("FERRY_STATE_MACHINE_ARN", "states", "stateMachine")?,
            admins: env
                .parsed_or("FERRY_ADMINS", String::new())?
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            local_identity: env.local_only_switch("FERRY_LOCAL_IDENTITY")?,
            fault_injection: env.local_only_switch("FERRY_FAULT_INJECTION")?,
            approval_timeout_seconds: match env
                .parsed_or("FERRY_APPROVAL_TIMEOUT_SECONDS", 86_400u64)?
            {
                seconds @ 1..=604_800 => seconds,
                other => {
                    return Err(ConfigError {
                        variable: "FERRY_APPROVAL_TIMEOUT_SECONDS".into(),
                        problem: format!("{other} is outside 1..=604800 (a week)"),
                    })
                }
            },
        })
    }
}
