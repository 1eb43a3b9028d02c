//! Ferry's own bill, priced by hand from the bundled catalog and the usage model's
//! documented figures (`cost::bill::Figures`, docs/ferry-bill.md). The reference prices a
//! frozen copy of infra/ferry.json (`fixtures/ferry-template.json`, refreshed when the
//! artifacts bucket, the dead-letter queue, the logs, the health alarms and the topic
//! arrived), so the template changing does not move these cents; the live template is
//! checked for what matters as it grows: everything priced, every resource modelled.

use ferry_core::cost::{
    self, advice::AdviceContext, bill, Catalog, CostEstimate, ResourceCost, Usage,
};
use ferry_core::infra::profile::ProfileName;
use serde_json::{json, Value};

const FROZEN: &str = include_str!("fixtures/ferry-template.json");

fn priced(template: &Value, region: &str, load: &bill::Load) -> (CostEstimate, bill::Assumptions) {
    let catalog = Catalog::bundled(region).unwrap();
    let mut usage = Usage::profile_defaults(ProfileName::Prod);
    let assumptions = bill::apply(template, load, &mut usage);
    let estimate = cost::analyse(template, &catalog, &usage, &AdviceContext::default());
    (estimate, assumptions)
}

fn cents(estimate: &CostEstimate, id: &str) -> Vec<f64> {
    estimate
        .resource(id)
        .unwrap_or_else(|| panic!("{id} is priced: {:?}", estimate.unpriced))
        .components
        .iter()
        .map(|c| c.monthly_usd)
        .collect()
}

