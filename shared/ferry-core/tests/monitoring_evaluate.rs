//! Alert rule evaluation over the in-memory CloudWatch: models kept, only new points read.

use chrono::{DateTime, Duration};
use chrono::{Datelike, Timelike};
use ferry_core::monitoring::evaluate::*;
use ferry_core::monitoring::rules::validate;
use ferry_core::monitoring::rules::Rule;
use ferry_core::monitoring::{AlertStatus, Labels};
use ferry_testkit::InMemoryMetrics;
use serde_json::json;
use std::collections::BTreeMap;

/// An anomaly rule learns 14 days once, keeps its model, and afterwards reads only the
/// new points: a 03:00 spike to a weekday-09:00 level is outside its band.
#[tokio::test]
async fn an_anomaly_rule_keeps_its_model_and_reads_only_new_points() {
    let metrics = InMemoryMetrics::new();
    let start = DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z")
        .unwrap()
        .to_utc();
    let now = start + Duration::days(14);
    let dims = [("DBInstanceIdentifier", "shop-db")];
    for hour in 0..(14 * 24) {
        let at = start + Duration::hours(hour) + Duration::minutes(1);
        let busy = at.hour() == 9 && at.weekday().num_days_from_monday() < 5;
        metrics.put(
            "CPUUtilization",
            &dims,
            at,
            if busy { 80.0 } else { 10.0 } + (hour % 3) as f64,
        );
    }
    let rules: Vec<Rule> = serde_json::from_value(json!([{
        "name": "db-cpu-anomaly", "kind": "anomaly", "metric": "database.cpu",
        "statistic": "Average", "period_seconds": 3600, "band_stddevs": 3.0}]))
    .unwrap();
    let expressions = validate(&rules).unwrap();
    let template =
        json!({"Resources": {"Database": {"Type": "AWS::RDS::DBInstance", "Properties": {}}}});
    let physical = BTreeMap::from([("Database".to_owned(), "shop-db".to_owned())]);
    let scope = Labels::from([
        ("app".to_owned(), "shop".to_owned()),
        ("env".to_owned(), "prod".to_owned()),
    ]);
    let mut models = Models::new();
    let (alerts, _) = evaluate(
        &metrics,
        &mut models,
        &rules,
        &expressions,
        &scope,
        &template,
        &physical,
        now,
    )
    .await
    .unwrap();
    // The first run learns: not enough history per hour slot to judge yet.
    assert!(alerts.is_empty(), "{alerts:?}");
    let model = models.values().next().unwrap().clone();
    assert!(model.learned_until > now - Duration::hours(2));
    // Another week of the same, one evaluation per hour: all within the band.
    let mut clock = now;
    for hour in 0..(7 * 24) {
        let at = now + Duration::hours(hour) + Duration::minutes(1);
        let busy = at.hour() == 9 && at.weekday().num_days_from_monday() < 5;
        metrics.put(
            "CPUUtilization",
            &dims,
            at,
            if busy { 80.0 } else { 10.0 } + (hour % 3) as f64,
        );
        clock = at + Duration::minutes(59);
        let (alerts, _) = evaluate(
            &metrics,
            &mut models,
            &rules,
            &expressions,
            &scope,
            &template,
            &physical,
            clock,
        )
        .await
        .unwrap();
        assert!(
            alerts.iter().all(|a| a.status == AlertStatus::Resolved),
            "{at}: {alerts:?}"
        );
    }
    // 03:00, and the database runs at its weekday-morning level.
    let spike = clock + Duration::hours(4);
    let spike = spike - Duration::hours(i64::from(spike.hour())) + Duration::hours(3);
    metrics.put("CPUUtilization", &dims, spike, 80.0);
    let (alerts, _) = evaluate(
        &metrics,
        &mut models,
        &rules,
        &expressions,
        &scope,
        &template,
        &physical,
        spike + Duration::minutes(59),
    )
    .await
    .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].status, AlertStatus::Firing, "{alerts:?}");
    assert_eq!(alerts[0].labels["component"], "database");
}
