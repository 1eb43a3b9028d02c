//! The CLI as a user runs it: exit codes, output, and one-line errors naming the field.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn ferry() -> Command {
    let mut command = Command::cargo_bin("ferry").unwrap();
    command.env_remove("AWS_ENDPOINT_URL");
    command
}

/// Writes a spec to a file of its own under the temp dir.
fn spec_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ferry-cli-{}-{name}.yaml", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    path
}

/// Runs a failing command and returns its only stderr line.
fn one_line_error(args: &[&str]) -> String {
    let output = ferry().args(args).output().unwrap();
    assert!(!output.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn plan_prices_an_example_offline() {
    ferry()
        .args(["plan", &format!("{EXAMPLES}/shop.json"), "--env", "dev"])
        .assert()
        .success()
        // The reference arithmetic for this environment is in ferry-core's
        // tests/cost_reference.rs; here, the total and a usage-based component.
        .stdout(predicate::str::contains(
            "total: $119.87 / month in us-east-1 (* usage-based, from dev profile defaults)",
        ))
        .stdout(predicate::str::contains("LCU hours *"));
}

#[test]
fn validate_checks_every_environment_the_spec_has() {
    ferry()
        .args(["validate", &format!("{EXAMPLES}/two-services.yaml")])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "environments dev, staging, prod, qa pass the policy rules",
        ));
}

#[test]
fn template_prints_json_or_yaml_and_the_same_spec_gives_the_same_bytes() {
    let args = [
        "template",
        &format!("{EXAMPLES}/web-postgres-valkey.yaml"),
        "--env",
        "prod",
    ];
    let first = ferry().args(args).output().unwrap();
    let second = ferry().args(args).output().unwrap();
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    let template: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(
        template["Resources"]["Database"]["DeletionPolicy"],
        "Snapshot"
    );
    ferry()
        .args([
            "template",
            &format!("{EXAMPLES}/small-web.yaml"),
            "--env",
            "dev",
            "--format",
            "yaml",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "AWSTemplateFormatVersion: \"2010-09-09\"",
        ));
}

#[test]
fn schema_prints_the_json_schema() {
    let output = ferry().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["title"], "Ferry app spec");
}

#[test]
fn every_error_is_named_on_one_line() {
    let bad = spec_file(
        "bad",
        "app: shop\nservices:\n  - {name: web, image: r, port: 80, cpu: 300, memory: 512, secrets: {STRIPE: sk_live_123}, environment: {DB_PASSWORD: x}}\n",
    );
    let stderr = one_line_error(&["validate", bad.to_str().unwrap()]);
    assert!(
        stderr.contains(
            "services[0].cpu: 300 is not a valid Fargate CPU value; use one of 256, 512, 1024"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("services[0].secrets.STRIPE: a secret must be a reference"),
        "{stderr}"
    );
    assert!(
        stderr.contains("services[0].environment.DB_PASSWORD: looks like a secret"),
        "{stderr}"
    );

    let unknown = spec_file("unknown", "app: shop\nservices:\n  - {name: web, image: r, port: 80, cpu: 256, memory: 512, replicas: 3}\n");
    assert!(one_line_error(&["validate", unknown.to_str().unwrap()])
        .contains("services[0].replicas: is not a known key"));

    let range = spec_file(
        "range",
        "app: shop\nservices:\n  - {name: web, image: r, port: 70000, cpu: 256, memory: 512}\n",
    );
    assert!(one_line_error(&["validate", range.to_str().unwrap()])
        .contains("services[0].port: 70000 is greater than the maximum of 65535"));

    let broken = spec_file("broken", "app: shop\nservices: [\n");
    assert!(
        one_line_error(&["validate", broken.to_str().unwrap()]).contains("spec: not valid YAML")
    );
}

#[test]
fn turning_off_encryption_in_prod_needs_a_waiver() {
    let base = "app: shop\nservices:\n  - {name: web, image: r, port: 80, cpu: 256, memory: 512}\ndatabase: {engine: postgres, version: \"17.6\", instance_class: db.t4g.micro, storage_gb: 20}\nenvironments:\n  prod:\n    database: {encrypted: false}\n";
    let unwaived = spec_file("unwaived", base);
    let stderr = one_line_error(&["template", unwaived.to_str().unwrap(), "--env", "prod"]);
    assert!(
        stderr.contains("rds_storage_encrypted (Database: RDS storage must be encrypted"),
        "{stderr}"
    );
    let waived = spec_file("waived", &format!("{base}    waivers: [{{rule: rds_storage_encrypted, reason: \"public data only; reviewed by security\"}}]\n"));
    ferry()
        .args(["template", waived.to_str().unwrap(), "--env", "prod"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "policy rule rds_storage_encrypted waived: public data only",
        ));
}

#[test]
fn bad_environments_and_regions_are_named() {
    let spec = format!("{EXAMPLES}/shop.json");
    assert!(one_line_error(&["plan", &spec, "--env", "qa"])
        .contains("environments.qa.profile: is required"));
    assert!(
        one_line_error(&["plan", &spec, "--env", "dev", "--region", "mars-1"])
            .contains("--region: the pricing catalog has no prices for 'mars-1'; it has eu-central-1, eu-west-1, us-east-1, us-west-2")
    );
    assert!(
        one_line_error(&["plan", "/nonexistent/spec.json", "--env", "dev"])
            .contains("/nonexistent/spec.json: cannot read")
    );
}

/// Against a deployed Ferry the CLI speaks HTTPS to API Gateway, signed with SigV4 for
/// `execute-api` in your region: a one-request local server stands in for API Gateway
/// and shows what arrives.
#[test]
fn with_an_api_url_requests_are_sigv4_signed_for_execute_api() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            head.push(line.trim_end().to_owned());
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let answer = r#"{"principals": {}, "groups": {"ops": "approver"}}"#;
        write!(
            reader.get_mut(),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        head
    });
    let output = ferry()
        .args(["access", "--api-url", &url])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    let head = server.join().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"ops\": \"approver\""));
    assert_eq!(head[0], "GET /access HTTP/1.1");
    let authorization = head
        .iter()
        .find(|h| h.to_ascii_lowercase().starts_with("authorization:"))
        .expect("a signed request");
    assert!(
        authorization.contains("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/execute-api/aws4_request"),
        "{authorization}"
    );
    assert!(!head
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("x-ferry-identity")));
}

