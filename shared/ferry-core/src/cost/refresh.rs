//! `ferry pricing refresh`: rebuilds the catalog from the AWS Price List API. Each
//! on-demand price list item is mapped to a catalog key by its usage type or attributes,
//! and an RDS instance's 1-year no-upfront reservation comes with it; what the API does
//! not list (Spot, Savings Plans rates, factors) keeps the bundled entry.

use super::catalog::{rds_reserved_key, Price};
use crate::ports::{PriceList, PriceListError, ProductQuery};
use serde_json::Value;
use std::collections::BTreeMap;

/// The RDS and ElastiCache families the catalog carries: current Graviton ones, and the
/// x86 and previous-generation ones that advice moves away from.
const RDS_FAMILIES: [&str; 13] = [
    "db.t4g.", "db.t3.", "db.t2.", "db.m6g.", "db.m7g.", "db.m6i.", "db.m5.", "db.m4.", "db.r6g.",
    "db.r7g.", "db.r6i.", "db.r5.", "db.r4.",
];
const CACHE_FAMILIES: [&str; 11] = [
    "cache.t4g.",
    "cache.t3.",
    "cache.t2.",
    "cache.m6g.",
    "cache.m7g.",
    "cache.m5.",
    "cache.m4.",
    "cache.r6g.",
    "cache.r7g.",
    "cache.r5.",
    "cache.r4.",
];

/// What one refresh of one region found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refreshed {
    pub prices: BTreeMap<String, Price>,
    /// Items the API returned that map to no catalog key (counted, not kept).
    pub skipped: usize,
}

fn query(service: &str, region: &str, more: &[(&str, &str)]) -> ProductQuery {
    let mut filters = vec![("regionCode".to_owned(), region.to_owned())];
    filters.extend(more.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    ProductQuery {
        service_code: service.to_owned(),
        filters,
    }
}

/// The queries that cover every key the catalog prices, for one region.
pub fn queries(region: &str) -> Vec<ProductQuery> {
    vec![
        query("AmazonECS", region, &[]),
        query(
            "AWSELB",
            region,
            &[("productFamily", "Load Balancer-Application")],
        ),
        query("AmazonEC2", region, &[("productFamily", "NAT Gateway")]),
        query("AmazonVPC", region, &[("group", "VpcEndpoint")]),
        query(
            "AmazonVPC",
            region,
            &[("productFamily", "VPC Public IPv4 Address")],
        ),
        query(
            "AmazonRDS",
            region,
            &[
                ("productFamily", "Database Instance"),
                ("databaseEngine", "PostgreSQL"),
            ],
        ),
        query(
            "AmazonRDS",
            region,
            &[
                ("productFamily", "Database Instance"),
                ("databaseEngine", "MySQL"),
            ],
        ),
        query(
            "AmazonRDS",
            region,
            &[("productFamily", "Database Storage")],
        ),
        query(
            "AmazonElastiCache",
            region,
            &[
                ("productFamily", "Cache Instance"),
                ("cacheEngine", "Redis"),
            ],
        ),
        query("AmazonCloudWatch", region, &[]),
        query("AWSSecretsManager", region, &[]),
    ]
}

/// The usage type without its region prefix (`EUC1-NatGateway-Hours` -> `NatGateway-Hours`;
/// us-east-1's usage types often have none).
fn usage_type(attributes: &Value) -> &str {
    let usage = attributes["usagetype"].as_str().unwrap_or_default();
    match usage.split_once('-') {
        Some((prefix, rest))
            if prefix.len() <= 4
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && prefix.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            rest
        }
        _ => usage,
    }
}

