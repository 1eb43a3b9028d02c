use ferry_core::cost::Catalog;
use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// Loaded at cold start, so a region without prices fails the deploy, not a report.
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
            catalog,
        })
    }
}