/// A stand-in for API Gateway that answers one request with `status` and `answer`, and
/// hands back the request line and body it got.
fn one_request(
    status: &str,
    answer: &'static str,
) -> (String, std::thread::JoinHandle<(String, String)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let status = status.to_owned();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if first.is_empty() {
                first = line.trim_end().to_owned();
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        write!(
            reader.get_mut(),
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        (first, String::from_utf8(body).unwrap())
    });
    (url, server)
}

fn signed(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_REGION", "eu-west-1")
}

/// `ferry unlock` posts the reason to the environment's unlock route and says what it
/// did; the API's refusal (a running execution) comes back on one line.
#[test]
fn unlock_sends_the_reason_and_reports_the_api_refusal() {
    let (url, server) = one_request(
        "200 OK",
        r#"{"promotion": "release-42", "status": "Failed", "traffic": "untouched: check the stack's listener weights before promoting again"}"#,
    );
    let output = signed(ferry().args([
        "unlock",
        "shop",
        "prod",
        "--reason",
        "the event was lost",
        "--api-url",
        &url,
    ]))
    .output()
    .unwrap();
    let (line, body) = server.join().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(line, "POST /apps/shop/environments/prod/unlock HTTP/1.1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"reason": "the event was lost"})
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("shop/prod unlocked: promotion release-42 ended Failed"),
        "{printed}"
    );

    let (url, server) = one_request(
        "409 Conflict",
        r#"{"type": "https://ferry.dev/problems/conflict", "title": "Conflict", "status": 409, "detail": "promotion release-42's execution arn:x is still running", "errors": []}"#,
    );
    let output = signed(ferry().args([
        "unlock",
        "shop",
        "prod",
        "--reason",
        "stuck",
        "--api-url",
        &url,
    ]))
    .output()
    .unwrap();
    server.join().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("409") && stderr.contains("still running"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// `ferry cost` prices a spec's environment or a plain CloudFormation template, as a
/// table or JSON, and names what is wrong with anything else.
#[test]
fn cost_prices_specs_and_plain_templates() {
    let template =
        std::env::temp_dir().join(format!("ferry-cli-{}-template.json", std::process::id()));
    // An internet-facing ALB in 2 subnets, a NAT gateway with its address, and a stream
    // Ferry has no price for.
    std::fs::write(
        &template,
        r#"{"Resources": {
            "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Subnets": ["a", "b"]}},
            "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
            "NatEip": {"Type": "AWS::EC2::EIP", "Properties": {}},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}}"#,
    )
    .unwrap();
    // No Ferry metadata, so the prod profile's usage defaults apply:
    // ALB 730 h x $0.0225 = 16.425 -> 16.43; 2 x 730 IPv4-h x $0.005 = 7.30;
    //     5 LCU x 730 h x $0.008 = 29.20
    // NAT 730 h x $0.045 = 32.85; 100 GB x $0.045 = 4.50; its EIP 730 h x $0.005 = 3.65
    // data transfer out 200 GB x $0.09 = 18.00
    // 16.43 + 7.30 + 29.20 + 32.85 + 4.50 + 3.65 + 18.00 = 111.93
    let output = ferry()
        .args(["cost", template.to_str().unwrap(), "--output", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let estimate: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(estimate["monthly_usd"], 111.93);
    assert_eq!(estimate["unpriced"][0]["logical_id"], "Stream");
    assert_eq!(
        estimate["resources"][0]["components"][2]["name"],
        "LCU hours"
    );

    // A usage file replaces the defaults: 1 LCU, 20 GB through the NAT, 50 GB out.
    // 16.43 + 7.30 + 730 x 0.008 (5.84) + 32.85 + 20 x 0.045 (0.90) + 3.65 + 50 x 0.09 (4.50)
    // = 71.47
    let usage = spec_file(
        "usage",
        "version: 1\ndefaults:\n  alb: {lcu_per_hour: 1}\n  data_transfer: {gb_out: 50}\nresources:\n  Nat: {gb_processed: 20}\n",
    );
    let output = ferry()
        .args([
            "cost",
            template.to_str().unwrap(),
            "--usage",
            usage.to_str().unwrap(),
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let estimate: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(estimate["monthly_usd"], 71.47, "{estimate}");
    assert!(output.stderr.is_empty());

    // A logical id the template lacks is most likely a typo: named, not silently unused.
    let typo = spec_file(
        "typo-usage",
        "version: 1\nresources:\n  NatGw: {gb_processed: 20}\n",
    );
    let output = ferry()
        .args([
            "cost",
            template.to_str().unwrap(),
            "--usage",
            typo.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "resources.NatGw: the template has no resource 'NatGw'; its values are not used"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let negative = spec_file(
        "negative-usage",
        "version: 1\nresources:\n  Nat: {gb_processed: -5}\n",
    );
    assert!(one_line_error(&[
        "cost",
        template.to_str().unwrap(),
        "--usage",
        negative.to_str().unwrap()
    ])
    .contains("resources.Nat.gb_processed: must be zero or more, got -5"));
    let words = spec_file(
        "word-usage",
        "version: 1\ndefaults:\n  nat_gateway: {gb_processed: lots}\n",
    );
    let error = one_line_error(&[
        "cost",
        template.to_str().unwrap(),
        "--usage",
        words.to_str().unwrap(),
    ]);
    assert!(
        error.contains("word-usage")
            && error.contains("line 3 column 31: defaults.nat_gateway.gb_processed: invalid type: string \"lots\""),
        "{error}"
    );
    assert!(one_line_error(&["cost", template.to_str().unwrap(), "--region", "mars-1"])
        .contains("--region: the pricing catalog has no prices for 'mars-1'; it has eu-central-1, eu-west-1, us-east-1, us-west-2"));

    ferry()
        .args(["cost", &format!("{EXAMPLES}/shop.json"), "--env", "dev"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "total: $119.87 / month in us-east-1",
        ));

    // Two environments of one spec, and two files.
    ferry()
        .args([
            "cost",
            "diff",
            &format!("{EXAMPLES}/small-web.yaml"),
            "--env",
            "prod",
            "--against",
            "dev",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "this change adds $149.95/month: $77.98 -> $227.93 / month",
        ));
    ferry()
        .args([
            "cost",
            "diff",
            template.to_str().unwrap(),
            template.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "this change leaves the monthly cost unchanged",
        ));

    let spec = format!("{EXAMPLES}/shop.json");
    // Without --env, a spec is priced per environment, with the app's total:
    // 119.87 (dev) + 144.35 (staging) + 315.91 (prod) = 580.13.
    ferry()
        .args(["cost", &spec])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "shop: $580.13 / month in us-east-1",
        ))
        .stdout(predicate::str::contains("119.87"));
    let output = ferry()
        .args(["cost", &spec, "--output", "json"])
        .output()
        .unwrap();
    let app: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let totals: Vec<(&str, f64)> = app["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["env"].as_str().unwrap(),
                e["estimate"]["monthly_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        [("dev", 119.87), ("staging", 144.35), ("prod", 315.91)]
    );
    assert_eq!(app["monthly_usd"], 580.13);
    assert!(
        one_line_error(&["cost", template.to_str().unwrap(), "--env", "dev"])
            .contains("is a CloudFormation template, not a Ferry spec; drop --env")
    );
    let other = spec_file("not-a-template", "name: x\nvalue: 1\n");
    assert!(one_line_error(&["cost", other.to_str().unwrap()])
        .contains("not a CloudFormation template (no Resources) nor a Ferry spec (no app)"));
    let typeless = spec_file("typeless", "Resources:\n  Thing:\n    Properties: {}\n");
    assert!(one_line_error(&["cost", typeless.to_str().unwrap()])
        .contains("Resources.Thing: has no Type"));
}

/// Alert rules in the spec: an unknown metric or statistic, a composite cycle, and an
/// unknown key are refused with the rule's name and the field; good rules validate.
#[test]
fn alert_rules_are_checked_by_rule_and_field() {
    let bad = spec_file(
        "bad-alerts",
        &std::fs::read_to_string(format!("{EXAMPLES}/small-web.yaml")).unwrap().replace(
            "environments:",
            "alerts:\n  rules:\n    - {name: slow, kind: threshold, metric: service.latency, statistic: p99, comparison: '>', threshold: 1.5}\n    - {name: hot, kind: threshold, metric: service.cpu, statistic: Median, comparison: '>', threshold: 90}\n    - {name: a, kind: composite, expression: 'b AND slow'}\n    - {name: b, kind: composite, expression: 'NOT a'}\nenvironments:",
        ),
    );
    let error = one_line_error(&["validate", bad.to_str().unwrap()]);
    assert!(
        error.contains("alerts.rules[slow].metric: unknown metric 'service.latency'"),
        "{error}"
    );
    assert!(
        error.contains("alerts.rules[hot].statistic: unknown statistic 'Median'"),
        "{error}"
    );
    assert!(
        error.contains("alerts.rules[a].expression: a cycle: a -> b -> a"),
        "{error}"
    );
    let good = spec_file(
        "good-alerts",
        &std::fs::read_to_string(format!("{EXAMPLES}/small-web.yaml")).unwrap().replace(
            "environments:",
            "alerts:\n  rules:\n    - {name: slow, kind: threshold, metric: service.latency_p99, statistic: p99, comparison: '>', threshold: 1.5, datapoints: 3, evaluation_periods: 5}\n    - {name: degraded, kind: composite, expression: 'slow AND NOT service-cpu'}\nenvironments:",
        ),
    );
    ferry()
        .args(["validate", good.to_str().unwrap()])
        .assert()
        .success();
}

/// 14 days of a 5-minute daily cycle in which day 10's afternoon peak never comes: every
/// value stays inside the series' usual range, so only the time of day gives it away.
#[test]
fn backtest_judges_points_against_their_time_of_day() {
    let mut csv = String::from("timestamp,value\n");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 0..14 * 288 {
        let at = start + chrono::Duration::minutes(5 * i);
        let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
        let wobble = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        let missing_peak = i / 288 == 10 && (96..192).contains(&(i % 288));
        let value = if missing_peak {
            50.0
        } else {
            50.0 - 30.0 * phase.cos()
        } + wobble;
        csv.push_str(&format!("{},{value:.3}\n", at.format("%Y-%m-%d %H:%M:%S")));
    }
    let path = spec_file("seasonal-backtest", &csv);
    let output = ferry()
        .args([
            "alerts",
            "backtest",
            path.to_str().unwrap(),
            "--output",
            "nab",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<(String, f64)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[0].to_owned(), fields[2].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 14 * 288);
    let (top_at, top) = rows.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert!(
        top_at.starts_with("2026-03-12 0") || top_at.starts_with("2026-03-12 1"),
        "the highest score {top} is at {top_at}, not in day 10's missing peak"
    );
    let elsewhere = rows
        .iter()
        .filter(|(at, _)| !at.starts_with("2026-03-12"))
        .map(|r| r.1)
        .fold(0.0, f64::max);
    assert!(
        *top > elsewhere,
        "{top} should beat every other day's {elsewhere}"
    );

    let bad = spec_file(
        "bad-backtest",
        "timestamp,value\n2026-03-02 00:00:00,1\nyesterday,2\n",
    );
    let error = one_line_error(&["alerts", "backtest", bad.to_str().unwrap()]);
    assert!(
        error.contains(":3: timestamp 'yesterday' is not"),
        "{error}"
    );
}

const FERRY_TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/ferry.json");

/// `ferry cost infra/ferry.json`: Ferry's own bill for a number of environments, with what
/// it assumes, as a table and as JSON. The cents of the bill are worked out by hand in
/// shared/ferry-core/tests/ferry_bill.rs; here, what a user sees.
#[test]
fn cost_prices_ferrys_own_template_for_a_number_of_environments() {
    let output = ferry()
        .args(["cost", FERRY_TEMPLATE, "--environments", "10"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.starts_with("Ferry's own bill for 10 environments: 80 promotions a month, 43800 alert evaluations a month (1 a minute), 730 drift checks and 4.35 cost reports a month"),
        "{table}"
    );
    assert!(
        table.contains("CloudWatch GetMetricData metrics requested (per 1,000) *"),
        "{table}"
    );
    assert!(table.contains("usage-based: $"), "{table}");

    let json = |args: &[&str]| -> serde_json::Value {
        let output = ferry().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let ten = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--environments",
        "10",
        "--output",
        "json",
    ]);
    assert_eq!(ten["ferry"]["environments"], 10.0);
    assert_eq!(ten["ferry"]["promotions_per_month"], 80.0);
    assert_eq!(ten["ferry"]["figures"]["metrics_per_evaluation"], 7.0);
    // Everything is usage-based but Ferry's own health alarms, $0.10 a month each.
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(FERRY_TEMPLATE).unwrap()).unwrap();
    let alarms = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .count() as f64;
    let fixed = ten["monthly_usd"].as_f64().unwrap() - ten["usage_based_usd"].as_f64().unwrap();
    assert!(
        (fixed - alarms * 0.10).abs() < 0.005,
        "{fixed} for {alarms} alarms"
    );
    // Evaluating every five minutes reads a fifth of the metrics: the bill drops.
    let slower = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--environments",
        "10",
        "--evaluations-per-minute",
        "0.2",
        "--output",
        "json",
    ]);
    assert!(
        slower["monthly_usd"].as_f64() < ten["monthly_usd"].as_f64(),
        "{} vs {}",
        slower["monthly_usd"],
        ten["monthly_usd"]
    );
    // More environments cost more, and a usage file's ferry: section says the same as the
    // flags (which win over it).
    let usage = spec_file(
        "ferry-usage",
        "version: 1\nferry:\n  environments: 50\n  promotions_per_month: 400\n",
    );
    let from_file = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--usage",
        usage.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let from_flags = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--environments",
        "50",
        "--output",
        "json",
    ]);
    assert_eq!(from_file["monthly_usd"], from_flags["monthly_usd"]);
    assert!(from_file["monthly_usd"].as_f64() > ten["monthly_usd"].as_f64());
    let flag_wins = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--usage",
        usage.to_str().unwrap(),
        "--environments",
        "10",
        "--output",
        "json",
    ]);
    assert_eq!(flag_wins["ferry"]["environments"], 10.0);
    // Beyond what a 30-second function can evaluate, the bill says so.
    let many = json(&[
        "cost",
        FERRY_TEMPLATE,
        "--environments",
        "500",
        "--output",
        "json",
    ]);
    let warnings = many["ferry"]["warnings"].to_string();
    assert!(warnings.contains("over its 30 s Timeout"), "{warnings}");
}