/// 10 environments in us-east-1: 80 promotions a month (8 each), the template's evaluation
/// schedule (rate(1 minute): 43,800 a month), hourly drift checks (730) and weekly cost
/// reports (730 / 168 = 4.345238 a month).
#[test]
fn ten_environments_in_us_east_1() {
    let template: Value = serde_json::from_str(FROZEN).unwrap();
    assert!(bill::is_ferry_template(&template));
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    assert_eq!(
        (load.promotions_per_month, load.evaluations_per_minute),
        (80.0, 1.0)
    );
    let (estimate, assumptions) = priced(&template, "us-east-1", &load);
    assert_eq!(assumptions.evaluations_per_month, 43_800.0);
    assert_eq!(assumptions.drift_checks_per_month, 730.0);
    assert!(
        assumptions.warnings.is_empty(),
        "{:?}",
        assumptions.warnings
    );

    // alert-evaluator: 43,800 runs + 10 x 20 alarm changes = 44,000 invocations:
    //   0.044 M x $0.20 = 0.0088 -> 0.01;
    //   43,800 x (150 + 10 x 250) ms + 200 x 50 ms = 116,080,000 ms; x 0.25 GB = 29,020 GB-s
    //   x $0.0000133334 = 0.3869 -> 0.39;
    //   GetMetricData: 43,800 x 10 environments x 7 metrics = 3,066,000 = 3,066 x $0.01 = 30.66.
    assert_eq!(
        cents(&estimate, "AlertEvaluatorFunction"),
        [0.01, 0.39, 30.66]
    );
    // Its logs: 44,000 x 1,500 B = 0.061467 GB x $0.50 = 0.0307 -> 0.03; stored 30 days of
    // 30: 0.06 GB x $0.03 = 0.0018 -> 0.00.
    assert_eq!(cents(&estimate, "AlertEvaluatorLogGroup"), [0.03, 0.00]);
    // api: 80 promotions x (2 + 600 s watched x 2 polls a second) + 10 x 100 = 97,160
    //   requests: 0.09716 M x $0.20 = 0.0194 -> 0.02; x 50 ms x 0.25 GB = 1,214.5 GB-s
    //   x $0.0000133334 = 0.0162 -> 0.02.
    assert_eq!(cents(&estimate, "ApiFunction"), [0.02, 0.02]);
    // The same requests through the HTTP API: 0.09716 M x $1.00 = 0.0972 -> 0.10.
    assert_eq!(cents(&estimate, "HttpApi"), [0.10]);
    // 97,160 x 1,500 B = 0.135731 GB x $0.50 = 0.0679 -> 0.07; 0.14 GB x $0.03 -> 0.00.
    assert_eq!(cents(&estimate, "ApiLogGroup"), [0.07, 0.00]);
    // promotion-step: 80 x 13 = 1,040 invocations -> 0.00; 80 x 25 s x 0.25 GB = 500 GB-s
    //   x $0.0000133334 = 0.0067 -> 0.01 (the state machine waits for stacks, not the
    //   function); the judge: 80 x 8 metrics = 0.64 x $0.01 -> 0.01.
    assert_eq!(
        cents(&estimate, "PromotionStepFunction"),
        [0.00, 0.01, 0.01]
    );
    // template-generator: 80 invocations, 80 x 0.5 s x 0.25 GB = 10 GB-s: both under a cent.
    assert_eq!(cents(&estimate, "TemplateGeneratorFunction"), [0.00, 0.00]);
    // cost-analyzer: 4.345238 runs x (300 + 10 x 300) ms x 0.25 GB = 3.58 GB-s -> 0.00;
    //   rightsizing 4.345238 x 10 x 4 = 173.8 metrics -> 0.00; EMF: 11 metrics each sent in
    //   4.345238 hours of 730 = 0.065476 metric-months x $0.30 = 0.0196 -> 0.02.
    assert_eq!(
        cents(&estimate, "CostAnalyzerFunction"),
        [0.00, 0.00, 0.00, 0.02]
    );
    // drift-checker: 730 runs x (150 + 10 x 1,000) ms x 0.25 GB = 1,852.375 GB-s
    //   x $0.0000133334 = 0.0247 -> 0.02; 730 requests -> 0.00.
    assert_eq!(cents(&estimate, "DriftCheckerFunction"), [0.00, 0.02]);
    // The state machine: 80 x 29 = 2,320 transitions = 2.32 x $0.025 = 0.058 -> 0.06.
    assert_eq!(cents(&estimate, "PromotionStateMachine"), [0.06]);
    // The table, writes: evaluations 43,800 x 10 x 2 = 876,000; alarm changes 200 x 4 = 800;
    //   drift 730 x 10 x 8 = 58,400; cost reports 4.345238 x 10 x 15 = 651.8; promotions
    //   80 x 130 = 10,400: 946,251.8 = 0.946252 M x $0.625 = 0.5914 -> 0.59.
    // Reads: 43,800 x 10 x (3.25 + 7) = 4,489,500; 200 x 1; 730 x 10 x 0.25 = 1,825;
    //   4.345238 x 10 x 1.25 = 54.3; 80 x 40 = 3,200; 97,160 x 2 = 194,320:
    //   4,689,099.3 = 4.689099 M x $0.125 = 0.5861 -> 0.59.
    // Storage: 10 x 14,000 KB + 80 x 260 KB = 160,800 KB = 0.153351 GB x $0.25 = 0.0383
    //   -> 0.04; point-in-time recovery 0.153351 x $0.20 = 0.0307 -> 0.03.
    assert_eq!(cents(&estimate, "StateTable"), [0.59, 0.59, 0.04, 0.03]);
    for quiet in [
        "PromotionStepLogGroup",
        "TemplateGeneratorLogGroup",
        "CostAnalyzerLogGroup",
        "DriftCheckerLogGroup",
    ] {
        assert_eq!(cents(&estimate, quiet), [0.00, 0.00], "{quiet}");
    }
    // The state machine logs at level ALL: 2,320 transitions x 1,137 B = 2,637,840 B
    //   = 0.002457 GB x $0.50 = 0.0012 -> 0.00; stored 30 days of 30: 0.00 GB.
    assert_eq!(cents(&estimate, "StateMachineLogGroup"), [0.00, 0.00]);
    // The API's access log: 97,160 requests x 330 B = 32,062,800 B = 0.029861 GB x $0.50
    //   = 0.0149 -> 0.01; 0.03 GB stored x $0.03 = 0.0009 -> 0.00.
    assert_eq!(cents(&estimate, "ApiAccessLogGroup"), [0.01, 0.00]);
    // The artifacts bucket: 80 x 0.5 = 40 promotions upload their template at each of 5
    //   change sets and CloudFormation reads each back: 200 PUTs = 0.2 x $0.005 = 0.001
    //   -> 0.00 and 200 GETs x $0.0004 / 1,000 -> 0.00; each keeps 4 distinct 55,000-byte
    //   templates for TemplateRetentionDays (30): 40 x 4 x 55,000 B = 0.008196 GB x 30 / 30
    //   x $0.023 = 0.0002 -> 0.00.
    let bucket = &assumptions.resources["ArtifactsBucket"];
    assert_eq!(
        (bucket.put_requests, bucket.get_requests),
        (Some(200.0), Some(200.0))
    );
    let stored = bucket.gb_stored.unwrap();
    assert!(
        (stored - 8_800_000.0 / 1_073_741_824.0).abs() < 1e-12,
        "{stored}"
    );
    assert_eq!(cents(&estimate, "ArtifactsBucket"), [0.00, 0.00, 0.00]);
    // No dead letters by default: the queue is priced, at nothing.
    assert_eq!(cents(&estimate, "FailedEventsQueue"), [0.00]);
    // The health topic: 10 x 5 = 50 publishes x $0.50 / 1M, 50 emails x $2.00 / 100,000.
    assert_eq!(cents(&estimate, "HealthTopic"), [0.00, 0.00]);
    // 15 health alarms of one metric each, $0.10 apiece: the only fixed part of the bill.
    let alarms: Vec<&ResourceCost> = estimate
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::CloudWatch::Alarm")
        .collect();
    assert_eq!(alarms.len(), 15);
    assert!(alarms
        .iter()
        .all(|a| a.components.len() == 1 && a.monthly_usd == 0.10));
    // Rules, roles, policies, permissions, invoke configs, the subscription and the API's
    // route, integration and stage are free.
    assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
    assert_eq!(estimate.resources.len(), 35);
    // The table 1.25, the API's logs 0.07, the functions 0.04 + 0.02 + 0.02 + 0.02 + 31.06,
    // the evaluator's logs 0.03, the state machine 0.06, the HTTP API 0.10, the access log
    // 0.01 and the alarms 1.50.
    assert_eq!(estimate.monthly_usd, 34.18);
    assert_eq!(estimate.usage_based_usd(), 32.68);
}