/// The catalog key and the multiplier from the API's unit to the catalog's, for one item.
fn key_for(service: &str, attributes: &Value) -> Option<(String, f64)> {
    let usage = usage_type(attributes);
    let attr = |name: &str| attributes[name].as_str().unwrap_or_default();
    let key = |k: &str| Some((k.to_owned(), 1.0));
    match service {
        "AmazonECS" => match usage {
            "Fargate-vCPU-Hours:perCPU" => key("fargate.x86_64.vcpu_hour"),
            "Fargate-GB-Hours" => key("fargate.x86_64.gb_hour"),
            "Fargate-ARM-vCPU-Hours:perCPU" => key("fargate.arm64.vcpu_hour"),
            "Fargate-ARM-GB-Hours" => key("fargate.arm64.gb_hour"),
            _ => None,
        },
        "AWSELB" if usage.starts_with("LoadBalancerUsage") => key("alb.hour"),
        "AWSELB" if usage.starts_with("LCUUsage") => key("alb.lcu_hour"),
        "AmazonEC2" if usage == "NatGateway-Hours" => key("nat.hour"),
        "AmazonEC2" if usage == "NatGateway-Bytes" => key("nat.gb"),
        "AmazonVPC" if usage == "VpcEndpoint-Hours" => key("vpce.interface.hour"),
        "AmazonVPC" if usage == "VpcEndpoint-Bytes" => key("vpce.interface.gb"),
        "AmazonVPC" if usage == "PublicIPv4:InUseAddress" => key("ipv4.hour"),
        "AmazonRDS" if attr("productFamily") == "Database Instance" => {
            let class = attr("instanceType");
            let known = RDS_FAMILIES.iter().any(|f| class.starts_with(f));
            let engine = match attr("databaseEngine") {
                "PostgreSQL" => "postgres",
                "MySQL" => "mysql",
                _ => return None,
            };
            let suffix = match attr("deploymentOption") {
                "Single-AZ" => "hour",
                "Multi-AZ" => "multi_az_hour",
                _ => return None,
            };
            (known && attr("licenseModel") != "Bring your own license")
                .then(|| (format!("rds.{engine}.{class}.{suffix}"), 1.0))
        }
        "AmazonRDS" if attr("deploymentOption") == "Single-AZ" => match attr("volumeType") {
            "General Purpose-GP3" => key("rds.gp3.gb_month"),
            "General Purpose" => key("rds.gp2.gb_month"),
            _ => None,
        },
        "AmazonElastiCache" => {
            let node = attr("instanceType");
            CACHE_FAMILIES
                .iter()
                .any(|f| node.starts_with(f))
                .then(|| (format!("elasticache.{node}.hour"), 1.0))
        }
        "AmazonCloudWatch" => match usage {
            "CW:AlarmMonitorUsage" => key("cloudwatch.alarm_metric_month"),
            "CW:MetricMonitorUsage" => key("cloudwatch.metric_month"),
            "DashboardsUsageHour-Basic" | "DashboardsUsageHour" => {
                key("cloudwatch.dashboard_month")
            }
            "DataProcessing-Bytes" => key("logs.ingest_gb"),
            "TimedStorage-ByteHrs" => key("logs.storage_gb_month"),
            _ => None,
        },
        "AWSSecretsManager" => match usage {
            "AWSSecretsManager-Secrets" => key("secretsmanager.secret_month"),
            // Priced per request; the catalog keeps it per 10,000.
            "AWSSecretsManager-APIRequest" => Some(("secretsmanager.api_10k".to_owned(), 10_000.0)),
            _ => None,
        },
        _ => None,
    }
}

