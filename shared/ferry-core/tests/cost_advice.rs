//! Commitment advice on a hand-made catalog, so each saving can be checked by hand
//! independently of the bundled prices.

use ferry_core::cost::{self, advice::AdviceContext, Advice, Catalog, CostEstimate, Price, Usage};
use ferry_core::infra::profile::ProfileName;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn catalog(prices: &[(&str, f64)]) -> Catalog {
    let prices: BTreeMap<String, Price> = prices
        .iter()
        .map(|(key, usd)| {
            let price = Price {
                usd: *usd,
                unit: "test".into(),
                source: "test".into(),
                read_on: "2026-11-27".into(),
                via: String::new(),
            };
            ((*key).to_owned(), price)
        })
        .collect();
    Catalog::from_prices("us-east-1", prices)
}

fn database(class: &str, multi_az: bool) -> Value {
    json!({"Type": "AWS::RDS::DBInstance", "Properties": {
        "Engine": "postgres", "DBInstanceClass": class, "MultiAZ": multi_az,
        "AllocatedStorage": 100, "StorageType": "gp3"}})
}

/// The estimate with advice, for an environment of `profile` (None: unknown) priced
/// with that profile's usage defaults (prod's when unknown).
fn analysed(template: &Value, catalog: &Catalog, profile: Option<ProfileName>) -> CostEstimate {
    let context = AdviceContext {
        profile,
        ..AdviceContext::default()
    };
    let usage = Usage::profile_defaults(profile.unwrap_or(ProfileName::Prod));
    cost::analyse(template, catalog, &usage, &context)
}

fn commitments(template: &Value, catalog: &Catalog, profile: ProfileName) -> Vec<Advice> {
    analysed(template, catalog, Some(profile))
        .advice
        .into_iter()
        .filter(|a| a.kind == "commitment")
        .collect()
}

#[test]
fn each_database_class_is_compared_with_its_own_reserved_rate() {
    let template = json!({"Resources": {
        "Orders": database("db.r7g.large", true),
        "Sessions": database("db.t4g.medium", false),
        "Reports": database("db.m7g.large", false),
    }});
    let catalog = catalog(&[
        ("rds.gp3.gb_month", 0.115),
        ("rds.postgres.db.r7g.large.multi_az_hour", 0.478),
        (
            "rds.postgres.db.r7g.large.multi_az_reserved_1yr_hour",
            0.3682,
        ),
        ("rds.postgres.db.t4g.medium.hour", 0.065),
        ("rds.postgres.db.t4g.medium.reserved_1yr_hour", 0.0465),
        // db.m7g.large has no reserved rate here: no advice, rather than another
        // class's discount.
        ("rds.postgres.db.m7g.large.hour", 0.168),
    ]);
    let advice = commitments(&template, &catalog, ProfileName::Prod);
    let got: Vec<(&str, f64)> = advice
        .iter()
        .map(|a| (a.logical_id.as_str(), a.monthly_saving_usd))
        .collect();
    // Orders: 730 h x (0.478 - 0.3682) = 80.154; Sessions: 730 h x (0.065 - 0.0465) = 13.505
    assert_eq!(got, [("Orders", 80.15), ("Sessions", 13.51)]);
    // 0.3682 / 0.478 = 77.03%: breaks even above 562 of 730 hours.
    assert!(
        advice[0].action.contains("at 77% of the on-demand rate")
            && advice[0].action.contains("(562 h a month)"),
        "{}",
        advice[0].action
    );
    // 0.0465 / 0.065 = 71.5% -> 522 h.
    assert!(
        advice[1].action.contains("(522 h a month)"),
        "{}",
        advice[1].action
    );
}

#[test]
fn commitments_are_prod_only() {
    let template = json!({"Resources": {"Sessions": database("db.t4g.medium", false)}});
    let catalog = catalog(&[
        ("rds.gp3.gb_month", 0.115),
        ("rds.postgres.db.t4g.medium.hour", 0.065),
        ("rds.postgres.db.t4g.medium.reserved_1yr_hour", 0.0465),
    ]);
    assert_eq!(commitments(&template, &catalog, ProfileName::Prod).len(), 1);
    assert!(commitments(&template, &catalog, ProfileName::Staging).is_empty());
}

#[test]
fn a_template_of_unknown_profile_gets_only_what_prod_allows() {
    let template = json!({"Resources": {
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "1024", "Memory": "2048"}},
        "Web": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 2, "TaskDefinition": {"Ref": "Task"}}},
    }});
    let catalog = Catalog::bundled("us-east-1").unwrap();
    let kinds = |profile: Option<ProfileName>| -> Vec<String> {
        let mut kinds: Vec<String> = analysed(&template, &catalog, profile)
            .advice
            .into_iter()
            .map(|a| a.kind)
            .collect();
        kinds.sort();
        kinds
    };
    // No Spot and no schedule when nothing says the environment is not prod.
    assert_eq!(kinds(None), ["commitment", "graviton"]);
    assert_eq!(kinds(Some(ProfileName::Prod)), ["commitment", "graviton"]);
    assert_eq!(
        kinds(Some(ProfileName::Dev)),
        ["fargate-spot", "graviton", "schedule"]
    );
}

/// x86 and previous-generation classes move to the cheapest Graviton family the bundled
/// catalog has, Multi-AZ databases included.
#[test]
fn old_and_x86_classes_move_to_the_cheapest_graviton_family() {
    let template = json!({"Resources": {
        "Orders": database("db.m5.large", true),
        "Search": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "mysql", "DBInstanceClass": "db.r6i.xlarge", "AllocatedStorage": 100, "StorageType": "gp3"}},
        "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {
            "CacheNodeType": "cache.r5.large", "NumCacheClusters": 2, "Engine": "redis"}},
    }});
    let catalog = Catalog::bundled("eu-central-1").unwrap();
    let estimate = analysed(&template, &catalog, Some(ProfileName::Prod));
    assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
    let moves: Vec<(&str, &str, f64)> = estimate
        .advice
        .iter()
        .filter(|a| a.kind == "graviton" || a.kind == "previous-generation")
        .map(|a| {
            (
                a.logical_id.as_str(),
                a.action.as_str(),
                a.monthly_saving_usd,
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            // db.r6i.xlarge $0.58 -> db.r6g.xlarge $0.519 (db.r7g.xlarge is $0.582, dearer):
            // 730 h x 0.061 = 44.53
            (
                "Search",
                "Move the database from db.r6i.xlarge to Graviton db.r6g.xlarge",
                44.53
            ),
            // Multi-AZ db.m5.large $0.424 -> db.m6g.large $0.379 (db.m7g.large $0.401):
            // 730 h x 0.045 = 32.85
            (
                "Orders",
                "Move the database off the previous-generation db.m5.large to db.m6g.large",
                32.85
            ),
            // cache.r5.large $0.26 -> cache.r6g.large $0.247: 2 nodes x 730 h x 0.013 = 18.98
            (
                "Cache",
                "Move the cache off the previous-generation cache.r5.large to cache.r6g.large",
                18.98
            ),
        ]
    );
}