/// The same load in eu-central-1, where DynamoDB and the HTTP API cost more and logs
/// $0.63 a GB: what differs from us-east-1.
#[test]
fn ten_environments_in_eu_central_1() {
    let template: Value = serde_json::from_str(FROZEN).unwrap();
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    let (estimate, _) = priced(&template, "eu-central-1", &load);
    // 0.946252 M x $0.7625 = 0.7215 -> 0.72; 4.689099 M x $0.1525 = 0.7151 -> 0.72;
    // 0.153351 GB x $0.306 = 0.0469 -> 0.05; x $0.2448 = 0.0375 -> 0.04.
    assert_eq!(cents(&estimate, "StateTable"), [0.72, 0.72, 0.05, 0.04]);
    // 0.09716 M x $1.20 = 0.1166 -> 0.12.
    assert_eq!(cents(&estimate, "HttpApi"), [0.12]);
    // 0.135731 GB x $0.63 = 0.0855 -> 0.09; 0.14 GB x $0.0324 = 0.0045 -> 0.00.
    assert_eq!(cents(&estimate, "ApiLogGroup"), [0.09, 0.00]);
    // 0.029861 GB x $0.63 = 0.0188 -> 0.02; 0.03 GB x $0.0324 = 0.0010 -> 0.00.
    assert_eq!(cents(&estimate, "ApiAccessLogGroup"), [0.02, 0.00]);
    // The bucket's storage and requests cost more here ($0.0245, $0.0054, $0.00043), still
    // under a cent: 0.008196 x $0.0245 = 0.0002; 0.2 x $0.0054 = 0.0011.
    assert_eq!(cents(&estimate, "ArtifactsBucket"), [0.00, 0.00, 0.00]);
    // Lambda and GetMetricData cost the same as in us-east-1.
    assert_eq!(
        cents(&estimate, "AlertEvaluatorFunction"),
        [0.01, 0.39, 30.66]
    );
    // SNS email deliveries have no sourced eu-central-1 price: the health topic is named,
    // never priced at us-east-1's rate (its 50 emails would be a tenth of a cent there).
    let unpriced: Vec<(&str, &str)> = estimate
        .unpriced
        .iter()
        .map(|u| (u.logical_id.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        unpriced,
        [(
            "HealthTopic",
            "the catalog has no eu-central-1 price for sns.email_100k"
        )]
    );
}

/// The model reads what the template says, not what it said when the figures were worked:
/// a longer template retention keeps more in the bucket, a state machine logging errors
/// only writes nothing, and another queue is priced like the first.
#[test]
fn the_model_follows_the_templates_settings() {
    let mut template: Value = serde_json::from_str(FROZEN).unwrap();
    template["Parameters"]["TemplateRetentionDays"]["Default"] = json!(90);
    let resources = template["Resources"].as_object_mut().unwrap();
    resources["PromotionStateMachine"]["Properties"]["LoggingConfiguration"]["Level"] =
        json!("ERROR");
    resources.insert(
        "PromotionDeadLetters".into(),
        json!({"Type": "AWS::SQS::Queue", "Properties": {}}),
    );
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    let (estimate, assumptions) = priced(&template, "us-east-1", &load);
    assert!(
        assumptions.warnings.is_empty(),
        "{:?}",
        assumptions.warnings
    );
    // 90 days of templates: three times the 0.008196 GB a month written.
    let stored = assumptions.resources["ArtifactsBucket"].gb_stored.unwrap();
    assert!(
        (stored - 3.0 * 8_800_000.0 / 1_073_741_824.0).abs() < 1e-12,
        "{stored}"
    );
    assert_eq!(
        assumptions.resources["StateMachineLogGroup"].gb_ingested,
        Some(0.0)
    );
    assert_eq!(cents(&estimate, "PromotionDeadLetters"), [0.00]);
    assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
}

/// The live template, whatever it has grown into: every resource Ferry runs is modelled
/// (no warning) and priced in us-east-1.
#[test]
fn the_live_template_is_fully_modelled() {
    let text = std::fs::read_to_string(format!(
        "{}/../../infra/ferry.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let template: Value = serde_json::from_str(&text).unwrap();
    assert!(bill::is_ferry_template(&template));
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    let (estimate, assumptions) = priced(&template, "us-east-1", &load);
    assert!(
        assumptions.warnings.is_empty(),
        "{:?}",
        assumptions.warnings
    );
    assert!(estimate.unpriced.is_empty(), "{:?}", estimate.unpriced);
    assert!(estimate.monthly_usd >= 32.64, "{}", estimate.monthly_usd);
}

/// A bucket the model cannot tie to a writer is taken as unused and named, not guessed.
#[test]
fn a_bucket_no_function_writes_to_is_named() {
    let mut template: Value = serde_json::from_str(FROZEN).unwrap();
    template["Resources"]["Exports"] = json!({"Type": "AWS::S3::Bucket", "Properties": {}});
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    let (estimate, assumptions) = priced(&template, "us-east-1", &load);
    assert_eq!(
        assumptions.warnings,
        ["Exports: not the bucket the promotion-step uploads templates to; its use is taken as none (set resources.Exports.gb_ingested, put_requests and get_requests)"]
    );
    assert_eq!(cents(&estimate, "Exports"), [0.00, 0.00, 0.00]);
}

/// Where a price could not be sourced, the resource is named as not priced in that
/// region rather than priced at another region's rate.
#[test]
fn a_topic_in_eu_west_1_is_named_not_borrowed() {
    let template: Value = serde_json::from_str(FROZEN).unwrap();
    let load = bill::load_for(&template, Some(10.0), None, None, None);
    let (estimate, _) = priced(&template, "eu-west-1", &load);
    let topic = estimate
        .unpriced
        .iter()
        .find(|u| u.logical_id == "HealthTopic")
        .expect("the topic is named");
    assert_eq!(
        topic.reason,
        "the catalog has no eu-west-1 price for sns.publish_1m, sns.email_100k"
    );
}