/// The first tier's on-demand USD price of an item, its unit and its term's date.
fn on_demand(item: &Value) -> Option<(f64, String, String)> {
    let terms = item["terms"]["OnDemand"].as_object()?;
    let (_, term) = terms.iter().next()?;
    let dimensions = term["priceDimensions"].as_object()?;
    let first = dimensions
        .values()
        .find(|d| d["beginRange"].as_str().unwrap_or("0") == "0")
        .or_else(|| dimensions.values().next())?;
    let usd: f64 = first["pricePerUnit"]["USD"].as_str()?.parse().ok()?;
    Some((
        usd,
        first["unit"].as_str().unwrap_or_default().to_owned(),
        term["effectiveDate"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ))
}

/// The hourly rate of an item's 1-year, standard, no-upfront reservation, and its term code.
fn reserved_1yr_no_upfront(item: &Value) -> Option<(f64, String)> {
    let terms = item["terms"]["Reserved"].as_object()?;
    terms.iter().find_map(|(code, term)| {
        let attributes = &term["termAttributes"];
        let wanted = attributes["LeaseContractLength"] == "1yr"
            && attributes["PurchaseOption"] == "No Upfront"
            && attributes["OfferingClass"].as_str().unwrap_or("standard") == "standard";
        if !wanted {
            return None;
        }
        let hourly = term["priceDimensions"]
            .as_object()?
            .values()
            .find(|d| d["unit"] == "Hrs")?;
        let usd: f64 = hourly["pricePerUnit"]["USD"].as_str()?.parse().ok()?;
        Some((usd, code.clone()))
    })
}

/// Prices for one region, straight from the Price List API.
pub async fn refresh_region(
    list: &dyn PriceList,
    region: &str,
    read_on: &str,
) -> Result<Refreshed, PriceListError> {
    let mut refreshed = Refreshed::default();
    for q in queries(region) {
        for document in list.products(&q).await? {
            let Ok(item) = serde_json::from_str::<Value>(&document) else {
                refreshed.skipped += 1;
                continue;
            };
            let attributes = &item["product"]["attributes"];
            let mapped = key_for(&q.service_code, attributes).zip(on_demand(&item));
            let Some(((key, multiplier), (usd, unit, effective))) = mapped else {
                refreshed.skipped += 1;
                continue;
            };
            // Zero-priced items are free tiers, not the price.
            if usd <= 0.0 {
                refreshed.skipped += 1;
                continue;
            }
            let sku = item["product"]["sku"].as_str().unwrap_or_default();
            let reservation = rds_reserved_key(&key).zip(reserved_1yr_no_upfront(&item));
            if let Some((reserved_key, (reserved_usd, term))) = reservation {
                refreshed.prices.insert(
                    reserved_key,
                    Price {
                        usd: reserved_usd,
                        unit: "Hrs (1-year, no-upfront reservation)".into(),
                        source: format!("AWS Price List API: {} in {region}", q.service_code),
                        read_on: read_on.to_owned(),
                        via: format!("pricing:GetProducts, SKU {sku}, reserved term {term}"),
                    },
                );
            }
            refreshed.prices.insert(
                key,
                Price {
                    usd: usd * multiplier,
                    unit: if multiplier == 1.0 {
                        unit
                    } else {
                        format!("{multiplier} x {unit}")
                    },
                    source: format!("AWS Price List API: {} in {region}", q.service_code),
                    read_on: read_on.to_owned(),
                    via: format!(
                        "pricing:GetProducts, SKU {sku}, usage type {}, effective {effective}",
                        attributes["usagetype"].as_str().unwrap_or_default()
                    ),
                },
            );
        }
    }
    Ok(refreshed)
}

/// The catalog file after a refresh: refreshed prices replace the old ones; keys the API
/// does not list keep theirs. Returns the file's text and, per region, how many prices
/// were refreshed.
pub async fn refresh_catalog(
    list: &dyn PriceList,
    current: &str,
    regions: &[String],
    read_on: &str,
) -> Result<(String, BTreeMap<String, usize>), RefreshError> {
    let mut document: BTreeMap<String, Value> =
        serde_json::from_str(current).map_err(|e| RefreshError::Catalog(e.to_string()))?;
    let mut counts = BTreeMap::new();
    for region in regions {
        let refreshed = refresh_region(list, region, read_on).await?;
        let prices = document
            .entry(region.clone())
            .or_insert_with(|| Value::Object(Default::default()));
        let map = prices
            .as_object_mut()
            .ok_or_else(|| RefreshError::Catalog(format!("{region} is not an object")))?;
        counts.insert(region.clone(), refreshed.prices.len());
        for (key, price) in refreshed.prices {
            map.insert(key, serde_json::to_value(price).expect("prices serialise"));
        }
    }
    let text = serde_json::to_string_pretty(&document).expect("the catalog serialises");
    Ok((text + "\n", counts))
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RefreshError {
    #[error("{0}")]
    PriceList(#[from] PriceListError),
    #[error("the current catalog is not valid: {0}")]
    Catalog(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use serde_json::json;

    /// Price list items as GetProducts returns them (trimmed to the fields read), keyed by
    /// the service they come from.
    struct RecordedPriceList(Vec<(&'static str, Value)>);

    #[async_trait]
    impl PriceList for RecordedPriceList {
        async fn products(&self, query: &ProductQuery) -> Result<Vec<String>, PriceListError> {
            Ok(self
                .0
                .iter()
                .filter(|(service, _)| *service == query.service_code)
                .filter(|(_, item)| {
                    query.filters.iter().all(|(k, v)| {
                        item["product"]["attributes"][k] == *v
                            || (k == "productFamily" && item["product"]["productFamily"] == *v)
                    })
                })
                .map(|(_, item)| item.to_string())
                .collect())
        }
    }

    fn item(sku: &str, family: &str, attributes: Value, unit: &str, usd: &str) -> Value {
        let mut attributes = attributes;
        attributes["regionCode"] = json!("eu-central-1");
        attributes["productFamily"] = json!(family);
        json!({
            "product": {"sku": sku, "productFamily": family, "attributes": attributes},
            "terms": {"OnDemand": {format!("{sku}.JRTCKXETXF"): {
                "effectiveDate": "2026-09-01T00:00:00Z",
                "priceDimensions": {format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {
                    "unit": unit, "beginRange": "0", "endRange": "Inf",
                    "pricePerUnit": {"USD": usd}}}}}},
        })
    }

    /// Reserved terms as GetProducts returns them: a 3-year all-upfront term (an upfront
    /// fee and a zero hourly rate) and the 1-year no-upfront one.
    fn with_reservations(mut item: Value) -> Value {
        let sku = item["product"]["sku"].as_str().unwrap().to_owned();
        item["terms"]["Reserved"] = json!({
            format!("{sku}.NQ3QZPMQV9"): {
                "termAttributes": {"LeaseContractLength": "3yr", "OfferingClass": "standard", "PurchaseOption": "All Upfront"},
                "priceDimensions": {
                    format!("{sku}.NQ3QZPMQV9.2TG2D8R56U"): {"unit": "Quantity", "pricePerUnit": {"USD": "9000"}},
                    format!("{sku}.NQ3QZPMQV9.6YS6EN2CT7"): {"unit": "Hrs", "pricePerUnit": {"USD": "0.0000000000"}}}},
            format!("{sku}.4NA7Y494T4"): {
                "termAttributes": {"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
                "priceDimensions": {
                    format!("{sku}.4NA7Y494T4.6YS6EN2CT7"): {"unit": "Hrs", "pricePerUnit": {"USD": "0.1815000000"}}}}
        });
        item
    }

    #[tokio::test]
    async fn price_list_items_become_catalog_entries_with_their_sku() {
        let list = RecordedPriceList(vec![
            (
                "AmazonEC2",
                item(
                    "FY5BA3Q38RMNEMJS",
                    "NAT Gateway",
                    json!({"usagetype": "EUC1-NatGateway-Hours"}),
                    "Hrs",
                    "0.0520000000",
                ),
            ),
            (
                "AmazonRDS",
                item(
                    "D9MTDU3BJYGWPKRU",
                    "Database Instance",
                    json!({"databaseEngine": "PostgreSQL", "deploymentOption": "Multi-AZ", "instanceType": "db.r6g.large", "licenseModel": "License included", "usagetype": "EUC1-Multi-AZUsage:db.r6g.large"}),
                    "Hrs",
                    "0.5490000000",
                ),
            ),
            (
                "AmazonRDS",
                with_reservations(item(
                    "DZZDATY6NC5ZPFQE",
                    "Database Instance",
                    json!({"databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ", "instanceType": "db.r6g.large", "usagetype": "EUC1-InstanceUsage:db.r6g.large"}),
                    "Hrs",
                    "0.2740000000",
                )),
            ),
            // An instance family the catalog does not carry: skipped.
            (
                "AmazonRDS",
                item(
                    "X1",
                    "Database Instance",
                    json!({"databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ", "instanceType": "db.x2g.large"}),
                    "Hrs",
                    "0.9",
                ),
            ),
            (
                "AWSSecretsManager",
                item(
                    "S1",
                    "Secret",
                    json!({"usagetype": "EUC1-AWSSecretsManager-APIRequest"}),
                    "API Requests",
                    "0.0000050000",
                ),
            ),
            // A free tier priced at zero is not the price.
            (
                "AmazonCloudWatch",
                item(
                    "C0",
                    "Alarm",
                    json!({"usagetype": "EUC1-CW:AlarmMonitorUsage"}),
                    "Alarms",
                    "0.0000000000",
                ),
            ),
        ]);
        let refreshed = refresh_region(&list, "eu-central-1", "2026-11-26")
            .await
            .unwrap();
        let usd = |key: &str| refreshed.prices.get(key).map(|p| p.usd);
        // The single-AZ instance's 1-year no-upfront term (the 3-year one is ignored).
        assert_eq!(
            usd("rds.postgres.db.r6g.large.reserved_1yr_hour"),
            Some(0.1815)
        );
        assert_eq!(
            refreshed.prices["rds.postgres.db.r6g.large.reserved_1yr_hour"].via,
            "pricing:GetProducts, SKU DZZDATY6NC5ZPFQE, reserved term DZZDATY6NC5ZPFQE.4NA7Y494T4"
        );
        assert_eq!(usd("nat.hour"), Some(0.052));
        assert_eq!(usd("rds.postgres.db.r6g.large.multi_az_hour"), Some(0.549));
        assert_eq!(usd("rds.postgres.db.r6g.large.hour"), Some(0.274));
        assert_eq!(usd("secretsmanager.api_10k"), Some(0.05));
        assert_eq!(refreshed.prices.len(), 5);
        assert_eq!(refreshed.skipped, 2);
        let nat = &refreshed.prices["nat.hour"];
        assert_eq!(nat.via, "pricing:GetProducts, SKU FY5BA3Q38RMNEMJS, usage type EUC1-NatGateway-Hours, effective 2026-09-01T00:00:00Z");
        assert_eq!(nat.read_on, "2026-11-26");
    }

    #[tokio::test]
    async fn a_refresh_replaces_what_it_finds_and_keeps_the_rest() {
        let list = RecordedPriceList(vec![(
            "AmazonEC2",
            item(
                "FY5BA3Q38RMNEMJS",
                "NAT Gateway",
                json!({"usagetype": "EUC1-NatGateway-Hours"}),
                "Hrs",
                "0.0530000000",
            ),
        )]);
        let current = r#"{"_schema": "doc", "eu-central-1": {
            "nat.hour": {"usd": 0.052, "unit": "h", "source": "s", "read_on": "2026-01-01", "via": "v"},
            "fargate.spot.vcpu_hour": {"usd": 0.014, "unit": "h", "source": "s", "read_on": "2026-01-01", "via": "v"}}}"#;
        let (text, counts) =
            refresh_catalog(&list, current, &["eu-central-1".into()], "2026-11-26")
                .await
                .unwrap();
        assert_eq!(counts["eu-central-1"], 1);
        let catalog = crate::cost::Catalog::from_json(&text, "eu-central-1").unwrap();
        assert_eq!(catalog.usd("nat.hour"), Some(0.053));
        assert_eq!(
            catalog.usd("fargate.spot.vcpu_hour"),
            Some(0.014),
            "Spot is not in the Price List: kept"
        );
        assert!(text.contains("\"_schema\": \"doc\""));
    }
}