#[test]
fn bad_values_for_ferrys_own_bill_are_named_by_flag() {
    assert_eq!(
        one_line_error(&["cost", FERRY_TEMPLATE, "--environments", "0"]),
        "ferry: --environments: must be a whole number of 1 or more, got 0\n"
    );
    assert_eq!(
        one_line_error(&["cost", FERRY_TEMPLATE, "--environments", "ten"]),
        "ferry: --environments: must be a whole number of 1 or more, got ten\n"
    );
    assert_eq!(
        one_line_error(&["cost", FERRY_TEMPLATE, "--promotions-per-month", "-3"]),
        "ferry: --promotions-per-month: must be a number of 0 or more, got -3\n"
    );
    assert_eq!(
        one_line_error(&["cost", FERRY_TEMPLATE, "--evaluations-per-minute", "2"]),
        "ferry: --evaluations-per-minute: must be more than 0 and at most 1 (an EventBridge schedule runs at most once a minute), got 2\n"
    );
    let shop = format!("{EXAMPLES}/shop.json");
    assert_eq!(
        one_line_error(&["cost", &shop, "--environments", "3"]),
        format!("ferry: --environments: prices Ferry's own template (infra/ferry.json); {shop} is an app spec\n")
    );
    let usage = spec_file(
        "ferry-bad-usage",
        "version: 1\nferry:\n  environments: 2.5\n",
    );
    let error = one_line_error(&["cost", FERRY_TEMPLATE, "--usage", usage.to_str().unwrap()]);
    assert!(
        error.ends_with(": ferry.environments: must be a whole number of 1 or more, got 2.5\n"),
        "{error}"
    );
}

