//! Newtypes for every validated input. A value of these types has been checked once, at
//! the edge, so engines never re-validate.

use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Checks the shared shape of app and environment names: they end up in CloudFormation
/// stack names, DynamoDB keys and Step Functions execution names, so they are kept to
/// lowercase letters, digits and inner dashes.
fn check_slug(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(FieldError::new(
            field,
            format!(
                "'{value}' is {} characters; the limit is {max}",
                value.len()
            ),
        ));
    }
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let starts_with_letter = value.starts_with(|c: char| c.is_ascii_lowercase());
    if !valid_chars || !starts_with_letter || value.ends_with('-') || value.contains("--") {
        return Err(FieldError::new(
            field,
            format!(
                "'{value}' is not a valid name; use lowercase letters, digits and single dashes, starting with a letter"
            ),
        ));
    }
    Ok(())
}

macro_rules! slug_newtype {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                check_slug(field, value, $max)?;
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(stringify!($name), &value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_newtype!(
    /// An application's name, e.g. `shop`.
    AppName,
    32
);
slug_newtype!(
    /// An environment's name within an app, e.g. `dev`, `staging`, `prod`, `eu-prod`.
    EnvName,
    24
);

/// Identifies a promotion. It is also the Step Functions execution name, which makes it
/// the idempotency key: a retried request with the same key maps onto the same execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PromotionId(String);

impl PromotionId {
    /// Execution names allow 1-80 characters of letters, digits, `-` and `_`.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let ok_len = (1..=80).contains(&value.len());
        let ok_chars = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok_len && ok_chars {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                format!("'{value}' is not a valid promotion id; use 1 to 80 letters, digits, '-' or '_'"),
            ))
        }
    }

    pub fn generate() -> Self {
        Self(format!("p-{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PromotionId {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("promotion_id", &value)
    }
}

impl From<PromotionId> for String {
    fn from(value: PromotionId) -> String {
        value.0
    }
}

impl fmt::Display for PromotionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How traffic moves to the new release. Named after CodeDeploy's deployment
/// configurations, which users already know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    AllAtOnce,
    BlueGreen,
    Canary10Percent5Minutes,
    Canary10Percent15Minutes,
    Linear10PercentEvery1Minute,
    Linear10PercentEvery3Minutes,
    /// The target environment's own `promotion.steps`.
    Custom,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::AllAtOnce,
        Strategy::BlueGreen,
        Strategy::Canary10Percent5Minutes,
        Strategy::Canary10Percent15Minutes,
        Strategy::Linear10PercentEvery1Minute,
        Strategy::Linear10PercentEvery3Minutes,
        Strategy::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::AllAtOnce => "AllAtOnce",
            Strategy::BlueGreen => "BlueGreen",
            Strategy::Canary10Percent5Minutes => "Canary10Percent5Minutes",
            Strategy::Canary10Percent15Minutes => "Canary10Percent15Minutes",
            Strategy::Linear10PercentEvery1Minute => "Linear10PercentEvery1Minute",
            Strategy::Linear10PercentEvery3Minutes => "Linear10PercentEvery3Minutes",
            Strategy::Custom => "Custom",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                FieldError::new(
                    field,
                    format!(
                        "'{value}' is not a known strategy; use one of {}",
                        names.join(", ")
                    ),
                )
            })
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two target groups and ECS services every Ferry service has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Blue,
    Green,
}

impl Colour {
    pub fn other(self) -> Colour {
        match self {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        })
    }
}

/// A container image pinned by digest, so a release means the same bytes everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef(String);

impl ImageRef {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let Some((repository, digest)) = value.split_once("@sha256:") else {
            return Err(FieldError::new(
                field,
                format!("'{value}' is not pinned by digest; use REPOSITORY@sha256:<64 hex digits>"),
            ));
        };
        let hex_ok = digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit());
        if repository.is_empty() || repository.contains(char::is_whitespace) || !hex_ok {
            return Err(FieldError::new(
                field,
                format!("'{value}' is not a valid image reference; use REPOSITORY@sha256:<64 hex digits>"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImageRef {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("image", &value)
    }
}

impl From<ImageRef> for String {
    fn from(value: ImageRef) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_slugs_and_name_the_field_when_rejecting() {
        assert!(AppName::parse("app", "shop-api2").is_ok());
        for bad in [
            "",
            "Shop",
            "1shop",
            "shop-",
            "sh--op",
            "shop api",
            &"a".repeat(33),
        ] {
            let err = AppName::parse("app", bad).unwrap_err();
            assert_eq!(err.field, "app", "{bad}");
        }
    }

    #[test]
    fn strategy_lists_the_valid_ones_in_its_error() {
        assert_eq!(
            Strategy::parse("strategy", "BlueGreen").unwrap(),
            Strategy::BlueGreen
        );
        let err = Strategy::parse("strategy", "YOLO").unwrap_err();
        assert!(err.message.contains("Canary10Percent5Minutes"), "{err}");
    }

    #[test]
    fn images_must_be_pinned_by_digest() {
        let digest = "a".repeat(64);
        assert!(ImageRef::parse("image", &format!("repo/shop@sha256:{digest}")).is_ok());
        assert!(ImageRef::parse("image", "repo/shop:latest").is_err());
        assert!(ImageRef::parse("image", "repo/shop@sha256:abc").is_err());
    }

    #[test]
    fn promotion_ids_fit_execution_names() {
        assert!(PromotionId::parse("id", "deploy-42_a").is_ok());
        assert!(PromotionId::parse("id", "has space").is_err());
        assert!(PromotionId::parse("id", &"x".repeat(81)).is_err());
        assert!(PromotionId::generate().as_str().len() <= 80);
    }
}
