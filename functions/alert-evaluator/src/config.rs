use ferry_lambda::{ConfigError, Env};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: Env::process().required("FERRY_TABLE_NAME")?,
        })
    }
}