#[test]
fn deploy_refuses_a_service_role_that_is_not_a_role_before_calling_aws() {
    let error = one_line_error(&[
        "deploy",
        &format!("{EXAMPLES}/small-web.yaml"),
        "--env",
        "dev",
        "--role-arn",
        "arn:aws:iam::123456789012:user/ana",
    ]);
    assert!(
        error.starts_with(
            "ferry: --role-arn: 'arn:aws:iam::123456789012:user/ana' is not an IAM role ARN"
        ),
        "{error}"
    );
}

const SMALL_DATABASES: &str = "rule small_databases {
    Resources.*[ Type == 'AWS::RDS::DBInstance' ].Properties.DBInstanceClass in ['db.t4g.micro', 'db.t4g.small']
        <<Databases stay small>>
}
";

/// An account's rules (`--rules FILE` or FERRY_POLICY_RULES_FILE) are checked with
/// Ferry's on every environment, and a spec may waive them by name.
#[test]
fn account_rules_from_a_file_are_checked_and_waivable() {
    let rules = spec_file("account-rules", SMALL_DATABASES);
    let rules = rules.to_str().unwrap();
    let example = format!("{EXAMPLES}/web-postgres-valkey.yaml");
    let stderr = one_line_error(&["validate", &example, "--rules", rules]);
    assert!(
        stderr.contains("environment prod: the template breaks 1 policy rule(s): small_databases (Database: Databases stay small)"),
        "{stderr}"
    );
    let output = ferry()
        .args(["validate", &example])
        .env("FERRY_POLICY_RULES_FILE", rules)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("small_databases"));

    let waived = spec_file(
        "waives-account-rule",
        &(std::fs::read_to_string(&example).unwrap()
            + "    waivers: [{rule: small_databases, reason: \"prod needs an m7g, ticket 42\"}]\n"),
    );
    let waived = waived.to_str().unwrap();
    ferry()
        .args(["validate", waived, "--rules", rules])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "ferry: prod: policy rule small_databases waived: prod needs an m7g, ticket 42",
        ));
    // Without the account's rules, the waiver names no rule.
    assert!(one_line_error(&["validate", waived])
        .contains("environments.prod.waivers[0].rule: 'small_databases' is not a policy rule"));
}

#[test]
fn rules_that_do_not_parse_are_named_where_they_came_from() {
    let broken = spec_file(
        "broken-rules",
        "rule broken {\n  Resources.*[ Type == \n}\n",
    );
    let broken = broken.to_str().unwrap();
    let example = format!("{EXAMPLES}/small-web.yaml");
    let stderr = one_line_error(&["validate", &example, "--rules", broken]);
    assert!(
        stderr.contains(&format!(
            "--rules {broken}: cfn-guard rejects these rules: Parser Error"
        )),
        "{stderr}"
    );

    let spec = spec_file(
        "broken-app-rules",
        &(std::fs::read_to_string(&example).unwrap()
            + "policy:\n  rules: \"rule broken {\\n  Resources.*[ Type == \\n}\"\n"),
    );
    let stderr = one_line_error(&["template", spec.to_str().unwrap(), "--env", "dev"]);
    assert!(
        stderr.contains("policy.rules: cfn-guard rejects these rules: Parser Error"),
        "{stderr}"
    );
}
