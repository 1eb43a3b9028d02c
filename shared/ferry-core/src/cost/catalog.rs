//! The pricing catalog: on-demand prices per region, each with where it was read and when.
//! The bundled file is `data/pricing.json`; `ferry pricing refresh` writes the same schema
//! from the AWS Price List API, and `--catalog FILE` prices against such a file.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub usd: f64,
    pub unit: String,
    /// The public AWS pricing page, or the Price List API offer the price came from.
    pub source: String,
    pub read_on: String,
    /// Where the figure was actually read, when that is not `source` itself.
    #[serde(default)]
    pub via: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub region: String,
    prices: BTreeMap<String, Price>,
}

/// The catalog key of an RDS instance's 1-year, no-upfront reserved hourly rate, from its
/// on-demand key: `.hour` -> `.reserved_1yr_hour`, `.multi_az_hour` ->
/// `.multi_az_reserved_1yr_hour`.
pub fn rds_reserved_key(on_demand_key: &str) -> Option<String> {
    if !(on_demand_key.starts_with("rds.postgres.") || on_demand_key.starts_with("rds.mysql.")) {
        return None;
    }
    match on_demand_key.strip_suffix(".multi_az_hour") {
        Some(class) => Some(format!("{class}.multi_az_reserved_1yr_hour")),
        None => Some(format!(
            "{}.reserved_1yr_hour",
            on_demand_key.strip_suffix(".hour")?
        )),
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("the pricing catalog is not valid: {0}")]
    Invalid(String),
    #[error("the pricing catalog has no prices for '{region}'; it has {}", .known.join(", "))]
    UnknownRegion { region: String, known: Vec<String> },
}

const BUNDLED: &str = include_str!("../../data/pricing.json");

impl Catalog {
    /// The catalog shipped with Ferry, for one region.
    pub fn bundled(region: &str) -> Result<Catalog, CatalogError> {
        Catalog::from_json(BUNDLED, region)
    }

    /// One region of a catalog file (bundled, or written by `ferry pricing refresh`).
    pub fn from_json(text: &str, region: &str) -> Result<Catalog, CatalogError> {
        let mut regions = regions_of(text)?;
        let known: Vec<String> = regions.keys().cloned().collect();
        let prices = regions
            .remove(region)
            .ok_or_else(|| CatalogError::UnknownRegion {
                region: region.to_owned(),
                known,
            })?;
        Ok(Catalog {
            region: region.to_owned(),
            prices,
        })
    }

    /// The bundled catalog file, as shipped.
    pub fn bundled_text() -> &'static str {
        BUNDLED
    }

    /// Regions the bundled catalog prices.
    pub fn bundled_regions() -> Vec<String> {
        regions_of(BUNDLED)
            .map(|r| r.into_keys().collect())
            .unwrap_or_default()
    }

    pub fn from_prices(region: &str, prices: BTreeMap<String, Price>) -> Catalog {
        Catalog {
            region: region.to_owned(),
            prices,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Price> {
        self.prices.get(key)
    }

    pub fn usd(&self, key: &str) -> Option<f64> {
        self.get(key).map(|p| p.usd)
    }

    pub fn prices(&self) -> &BTreeMap<String, Price> {
        &self.prices
    }
}

/// Every region of a catalog file. Keys starting with `_` are documentation.
fn regions_of(text: &str) -> Result<BTreeMap<String, BTreeMap<String, Price>>, CatalogError> {
    let all: BTreeMap<String, Value> =
        serde_json::from_str(text).map_err(|e| CatalogError::Invalid(e.to_string()))?;
    all.into_iter()
        .filter(|(region, _)| !region.starts_with('_'))
        .map(|(region, prices)| {
            let prices: BTreeMap<String, Price> = serde_path_to_error::deserialize(prices)
                .map_err(|e| {
                    CatalogError::Invalid(format!("{region}.{}: {}", e.path(), e.inner()))
                })?;
            Ok((region, prices))
        })
        .collect()
}
