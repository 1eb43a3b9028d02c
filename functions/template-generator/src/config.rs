use ferry_core::cost::Catalog;
use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The account's own policy rules (FERRY_POLICY_RULES, cfn-guard rules text), checked
    /// with Ferry's on every template; installed by `main` before the first event.
    pub account_rules: Option<ferry_core::infra::policy::PolicyRules>,
    /// Prices each template against the last one, so a promotion says what it adds a
    /// month. Loaded at cold start: a region without prices fails the deploy.
    pub catalog: Catalog,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let table_name = env.required("FERRY_TABLE_NAME")?;
        let catalog = env.pricing_catalog("FERRY_PRICING_REGION")?;
        Ok(Self {
            table_name,
            account_rules: env.policy_rules("FERRY_POLICY_RULES")?,
            catalog,
        })
    }
}
